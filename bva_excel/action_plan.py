"""The action plan: a row for every characteristic scored at or below the threshold or with gaps listed.

Action IDs are stable (ACT-<ref>) so that what service areas type against an action is kept when
the report is written again, even if the characteristic is no longer flagged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bva_excel.consolidation import lists_gaps
from bva_excel.framework import Framework, Rating, Scale
from bva_excel.moderation import ACTION_INPUT_HEADERS, ACTION_SHEET
from bva_excel.returns import Response
from bva_excel.styles import add_rating_colours, fit_row, print_landscape

ACTION_HEADERS = ["Action ID", "Ref", "Theme", "Characteristic", "Score", "Gap identified"] + ACTION_INPUT_HEADERS
ACTION_WIDTHS = [11, 7, 13, 28, 11, 38, 28, 14, 14, 11, 11, 28]
STATUSES = ["Not started", "In progress", "Complete", "Closed"]


@dataclass
class ActionRow:
    action_id: str
    ref: str
    theme: str
    characteristic: str
    score: str
    gap: str
    inputs: dict = field(default_factory=dict)  # typed by people, carried over


def action_id(ref: str) -> str:
    return f"ACT-{ref}"


def gaps_text(responses: list[Response]) -> str:
    """The gaps reviewers listed, one line each; words that mean "no gap" are not a gap."""
    return "\n".join(f"{r.reviewer_id}: {r.gaps}" for r in responses if lists_gaps(r.gaps))


def plan_actions(framework: Framework, final: dict[str, str], responses: dict[str, list[Response]],
                 threshold: Rating, previous: dict[str, dict]) -> list[ActionRow]:
    """Flagged characteristics in framework order, plus any earlier action someone has typed into."""
    rows = []
    for characteristic in framework.characteristics:
        ref = characteristic.ref
        rating = framework.scale.find(final.get(ref, ""))
        low = rating is not None and rating.scored and rating.value <= threshold.value
        gaps = gaps_text(responses.get(ref, []))
        typed = previous.get(action_id(ref), {})
        if not (low or gaps or typed):
            continue
        if low or gaps:
            gap = gaps or f"Scored {rating.name}; no gaps were listed by the reviewers."
        else:
            gap = "No longer flagged by the scores; kept because actions were recorded against it."
        rows.append(ActionRow(action_id(ref), ref, characteristic.theme.name, characteristic.text,
                              final.get(ref, ""), gap, dict(typed)))
    return rows


def write_action_plan(workbook, rows: list[ActionRow], formats: dict, scale: Scale) -> None:
    """The 'Action plan' sheet, scores coloured by rating, input columns ready for the PMO."""
    sheet = workbook.add_worksheet(ACTION_SHEET)
    for col, (title, width) in enumerate(zip(ACTION_HEADERS, ACTION_WIDTHS)):
        sheet.write_string(0, col, title, formats["header"])
        sheet.set_column(col, col, width, formats["wrap"])
    for row_index, row in enumerate(rows, start=1):
        fixed = [row.action_id, row.ref, row.theme, row.characteristic, row.score, row.gap]
        for col, text in enumerate(fixed):
            sheet.write_string(row_index, col, text, formats["wrap"])
        for col, header in enumerate(ACTION_INPUT_HEADERS, start=len(fixed)):
            value = row.inputs.get(header)
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
        texts = fixed + [str(row.inputs.get(h, "")) for h in ACTION_INPUT_HEADERS]
        fit_row(sheet, row_index, texts, ACTION_WIDTHS)
    last = max(len(rows), 1)
    status_col = ACTION_HEADERS.index("Status")
    sheet.data_validation(1, status_col, last + 200, status_col,
                          {"validate": "list", "source": STATUSES, "error_type": "warning"})
    sheet.data_validation(1, ACTION_HEADERS.index("Target date"), last + 200, ACTION_HEADERS.index("Target date"),
                          {"validate": "date", "criteria": ">", "value": dt.date(2000, 1, 1),
                           "error_type": "warning", "error_message": "Type a date such as 31/03/2027."})
    score_col = ACTION_HEADERS.index("Score")
    add_rating_colours(workbook, sheet, 1, score_col, last, score_col, scale)
    sheet.freeze_panes(1, 2)
    sheet.autofilter(0, 0, last, len(ACTION_HEADERS) - 1)
    print_landscape(sheet)
