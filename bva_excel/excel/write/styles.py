"""How the tool's workbooks look: shared formats, rating colours and row heights.

Every workbook is written with XlsxWriter; these helpers keep them consistent.
"""

from __future__ import annotations

import math

from bva_excel import __version__
from bva_excel.layout import TOOL_AUTHOR

HEADER_COLOUR = "#1F3864"
INPUT_FILL = "#FFF8DC"
LINE_HEIGHT = 15  # points per line of 11pt text


def workbook_options() -> dict:
    """Options for every workbook the tool writes: text stays text, never a formula or a link."""
    return {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def new_workbook(path, title: str, issued: bool = False, **properties):
    """An XlsxWriter workbook to be written at `path`, with the tool's options and its title as a document
    property; one `issued` to a person says which version issued it. `properties` adds others (created)."""
    import xlsxwriter  # heavy: loaded only when needed

    workbook = xlsxwriter.Workbook(str(path), workbook_options())
    workbook.set_properties({"title": title, "author": TOOL_AUTHOR,
                             **({"comments": f"Issued by bva-excel {__version__}"} if issued else {}), **properties})
    return workbook


def header_format(workbook):
    return workbook.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_COLOUR,
                                "text_wrap": True, "valign": "top", "border": 1})


def text_colour_on(background: str) -> str:
    """Black or white text, whichever reads better on `background` ('#RRGGBB')."""
    red, green, blue = (int(background[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if (0.299 * red + 0.587 * green + 0.114 * blue) > 140 else "#FFFFFF"


def add_rating_colours(workbook, sheet, first_row, first_col, last_row, last_col, scale) -> None:
    """Colour cells holding a rating's name in that rating's colour (blank cells stay white)."""
    for rating in scale.ratings:
        fmt = workbook.add_format({"bg_color": rating.colour, "font_color": text_colour_on(rating.colour)})
        sheet.conditional_format(first_row, first_col, last_row, last_col, {
            "type": "cell", "criteria": "==", "value": '"' + rating.name.replace('"', '""') + '"',
            "format": fmt})


def countifs_criterion(text: str) -> str:
    """A COUNTIFS criterion matching exactly `text` (any case), as a formula's string literal.

    "=" in front makes a text such as ">5" or "=x" a value to equal, not a comparison; "~" keeps "*",
    "?" and "~" in a name from acting as wildcards (Excel's rule; LibreOffice follows it in .xlsx).
    """
    escaped = "".join("~" + c if c in "*?~" else c for c in text)
    return '"=' + escaped.replace('"', '""') + '"'


def lines_needed(text: str, width: float) -> int:
    """Roughly how many lines `text` wraps to in a column `width` characters wide."""
    per_line = max(int(width * 1.2) - 1, 1)
    return sum(max(math.ceil(len(part) / per_line), 1) for part in str(text).split("\n"))


def fit_row(sheet, row: int, texts: list[str], widths: list[float], most: int = 20) -> None:
    """Set a row tall enough for its wrapped text; applications do not do it for us on load."""
    lines = max((lines_needed(t, w) for t, w in zip(texts, widths) if t), default=1)
    sheet.set_row(row, LINE_HEIGHT * min(max(lines, 1), most) + 2)


def print_landscape(sheet, pages_high: int = 0, header_row: bool = True) -> None:
    """Print on A4 landscape, one page wide (and `pages_high` tall, 0 for as many as needed)."""
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, pages_high)
    if header_row:
        sheet.repeat_rows(0)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    sheet.set_footer("&L&A&RPage &P of &N")


NOT_ANSWERED_COLOUR = "#E7E6E6"  # a light neutral, apart from every rating's colour (Grey included)
