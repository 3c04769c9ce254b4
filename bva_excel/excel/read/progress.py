"""excel.read.progress"""

from __future__ import annotations

from bva_excel.errors import ERROR, Code, problem
from bva_excel.excel.read.sheets import Table, compare_locked_text
from bva_excel.model.action_plan import STATUSES, as_date
from bva_excel.model.identity import IssueIdentity
from bva_excel.model.recorded import IssueRecord, ProgressUpdate
from bva_excel.model.text import cell_text, suggest

INPUTS = ("Status", "Progress update", "Revised target date")


LOCKED_TEXT = ("Characteristic", "Action")  # compared on return: changed after unprotecting is a warning


def read_progress_rows(table: Table, identity: IssueIdentity, issue: IssueRecord, reading) -> None:
    """Every issued action's row, matched by Action ID: its update and any problem, into `reading`."""

    file, sheet = table.file, table.sheet
    issued = set(identity.refs)
    seen: dict[str, int] = {}
    for row, values in table.rows:
        action_id = table.text(values, "Action ID")
        if not action_id:
            continue  # a note typed below the table
        if action_id not in issued:
            reading.problems.append(problem(Code.PROGRESS_ACTION_NOT_ISSUED, file, sheet, table.cell(row, "Action ID"),
                                            action=action_id, area=identity.reviewer_id))
            continue
        if action_id in seen:
            reading.problems.append(problem(Code.RETURN_DUPLICATE_ROW, file, sheet, table.cell(row, "Action ID"),
                                            ref=action_id, other=seen[action_id] + 1))
            continue
        seen[action_id] = row
        compare_locked_text(table, row, values, action_id, issue, reading.problems)
        status_text = table.text(values, "Status")
        status = next((s for s in STATUSES if s.casefold() == status_text.casefold()), None) if status_text else ""
        if status is None:
            reading.problems.append(problem(Code.PROGRESS_STATUS_INVALID, file, sheet, table.cell(row, "Status"),
                                            value=status_text, hint=suggest(status_text, STATUSES),
                                            statuses=", ".join(STATUSES)))
            continue
        raw_date = table.get(values, "Revised target date")
        revised = as_date(raw_date) if raw_date is not None else None
        if raw_date is not None and revised is None:
            reading.problems.append(problem(Code.PROGRESS_DATE_INVALID, file, sheet,
                                            table.cell(row, "Revised target date"), value=cell_text(raw_date)))
            continue
        text = cell_text(table.get(values, "Progress update")).strip()
        if status or text or revised:
            filled = [header for header, value in zip(INPUTS, (status, text, revised)) if value]
            reading.updates.append(ProgressUpdate(action_id, identity.reviewer_id, status, text,
                                                  revised.isoformat() if revised else "", file, sheet,
                                                  ", ".join(table.cell(row, header) for header in filled)))
    for action_id in identity.refs:
        if action_id not in seen:
            reading.problems.append(problem(Code.PROGRESS_ACTION_MISSING, file, sheet, action=action_id))
    # Nothing filled in is said only when nothing else is wrong: a row refused is not a row left blank.
    if not reading.updates and not any(p.severity == ERROR for p in reading.problems):
        reading.problems.append(problem(Code.PROGRESS_NOTHING_RETURNED, file, issued=len(identity.refs)))


