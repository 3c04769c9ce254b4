"""Progress on the action plan, collected from the service areas by workbook.

`bva generate DIR --progress` writes one protected workbook per service area with its open actions:
the characteristic, gap, action, owner, target date, current status and last update as context, and
three inputs, `Status` (a dropdown), `Progress update` and `Revised target date`. The workbooks carry
the same signed identity (kind "progress"), protection and staging as reviewers' own and come back
through `bva ingest`. Every update received is kept; the plan shows each action's latest, with its
date and source. An action left out of a return, or whose inputs were left blank, is not changed.
A return made on a workbook that a newer one replaced before it came back is kept but does not change
the plan, and an update does not reopen an action made Complete or Closed since its workbook was
issued; both are said.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.app.tracking import QUIET, Tracker
from bva_excel.model.action_plan import DONE, STATUSES, ActionRow, action_problems, as_date, plan_of, plan_warnings
from bva_excel.store.folder import needs_report
from bva_excel.store.folder import Assessment
from bva_excel.errors import ERROR, BvaError, Problem, problem
from bva_excel.model.framework import ServiceArea, area_key
from bva_excel.model.identity import IssueIdentity
from bva_excel.model.recorded import IssueRecord, ProgressUpdate
from bva_excel.excel.read.sheets import Table
from bva_excel.model.text import cell_text
from bva_excel.model.text import suggest
from bva_excel.store.files import replacing, safe_file_name
from bva_excel.excel.write.styles import fit_row, new_workbook, print_landscape
from bva_excel.excel.write.template import write_guide

PROGRESS_SHEET = "Progress"
HEADERS = ["Action ID", "Ref", "Characteristic", "Gap identified", "Action", "Owner", "Target date",
           "Current status", "Last update", "Status", "Progress update", "Revised target date"]
WIDTHS = [12, 7, 24, 34, 34, 14, 12, 12, 30, 13, 40, 12]
INPUTS = ("Status", "Progress update", "Revised target date")
LOCKED_TEXT = ("Characteristic", "Action")  # compared on return: changed after unprotecting is a warning
HISTORY_SHEET = "Action history"
HISTORY_HEADERS = ["Received", "Action ID", "Ref", "Service area", "Status", "Progress update", "Revised target date",
                   "File", "Cells", "Note"]
HISTORY_WIDTHS = [17, 12, 7, 18, 12, 50, 12, 32, 9, 34]


# Reading progress and putting it on the plan.

def current_actions(assessment: Assessment, gathered) -> list[ActionRow]:
    """The action plan as the report would write it now: what was typed, with the progress returned since."""
    rows = plan_of(gathered)
    kept = apply_progress(rows, assessment.records.progress_updates(), gathered.edits.action_sources)
    # Said with the report's other warnings (and bva check's), once each, however often this is called.
    said = [problem("ACTION_NOT_REOPENED", assessment.report.name, "Action plan", action=row.action_id,
                    status=row.status, update=update.status, source=source_of(update)) for row, update in kept]
    said += plan_warnings(gathered.framework, rows, gathered.edits, assessment.report.name)
    known = {str(w) for w in gathered.warnings}
    gathered.warnings.extend(p for p in said if str(p) not in known)
    return rows


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
                    row.inputs["Status"] = update.status
                    done_by = update.issue_id if update.status in DONE else done_by
            if update.progress:
                row.inputs["Progress update"] = update.progress
            if update.revised_target:
                row.inputs["Target date"] = dt.datetime.fromisoformat(update.revised_target)
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


def read_progress_rows(table: Table, identity: IssueIdentity, issue: IssueRecord, reading) -> None:
    """Every issued action's row, matched by Action ID: its update and any problem, into `reading`."""
    from bva_excel.excel.read.returns import _compare_locked_text

    file, sheet = table.file, table.sheet
    issued = set(identity.refs)
    seen: dict[str, int] = {}
    for row, values in table.rows:
        action_id = table.text(values, "Action ID")
        if not action_id:
            continue  # a note typed below the table
        if action_id not in issued:
            reading.problems.append(problem("PROGRESS_ACTION_NOT_ISSUED", file, sheet, table.cell(row, "Action ID"),
                                            action=action_id, area=identity.reviewer_id))
            continue
        if action_id in seen:
            reading.problems.append(problem("RETURN_DUPLICATE_ROW", file, sheet, table.cell(row, "Action ID"),
                                            ref=action_id, other=seen[action_id] + 1))
            continue
        seen[action_id] = row
        _compare_locked_text(table, row, values, action_id, issue, reading.problems)
        status_text = table.text(values, "Status")
        status = next((s for s in STATUSES if s.casefold() == status_text.casefold()), None) if status_text else ""
        if status is None:
            reading.problems.append(problem("PROGRESS_STATUS_INVALID", file, sheet, table.cell(row, "Status"),
                                            value=status_text, hint=suggest(status_text, STATUSES),
                                            statuses=", ".join(STATUSES)))
            continue
        raw_date = table.get(values, "Revised target date")
        revised = as_date(raw_date) if raw_date is not None else None
        if raw_date is not None and revised is None:
            reading.problems.append(problem("PROGRESS_DATE_INVALID", file, sheet,
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
            reading.problems.append(problem("PROGRESS_ACTION_MISSING", file, sheet, action=action_id))
    # Nothing filled in is said only when nothing else is wrong: a row refused is not a row left blank.
    if not reading.updates and not any(p.severity == ERROR for p in reading.problems):
        reading.problems.append(problem("PROGRESS_NOTHING_RETURNED", file, issued=len(identity.refs)))


def replaced_workbook(file: str, identity: IssueIdentity, issues: list[IssueRecord]) -> list[Problem]:
    """A warning when a newer progress workbook was issued to the same service area than the one this return
    was made on (`issues` oldest first): its updates are kept but do not change the plan."""
    kinds = [i for i in issues if i.kind == "progress" and area_key(i.reviewer_id) == area_key(identity.reviewer_id)]
    at = next((n for n, issue in enumerate(kinds) if issue.issue_id == identity.issue_id), None)
    if at is None or at == len(kinds) - 1:
        return []
    newer = kinds[at + 1]
    return [problem("PROGRESS_WORKBOOK_REPLACED", file, area=identity.reviewer_id,
                    issued=_when(kinds[at].issued_at), newer=newer.file, newer_at=_when(newer.issued_at))]


def _when(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%d %b %Y %H:%M")


def write_action_history(workbook, updates: list[ProgressUpdate], rows: list[ActionRow], formats: dict) -> None:
    """The 'Action history' sheet: every progress update ever received, oldest first; one that did not change
    the plan (its workbook was replaced by a newer one before it came back) says so in 'Note'."""
    sheet = workbook.add_worksheet(HISTORY_SHEET)
    for col, (title, width) in enumerate(zip(HISTORY_HEADERS, HISTORY_WIDTHS)):
        sheet.write_string(0, col, title, formats["header"])
        sheet.set_column(col, col, width, formats["wrap"])
    sheet.set_row(0, 30)  # two lines, so that 'Revised target date' is read whole
    refs = {row.action_id: row.ref for row in rows}
    for number, update in enumerate(updates, start=1):
        values = [update.received.replace("T", " "), update.action_id, refs.get(update.action_id, ""),
                  update.service_area, update.status, update.progress, update.revised_target, update.file, update.cell,
                  replaced_note(update)]
        for col, value in enumerate(values):
            sheet.write_string(number, col, value, formats["wrap"])
        fit_row(sheet, number, values, HISTORY_WIDTHS)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(updates), 1), len(HISTORY_HEADERS) - 1)
    print_landscape(sheet)


# Issuing the progress workbooks.

@dataclass
class ProgressRound:
    files: dict[str, Path]  # service area -> workbook written to the outbox
    actions: dict[str, list[str]]  # service area -> action IDs sent
    unassigned: list[str]  # open actions with no service area: not sent
    done: int  # actions complete or closed: not sent
    added: object = None  # the 'Service areas' sheet added to an older assessment, if it was
    recovered: list[str] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # workbooks of an earlier round in the outbox, written over


def guide_lines(title: str, area: ServiceArea, count: int, deadline: dt.date | None, pmo: str) -> list[str]:
    due = deadline.strftime("%A %d %B %Y") if deadline else "the date in the covering email"
    head = f" ({area.head})" if area.head else ""
    return [
        f"# {title}: progress on the action plan",
        f"This workbook is for {area.name}{head}. It holds the {count} action{'s' * (count != 1)} on the Best Value "
        "action plan that your service area delivers and that are not yet complete.",
        f"Please return it by {due}.",
        "# How to fill it in",
        "1. Go to the 'Progress' sheet. Each row is one action, with the characteristic and gap it answers, its "
        "owner and target date, and its status and update as the plan shows them now.",
        "2. In 'Status', choose where the action stands now.",
        "3. In 'Progress update', say in a sentence or two what has been done since the last update.",
        "4. If the target date has to move, type the new date in 'Revised target date' (such as 31/03/2027), "
        "and say why in the update.",
        "Leave a row blank to leave that action as it is. Only the shaded cells can be changed.",
        "# How to return it",
        f"Save the workbook (any file name will do) and email it back to {pmo}.",
    ]


def write_progress_workbook(path: Path, area: ServiceArea, rows: list[ActionRow], identity: IssueIdentity,
                            secret: bytes, title: str, deadline: dt.date | None, pmo: str, password: str) -> None:
    """Write one service area's progress workbook to `path` (atomically)."""
    from bva_excel.app.issue import cell_formats, write_identity_sheet

    with replacing(path) as temp:
        workbook = new_workbook(temp, f"{title}: progress by {area.name}", issued=True)
        write_guide(workbook, guide_lines(title, area, len(rows), deadline, pmo), password=password)
        sheet = workbook.add_worksheet(PROGRESS_SHEET)
        head, locked, bold, unlocked = cell_formats(workbook)
        locked_date = workbook.add_format({"num_format": "dd/mm/yyyy", "valign": "top", "border": 1,
                                           "border_color": "#BFBFBF"})
        unlocked_date = workbook.add_format({"num_format": "dd/mm/yyyy", "valign": "top", "border": 1,
                                             "border_color": "#BFBFBF", "locked": False, "bg_color": "#FFF8DC"})
        for col, (header, width) in enumerate(zip(HEADERS, WIDTHS)):
            sheet.write_string(0, col, header, head)
            sheet.set_column(col, col, width)
        sheet.set_row(0, 32)
        for number, row in enumerate(rows, start=1):
            last = f"{row.text('Progress update')}" + (f" ({row.updated[:10]})" if row.updated else "")
            texts = [row.action_id, row.ref, row.characteristic, row.gap, row.text("Action"), row.text("Owner")]
            for col, text in enumerate(texts):
                sheet.write_string(number, col, text, bold if col == 0 else locked)
            target = row.target()
            if target:
                sheet.write_datetime(number, 6, dt.datetime.combine(target, dt.time()), locked_date)
            else:
                sheet.write_string(number, 6, row.text("Target date"), locked)
            sheet.write_string(number, 7, row.status or "None given", locked)
            sheet.write_string(number, 8, last, locked)
            sheet.write_blank(number, 9, None, unlocked)
            sheet.write_blank(number, 10, None, unlocked)
            sheet.write_blank(number, 11, None, unlocked_date)
            fit_row(sheet, number, texts + ["", "", last], WIDTHS, most=12)
        last_row = max(len(rows), 1)
        sheet.data_validation(1, 9, last_row, 9, {"validate": "list", "source": STATUSES,
                                                  "input_title": "Status", "input_message": "Where the action stands now."})
        sheet.data_validation(1, 11, last_row, 11, {
            "validate": "date", "criteria": ">", "value": dt.date(2000, 1, 1),
            "error_title": "Revised target date", "error_message": "Type a date such as 31/03/2027."})
        sheet.freeze_panes(1, 1)
        print_landscape(sheet)
        sheet.protect(password, {"format_columns": True, "format_rows": True})
        sheet.activate()
        write_identity_sheet(workbook, identity, secret, password)
        workbook.close()


def generate_progress(assessment: Assessment, deadline: dt.date | None = None, pmo: str = "the PMO",
                      tracker: Tracker = QUIET) -> ProgressRound:
    """One progress workbook per service area with open actions. Refused, with nothing written, while an open
    action's service area is not on the 'Service areas' sheet."""
    from bva_excel.app.report import GATHER_STEPS, gather
    from bva_excel.app.issue import finish_interrupted_generation, issue_workbooks, named_apart
    from bva_excel.excel.write.service_areas import ensure_service_areas

    needs_report(assessment, "generate --progress")
    with assessment.locked("generate --progress"):
        recovered = finish_interrupted_generation(assessment)
        added = ensure_service_areas(assessment)
        tracker.start(GATHER_STEPS, "steps")
        gathered = gather(assessment, tracker=tracker)
        framework = gathered.framework
        rows = current_actions(assessment, gathered)
        open_rows = [r for r in rows if not r.done]
        problems = action_problems(framework, open_rows, gathered.edits.action_rows, False, assessment.report.name)
        problems += [problem("ACTION_ID_COMMA", assessment.report.name, "Action plan", action=r.action_id)
                     for r in open_rows if "," in r.action_id]
        if problems:
            refused = BvaError(problems)
            refused.added = added  # said all the same: the workbook was changed
            raise refused
        by_area: dict[str, list[ActionRow]] = {}
        for row in open_rows:
            if row.text("Service area"):
                by_area.setdefault(framework.service_area(row.text("Service area")).name, []).append(row)
        if not by_area:
            raise BvaError(problem("NO_PROGRESS_TO_ASK", assessment.report.name, "Action plan"))
        secret, password = assessment.secret(), assessment.records.sheet_password()
        issued_at = dt.datetime.now().replace(microsecond=0).isoformat()
        planned = []
        areas = [a for a in framework.service_areas if a.name in by_area]
        for area in areas:
            mine = by_area[area.name]
            ids = tuple(r.action_id for r in mine)
            identity = IssueIdentity(assessment.assessment_id, area.name, secrets.token_hex(6), issued_at, ids,
                                     "progress")
            name = safe_file_name(f"BV progress {area.name}", ".xlsx")
            texts = {r.action_id: {"Characteristic": r.characteristic, "Action": r.text("Action")} for r in mine}
            record = IssueRecord(identity.issue_id, area.name, issued_at, name,
                                 deadline.isoformat() if deadline else "", ids, texts, "progress")

            def write(path, area=area, mine=mine, identity=identity):
                write_progress_workbook(path, area, mine, identity, secret, assessment.title, deadline, pmo, password)
            planned.append((record, write))
        planned = named_apart(assessment, planned, {record.issue_id: f"BV progress {record.reviewer_id}"
                                                    for record, _ in planned})
        earlier = [record.file for record, _ in planned if (assessment.outbox / record.file).exists()]
        placed, refused = issue_workbooks(assessment, planned, tracker)
        files = {record.reviewer_id: placed[record.issue_id] for record, _ in planned if record.issue_id in placed}
        return ProgressRound(files, {a.name: [r.action_id for r in by_area[a.name]] for a in areas},
                             [r.action_id for r in open_rows if not r.text("Service area")],
                             len(rows) - len(open_rows), added, recovered, refused,
                             [name for name in earlier if any(path.name == name for path in files.values())])

