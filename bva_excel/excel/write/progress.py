"""excel.write.progress"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bva_excel.excel.write.review import cell_formats, write_identity_sheet
from bva_excel.excel.write.styles import finish_printing, fit_row, new_workbook, print_landscape
from bva_excel.excel.write.template import write_guide
from bva_excel.layout import HISTORY_SHEET, PROGRESS_HEADERS, PROGRESS_SHEET
from bva_excel.model.action_plan import STATUSES, ActionRow
from bva_excel.model.framework import ServiceArea
from bva_excel.model.identity import IssueIdentity
from bva_excel.model.progress import replaced_note
from bva_excel.model.recorded import ProgressUpdate
from bva_excel.store.files import replacing

HEADERS = PROGRESS_HEADERS


WIDTHS = [12, 7, 24, 34, 34, 14, 12, 12, 30, 13, 40, 12]


HISTORY_HEADERS = ["Received", "Action ID", "Ref", "Service area", "Status", "Progress update", "Revised target date",
                   "File", "Cells", "Note"]


HISTORY_WIDTHS = [17, 12, 7, 18, 12, 50, 12, 32, 9, 34]


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


def progress_guide_lines(title: str, area: ServiceArea, count: int, deadline: dt.date | None, pmo: str) -> list[str]:
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
    with replacing(path) as temp:
        workbook = new_workbook(temp, f"{title}: progress by {area.name}", issued=True)
        write_guide(workbook, progress_guide_lines(title, area, len(rows), deadline, pmo), password=password)
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
        sheet.autofilter(0, 0, last_row, len(HEADERS) - 1)
        print_landscape(sheet)
        sheet.protect(password, {"format_columns": True, "format_rows": True, "autofilter": True})
        sheet.activate()
        write_identity_sheet(workbook, identity, secret, password)
        finish_printing(workbook, title)
        workbook.close()


