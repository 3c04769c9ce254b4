"""What people added to report.xlsx besides the tool's own inputs: sheets and columns of their own.

`bva report` writes the report anew each time, so anything a person added would vanish. Before it
does, this module reads:
- every sheet that is not one of the tool's (a "Panel notes" sheet, say): its values and formulas,
  column widths, row heights, merged cells, notes and number formats, written back into the new
  report after the tool's sheets, with its pictures (a logo, a photograph). A sheet holding what cannot
  be carried (a chart, a shape, a pivot table, an Excel table, a control) stops the run, with how to keep it;
- every column a person inserted on `Scores` or `Action plan` (a "Panel comment" column): its values
  by row key (ref or action ID), written back after the tool's columns.
The previous report is also kept whole in `history/`, so even formatting this cannot carry is kept.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from xml.etree import ElementTree

from bva_excel.errors import BvaError, Code, Problem, problem
from bva_excel.excel.read.report_file import ReportFile
from bva_excel.excel.read.sheets import sheet_rows
from bva_excel.model.text import (
    cell_text,
    column_letter,
    normalise_label,
    normalise_ref,
)

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# What a sheet may refer to and still be carried cell by cell.
_CARRIABLE = {"comments", "vmlDrawing", "hyperlink", "printerSettings"}
_WHAT = {"drawing": "a picture, chart or shape", "pivotTable": "a pivot table", "table": "an Excel table",
         "oleObject": "an embedded object", "ctrlProp": "a form control", "image": "a background picture"}


@dataclass
class CarriedCell:
    row: int
    col: int
    value: object  # text, number, bool, date or None (a formula's cached value)
    formula: str = ""  # '=...' for a formula
    array_ref: str = ""  # the range of an array formula
    number_format: str = ""
    bold: bool = False
    italic: bool = False
    wrap: bool = False
    fill: str = ""  # '#RRGGBB' of a solid fill
    comment: str = ""


@dataclass
class CarriedPicture:
    """A picture a person put on a sheet of their own: where it sits (cell, and pixels into it) and its shown size."""

    row: int
    col: int
    x_offset: int
    y_offset: int
    width: int  # pixels as shown
    height: int
    data: bytes
    description: str = ""


@dataclass
class CarriedSheet:
    name: str
    cells: list[CarriedCell] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden: bool = False
    pictures: list[CarriedPicture] = field(default_factory=list)


@dataclass
class ExtraColumn:
    """A column a person inserted on one of the tool's sheets: its header and values by row key."""

    sheet: str
    header: str
    values: dict[str, object] = field(default_factory=dict)
    formulas: bool = False  # some cells held formulas: their values are carried, the formulas are in history


@dataclass(frozen=True)
class CellNote:
    """A note (comment) a person put on a cell of one of the tool's table sheets, placed by row key and header."""

    sheet: str
    key: str
    header: str
    text: str
    author: str = ""


@dataclass
class Carried:
    sheets: list[CarriedSheet] = field(default_factory=list)
    columns: list[ExtraColumn] = field(default_factory=list)
    notes: list[CellNote] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def columns_of(self, sheet: str) -> list[ExtraColumn]:
        return [c for c in self.columns if c.sheet == sheet]

    def notes_of(self, sheet: str) -> list[CellNote]:
        return [n for n in self.notes if n.sheet == sheet]


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part's path in the package."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PACKAGE_REL}Relationship")}
    parts = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        parts[sheet.get("name", "")] = part_path("xl", target)
    return parts


def part_path(folder: str, target: str) -> str:
    """A relationship's target as a path in the package (zip paths always use '/')."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = folder.split("/") if folder not in ("", ".") else []
    for piece in target.split("/"):
        if piece == "..":
            parts = parts[:-1]
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _not_carriable(archive: zipfile.ZipFile, part: str) -> list[str]:
    """What a sheet refers to that cannot be carried cell by cell, in words."""
    folder, _, name = part.rpartition("/")
    rels_name = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    try:
        rels = ElementTree.fromstring(archive.read(rels_name))
    except KeyError:
        return []
    kinds = {r.get("Type", "").rsplit("/", 1)[-1] for r in rels.iter(f"{_PACKAGE_REL}Relationship")}
    if "vmlDrawing" in kinds and "comments" not in kinds:  # VML without notes: legacy controls or shapes
        kinds.add("ctrlProp")
    if "drawing" in kinds and pictures_on(archive, part) is not None:  # only pictures: carried as they are
        kinds.discard("drawing")
    return sorted({_WHAT.get(kind, f"a part of kind '{kind}'") for kind in kinds - _CARRIABLE})


def _related(archive: zipfile.ZipFile, part: str, kind: str) -> list[str]:
    """The parts `part` refers to with relationships of `kind` (e.g. 'comments', 'drawing')."""
    folder, _, name = part.rpartition("/")
    try:
        rels = ElementTree.fromstring(archive.read(f"{folder}/_rels/{name}.rels"))
    except KeyError:
        return []
    return [part_path(folder, r.get("Target", "")) for r in rels.iter(f"{_PACKAGE_REL}Relationship")
            if r.get("Type", "").rsplit("/", 1)[-1] == kind and r.get("TargetMode") != "External"]


_DRAWING = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
_DRAWING_MAIN = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_EMU_PER_PIXEL = 9525
_NOT_A_PICTURE = {f"{_DRAWING}{kind}" for kind in ("sp", "cxnSp", "grpSp", "graphicFrame", "contentPart")}


def pictures_on(archive: zipfile.ZipFile, part: str) -> list[CarriedPicture] | None:
    """The pictures on the sheet at `part`, or None if its drawings hold anything else (a chart, a shape, a
    group) or a picture that cannot be read back (a linked one, or a format the image library does not know)."""
    from PIL import Image, UnidentifiedImageError  # heavy: loaded only when needed

    pictures = []
    for drawing in _related(archive, part, "drawing"):
        try:
            root = ElementTree.fromstring(archive.read(drawing))
        except (KeyError, ElementTree.ParseError):
            return None
        media = {r.get("Id"): part_path(drawing.rpartition("/")[0], r.get("Target", ""))
                 for r in _relationships(archive, drawing) if r.get("TargetMode") != "External"}
        for anchor in root:
            picture = anchor.find(f"{_DRAWING}pic")
            if picture is None or any(child.tag in _NOT_A_PICTURE for child in anchor):
                return None
            blip = picture.find(f".//{_DRAWING_MAIN}blip")
            extent = picture.find(f"{_DRAWING}spPr/{_DRAWING_MAIN}xfrm/{_DRAWING_MAIN}ext")
            if extent is None:
                extent = anchor.find(f"{_DRAWING}ext")
            start = anchor.find(f"{_DRAWING}from")
            name = media.get(blip.get(f"{_REL}embed", "") if blip is not None else "")
            if extent is None or name is None:
                return None
            try:
                data = archive.read(name)
                Image.open(io.BytesIO(data)).close()
            except (KeyError, UnidentifiedImageError, OSError):
                return None
            place = [int(start.findtext(f"{_DRAWING}{tag}") or 0) for tag in ("row", "rowOff", "col", "colOff")] \
                if start is not None else [0, 0, 0, 0]
            about = picture.find(f"{_DRAWING}nvPicPr/{_DRAWING}cNvPr")
            pictures.append(CarriedPicture(
                place[0], place[2], place[3] // _EMU_PER_PIXEL, place[1] // _EMU_PER_PIXEL,
                round(int(extent.get("cx", 0)) / _EMU_PER_PIXEL), round(int(extent.get("cy", 0)) / _EMU_PER_PIXEL),
                data, about.get("descr", "") if about is not None else ""))
    return pictures


def _relationships(archive: zipfile.ZipFile, part: str) -> list:
    folder, _, name = part.rpartition("/")
    try:
        return list(ElementTree.fromstring(archive.read(f"{folder}/_rels/{name}.rels")).iter(
            f"{_PACKAGE_REL}Relationship"))
    except (KeyError, ElementTree.ParseError):
        return []


def drawn_by_people(report: ReportFile, sheets: Collection[str]) -> list[str]:
    """Of `sheets`, those holding a picture or shape (the tool draws only charts and notes on its own)."""
    found = []
    archive = report.archive
    for name, part in _sheet_parts(archive).items():
        if name not in sheets:
            continue
        for drawing in _related(archive, part, "drawing"):
            try:
                root = ElementTree.fromstring(archive.read(drawing))
            except (KeyError, ElementTree.ParseError):
                continue
            if any(root.iter(f"{_DRAWING}pic")) or any(root.iter(f"{_DRAWING}sp")) or any(
                    root.iter(f"{_DRAWING}cxnSp")):
                found.append(name)
                break
    return found


def read_cell_notes(report: ReportFile, sheet: str, key_header: str) -> list[CellNote]:
    """The notes people put on cells of `sheet`, each placed by its row's key and its column's header."""
    archive = report.archive
    part = _sheet_parts(archive).get(sheet)
    if part is None:
        return []
    found = []
    for comments in _related(archive, part, "comments"):
        try:
            root = ElementTree.fromstring(archive.read(comments))
        except (KeyError, ElementTree.ParseError):
            continue
        authors = ["".join(a.itertext()) for a in root.iter(f"{_MAIN}author")]
        for comment in root.iter(f"{_MAIN}comment"):
            text = "".join(t.text or "" for t in comment.iter(f"{_MAIN}t"))
            author_id = int(comment.get("authorId") or 0)
            found.append((comment.get("ref", ""), text, authors[author_id] if author_id < len(authors) else ""))
    if not found:
        return []
    from openpyxl.utils import column_index_from_string  # heavy: loaded only when a note is found

    rows = sheet_rows(report.sheets, sheet)
    header = [cell_text(v).strip() for v in rows[0]] if rows else []
    key_col = next((i for i, h in enumerate(header) if normalise_label(h) == normalise_label(key_header)), None)
    notes = []
    for ref, text, author in found:
        match = re.fullmatch(r"([A-Z]+)(\d+)", ref)
        if not match or key_col is None:
            continue
        row, col = int(match.group(2)) - 1, column_index_from_string(match.group(1)) - 1
        if row == 0 or row >= len(rows) or col >= len(header):
            continue
        raw_key = cell_text(rows[row][key_col]).strip() if key_col < len(rows[row]) else ""
        key = (normalise_ref(raw_key) or raw_key) if key_header == "Ref" else raw_key
        if key and header[col]:
            notes.append(CellNote(sheet, key, header[col], text, author))
    return notes


def write_cell_notes(sheet, notes: list[CellNote], row_of: dict[str, int], col_of: dict[str, int]) -> list[CellNote]:
    """Put each note back on the cell of its key and header; the notes that found no cell."""
    lost = []
    by_header = {normalise_label(h): c for h, c in col_of.items()}
    for note in notes:
        row, col = row_of.get(note.key), by_header.get(normalise_label(note.header))
        if row is None or col is None:
            lost.append(note)
            continue
        sheet.write_comment(row, col, note.text, {"author": note.author} if note.author else {})
    return lost


def report_sheets(report: ReportFile) -> list[str]:
    """The sheet names of a workbook, in order."""
    return list(_sheet_parts(report.archive))


def _colour(fill) -> str:
    try:
        if fill.fill_type == "solid" and fill.fgColor.type == "rgb" and isinstance(fill.fgColor.rgb, str):
            rgb = fill.fgColor.rgb[-6:]
            return f"#{rgb}" if re.fullmatch(r"[0-9A-Fa-f]{6}", rgb) else ""
    except AttributeError:
        pass
    return ""


def _read_sheet(sheet, cached: list[list]) -> CarriedSheet:
    from openpyxl.utils import column_index_from_string  # heavy: loaded only when needed
    from openpyxl.worksheet.formula import ArrayFormula

    carried = CarriedSheet(sheet.title, hidden=sheet.sheet_state != "visible")
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is None and cell.comment is None:
                continue
            r, c = cell.row - 1, cell.column - 1
            value = cell.value
            found = CarriedCell(r, c, value)
            if isinstance(value, ArrayFormula):
                found.formula, found.array_ref = value.text, value.ref
                found.value = cached[r][c] if r < len(cached) and c < len(cached[r]) else None
            elif cell.data_type == "f" and isinstance(value, str):
                found.formula = value
                found.value = cached[r][c] if r < len(cached) and c < len(cached[r]) else None
            found.number_format = cell.number_format if cell.number_format != "General" else ""
            found.bold, found.italic = bool(cell.font.b), bool(cell.font.i)
            found.wrap = bool(cell.alignment.wrap_text)
            found.fill = _colour(cell.fill)
            found.comment = cell.comment.text if cell.comment is not None else ""
            carried.cells.append(found)
    for letter, dimension in sheet.column_dimensions.items():
        if dimension.width and dimension.customWidth:
            first = column_index_from_string(letter) - 1
            last = (dimension.max or first + 1) - 1
            for col in range(first, max(last, first) + 1):
                carried.widths[col] = dimension.width
    for number, dimension in sheet.row_dimensions.items():
        if dimension.height:
            carried.heights[number - 1] = dimension.height
    for merged in sheet.merged_cells.ranges:
        carried.merged.append((merged.min_row - 1, merged.min_col - 1, merged.max_row - 1, merged.max_col - 1))
    return carried


def read_extra_sheets(report: ReportFile, tool_sheets: dict[str, str | None]) -> list[CarriedSheet]:
    """Every sheet of `report` that is not one of `tool_sheets`, read to be written again.

    `tool_sheets`: the name of each sheet the tool writes -> the text it puts in A1 (None: any). A sheet
    with a tool sheet's name but other words in A1 is a person's (one written before the tool had a sheet
    of that name), and is carried too. Raises BvaError (REPORT_SHEET_NOT_CARRIED) for a sheet holding what
    cannot be carried, before anything is changed.
    """
    def ours(name: str) -> bool:
        if name not in tool_sheets:
            return False
        expected = tool_sheets[name]
        rows = sheet_rows(report.sheets, name) if expected is not None else []
        return expected is None or bool(rows and rows[0] and cell_text(rows[0][0]).strip() == expected)

    archive = report.archive
    parts = _sheet_parts(archive)
    extra = [name for name in parts if not ours(name)]
    refused = [problem(Code.REPORT_SHEET_NOT_CARRIED, report.path, name, what=" and ".join(what))
               for name in extra if (what := _not_carriable(archive, parts[name]))]
    if refused:
        raise BvaError(refused)
    if not extra:
        return []
    workbook = report.openpyxl(rich_text=False)
    try:
        sheets = [_read_sheet(workbook[name], sheet_rows(report.sheets, name)) for name in extra]
    finally:
        workbook.close()
    for sheet in sheets:
        sheet.pictures = pictures_on(archive, parts[sheet.name]) or []
    return sheets


def read_extra_columns(report: ReportFile, sheet: str, key_header: str, ours) -> tuple[list[ExtraColumn], list[Problem]]:
    """Columns of `sheet` whose header `ours(header)` does not claim, with their values by key.

    A value in a row with no key cannot be placed again: it is a warning (the history copy keeps it).
    """
    if sheet not in report.sheets.sheet_names:
        return [], []
    rows = sheet_rows(report.sheets, sheet)
    if not rows:
        return [], []
    header = rows[0]
    key_col = next((i for i, v in enumerate(header) if normalise_label(cell_text(v)) == normalise_label(key_header)),
                   None)
    if key_col is None:
        return [], []
    width = max(len(r) for r in rows)
    extra_cols = []
    for col in range(width):
        title = cell_text(header[col]).strip() if col < len(header) else ""
        has_values = any(col < len(r) and cell_text(r[col]).strip() for r in rows[1:])
        if (title and not ours(title)) or (not title and has_values):
            extra_cols.append((col, title or f"Column {column_letter(col)} (no header)"))
    columns, warnings = [], []
    for col, title in extra_cols:
        found = ExtraColumn(sheet, title)
        for index, row in enumerate(rows[1:], start=1):
            value = row[col] if col < len(row) else ""
            if value == "" or value is None:
                continue
            raw_key = cell_text(row[key_col]).strip() if key_col < len(row) else ""
            key = (normalise_ref(raw_key) or raw_key) if key_header == "Ref" else raw_key
            if not key:
                warnings.append(problem(Code.REPORT_VALUE_NO_KEY, report.path, sheet, f"{column_letter(col)}{index + 1}",
                                        header=title, key=key_header))
                continue
            found.values[key] = value
        columns.append(found)
    if columns:
        _mark_formulas(report, sheet, columns, [c for c, _ in extra_cols])
    return columns, warnings


def _mark_formulas(report: ReportFile, sheet: str, columns: list[ExtraColumn], cols: list[int]) -> None:
    workbook = report.openpyxl(read_only=True)
    try:
        for row in workbook[sheet].iter_rows(min_row=2):
            for column, col in zip(columns, cols):
                if col < len(row) and getattr(row[col], "data_type", "") == "f":
                    column.formulas = True
    finally:
        workbook.close()


def write_extra_sheets(workbook, sheets: list[CarriedSheet]) -> None:
    """Write carried sheets after the tool's own, as they were."""
    formats: dict[tuple, object] = {}

    def fmt(cell: CarriedCell):
        key = (cell.number_format, cell.bold, cell.italic, cell.wrap, cell.fill)
        if key == ("", False, False, False, ""):
            return None
        if key not in formats:
            properties: dict[str, bool | str] = {"bold": cell.bold, "italic": cell.italic, "text_wrap": cell.wrap}
            if cell.number_format:
                properties["num_format"] = cell.number_format
            if cell.fill:
                properties["bg_color"] = cell.fill
            formats[key] = workbook.add_format(properties)
        return formats[key]

    names = {s.name.casefold() for s in workbook.worksheets()}
    for carried in sheets:
        name = carried.name
        while name.casefold() in names:  # a name the tool now uses for a sheet of its own
            name = f"{name[:26]} (2)" if not name.endswith(")") else f"{name[:25]}+"
        names.add(name.casefold())
        sheet = workbook.add_worksheet(name)
        for col, width in carried.widths.items():
            sheet.set_column(col, col, width)
        for row, height in carried.heights.items():
            sheet.set_row(row, height)
        merged_at = {(r1, c1): (r1, c1, r2, c2) for r1, c1, r2, c2 in carried.merged}
        inside = {(r, c) for r1, c1, r2, c2 in carried.merged for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        for cell in carried.cells:
            style = fmt(cell)
            if (cell.row, cell.col) in merged_at:
                r1, c1, r2, c2 = merged_at[(cell.row, cell.col)]
                sheet.merge_range(r1, c1, r2, c2, None, style)
            elif (cell.row, cell.col) in inside and cell.value is None and not cell.formula:
                continue
            _write_cell(sheet, cell, style)
            if cell.comment:
                sheet.write_comment(cell.row, cell.col, cell.comment)
        for r1, c1, r2, c2 in carried.merged:
            if not any(c.row == r1 and c.col == c1 for c in carried.cells):
                sheet.merge_range(r1, c1, r2, c2, None)
        for picture in carried.pictures:
            _insert_picture(sheet, picture)
        if carried.hidden:
            sheet.hide()


def _insert_picture(sheet, picture: CarriedPicture) -> None:
    """Place a carried picture where it was, at the size it was shown (XlsxWriter sizes a picture by its pixels and
    resolution: scaled to what the person had)."""
    from PIL import Image  # heavy: loaded only when needed

    with Image.open(io.BytesIO(picture.data)) as image:
        (width, height), (x_dpi, y_dpi) = image.size, image.info.get("dpi", (96, 96))
    natural = (width * 96 / (x_dpi or 96), height * 96 / (y_dpi or 96))
    options = {"image_data": io.BytesIO(picture.data), "x_offset": picture.x_offset, "y_offset": picture.y_offset,
               "x_scale": picture.width / natural[0] if picture.width and natural[0] else 1,
               "y_scale": picture.height / natural[1] if picture.height and natural[1] else 1,
               "object_position": 1}
    if picture.description:
        options["description"] = picture.description
    sheet.insert_image(picture.row, picture.col, "picture", options)


def _write_cell(sheet, cell: CarriedCell, style) -> None:
    value = cell.value
    if cell.array_ref:
        sheet.write_array_formula(cell.array_ref, cell.formula if cell.formula.startswith("{") else f"{{{cell.formula}}}",
                                  style, value if value not in (None, "") else 0)
    elif cell.formula:
        sheet.write_formula(cell.row, cell.col, cell.formula, style, value if value is not None else "")
    else:
        write_value(sheet, cell.row, cell.col, value, style)


def write_value(sheet, row: int, col: int, value, style=None, date_style=None) -> None:
    """Write a value read from a workbook back as the same kind of value."""
    if value is None or value == "":
        sheet.write_blank(row, col, None, style)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, style)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, style)
    elif isinstance(value, (dt.datetime, dt.date)):
        sheet.write_datetime(row, col, value, date_style or style)
    elif isinstance(value, dt.time):
        sheet.write_datetime(row, col, dt.datetime.combine(dt.date(1899, 12, 31), value), date_style or style)
    else:
        sheet.write_string(row, col, str(value), style)


def write_extra_columns(sheet, columns: list[ExtraColumn], first_col: int, row_of: dict[str, int], formats: dict,
                        widths: list[float] | None = None) -> int:
    """Write carried columns from `first_col`, each value in the row of its key; the last column used."""
    col = first_col - 1
    for col, column in enumerate(columns, start=first_col):
        sheet.write_string(0, col, column.header, formats["header"])
        sheet.set_column(col, col, 24)
        for key, value in column.values.items():
            row = row_of.get(key)
            if row is not None:
                write_value(sheet, row, col, value, formats["input"], formats["date"])
    return col


def unplaced(columns: list[ExtraColumn], row_of: dict[str, int], file: str) -> list[Problem]:
    """Warnings for carried values whose row is no longer on the sheet (a characteristic removed)."""
    return [problem(Code.REPORT_VALUE_ROW_GONE, file, column.sheet, header=column.header, key=key)
            for column in columns for key in column.values if key not in row_of]
