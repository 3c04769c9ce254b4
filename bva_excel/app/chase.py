"""Reminders for returns outstanding: `bva chase`.

Everyone sent the current workbook of a round whose return is missing, or in but with items left unanswered, gets a
reminder drafted into the outbox (an unsent email, as `--emails` writes), naming what is outstanding and the
deadline. Each reminder is recorded, so the next one says it is the second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.app.issue import recipient
from bva_excel.errors import BvaError, Code, problem
from bva_excel.excel.read.framework import load_framework
from bva_excel.excel.write.drafts import compose, write_draft
from bva_excel.model.kinds import IssueKind, ReturnStatus
from bva_excel.model.recorded import IssueRecord, Reminder
from bva_excel.store.folder import Assessment

KINDS = tuple(str(kind) for kind in IssueKind)  # as the command line names them
ITEMS = {"review": ("characteristic", "scored"), "moderation": ("characteristic", "moderated"),
         "progress": ("action", "updated")}


@dataclass(frozen=True)
class Chased:
    """One reminder drafted."""

    label: str  # who, as named on 'Reviewers' or 'Service areas'
    outstanding: str
    number: int  # 1 for a first reminder, 2 for a second...
    draft: Path
    addressed: bool  # the draft has a recipient (an address is listed for them)
    attached: bool  # their workbook was still in the outbox, so it is attached again


@dataclass
class ChaseResult:
    kind: IssueKind
    chased: list[Chased] = field(default_factory=list)
    complete: list[str] = field(default_factory=list)  # whose return is in, complete


def chase(assessment: Assessment, kind: IssueKind = IssueKind.REVIEW, pmo: str = "the PMO") -> ChaseResult:
    """Draft and record a reminder for each recipient of `kind`'s current workbook whose return is missing or
    incomplete. A moderator's return is never incomplete: a moderated score is given only where one is needed."""
    with assessment.locked("chase"):
        framework = load_framework(assessment.workbook)
        records = assessment.records
        issues = [issue for issue in records.issues() if issue.kind == kind]
        if not issues:
            raise BvaError(problem(Code.CHASE_NOTHING_ISSUED, kind=kind))
        latest: dict[str, IssueRecord] = {}
        for issue in issues:  # oldest first: the last is the workbook each has now
            latest[issue.reviewer_id] = issue
        by_id = {issue.issue_id: issue for issue in records.issues()}
        of_kind = [r for r in records.returns() if r.issue_id in by_id and by_id[r.issue_id].kind == kind]
        returned = [r for r in of_kind if r.status == ReturnStatus.ACCEPTED]
        rejected = {r.reviewer_id for r in of_kind if r.status == ReturnStatus.REJECTED}
        done = _answered(records, kind, returned, {i.issue_id: i.reviewer_id for i in issues})
        # What each has returned the characteristics of (a moderator leaves blank what needs no moderation, so
        # a moderation workbook counts as returned whole: one issued again with others is still to return).
        covered: dict[str, set[str]] = {}
        for record in returned:
            covered.setdefault(record.reviewer_id, set()).update(by_id[record.issue_id].refs)
        earlier: dict[str, int] = {}
        for reminder in records.reminders():
            if reminder.kind == kind:
                earlier[reminder.recipient] = earlier.get(reminder.recipient, 0) + 1
        senders = {r.reviewer_id for r in returned}
        result = ChaseResult(kind)
        reminders = []
        written_at = dt.datetime.now().replace(microsecond=0).isoformat()
        for who, issue in latest.items():
            person, label = recipient(framework, kind, who)
            if kind == IssueKind.MODERATION and who in senders and not set(issue.refs) <= covered.get(who, set()):
                outstanding = "no return of this workbook has been received yet (the one returned before was another)"
            elif who not in senders:
                outstanding = ("the return received was refused (the PMO can say why): please correct it, or fill in "
                               "this workbook again, and send it" if who in rejected
                               else "no return has been received yet")
            else:
                missing = [item for item in issue.refs if (who, item) not in done]
                if kind == IssueKind.MODERATION or not missing:
                    result.complete.append(label)
                    continue
                noun, verb = ITEMS[kind]
                outstanding = (f"{len(missing)} of the {len(issue.refs)} {noun}s in it "
                               f"{'is' if len(missing) == 1 else 'are'} not {verb} yet ({', '.join(missing)})")
            number = earlier.get(who, 0) + 1
            workbook = assessment.outbox / issue.file
            attached = workbook.is_file()
            message = compose(person, kind, assessment.title, issue.deadline, pmo, workbook if attached else None,
                              number, outstanding)
            draft = write_draft(assessment.outbox / f"{Path(issue.file).stem} (reminder {number}).eml", message)
            result.chased.append(Chased(label, outstanding, number, draft, bool(person.usable_address), attached))
            reminders.append(Reminder(issue.issue_id, who, kind, written_at, outstanding, draft.name))
        records.record_reminders(reminders)
        return result


def _answered(records, kind: IssueKind, returned, recipients: dict[str, str]) -> set[tuple[str, str]]:
    """(recipient, ref or action ID) answered in an accepted return of `kind`, whichever of their workbooks it was."""
    if kind == IssueKind.PROGRESS:
        return {(recipients.get(u.issue_id, u.service_area), u.action_id) for u in records.progress_updates()
                if u.issue_id in recipients and (u.status or u.progress.strip() or u.revised_target)}
    responses = records.responses_by_return([r.return_id for r in returned])
    return {(r.reviewer_id, r.ref) for answers in responses.values() for r in answers if r.rating}
