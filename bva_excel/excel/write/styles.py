"""How the tool's workbooks look: shared formats, rating colours and row heights.

Every workbook is written with XlsxWriter; these helpers keep them consistent.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of '#RRGGBB': 0 for black, 1 for white."""
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (linear(int(colour[i:i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2's contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white text, whichever contrasts more with `background` ('#RRGGBB'): one of them always
    reaches WCAG's 4.5:1 for normal text, whatever colour a scale gives a rating."""
    black, white = contrast_ratio(background, "#000000"), contrast_ratio(background, "#FFFFFF")
    return "#000000" if black >= white else "#FFFFFF"


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
    text = str(text)
    if "\n" not in text:  # most cells: one paragraph (asked for every cell of every row of the report)
        return max(-(-len(text) // per_line), 1)
    return sum(max(-(-len(part) // per_line), 1) for part in text.split("\n"))


def fit_row(sheet, row: int, texts: Sequence[str], widths: Sequence[float], most: int = 20) -> None:
    """Set a row tall enough for its wrapped text; applications do not do it for us on load."""
    lines = max((lines_needed(t, w) for t, w in zip(texts, widths) if t), default=1)
    sheet.set_row(row, LINE_HEIGHT * min(max(lines, 1), most) + 2)


def print_landscape(sheet, pages_high: int = 0, header_row: bool = True) -> None:
    """Print on A4 landscape, one page wide (and `pages_high` tall, 0 for as many as needed), the header row
    on every page; the footer is `finish_printing`'s."""
    sheet.set_landscape()
    _print_a4(sheet, pages_high, header_row)


def print_portrait(sheet, header_row: bool = True) -> None:
    """Print a narrow sheet on A4 portrait, one page wide, the header row on every page."""
    sheet.set_portrait()
    _print_a4(sheet, 0, header_row)


def _print_a4(sheet, pages_high: int, header_row: bool) -> None:
    sheet.set_paper(9)
    sheet.fit_to_pages(1, pages_high)
    if header_row:
        sheet.repeat_rows(0)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)


FOOTER_TITLE_MOST = 120  # characters of the assessment's title in a footer (Excel allows 255 in all)


def footer(title: str) -> str:
    """A printed page's footer: the assessment's title on the left, the sheet's name in the middle, "Page x of y"
    on the right ('&' doubled in the title, so that Excel prints it and does not read a code)."""
    shown = title if len(title) <= FOOTER_TITLE_MOST else title[:FOOTER_TITLE_MOST - 1] + "…"
    return f"&L&8{shown.replace('&', '&&')}&C&8&A&R&8Page &P of &N"


def finish_printing(workbook, title: str) -> None:
    """Give every sheet of `workbook` that has no footer of its own the footer naming `title`, the sheet and the
    page: called last, so that no sheet (a person's own, carried into a report, included) prints without it."""
    for sheet in workbook.worksheets():
        if not sheet.footer:  # XlsxWriter's record of set_footer()
            sheet.set_footer(footer(title))


NOT_ANSWERED_COLOUR = "#E7E6E6"  # a light neutral, apart from every rating's colour (Grey included)
