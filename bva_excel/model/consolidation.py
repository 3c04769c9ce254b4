"""One table of every score: the current return of each reviewer, and a consolidated rating per ref.

Grey (a rating with no value) is never averaged; blank means not answered and is never a score.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from bva_excel.model.framework import Framework, Scale
from bva_excel.model.kinds import IssueKind, ReturnStatus
from bva_excel.model.recorded import IssueRecord, Response, ReturnRecord


def consolidated_rating(scale: Scale, ratings: list[str]) -> str:
    """One reviewer: theirs. Several: the median, the lower of the two middle ratings when even.

    Only scored ratings count; if nobody scored but someone chose an unscored rating (Grey), that
    rating stands; if nobody answered, the result is blank.
    """
    found = [scale.find(r) for r in ratings if r]
    values = sorted(r.value for r in found if r is not None and r.value is not None)
    if values:
        return scale.by_value(values[(len(values) - 1) // 2]).name
    unscored = [r.name for r in found if r and not r.scored]
    return unscored[0] if unscored else ""


_NO_GAP = re.compile(
    r"(no(ne)?|nil|nothing|n/?a|not applicable|-+|no further|none (at (this|present|the moment) time|so far))"
    r"( (further |other |significant |new )?(gaps?|areas?|issues?|actions?)( to address)?)?"
    r"( (identified|noted|found|seen|known|at (this|present) time))?")


def lists_gaps(text: str) -> bool:
    """Whether a reviewer's 'Gaps and areas to address' names a gap: blank, "None identified.",
    "No gaps", "n/a", "Nil", "-" and the like do not. The one rule, for checks and the action plan."""
    plain = " ".join(re.sub(r"[.!;:,]+", " ", text).split()).casefold()
    return bool(plain) and not _NO_GAP.fullmatch(plain)


@dataclass
class ReturnsRow:
    """A row of the Returns sheet: one file seen, and what became of it."""

    name: str
    sha256: str
    reviewer_id: str
    received: str
    status: str  # accepted (some of its answers count), superseded (none do), rejected
    problems: list[str]
    counted: int = 0  # answers of this file that count now
    saved_by: str = ""  # who the workbook says last saved it
    email: str = ""  # the email it came attached to: sender, when sent, subject ('' if it came as a file)


@dataclass
class ReviewerProgress:
    reviewer_id: str
    name: str
    issued: int
    answered: int
    received: str  # when their latest return was ingested, '' if outstanding
    file: str  # the returns their current answers come from
    listed: bool = True  # still on 'Reviewers'
    rejected: int = 0  # their files that were refused


@dataclass
class Consolidation:
    framework: Framework
    responses: dict[str, list[Response]]  # ref -> current responses, in reviewer order
    returns: list[ReturnsRow]
    progress: list[ReviewerProgress]
    orphans: list[Response] = field(default_factory=list)  # answers for refs no longer in the framework
    # ref -> the moderation-round answer that counts (a moderated score and note), and its return
    moderations: dict[str, tuple[Response, ReturnRecord]] = field(default_factory=dict)
    issued_to: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ref -> reviewers its review was issued to

    @property
    def not_returned(self) -> list[ReviewerProgress]:
        """Reviewers still listed who were issued characteristics and have answered none of them."""
        return [p for p in self.progress if p.listed and p.issued and not p.answered]

    @property
    def short_of_reviewers(self) -> dict[str, tuple[int, int]]:
        """ref -> (reviewers who scored it, reviewers it was issued to), where fewer scored than were issued it."""
        short = {}
        for ref, reviewers in self.issued_to.items():
            scored = {r.reviewer_id for r in self.responses.get(ref, []) if r.rating}
            if len(scored & set(reviewers)) < len(reviewers):
                short[ref] = (len(scored & set(reviewers)), len(reviewers))
        return short

    def consolidated(self, ref: str) -> str:
        return consolidated_rating(self.framework.scale, [r.rating for r in self.responses.get(ref, [])])

    @property
    def max_reviewers(self) -> int:
        return max((len(v) for v in self.responses.values()), default=0)


def email_provenance(record: ReturnRecord) -> str:
    """The email a return came with, on one line ('Ann Lee <ann@...>, sent 2026-12-07 10:02, "RE: ..."')."""
    if not (record.email_from or record.email_date or record.email_subject):
        return ""
    parts = [record.email_from or "(no sender)"]
    if record.email_date:
        parts.append(f"sent {record.email_date.replace('T', ' ')}")
    if record.email_subject:
        parts.append(f'"{record.email_subject}"')
    return ", ".join(parts)


def in_order(returns: list[ReturnRecord], preferred: dict[int, str] | None = None) -> list[ReturnRecord]:
    """Accepted returns from earliest to latest, so a later answer overrides an earlier one.

    Later means saved later (the time inside the workbook), then received later; never the file name.
    A return the PMO preferred (`preferred`: return ID -> when chosen) comes after all of that reviewer's
    others, the most recent choice last.
    """
    preferred = preferred or {}
    accepted = [r for r in returns if r.status == ReturnStatus.ACCEPTED]
    return sorted(accepted, key=lambda r: (preferred.get(r.return_id, ""), r.saved or r.received, r.received,
                                           r.return_id))


def placed_by(record: ReturnRecord) -> str:
    """The time `in_order` places a return by, in words: when the workbook says it was saved, else when it was
    received (with that said), so that a note comparing two returns names the very times it compared."""
    if record.saved:
        return f"saved at {record.saved.replace('T', ' ')}"
    return f"received at {record.received.replace('T', ' ')} (it does not say when it was saved)"


def unclear_order(ordered: list[ReturnRecord],
                  preferred: dict[int, str] | None = None) -> list[tuple[ReturnRecord, ReturnRecord]]:
    """Pairs of returns from one reviewer saved at the same moment (so which is later is a guess)."""
    preferred = preferred or {}
    last: dict[str, ReturnRecord] = {}
    pairs = []
    for record in ordered:
        before = last.get(record.reviewer_id)
        if (before and record.saved and before.saved == record.saved
                and not (preferred.get(record.return_id) or preferred.get(before.return_id))):
            pairs.append((before, record))
        last[record.reviewer_id] = record
    return pairs


def current_answers(ordered: list[ReturnRecord], responses: dict[int, list[Response]]
                    ) -> dict[tuple[str, str], tuple[Response, ReturnRecord]]:
    """(reviewer, ref) -> the answer that counts, and the return it came from.

    Answers count per characteristic: a later return replaces an earlier answer only where it chose a
    score; where it left the score blank, the earlier answer stands.
    """
    current: dict[tuple[str, str], tuple[Response, ReturnRecord]] = {}
    for record in ordered:
        for response in responses.get(record.return_id, []):
            key = (response.reviewer_id, response.ref)
            earlier = current.get(key)
            if response.rating or earlier is None or not earlier[0].rating:
                current[key] = (response, record)
    return current


def latest_issues(issues: list[IssueRecord]) -> dict[str, IssueRecord]:
    """reviewer ID -> the workbook most recently issued to them."""
    return {issue.reviewer_id: issue for issue in issues}


def moderation_answers(ordered: list[ReturnRecord], responses: dict[int, list[Response]]
                       ) -> dict[str, tuple[Response, ReturnRecord]]:
    """ref -> the latest moderated score given in a moderation workbook (whoever the moderator), and its return."""
    found: dict[str, tuple[Response, ReturnRecord]] = {}
    for record in ordered:
        for response in responses.get(record.return_id, []):
            if response.rating:
                found[response.ref] = (response, record)
    return found


def consolidate(framework: Framework, returns: list[ReturnRecord], responses: dict[int, list[Response]],
                issues: list[IssueRecord], preferred: dict[int, str] | None = None) -> Consolidation:
    """Every current score by ref, the fate of every file, each reviewer's progress, and the moderation round.

    `responses`: return ID -> the responses read from it, for the accepted returns.
    """
    moderation = {issue.issue_id for issue in issues if issue.kind == IssueKind.MODERATION}
    progress = {issue.issue_id for issue in issues if issue.kind == IssueKind.PROGRESS}  # on actions, not scores
    issues = [issue for issue in issues if issue.kind == IssueKind.REVIEW]
    moderated = in_order([r for r in returns if r.issue_id in moderation], preferred)
    moderations = moderation_answers(moderated, responses)
    ordered = in_order([r for r in returns if r.issue_id not in moderation and r.issue_id not in progress], preferred)
    current = current_answers(ordered, responses)
    order = {r.reviewer_id: i for i, r in enumerate(framework.reviewers)}
    by_ref: dict[str, list[Response]] = {}
    orphans = []
    counted: dict[int, int] = {}
    latest: dict[str, ReturnRecord] = {}
    sources: dict[str, list[str]] = {}
    for record in ordered:
        latest[record.reviewer_id] = record
    for (reviewer_id, _), (response, record) in sorted(
            current.items(), key=lambda item: (order.get(item[0][0], len(order)), item[0][0])):
        if response.rating or response.commentary or response.gaps:
            counted[record.return_id] = counted.get(record.return_id, 0) + 1
            names = sources.setdefault(reviewer_id, [])
            if record.name not in names:
                names.append(record.name)
        if framework.characteristic(response.ref):
            by_ref.setdefault(response.ref, []).append(response)
        elif response.rating or response.commentary or response.gaps:
            orphans.append(response)
    for _response, record in moderations.values():
        counted[record.return_id] = counted.get(record.return_id, 0) + 1
    for record in returns:
        if record.issue_id in progress and record.status == ReturnStatus.ACCEPTED:
            counted[record.return_id] = record.answered  # every update counts, kept in the action history
    statuses = []
    for record in returns:
        status = str(record.status)
        if record.status == ReturnStatus.ACCEPTED and not counted.get(record.return_id):
            status = "superseded"
        statuses.append(ReturnsRow(record.name, record.sha256, record.reviewer_id, record.received, status,
                                     [str(p) for p in record.problems], counted.get(record.return_id, 0),
                                     record.saved_by, email_provenance(record)))
    issued = latest_issues(issues)
    by_reviewer = []
    listed = {r.reviewer_id: r for r in framework.reviewers}
    rejected = Counter(r.reviewer_id for r in returns if r.status == ReturnStatus.REJECTED)
    for reviewer_id in [*listed, *sorted(set(latest) - set(listed))]:
        issue = issued.get(reviewer_id)
        if issue is None:
            continue
        newest = latest.get(reviewer_id)
        refs = issue.refs if reviewer_id in listed else tuple(ref for rid, ref in current if rid == reviewer_id)
        answered = sum(1 for ref in refs if (reviewer_id, ref) in current and current[reviewer_id, ref][0].rating)
        by_reviewer.append(ReviewerProgress(reviewer_id, listed[reviewer_id].name if reviewer_id in listed else "",
                                         len(refs), answered, newest.received if newest else "",
                                         ", ".join(sources.get(reviewer_id, [])), reviewer_id in listed,
                                         rejected[reviewer_id]))
    issued_to: dict[str, list[str]] = {}
    for reviewer_id in listed:
        for ref in issued[reviewer_id].refs if reviewer_id in issued else ():
            if framework.characteristic(ref):
                issued_to.setdefault(ref, []).append(reviewer_id)
    return Consolidation(framework, by_ref, statuses, by_reviewer, orphans, moderations,
                         {ref: tuple(ids) for ref, ids in issued_to.items()})
