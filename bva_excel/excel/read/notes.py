"""What a person typed in a return where bva reads nothing: rows they inserted, text beside the table, columns
they added, comments on cells. None of it counts as an answer, but all of it is named and kept.

Both readers work on what is already in hand: the table read for the answers, and the zip that screening
opened (comments are looked for only when the workbook has a comments part).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import PurePosixPath
from xml.etree import ElementTree

from bva_excel.errors import Code, Problem, problem
from bva_excel.excel.read.carried import part_path
from bva_excel.excel.read.sheets import Table
from bva_excel.model.recorded import ReturnNote
from bva_excel.model.text import a1, cell_text, column_letter, normalise_label

# Excel and LibreOffice write xl/comments1.xml, openpyxl xl/comments/comment1.xml: a sheet's relationships say which.
COMMENTS_PART = re.compile(r"xl/comments.*\.xml", re.IGNORECASE)
COMMENTS_TYPE = "/comments"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DOCUMENT_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
START = 40  # how much of a text a message quotes


def start_of(text: str) -> str:
    """The start of a text, on one line, as a message quotes it."""
    line = " ".join(text.split())
    return line if len(line) <= START else line[:START - 1].rstrip() + "…"


def _quoted(notes: list[ReturnNote]) -> str:
    return ", ".join(f"{note.cell} '{start_of(note.text)}'" for note in notes)


def typed_outside(table: Table, key: str, score: str, headers: list[str], is_key,
                  problems: list[Problem]) -> list[ReturnNote]:
    """Everything typed on `table`'s sheet outside the cells bva reads, as notes, with a problem naming each row
    or column it is in. `key` is the header that names a row (Ref, Action ID) and `is_key(value)` whether a value
    is one; `headers` are the columns the workbook was issued with (any other column was added by a person);
    `score` the header whose value counts as an answer, named apart when typed in a row with no key."""
    known = {normalise_label(h) for h in headers}
    read = {col for label, col in table.columns.items() if label in known}
    key_col, score_col = table.column(key), table.column(score)
    notes: list[ReturnNote] = []
    by_column: dict[int, list[ReturnNote]] = {}
    for col, value in enumerate(table.header):
        text = cell_text(value).strip()
        if text and col not in read:
            by_column.setdefault(col, []).append(ReturnNote(table.sheet, a1(0, col), "column", text))
    for row, values in table.rows:
        keyed = key_col is not None and key_col < len(values) and is_key(values[key_col])
        if keyed:  # a row bva reads: only what is beside the columns it reads is a note
            for col, value in enumerate(values):
                if col not in read and value not in ("", None):
                    text = cell_text(value).strip()
                    if text:
                        by_column.setdefault(col, []).append(ReturnNote(table.sheet, a1(row, col), "column", text))
            continue
        cells = [(col, text) for col, text in ((col, cell_text(value).strip()) for col, value in enumerate(values))
                 if text]
        typed_score = next((text for col, text in cells if col == score_col), "")
        in_row = [ReturnNote(table.sheet, a1(row, col), "score" if col == score_col else "row", text)
                  for col, text in cells]  # only the score's own cell is called a score
        notes += in_row
        cell = ", ".join(note.cell for note in in_row)
        if typed_score:
            problems.append(problem(Code.RETURN_SCORE_IN_ROW_WITHOUT_KEY, table.file, table.sheet, cell, key=key,
                                    value=start_of(typed_score), score=score, texts=_quoted(in_row)))
        else:
            problems.append(problem(Code.RETURN_ROW_NOT_READ, table.file, table.sheet, cell, key=key,
                                    texts=_quoted(in_row)))
    for col, in_column in sorted(by_column.items()):
        notes += in_column
        header = cell_text(table.header[col]).strip() if col < len(table.header) else ""
        problems.append(problem(Code.RETURN_COLUMN_NOT_READ, table.file, table.sheet,
                                ", ".join(note.cell for note in in_column), column=column_letter(col),
                                header=f" ('{start_of(header)}')" if header else "", texts=_quoted(in_column)))
    return notes


def in_reading_order(notes: list[ReturnNote], main_sheet: str) -> list[ReturnNote]:
    """Notes as a person reads the workbook: the answers' sheet first, then row by row, left to right."""
    return sorted(notes, key=lambda note: (note.sheet != main_sheet, note.sheet, _position(note.cell)))


def _position(cell: str) -> tuple[int, int]:
    found = re.match(r"([A-Z]+)(\d+)", cell)
    if not found:
        return 0, 0
    letters, digits = found.groups()
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return int(digits), number


def _targets(archive: zipfile.ZipFile, part: str, kind: str = "") -> dict[str, str]:
    """A part's relationships (of a type ending in `kind`, if given): ID -> the part it points to (a full name
    inside the zip)."""
    folder, name = str(PurePosixPath(part).parent), PurePosixPath(part).name
    rels = f"{folder}/_rels/{name}.rels"
    try:
        root = ElementTree.fromstring(archive.read(rels))
    except KeyError:
        return {}
    found = {}
    for relationship in root.iter(f"{RELATIONSHIPS}Relationship"):
        if kind and not relationship.get("Type", "").endswith(kind):
            continue
        target = relationship.get("Target", "")
        found[relationship.get("Id", "")] = part_path(folder, target)
    return found


def cell_comments(archive: zipfile.ZipFile, file: str, problems: list[Problem]) -> list[ReturnNote]:
    """Every comment (note) on a cell, on any sheet, as a note with a problem naming it. Called only on a zip
    screening found safe to parse, and only when it has a comments part."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheets = _targets(archive, "xl/workbook.xml")
    names = {sheets.get(sheet.get(DOCUMENT_RELATIONSHIP, ""), ""): sheet.get("name", "")
             for sheet in workbook.iter(f"{MAIN}sheet")}
    notes = []
    for part, sheet_name in names.items():
        for target in _targets(archive, part, COMMENTS_TYPE).values():
            if target not in archive.namelist():
                continue
            root = ElementTree.fromstring(archive.read(target))
            authors = [cell_text(a.text).strip() for a in root.iter(f"{MAIN}author")]
            for comment in root.iter(f"{MAIN}comment"):
                text = "".join(t.text or "" for t in comment.iter(f"{MAIN}t")).strip()
                if not text:
                    continue
                index = int(comment.get("authorId", "-1") or -1)
                author = authors[index] if 0 <= index < len(authors) else ""
                if author and not text.startswith(author):
                    text = f"{author}: {text}"
                note = ReturnNote(sheet_name, comment.get("ref", ""), "comment", text)
                notes.append(note)
                problems.append(problem(Code.RETURN_COMMENT_NOT_READ, file, note.sheet, note.cell,
                                        text=start_of(text)))
    return notes
