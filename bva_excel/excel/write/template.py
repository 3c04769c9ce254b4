"""Writing a framework workbook (the template's layout) from plain rows.

Used by scripts/build_template.py to produce templates/assessment_template.xlsx from the readable
source data in templates/source/, so the committed template can always be rebuilt and checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from bva_excel.excel.read.framework import (
    CHARACTERISTIC_HEADERS,
    REVIEWER_HEADERS,
    SCALE_HEADERS,
    SERVICE_AREA_HEADERS,
    SERVICE_AREAS_SHEET,
)
from bva_excel.excel.write.styles import (
    HEADER_COLOUR,
    fit_row,
    header_format,
    new_workbook,
)
from bva_excel.model.framework import THEMES

# A fixed creation date makes two builds byte-for-byte identical.
BUILD_DATE = dt.datetime(2024, 5, 1)

CHARACTERISTIC_WIDTHS = [9, 24, 50, 60, 40, 18, 14]
REVIEWER_WIDTHS = [12, 24, 32, 28]
SCALE_WIDTHS = [14, 10, 8, 80]
SERVICE_AREA_WIDTHS = [30, 30, 34]


def _write_table(workbook, name, headers, widths, rows, wrap):
    sheet = workbook.add_worksheet(name)
    head = header_format(workbook)
    for col, (title, width) in enumerate(zip(headers, widths)):
        sheet.write_string(0, col, title, head)
        sheet.set_column(col, col, width, wrap)
    for row, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            if isinstance(value, (int, float)):
                sheet.write_number(row, col, value, wrap)
            elif value not in (None, ""):
                sheet.write_string(row, col, str(value), wrap)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
    return sheet


GUIDE_WIDTH = 72  # characters: the text column fills an A4 portrait page between its margins


def write_guide(workbook, lines: list[str], title_format=None, password: str | None = None):
    """A 'Guide' sheet: lines starting with '# ' are headings. One column as wide as an A4 portrait page, every
    line wrapped within it and its row as tall as its lines; locked with `password` when one is given (in an
    issued workbook, the guide is to read, not to edit)."""
    sheet = workbook.add_worksheet("Guide")
    heading = title_format or workbook.add_format({"bold": True, "font_size": 13, "font_color": HEADER_COLOUR,
                                                   "text_wrap": True, "valign": "top"})
    body = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, GUIDE_WIDTH, body)
    for row, line in enumerate(lines):
        if line.startswith("# "):
            sheet.write_string(row, 0, line[2:], heading)
            fit_row(sheet, row, [line[2:]], [GUIDE_WIDTH * 0.8])  # larger type: fewer characters a line
        else:
            sheet.write_string(row, 0, line, body)
            fit_row(sheet, row, [line], [GUIDE_WIDTH])
    sheet.hide_gridlines(2)
    sheet.set_portrait()
    sheet.set_paper(9)
    sheet.set_margins(left=0.6, right=0.6, top=0.6, bottom=0.6)
    sheet.fit_to_pages(1, 0)
    if password is not None:
        sheet.protect(password)
    return sheet


def write_framework_workbook(path: Path, scale_rows: list[list], characteristic_rows: list[list],
                             reviewer_rows: list[list], guide_lines: list[str],
                             service_area_rows: Sequence[list] | None = ()) -> None:
    """Write a template-shaped workbook: Guide, Scale, Characteristics, Reviewers, Service areas (none with
    `service_area_rows` None: the layout of an assessment made before the sheet existed)."""
    workbook = new_workbook(path, "Best Value self-assessment framework", created=BUILD_DATE)
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    write_guide(workbook, guide_lines)
    scale = _write_table(workbook, "Scale", SCALE_HEADERS, SCALE_WIDTHS, scale_rows, wrap)
    for row, values in enumerate(scale_rows, start=1):
        swatch = workbook.add_format({"bg_color": values[1], "valign": "top"})
        scale.write_string(row, 1, values[1], swatch)
    characteristics = _write_table(workbook, "Characteristics", CHARACTERISTIC_HEADERS,
                                   CHARACTERISTIC_WIDTHS, characteristic_rows, wrap)
    characteristics.data_validation(1, 1, 1000, 1, {
        "validate": "list", "source": [t.name for t in THEMES], "error_type": "warning",
        "error_message": "Choose one of the seven Best Value themes."})
    _write_table(workbook, "Reviewers", REVIEWER_HEADERS, REVIEWER_WIDTHS, reviewer_rows, wrap)
    if service_area_rows is not None:
        _write_table(workbook, SERVICE_AREAS_SHEET, SERVICE_AREA_HEADERS, SERVICE_AREA_WIDTHS, service_area_rows, wrap)
    workbook.close()
