"""excel.write.action_plan"""

from __future__ import annotations

import datetime as dt

from bva_excel.excel.write.styles import add_rating_colours, fit_row, print_landscape
from bva_excel.layout import ACTION_HEADERS, ACTION_INPUT_HEADERS, ACTION_SHEET
from bva_excel.model.action_plan import DONE, STATUSES, ActionRow
from bva_excel.model.framework import Scale
from bva_excel.model.text import column_letter

ACTION_WIDTHS = [12, 7, 13, 28, 11, 38, 28, 14, 16, 11, 11, 28, 12, 30]


OVERDUE_FILL = "#F8CBAD"


def write_action_plan(workbook, rows: list[ActionRow], formats: dict, scale: Scale) -> None:
    """The 'Action plan' sheet, scores coloured by rating, input columns ready for the PMO, an overdue
    action (target date passed, not complete) shaded as the workbook is opened."""
    sheet = workbook.add_worksheet(ACTION_SHEET)
    for col, (title, width) in enumerate(zip(ACTION_HEADERS, ACTION_WIDTHS)):
        sheet.write_string(0, col, title, formats["header"])
        sheet.set_column(col, col, width, formats["wrap"])
    for row_index, row in enumerate(rows, start=1):
        fixed = [row.action_id, row.ref, row.theme, row.characteristic, row.score, row.gap]
        for col, text in enumerate(fixed):
            sheet.write_string(row_index, col, text, formats["wrap"])
        for col, header in enumerate(ACTION_INPUT_HEADERS, start=len(fixed)):
            value = row.inputs.column(header)
            if isinstance(value, (dt.datetime, dt.date)):
                sheet.write_datetime(row_index, col, value, formats["date"])
            elif isinstance(value, float) and value.is_integer():
                sheet.write_number(row_index, col, int(value), formats["wrap"])
            elif value is None:
                sheet.write_blank(row_index, col, None, formats["date"] if header == "Target date" else formats["wrap"])
            elif isinstance(value, (int, float)):
                sheet.write_number(row_index, col, value, formats["wrap"])
            else:
                sheet.write_string(row_index, col, str(value), formats["wrap"])
        updated_col = ACTION_HEADERS.index("Last updated")
        if row.updated:
            sheet.write_datetime(row_index, updated_col, dt.datetime.fromisoformat(row.updated[:10]), formats["date"])
        sheet.write_string(row_index, updated_col + 1, row.source, formats["wrap"])
        texts = fixed + [row.text(h) for h in ACTION_INPUT_HEADERS] + ["", row.source]
        fit_row(sheet, row_index, texts, ACTION_WIDTHS)
    last = max(len(rows), 1)
    status_col = ACTION_HEADERS.index("Status")
    target_col = ACTION_HEADERS.index("Target date")
    sheet.data_validation(1, status_col, last + 200, status_col,
                          {"validate": "list", "source": STATUSES, "error_type": "warning"})
    sheet.data_validation(1, target_col, last + 200, target_col,
                          {"validate": "date", "criteria": ">", "value": dt.date(2000, 1, 1),
                           "error_type": "warning", "error_message": "Type a date such as 31/03/2027."})
    score_col = ACTION_HEADERS.index("Score")
    add_rating_colours(workbook, sheet, 1, score_col, last, score_col, scale)
    # Overdue: worked out by the spreadsheet when it is opened, so the plan is right on the day it is read.
    # Added after the scores' colours, so that a score keeps its rating's colour on an overdue row.
    target, status = column_letter(target_col), column_letter(status_col)
    done = ",".join(f'${status}2="{s}"' for s in DONE)
    sheet.conditional_format(1, 0, last + 200, len(ACTION_HEADERS) - 1, {
        "type": "formula", "criteria": f"=AND(ISNUMBER(${target}2),${target}2<TODAY(),NOT(OR({done})))",
        "format": workbook.add_format({"bg_color": OVERDUE_FILL})})
    sheet.freeze_panes(1, 2)
    sheet.autofilter(0, 0, last, len(ACTION_HEADERS) - 1)
    print_landscape(sheet)


