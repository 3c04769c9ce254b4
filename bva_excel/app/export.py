"""The action plan out to another system (a business planning tool): CSV or a plain workbook.

The same action always has the same ID. CSV is UTF-8 with a byte-order mark, which is how Excel
knows it is UTF-8, and a cell that starts like a formula (`=`, `+`, `-`, `@`, a tab or a carriage
return) is written with a leading apostrophe, so that no spreadsheet runs it (OWASP's advice for CSV
injection). In the workbook every text is written as text.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.app.state import STATE_STEPS, load_state
from bva_excel.errors import BvaError, Code, problem
from bva_excel.excel.write.styles import finish_printing, header_format, new_workbook, print_landscape
from bva_excel.model.action_plan import ActionRow, as_listed
from bva_excel.model.framework import Framework, area_key
from bva_excel.model.text import suggest
from bva_excel.store.files import replacing
from bva_excel.store.folder import needs_report
from bva_excel.tracking import QUIET, Tracker

EXPORT_HEADERS = ["Action ID", "Ref", "Theme", "Characteristic", "Gap", "Action", "Owner", "Service area",
                  "Target date", "Status", "Progress update", "Last updated"]
EXPORT_WIDTHS = [12, 7, 18, 30, 40, 40, 18, 18, 12, 12, 40, 12]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Export:
    path: Path
    rows: int
    service_area: str = ""  # as listed, when the export was for one
    assigned: list = field(default_factory=list)  # (Excel row, ID as typed, ID given): rows typed without an ID
    unlisted: list = field(default_factory=list)  # service areas not on the 'Service areas' sheet, one per action


def export_values(row: ActionRow) -> list[str]:
    """One action as exported: the columns of EXPORT_HEADERS, dates in ISO 8601."""
    target = row.target()
    return [row.action_id, row.ref, row.theme, row.characteristic, row.gap, row.text("Action"), row.text("Owner"),
            row.text("Service area"), target.isoformat() if target else row.text("Target date"), row.status,
            row.text("Progress update"), row.updated[:10]]


def inert(text: str) -> str:
    """Text that no spreadsheet will run as a formula when it opens the CSV."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def select(framework: Framework, rows: list[ActionRow], service_area: str | None) -> tuple[list[ActionRow], str]:
    """The actions for one service area (matched as a person would), or all; unknown names are refused."""
    if not service_area:
        return rows, ""
    key = area_key(service_area)
    listed = framework.service_area(service_area)
    chosen = [r for r in rows if area_key(r.text("Service area")) == key]
    if listed is None and not chosen:
        names = [a.name for a in framework.service_areas or ()] or sorted({r.text("Service area") for r in rows} - {""})
        raise BvaError(problem(Code.EXPORT_SERVICE_AREA_UNKNOWN, value=service_area, hint=suggest(service_area, names),
                               areas=", ".join(names) or "none yet"))
    return chosen, listed.name if listed else service_area.strip()


def write_csv(path: Path, rows: list[ActionRow]) -> None:
    with replacing(path) as temp:
        with open(temp, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_HEADERS)
            writer.writerows([inert(value) for value in export_values(row)] for row in rows)


def write_xlsx(path: Path, rows: list[ActionRow], title: str) -> None:
    with replacing(path) as temp:
        workbook = new_workbook(temp, f"{title}: action plan")
        sheet = workbook.add_worksheet("Actions")
        head = header_format(workbook)
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        iso = workbook.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
        for col, (header, width) in enumerate(zip(EXPORT_HEADERS, EXPORT_WIDTHS)):
            sheet.write_string(0, col, header, head)
            sheet.set_column(col, col, width, wrap)
        dated = {EXPORT_HEADERS.index("Target date"), EXPORT_HEADERS.index("Last updated")}
        for number, row in enumerate(rows, start=1):
            for col, value in enumerate(export_values(row)):
                day = _iso_date(value) if col in dated else None
                if day:
                    sheet.write_datetime(number, col, day, iso)
                else:
                    sheet.write_string(number, col, value, wrap)
        sheet.freeze_panes(1, 1)
        sheet.autofilter(0, 0, max(len(rows), 1), len(EXPORT_HEADERS) - 1)
        print_landscape(sheet)
        finish_printing(workbook, title)
        workbook.close()


def _iso_date(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return None


def export_actions(assessment, path: Path, as_xlsx: bool = False, service_area: str | None = None,
                   tracker: Tracker = QUIET) -> Export:
    """Write the current action plan (what is typed in report.xlsx, with the progress returned since) to `path`."""
    needs_report(assessment, "actions")
    with assessment.reading("actions"):
        tracker.start(STATE_STEPS, "steps")
        gathered = load_state(assessment, tracker=tracker)
        every = gathered.actions
        unlisted = as_listed(gathered.framework, every)
        rows, area = select(gathered.framework, every, service_area)
        if as_xlsx:
            write_xlsx(path, rows, assessment.title)
        else:
            write_csv(path, rows)
    return Export(path, len(rows), area, gathered.edits.assigned, unlisted)
