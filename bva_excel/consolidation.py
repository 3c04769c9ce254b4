"""One table of every score: the current return of each reviewer, and a consolidated rating per ref.

Grey (a rating with no value) is never averaged; blank means not answered and is never a score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bva_excel.errors import Problem
from bva_excel.framework import Framework, Scale
from bva_excel.inbox import current_returns
from bva_excel.returns import Response


def consolidated_rating(scale: Scale, ratings: list[str]) -> str:
    """One reviewer: theirs. Several: the median, the lower of the two middle ratings when even.

    Only scored ratings count; if nobody scored but someone chose an unscored rating (Grey), that
    rating stands; if nobody answered, the result is blank.
    """
    found = [scale.find(r) for r in ratings if r]
    values = sorted(r.value for r in found if r and r.scored)
    if values:
        return scale.by_value(values[(len(values) - 1) // 2]).name
    unscored = [r.name for r in found if r and not r.scored]
    return unscored[0] if unscored else ""


@dataclass
class ReturnStatus:
    """A row of the Returns sheet: one file seen, and what became of it."""

    name: str
    sha256: str
    reviewer_id: str
    received: str
    status: str  # accepted, superseded, rejected
    problems: list[str]


@dataclass
class ReviewerProgress:
    reviewer_id: str
    name: str
    issued: int
    answered: int
    received: str  # when their current return was ingested, '' if outstanding
    file: str


@dataclass
class Consolidation:
    framework: Framework
    responses: dict[str, list[Response]]  # ref -> current responses, in reviewer order
    returns: list[ReturnStatus]
    progress: list[ReviewerProgress]
    orphans: list[Response] = field(default_factory=list)  # answers for refs no longer in the framework

    def consolidated(self, ref: str) -> str:
        return consolidated_rating(self.framework.scale, [r.rating for r in self.responses.get(ref, [])])

    @property
    def max_reviewers(self) -> int:
        return max((len(v) for v in self.responses.values()), default=0)


def latest_issues(issues: list[dict]) -> dict[str, dict]:
    """reviewer ID -> the workbook most recently issued to them."""
    return {issue["reviewer_id"]: issue for issue in issues}


def consolidate(framework: Framework, ledger: list[dict], issues: list[dict]) -> Consolidation:
    """Every current score by ref, the fate of every file, and each reviewer's progress."""
    current = current_returns(ledger)
    order = {r.reviewer_id: i for i, r in enumerate(framework.reviewers)}
    responses: dict[str, list[Response]] = {}
    orphans = []
    for reviewer_id in sorted(current, key=lambda r: order.get(r, len(order))):
        for item in current[reviewer_id]["responses"]:
            response = Response(**item)
            if framework.characteristic(response.ref):
                responses.setdefault(response.ref, []).append(response)
            elif response.rating or response.commentary or response.gaps:
                orphans.append(response)
    current_hashes = {entry["sha256"] for entry in current.values()}
    returns = []
    for entry in ledger:
        status = entry["status"]
        if status == "accepted" and entry["sha256"] not in current_hashes:
            status = "superseded"
        problems = [str(Problem(p["code"], p["file"], p["sheet"], p["cell"], p["fields"]))
                    for p in entry["problems"]]
        returns.append(ReturnStatus(entry["name"], entry["sha256"], entry["reviewer_id"], entry["received"],
                                    status, problems))
    issued = latest_issues(issues)
    progress = []
    for reviewer in framework.reviewers:
        issue = issued.get(reviewer.reviewer_id)
        if issue is None:
            continue
        entry = current.get(reviewer.reviewer_id)
        progress.append(ReviewerProgress(reviewer.reviewer_id, reviewer.name, len(issue["refs"]),
                                         entry["answered"] if entry else 0,
                                         entry["received"] if entry else "", entry["name"] if entry else ""))
    return Consolidation(framework, responses, returns, progress, orphans)
