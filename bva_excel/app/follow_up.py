"""The follow-up report for committee: where the action plan stands, months after the assessment.

`bva follow-up DIR` writes one workbook: counts by status and by service area (with a chart),
overdue actions, what changed since the previous follow-up (completed, slipped, new), the
characteristics whose actions are all complete, and the service areas that have not returned
progress. Each follow-up keeps a note of every action as it stood in the records, so the next one can
say what changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bva_excel.app.state import STATE_STEPS, load_state
from bva_excel.excel.write.styles import (
    finish_printing,
    fit_row,
    header_format,
    new_workbook,
    print_landscape,
)
from bva_excel.layout import HISTORY_FOLDER
from bva_excel.model.action_plan import STATUSES, ActionRow, as_listed
from bva_excel.model.framework import area_key
from bva_excel.model.kinds import IssueKind, ReturnStatus
from bva_excel.model.recorded import FollowUp
from bva_excel.store.files import FilesPlaced, keep_history, replacing, sha256_of
from bva_excel.store.folder import needs_report
from bva_excel.tracking import QUIET, Tracker

NO_STATUS = "No status given"
NO_AREA = "No service area given"
ACTION_COLUMNS = ["Action ID", "Ref", "Characteristic", "Action", "Owner", "Service area", "Target date", "Status",
                  "Progress update", "Last updated"]
ACTION_WIDTHS = [12, 7, 26, 36, 16, 16, 11, 15, 40, 12]
STATUS_COLOURS = {"Not started": "#A5A5A5", "In progress": "#FFD966", "Complete": "#70AD47", "Closed": "#2F5597",
                  NO_STATUS: "#FFFFFF"}  # white with the outline every bar has: nothing said
OUTLINE = {"color": "#595959", "width": 0.75}
# Each status's part of a bar also has its own hatching, so that the chart of service areas reads in black and
# white and without telling colours apart (its legend shows the same); Complete stays solid.
STATUS_HATCHING = {"Not started": "wide_upward_diagonal", "In progress": "dark_vertical", "Closed": "dark_horizontal",
                   NO_STATUS: None, "Complete": None}


def status_fill(status: str) -> dict:
    """A chart series' fill for `status`: its colour, hatched unless it is Complete or no status was given."""
    colour = STATUS_COLOURS.get(status, "#BDD7EE")
    hatching = STATUS_HATCHING.get(status, "percent_50")
    if hatching is None:
        return {"fill": {"color": colour}}
    return {"pattern": {"pattern": hatching, "fg_color": colour, "bg_color": "#FFFFFF"}}


@dataclass
class PlanChange:
    row: ActionRow
    what: str  # Completed, Slipped or New
    why: str


@dataclass
class NotReturned:
    area: str
    head: str
    email: str
    sent: str  # when its latest progress workbook was issued
    file: str
    deadline: str
    last_return: str  # when it last returned progress, '' if never


@dataclass
class FollowUpReport:
    today: dt.date
    rows: list[ActionRow]
    previous: FollowUp | None
    by_status: dict[str, int]
    by_area: dict[str, dict[str, int]]
    overdue: list[ActionRow]
    changes: list[PlanChange]
    complete_characteristics: list[tuple[str, str, int]]  # ref, characteristic, actions
    not_returned: list[NotReturned]
    asked: bool = False  # whether any progress workbook was ever issued
    path: Path | None = None
    history: Path | None = None  # the copy kept of an earlier follow-up written to the same file

    def count(self, what: str) -> int:
        return sum(1 for change in self.changes if change.what == what)


def status_of(row: ActionRow) -> str:
    return row.status or NO_STATUS


def is_overdue(row: ActionRow, today: dt.date) -> bool:
    target = row.target()
    return target is not None and target < today and not row.done


def snapshot(rows: list[ActionRow]) -> dict[str, dict]:
    """Each action as it stands, as kept with a follow-up to compare the next one with."""
    kept = {}
    for row in rows:
        target = row.target()
        kept[row.action_id] = {"ref": row.ref, "status": row.status, "target": target.isoformat() if target else "",
                               "service_area": row.text("Service area")}
    return kept


def changes_since(rows: list[ActionRow], previous: FollowUp | None, today: dt.date) -> list[PlanChange]:
    """Completed, slipped (target date moved later, or overdue now and not then) and new since `previous`."""
    if previous is None:
        return []
    found = []
    then_day = dt.date.fromisoformat(previous.written_at[:10])
    for row in rows:
        before = previous.actions.get(row.action_id)
        if before is None:
            found.append(PlanChange(row, "New", "added since the last follow-up"))
            continue
        if row.done and before["status"] not in ("Complete", "Closed"):
            found.append(PlanChange(row, "Completed", f"{before['status'] or NO_STATUS.lower()} then, {row.status} now"))
            continue
        target = row.target()
        was = dt.date.fromisoformat(before["target"]) if before.get("target") else None
        if target and was and target > was:
            found.append(PlanChange(row, "Slipped", f"target date moved from {was:%d/%m/%Y} to {target:%d/%m/%Y}"))
        elif is_overdue(row, today) and not (was and was < then_day):
            found.append(PlanChange(row, "Slipped", f"target date {target:%d/%m/%Y} passed since the last follow-up"))
    order = {"Completed": 0, "Slipped": 1, "New": 2}
    return sorted(found, key=lambda change: order[change.what])


def not_returned(assessment, framework) -> list[NotReturned]:
    """Service areas asked for progress that have returned none since this progress round began, with when they
    last returned any.

    The round began with the first progress workbook issued to the area after the follow-up before its latest
    workbook: a return accepted since then, on any of its workbooks (a corrected return made on an
    earlier one included), counts as returned.
    """
    records = assessment.records
    follow_ups = records.follow_ups()
    progress = {issue.issue_id: issue for issue in records.issues() if issue.kind == IssueKind.PROGRESS}  # oldest first
    by_area: dict[str, list] = {}
    for issue in progress.values():
        by_area.setdefault(area_key(issue.reviewer_id), []).append(issue)
    received: dict[str, list[str]] = {}
    for record in records.returns():
        if record.status == ReturnStatus.ACCEPTED and record.issue_id in progress:
            received.setdefault(area_key(progress[record.issue_id].reviewer_id), []).append(record.received)
    missing = []
    for key, issues in by_area.items():
        # Follow-ups divide the rounds: this one began after the last follow-up written before its latest workbook.
        since = max((f.written_at for f in follow_ups if f.written_at < issues[-1].issued_at), default="")
        began = next(issue.issued_at for issue in issues if issue.issued_at > since)
        if any(when >= began for when in received.get(key, [])):
            continue
        latest = issues[-1]
        area = framework.service_area(latest.reviewer_id)
        missing.append(NotReturned(area.name if area else latest.reviewer_id, area.head if area else "",
                                   area.email if area else "", latest.issued_at, latest.file, latest.deadline,
                                   max(received.get(key, []), default="")))
    return missing


def build(assessment, rows: list[ActionRow], framework, today: dt.date) -> FollowUpReport:
    previous = (assessment.records.follow_ups() or [None])[-1]
    statuses = STATUSES + sorted({status_of(r) for r in rows} - set(STATUSES) - {NO_STATUS}) + [NO_STATUS]
    by_status = {status: sum(1 for r in rows if status_of(r) == status) for status in statuses}
    by_area: dict[str, dict[str, int]] = {}
    listed = [a.name for a in framework.service_areas or ()]
    for row in rows:
        area = framework.service_area(row.text("Service area"))
        name = area.name if area else (row.text("Service area") or NO_AREA)
        by_area.setdefault(name, dict.fromkeys(statuses, 0))[status_of(row)] += 1
    by_area = {name: by_area[name] for name in sorted(by_area, key=lambda n: (n == NO_AREA, n not in listed,
                                                                                 listed.index(n) if n in listed else 0, n))}
    by_ref: dict[str, list[ActionRow]] = {}
    for row in rows:
        by_ref.setdefault(row.ref, []).append(row)
    complete = [(ref, group[0].characteristic, len(group)) for ref, group in by_ref.items()
                if ref and all(r.done for r in group)]
    return FollowUpReport(today, rows, previous, by_status, by_area, [r for r in rows if is_overdue(r, today)],
                          changes_since(rows, previous, today), complete, not_returned(assessment, framework),
                          any(issue.kind == IssueKind.PROGRESS for issue in assessment.records.issues()))


def write_follow_up(assessment, path: Path | None = None, today: dt.date | None = None,
                    tracker: Tracker = QUIET) -> FollowUpReport:
    """Write the follow-up report (default DIR/follow-up YYYY-MM-DD.xlsx) and keep a note of it in the records;
    `tracker` counts the steps."""
    today = today or dt.date.today()
    needs_report(assessment, "follow-up")
    with assessment.locked("follow-up"):
        tracker.start(STATE_STEPS + 2, "steps")
        gathered = load_state(assessment, tracker=tracker)
        rows = gathered.actions
        as_listed(gathered.framework, rows)
        report = build(assessment, rows, gathered.framework, today)
        tracker.advance("compared with the last follow-up")
        report.path = Path(path) if path else assessment.folder / f"follow-up {today:%Y-%m-%d}.xlsx"
        with assessment.records.together() as placed:  # the follow-up written and recorded, or neither
            if report.path.exists():  # a second follow-up on one day: the first (perhaps already sent) is kept
                report.history = keep_history(report.path, placed) or _kept_copy(report.path)
            _write(report, report.path, assessment.title, placed)
            assessment.records.record_follow_up(FollowUp(dt.datetime.now().replace(microsecond=0).isoformat(),
                                                         report.path.name, snapshot(rows)))
        tracker.advance(f"saved {report.path.name}")
    return report


def _kept_copy(path: Path) -> Path | None:
    """The copy in history/ identical to `path`, already kept by an earlier run."""
    digest = sha256_of(path)
    return next((copy for copy in sorted((path.parent / HISTORY_FOLDER).glob(f"{path.stem} *{path.suffix}"))
                 if sha256_of(copy) == digest), None)


# Writing the workbook.

def _write(report: FollowUpReport, path: Path, title: str, placed: FilesPlaced | None = None) -> None:
    with replacing(path, placed) as temp:
        workbook = new_workbook(temp, f"{title}: follow-up of the action plan")
        formats = {"header": header_format(workbook),
                   "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
                   "date": workbook.add_format({"num_format": "dd/mm/yyyy", "valign": "top"}),
                   "bold": workbook.add_format({"bold": True}),
                   "number": workbook.add_format({"align": "center"}),
                   "total": workbook.add_format({"bold": True, "align": "center", "top": 1}),
                   "title": workbook.add_format({"bold": True, "font_size": 16}),
                   "subtitle": workbook.add_format({"italic": True, "font_color": "#595959"})}
        _write_summary(workbook, formats, report, title)
        _write_actions(workbook, formats, "Overdue", report.overdue,
                       "No action is past its target date." if report.rows else "There are no actions yet.")
        _write_changes(workbook, formats, report)
        _write_complete(workbook, formats, report)
        _write_not_returned(workbook, formats, report)
        _write_actions(workbook, formats, "All actions", report.rows, "There are no actions yet.")
        finish_printing(workbook, title)
        workbook.close()


def _summary_lines(report: FollowUpReport) -> list[str]:
    total = len(report.rows)
    done = sum(1 for r in report.rows if r.done)
    since = (f"Since the last follow-up ({report.previous.file}, "
             f"{dt.date.fromisoformat(report.previous.written_at[:10]):%d %B %Y}): "
             f"{report.count('Completed')} completed, {report.count('Slipped')} slipped, {report.count('New')} new."
             if report.previous else "This is the first follow-up: the next one will say what changed since.")
    returned = (f"{len(report.not_returned)} service area{'s have' if len(report.not_returned) != 1 else ' has'} not "
                "returned progress." if report.not_returned else
                "Every service area asked for progress has returned it." if report.asked else
                "No progress has been asked of the service areas yet.")
    return [f"{total} action{'s' * (total != 1)}: {done} complete or closed, {len(report.overdue)} overdue.",
            since, returned,
            (f"{len(report.complete_characteristics)} characteristics have all their actions complete."
             if len(report.complete_characteristics) != 1 else "1 characteristic has all its actions complete.")
            if report.complete_characteristics else
            "No characteristic has all its actions complete yet."]


def _write_summary(workbook, formats, report: FollowUpReport, title: str) -> None:
    sheet = workbook.add_worksheet("Summary")
    sheet.set_column(0, 0, 30)
    statuses = list(report.by_status)
    sheet.set_column(1, len(statuses) + 1, 14)
    sheet.write_string(0, 0, f"{title}: follow-up of the action plan", formats["title"])
    sheet.write_string(1, 0, f"As at {report.today:%d %B %Y}", formats["subtitle"])
    for number, line in enumerate(_summary_lines(report), start=3):
        sheet.write_string(number, 0, line)
    top = 8
    sheet.write_string(top, 0, "Actions by status", formats["bold"])
    sheet.write_string(top + 1, 0, "Status", formats["header"])
    sheet.write_string(top + 1, 1, "Actions", formats["header"])
    for offset, status in enumerate(statuses, start=top + 2):
        sheet.write_string(offset, 0, status)
        sheet.write_number(offset, 1, report.by_status[status], formats["number"])
    end = top + 1 + len(statuses)
    sheet.write_string(end + 1, 0, "Total", formats["bold"])
    sheet.write_number(end + 1, 1, len(report.rows), formats["total"])
    chart = workbook.add_chart({"type": "bar"})
    chart.add_series({"name": "Actions", "categories": ["Summary", top + 2, 0, end, 0],
                      "values": ["Summary", top + 2, 1, end, 1],
                      "points": [{"fill": {"color": STATUS_COLOURS.get(s, "#BDD7EE")}, "border": OUTLINE}
                                 for s in statuses],
                      "data_labels": {"value": True}})
    chart.set_title({"name": "Actions by status", "name_font": {"size": 12}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"min": 0, "major_unit": 1 if len(report.rows) <= 10 else None})
    chart.set_size({"width": 480, "height": 260})
    sheet.insert_chart(top, 3, chart)

    area_top = max(end + 4, top + 15)
    sheet.write_string(area_top, 0, "Actions by service area", formats["bold"])
    sheet.write_string(area_top + 1, 0, "Service area", formats["header"])
    for col, status in enumerate(statuses, start=1):
        sheet.write_string(area_top + 1, col, status, formats["header"])
    sheet.write_string(area_top + 1, len(statuses) + 1, "Total", formats["header"])
    for offset, (area, counts) in enumerate(report.by_area.items(), start=area_top + 2):
        sheet.write_string(offset, 0, area)
        for col, status in enumerate(statuses, start=1):
            sheet.write_number(offset, col, counts[status], formats["number"])
        sheet.write_number(offset, len(statuses) + 1, sum(counts.values()), formats["total"])
    area_end = area_top + 1 + len(report.by_area)
    if report.by_area:
        stacked = workbook.add_chart({"type": "bar", "subtype": "stacked"})
        for col, status in enumerate(statuses, start=1):
            stacked.add_series({"name": ["Summary", area_top + 1, col],
                                "categories": ["Summary", area_top + 2, 0, area_end, 0],
                                "values": ["Summary", area_top + 2, col, area_end, col],
                                **status_fill(status), "border": OUTLINE})
        stacked.set_title({"name": "Actions by service area and status", "name_font": {"size": 12}})
        stacked.set_y_axis({"reverse": True})
        stacked.set_x_axis({"min": 0, "major_unit": 1 if len(report.rows) <= 10 else None})
        stacked.set_legend({"position": "bottom"})
        stacked.set_size({"width": 640, "height": 140 + 36 * len(report.by_area)})
        sheet.insert_chart(area_end + 2, 0, stacked)
    sheet.hide_gridlines(2)
    print_landscape(sheet, pages_high=1, header_row=False)
    sheet.activate()


def _action_values(row: ActionRow) -> list:
    target = row.target()
    updated = dt.datetime.fromisoformat(row.updated[:10]) if row.updated else None
    return [row.action_id, row.ref, row.characteristic, row.text("Action"), row.text("Owner"),
            row.text("Service area"), dt.datetime.combine(target, dt.time()) if target else row.text("Target date"),
            row.status or NO_STATUS, row.text("Progress update"), updated]


def _table(sheet, formats, headers, widths, rows: list[list], empty: str) -> None:
    for col, (header, width) in enumerate(zip(headers, widths)):
        sheet.write_string(0, col, header, formats["header"])
        sheet.set_column(col, col, width, formats["wrap"])
    sheet.set_row(0, 30)  # two lines, so that 'Target date' and 'Last updated' are read whole
    if not rows:  # the sentence across the table, not wrapped into its first narrow column
        sheet.merge_range(1, 0, 1, len(headers) - 1, empty, formats["wrap"])
        fit_row(sheet, 1, [empty], [sum(widths)])
    for number, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(number, col, value, formats["date"])
            elif isinstance(value, (int, float)):
                sheet.write_number(number, col, value, formats["wrap"])
            elif value is None:
                sheet.write_blank(number, col, None, formats["wrap"])
            else:
                sheet.write_string(number, col, str(value), formats["wrap"])
        # Text wraps at spaces, so a line holds fewer characters than the column is wide: rows a little taller.
        fit_row(sheet, number, [v if isinstance(v, str) else "" for v in values], [w * 0.85 for w in widths])
    sheet.freeze_panes(1, 0)
    if rows:
        sheet.autofilter(0, 0, len(rows), len(headers) - 1)
    print_landscape(sheet)


def _write_actions(workbook, formats, name: str, rows: list[ActionRow], empty: str) -> None:
    _table(workbook.add_worksheet(name), formats, ACTION_COLUMNS, ACTION_WIDTHS, [_action_values(r) for r in rows],
           empty)


def _write_changes(workbook, formats, report: FollowUpReport) -> None:
    empty = ("Nothing has changed since the last follow-up." if report.previous else
             "This is the first follow-up: the next one will list what is completed, slipped or new since.")
    _table(workbook.add_worksheet("Changes"), formats, ["Change", "Why"] + ACTION_COLUMNS, [11, 34] + ACTION_WIDTHS,
           [[change.what, change.why] + _action_values(change.row) for change in report.changes], empty)


def _write_complete(workbook, formats, report: FollowUpReport) -> None:
    _table(workbook.add_worksheet("Complete characteristics"), formats, ["Ref", "Characteristic", "Actions"],
           [8, 60, 9], [[ref, text, count] for ref, text, count in report.complete_characteristics],
           "No characteristic has all its actions complete yet.")


def _write_not_returned(workbook, formats, report: FollowUpReport) -> None:
    def when(text):
        return dt.datetime.fromisoformat(text[:10]) if text else None
    _table(workbook.add_worksheet("Not returned"), formats,
           ["Service area", "Head of service", "Email", "Sent", "Workbook", "Deadline", "Last returned"],
           [22, 22, 30, 11, 34, 11, 13],
           [[n.area, n.head, n.email, when(n.sent), n.file, when(n.deadline), when(n.last_return)]
            for n in report.not_returned],
           "Every service area asked for progress has returned it." if report.asked else
           "No progress has been asked for yet (bva generate FOLDER --progress).")
