"""Reading tables off worksheets the way a person sees them: by header name, with Excel row numbers.

Values come from python-calamine (fast, and it never evaluates a formula: a cell gives the value
the person saw). Blank rows are kept so that a row number here is the row number in Excel.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass

from python_calamine import CalamineWorkbook

from bva_excel.errors import Problem, problem


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """0-based row and column -> A1 reference."""
    return f"{column_letter(col)}{row + 1}"


def normalise_label(text: str) -> str:
    """Compare headers and ratings as a person would: case and spacing do not matter."""
    return " ".join(str(text).split()).casefold()


def cell_text(value) -> str:
    """The text a person sees in a cell, for a text field (numbers without a stray '.0')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def suggest(text: str, choices) -> str:
    """' (did you mean X?)': the choices that hold every word typed, or a word a letter or so from it ("Green"
    or "Gren" -> 'Dark green' or 'Light green'; "Owner" -> 'Action owner'), else a close match by edit
    distance, else ''."""
    by_label = {normalise_label(c): c for c in choices}
    typed = normalise_label(text)
    words = typed.split()
    if words and len(typed) >= 3:
        for near in (lambda w, held: w in held,
                     lambda w, held: len(w) >= 4 and any(difflib.SequenceMatcher(None, w, h).ratio() >= 0.8
                                                         for h in held)):
            holding = [choice for label, choice in by_label.items()
                       if label != typed and all(near(w, label.split()) for w in words)]
            if 1 <= len(holding) <= 3:
                return " (did you mean " + " or ".join(f"'{c}'" for c in holding) + "?)"
    close = difflib.get_close_matches(typed, list(by_label), n=1, cutoff=0.6)
    return f" (did you mean '{by_label[close[0]]}'?)" if close else ""


@dataclass
class Table:
    """A sheet read as a header row plus data rows; `rows` holds (excel_row_0based, values)."""

    file: str
    sheet: str
    columns: dict[str, int]  # normalised header -> 0-based column
    rows: list[tuple[int, list]]

    def column(self, header: str) -> int | None:
        """The 0-based column of `header` (as a person would match it), None if absent."""
        try:
            return self._by_header[header]
        except KeyError:
            col = self._by_header[header] = self.columns.get(normalise_label(header))
            return col
        except AttributeError:  # first look-up: a table is made once and read many times
            self._by_header = {}
            return self.column(header)

    def get(self, values: list, header: str):
        col = self.column(header)
        if col is None or col >= len(values):
            return None
        value = values[col]
        return None if value == "" else value

    def text(self, values: list, header: str) -> str:
        return cell_text(self.get(values, header)).strip()

    def cell(self, row: int, header: str) -> str:
        return a1(row, self.column(header))


def open_workbook(source) -> CalamineWorkbook:
    """A workbook from a path, or from a file-like object holding its bytes."""
    if hasattr(source, "read"):
        return CalamineWorkbook.from_filelike(source)
    return CalamineWorkbook.from_path(str(source))


def sheet_rows(workbook: CalamineWorkbook, name: str) -> list[list]:
    """Every row of a sheet from row 1, blank rows kept."""
    return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)


def read_table(workbook: CalamineWorkbook, file: str, sheet: str, required: list[str],
               problems: list[Problem], blank_headers_allowed: bool = False) -> Table | None:
    """Read `sheet` with its headers in row 1; missing sheet or headers are added to `problems`.

    A blank header between named ones is an error unless `blank_headers_allowed` (a column someone
    inserted into a return is harmless; in the framework it is a sign of a lost header).
    """
    if sheet not in workbook.sheet_names:
        problems.append(problem("SHEET_MISSING", file, name=sheet,
                                hint=suggest(sheet, workbook.sheet_names)))
        return None
    rows = sheet_rows(workbook, sheet)
    header = rows[0] if rows else []
    last_named = max((i for i, v in enumerate(header) if cell_text(v).strip()), default=-1)
    columns: dict[str, int] = {}
    for col, value in enumerate(header[: last_named + 1]):
        label = normalise_label(cell_text(value))
        if not label:
            if not blank_headers_allowed:
                problems.append(problem("HEADER_BLANK", file, sheet, a1(0, col)))
        elif label in columns:
            problems.append(problem("HEADER_DUPLICATE", file, sheet, a1(0, col),
                                    name=cell_text(value).strip(), other=a1(0, columns[label])))
        else:
            columns[label] = col
    present = [cell_text(v).strip() for v in header if cell_text(v).strip()]
    ok = True
    for name in required:
        if normalise_label(name) not in columns:
            ok = False
            problems.append(problem("HEADER_MISSING", file, sheet, name=name,
                                    hint=suggest(name, present)))
    if not ok:
        return None
    data = [(i, row) for i, row in enumerate(rows) if i > 0 and any(cell_text(v).strip() for v in row)]
    return Table(file, sheet, columns, data)


_REF = re.compile(r"^\s*([A-Za-z]{1,4})\s*-?\s*0*(\d{1,6})\s*$")


def normalise_ref(text) -> str | None:
    """'L0010', ' l10 ', 'L010' -> 'L010'; anything that is not prefix + number -> None."""
    match = _REF.match(cell_text(text))
    if not match:
        return None
    return f"{match.group(1).upper()}{int(match.group(2)):03d}"
