"""One table of every score: the current return of each reviewer, and a consolidated rating per ref.

Grey (a rating with no value) is never averaged; blank means not answered and is never a score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bva_excel.framework import Framework, Scale
from bva_excel.records import IssueRecord, Response, ReturnRecord


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


def current_returns(returns: list[ReturnRecord]) -> dict[str, ReturnRecord]:
    """reviewer ID -> their latest accepted return (later ingestion wins)."""
    current = {}
    for record in returns:
        if record.status == "accepted":
            current[record.reviewer_id] = record
    return current


def latest_issues(issues: list[IssueRecord]) -> dict[str, IssueRecord]:
    """reviewer ID -> the workbook most recently issued to them."""
    return {issue.reviewer_id: issue for issue in issues}


def consolidate(framework: Framework, returns: list[ReturnRecord], responses: list[Response],
                issues: list[IssueRecord]) -> Consolidation:
    """Every current score by ref, the fate of every file, and each reviewer's progress.

    `responses` are those read from the current returns (see `current_returns`).
    """
    current = current_returns(returns)
    order = {r.reviewer_id: i for i, r in enumerate(framework.reviewers)}
    by_ref: dict[str, list[Response]] = {}
    orphans = []
    for response in sorted(responses, key=lambda r: order.get(r.reviewer_id, len(order))):
        if framework.characteristic(response.ref):
            by_ref.setdefault(response.ref, []).append(response)
        elif response.rating or response.commentary or response.gaps:
            orphans.append(response)
    current_hashes = {record.sha256 for record in current.values()}
    statuses = []
    for record in returns:
        status = record.status
        if status == "accepted" and record.sha256 not in current_hashes:
            status = "superseded"
        statuses.append(ReturnStatus(record.name, record.sha256, record.reviewer_id, record.received, status,
                                     [str(p) for p in record.problems]))
    issued = latest_issues(issues)
    progress = []
    for reviewer in framework.reviewers:
        issue = issued.get(reviewer.reviewer_id)
        if issue is None:
            continue
        record = current.get(reviewer.reviewer_id)
        progress.append(ReviewerProgress(reviewer.reviewer_id, reviewer.name, len(issue.refs),
                                         record.answered if record else 0,
                                         record.received if record else "", record.name if record else ""))
    return Consolidation(framework, by_ref, statuses, progress, orphans)
