"""model.progress"""

from __future__ import annotations

import datetime as dt

from bva_excel.errors import Code, Problem, problem
from bva_excel.model.action_plan import DONE, ActionRow
from bva_excel.model.framework import area_key
from bva_excel.model.identity import IssueIdentity
from bva_excel.model.kinds import IssueKind
from bva_excel.model.recorded import IssueRecord, ProgressUpdate


def source_of(update: ProgressUpdate) -> str:
    """Where an update came from, in words that also tell it from any other (two returns may share a name and
    cell): the start of the file's SHA-256, as on 'Returns'."""
    cells = "cells" if "," in update.cell else "cell"
    return (f"the progress return from {update.service_area}, {update.file}, {cells} {update.cell} "
            f"(received {update.received[:16].replace('T', ' ')}, SHA-256 {update.sha256[:8]})")


def _shown(update: ProgressUpdate, shown_text: str) -> bool:
    """Whether the report's 'Update from' names this update (in the words of this version or the one before)."""
    before = (f"{update.service_area}'s progress return {update.file}, cell {update.cell} "
              f"(received {update.received[:16].replace('T', ' ')}, SHA-256 {update.sha256[:8]})")
    return source_of(update) in shown_text or before in shown_text


def replaced_note(update: ProgressUpdate) -> str:
    """Why an update from a replaced workbook does not change the plan, in words ('' if it does)."""
    if not update.replaced_by:
        return ""
    when = _when(update.replaced_at) if "T" in update.replaced_at else update.replaced_at
    return (f"Not put on the plan: made on a progress workbook that a newer one ({update.replaced_by}, issued "
            f"{when}) had replaced before it came back")


def apply_progress(rows: list[ActionRow], updates: list[ProgressUpdate],
                   shown: dict[str, str]) -> list[tuple[ActionRow, ProgressUpdate]]:
    """Put on the plan (in place) each action's progress returned since the report last showed it; return what
    which updates' statuses were not put on it (see below).

    `shown`: action ID -> the report's 'Update from', which names the latest update the report has shown.
    Updates after that one replace what they give (a blank input leaves the plan's value as it was); one
    already shown is not applied again, so what was typed over it in the report stands, and says so.
    An update from a workbook replaced by a newer one before it came back is kept in the records (and on
    'Action history') but not applied. An update does not reopen an action made Complete or Closed by another
    source (typed in the report, or another workbook's return): the action stays done, and that is said.
    """
    by_action: dict[str, list[ProgressUpdate]] = {}
    for update in updates:
        if not update.replaced_by:
            by_action.setdefault(update.action_id, []).append(update)
    said = []
    for row in rows:
        received = by_action.get(row.action_id, [])
        shown_text = shown.get(row.action_id, "")
        start = max((i + 1 for i, update in enumerate(received) if _shown(update, shown_text)), default=0)
        # Who made the action done: the workbook of the update shown last, if it gave this status; else a person.
        done_by = (received[start - 1].issue_id or None) if start and received[start - 1].status == row.status \
            else None
        kept = []
        for update in received[start:]:
            if update.status:
                if row.done and update.status not in DONE and (done_by is None or update.issue_id != done_by):
                    kept.append(update)
                else:
                    row.inputs.status = update.status
                    done_by = update.issue_id if update.status in DONE else done_by
            if update.progress:
                row.inputs.progress_update = update.progress
            if update.revised_target:
                row.inputs.target_date = dt.datetime.fromisoformat(update.revised_target)
        if not received:
            continue
        latest = received[-1]
        still = ((not latest.status or row.status == latest.status or latest in kept)
                 and (not latest.progress or row.text("Progress update") == latest.progress.strip()))
        row.updated = latest.received  # when the last return came, even if what it said was typed over since
        if start < len(received) or still:
            row.source = source_of(latest)
        else:
            row.source = f"Typed in the report since {source_of(latest)}"
        for update in kept:
            row.source += f". It stays {row.status}: {update.status} from {update.file} would reopen it"
            said.append((row, update))
    return said


def replaced_workbook(file: str, identity: IssueIdentity, issues: list[IssueRecord]) -> list[Problem]:
    """A warning when a newer progress workbook was issued to the same service area than the one this return
    was made on (`issues` oldest first): its updates are kept but do not change the plan."""
    kinds = [i for i in issues if i.kind == IssueKind.PROGRESS and area_key(i.reviewer_id) == area_key(identity.reviewer_id)]
    at = next((n for n, issue in enumerate(kinds) if issue.issue_id == identity.issue_id), None)
    if at is None or at == len(kinds) - 1:
        return []
    newer = kinds[at + 1]
    return [problem(Code.PROGRESS_WORKBOOK_REPLACED, file, area=identity.reviewer_id,
                    issued=_when(kinds[at].issued_at), newer=newer.file, newer_at=_when(newer.issued_at))]


def _when(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%d %b %Y %H:%M")


