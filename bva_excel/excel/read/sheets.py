"""Reading tables off worksheets the way a person sees them: by header name, with Excel row numbers.

Values come from python-calamine (fast, and it never evaluates a formula: a cell gives the value
the person saw). Blank rows are kept so that a row number here is the row number in Excel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from python_calamine import CalamineWorkbook

from bva_excel.errors import Code, Problem, problem
from bva_excel.model.recorded import IssueRecord
from bva_excel.model.text import a1, cell_text, has_text, normalise_label, suggest


@dataclass
class Table:
    """A sheet read as a header row plus data rows; `rows` holds (excel_row_0based, values)."""

    file: str
    sheet: str
    columns: dict[str, int]  # normalised header -> 0-based column
    rows: list[tuple[int, list]]
    header: list = field(default_factory=list)  # row 1 as read, every cell
    # header as asked for -> its column: a table is made once and read many times
    _by_header: dict[str, int | None] = field(default_factory=dict, init=False, repr=False, compare=False)

    def column(self, header: str) -> int | None:
        """The 0-based column of `header` (as a person would match it), None if absent."""
        try:
            return self._by_header[header]
        except KeyError:
            col = self._by_header[header] = self.columns.get(normalise_label(header))
            return col

    def get(self, values: list, header: str):
        col = self.column(header)
        if col is None or col >= len(values):
            return None
        value = values[col]
        return None if value == "" else value

    def text(self, values: list, header: str) -> str:
        col = self.column(header)
        return cell_text(values[col]).strip() if col is not None and col < len(values) else ""

    def cell(self, row: int, header: str) -> str:
        """Where `header`'s cell of `row` is ('B7'); '' when the table has no such column."""
        col = self.column(header)
        return a1(row, col) if col is not None else ""


class Workbook(Protocol):
    """What the readers ask of a workbook: calamine's, or a report's sheets read once (report_file.py)."""

    @property
    def sheet_names(self) -> list[str]: ...

    def get_sheet_by_name(self, name: str) -> Any: ...


def open_workbook(source) -> CalamineWorkbook:
    """A workbook from a path, or from a file-like object holding its bytes."""
    if hasattr(source, "read"):
        return CalamineWorkbook.from_filelike(source)
    return CalamineWorkbook.from_path(str(source))


def sheet_rows(workbook: Workbook, name: str) -> list[list]:
    """Every row of a sheet from row 1, blank rows kept."""
    return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)


def read_table(workbook: Workbook, file: str, sheet: str, required: list[str],
               problems: list[Problem], blank_headers_allowed: bool = False) -> Table | None:
    """Read `sheet` with its headers in row 1; missing sheet or headers are added to `problems`.

    A blank header between named ones is an error unless `blank_headers_allowed` (a column someone
    inserted into a return is harmless; in the framework it is a sign of a lost header).
    """
    if sheet not in workbook.sheet_names:
        problems.append(problem(Code.SHEET_MISSING, file, name=sheet,
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
                problems.append(problem(Code.HEADER_BLANK, file, sheet, a1(0, col)))
        elif label in columns:
            problems.append(problem(Code.HEADER_DUPLICATE, file, sheet, a1(0, col),
                                    name=cell_text(value).strip(), other=a1(0, columns[label])))
        else:
            columns[label] = col
    present = [cell_text(v).strip() for v in header if cell_text(v).strip()]
    ok = True
    for name in required:
        if normalise_label(name) not in columns:
            ok = False
            problems.append(problem(Code.HEADER_MISSING, file, sheet, name=name,
                                    hint=suggest(name, present)))
    if not ok:
        return None
    data = [(i, row) for i, row in enumerate(rows) if i > 0 and any(map(has_text, row))]
    return Table(file, sheet, columns, data, list(header))


def compare_locked_text(table: Table, row: int, values: list, ref: str, issue: IssueRecord,
                         problems: list[Problem]) -> None:
    """Warn where the locked text was changed after the sheet was unprotected (scores are kept)."""
    issued = issue.texts.get(ref, {})
    for header, text in issued.items():
        if normalise_label(header) in table.columns and table.text(values, header) != text.strip():
            problems.append(problem(Code.RETURN_CONTENT_CHANGED, table.file, table.sheet, table.cell(row, header),
                                    column=header.lower(), ref=ref))


