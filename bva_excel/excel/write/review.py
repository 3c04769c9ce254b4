"""excel.write.review"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bva_excel.excel.write.styles import (
    INPUT_FILL,
    add_rating_colours,
    finish_printing,
    fit_row,
    header_format,
    new_workbook,
    print_landscape,
    text_colour_on,
)
from bva_excel.excel.write.template import write_guide
from bva_excel.layout import REVIEW_HEADERS, REVIEW_SHEET
from bva_excel.model.framework import Characteristic, Framework, Reviewer, Scale
from bva_excel.model.identity import IDENTITY_SHEET, IssueIdentity
from bva_excel.store.files import replacing

INPUT_HEADERS = ("Score", "Commentary", "Gaps and areas to address")


REVIEW_WIDTHS = [8, 16, 30, 60, 30, 14, 45, 45]


LOCKED_HEADERS = ("Theme", "Characteristic", "Position statement", "Evidence")


def issued_texts(characteristic: Characteristic) -> dict[str, str]:
    """The locked text a reviewer was shown for one characteristic, by header."""
    return dict(zip(LOCKED_HEADERS, [characteristic.theme.name, characteristic.text,
                                     characteristic.position_statement, characteristic.evidence]))


def score_validation(scale: Scale) -> dict:
    """A dropdown of exactly the scale's ratings."""
    source: list[str] | str = scale.names
    if sum(len(n) + 1 for n in source) > 250 or any("," in n for n in source):
        # Excel limits an inline list to 255 characters and splits it on commas.
        source = f"=Scale!$A$2:$A${len(source) + 1}"
    return {"validate": "list", "source": source, "input_title": "Score",
            "input_message": "Choose a rating from the list.", "error_title": "Not a rating",
            "error_message": "Choose one of the ratings in the list (see the Scale sheet)."}


def cell_formats(workbook) -> tuple:
    """The header, locked text, bold ref and unlocked input formats of every sheet people fill in."""
    border = {"valign": "top", "border": 1, "border_color": "#BFBFBF"}
    return (header_format(workbook), workbook.add_format({"text_wrap": True, **border}),
            workbook.add_format({"bold": True, **border}),
            workbook.add_format({"locked": False, "text_wrap": True, "bg_color": INPUT_FILL, **border}))


def write_identity_sheet(workbook, identity: IssueIdentity, secret: bytes, password: str) -> None:
    """The signed identity, on a hidden, locked sheet."""
    hidden = workbook.add_worksheet(IDENTITY_SHEET)
    for row, (key, value) in enumerate(identity.rows(secret)):
        hidden.write_string(row, 0, key)
        hidden.write_string(row, 1, value)
    hidden.protect(password)
    hidden.very_hidden()  # plain hidden after a LibreOffice save; the signature is what counts


def _write_review_sheet(workbook, framework: Framework, characteristics: list[Characteristic], password: str) -> None:
    sheet = workbook.add_worksheet(REVIEW_SHEET)
    head, locked, ref_format, unlocked = cell_formats(workbook)
    for col, (title, width) in enumerate(zip(REVIEW_HEADERS, REVIEW_WIDTHS)):
        sheet.write_string(0, col, title, head)
        sheet.set_column(col, col, width)
    for row, characteristic in enumerate(characteristics, start=1):
        sheet.write_string(row, 0, characteristic.ref, ref_format)
        for col, text in enumerate([characteristic.theme.name, characteristic.text,
                                    characteristic.position_statement, characteristic.evidence], start=1):
            sheet.write_string(row, col, text, locked)
        for col in range(5, 8):
            sheet.write_blank(row, col, None, unlocked)
        fit_row(sheet, row, [characteristic.text, characteristic.position_statement, characteristic.evidence],
                [REVIEW_WIDTHS[2], REVIEW_WIDTHS[3], REVIEW_WIDTHS[4]], most=30)
    last = len(characteristics)
    score_col = REVIEW_HEADERS.index("Score")
    sheet.data_validation(1, score_col, last, score_col, score_validation(framework.scale))
    add_rating_colours(workbook, sheet, 1, score_col, last, score_col, framework.scale)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, max(last, 1), len(REVIEW_HEADERS) - 1)
    print_landscape(sheet)
    sheet.protect(password, {"format_columns": True, "format_rows": True, "autofilter": True})
    sheet.activate()


def write_scale_sheet(workbook, scale: Scale, password: str) -> None:
    sheet = workbook.add_worksheet("Scale")
    head = header_format(workbook)
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    for col, (title, width) in enumerate(zip(["Rating", "Meaning"], [16, 90])):
        sheet.write_string(0, col, title, head)
        sheet.set_column(col, col, width, wrap)
    for row, rating in enumerate(scale.ratings, start=1):
        swatch = workbook.add_format({"bg_color": rating.colour, "font_color": text_colour_on(rating.colour),
                                      "bold": True, "valign": "top"})
        sheet.write_string(row, 0, rating.name, swatch)
        sheet.write_string(row, 1, rating.meaning, wrap)
        fit_row(sheet, row, [rating.meaning], [90])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(scale.ratings), 1)
    print_landscape(sheet)
    sheet.protect(password, {"autofilter": True})


def review_guide_lines(title: str, reviewer: Reviewer, count: int, deadline: dt.date | None, pmo: str) -> list[str]:
    due = deadline.strftime("%A %d %B %Y") if deadline else "the date in the covering email"
    return [
        f"# {title}: your review",
        f"This workbook is for {reviewer.name} ({reviewer.reviewer_id}). It holds the {count} "
        "characteristics you have been asked to review independently.",
        f"Please return it by {due}.",
        "# How to fill it in",
        "1. Go to the 'Review' sheet. Each row is one characteristic of a well-functioning authority.",
        "2. Read the position statement and sample the evidence it lists.",
        "3. In 'Score', choose a rating from the dropdown. The 'Scale' sheet says what each rating means. "
        "Choose Grey only for something outside officers' control, and say why in 'Commentary'.",
        "4. In 'Commentary', say why you gave that score.",
        "5. In 'Gaps and areas to address', list what is missing or should be done next.",
        "Only the shaded cells can be changed. Leave a score blank if you cannot judge it: blank means "
        "not answered.",
        "# How to return it",
        f"Save the workbook (any file name will do) and email it back to {pmo}. Please keep it as an "
        ".xlsx workbook, do not copy the rows into another file, and do not change its other sheets.",
    ]


def write_reviewer_workbook(path: Path, framework: Framework, reviewer: Reviewer,
                            characteristics: list[Characteristic], identity: IssueIdentity, secret: bytes,
                            title: str, deadline: dt.date | None, pmo: str, password: str = "") -> None:
    """Write one reviewer's workbook to `path` (atomically); `password` locks its sheets."""
    with replacing(path) as temp:
        workbook = new_workbook(temp, f"{title}: review by {reviewer.name}", issued=True)
        for name, value in [("bva_assessment_id", identity.assessment_id),
                            ("bva_reviewer_id", identity.reviewer_id), ("bva_issue_id", identity.issue_id)]:
            workbook.set_custom_property(name, value, "text")
        write_guide(workbook, review_guide_lines(title, reviewer, len(characteristics), deadline, pmo), password=password)
        _write_review_sheet(workbook, framework, characteristics, password)
        write_scale_sheet(workbook, framework.scale, password)
        write_identity_sheet(workbook, identity, secret, password)
        finish_printing(workbook, title)
        workbook.close()


