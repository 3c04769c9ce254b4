"""Reading one returned reviewer workbook: who it is from, and every score with the cell it came from.

Scores are matched by header name and ref, never by position. Every problem is collected in one
pass; a return is accepted when none of them is an error.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from bva_excel.errors import ERROR, Code, Problem, problem
from bva_excel.excel.read.notes import in_reading_order, typed_outside
from bva_excel.excel.read.progress import INPUTS, read_progress_rows
from bva_excel.excel.read.screening import screen
from bva_excel.excel.read.sheets import (
    Table,
    compare_locked_text,
    open_workbook,
    read_table,
    sheet_rows,
)
from bva_excel.layout import (
    MODERATION_HEADERS,
    MODERATION_SHEET,
    PROGRESS_HEADERS,
    PROGRESS_SHEET,
    REVIEW_HEADERS,
    REVIEW_SHEET,
    TOOL_AUTHOR,
)
from bva_excel.model.framework import Framework, Scale, present
from bva_excel.model.identity import IDENTITY_SHEET, IssueIdentity
from bva_excel.model.kinds import IssueKind
from bva_excel.model.people import others_named
from bva_excel.model.recorded import IssueRecord, ProgressUpdate, Response, ReturnNote
from bva_excel.model.text import a1, cell_text, normalise_label, normalise_ref, suggest


@dataclass(frozen=True)
class Layout:
    """Where a kind of workbook keeps its answers: the sheet, the score's header and the words' headers."""

    sheet: str
    score: str
    words: tuple[str, ...]  # read into a response's commentary, then its gaps
    headers: tuple[str, ...] = ()  # every column the workbook is issued with

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.score, *self.words)


LAYOUTS = {"review": Layout(REVIEW_SHEET, "Score", ("Commentary", "Gaps and areas to address"), tuple(REVIEW_HEADERS)),
           "moderation": Layout(MODERATION_SHEET, "Moderated score", ("Moderation note",),
                                tuple(MODERATION_HEADERS))}
MAX_CELL_TEXT = 32767  # what one Excel cell can hold


@dataclass
class ReturnReading:
    identity: IssueIdentity | None = None
    responses: list[Response] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    saved: str = ""  # when the workbook says it was last saved
    updates: list[ProgressUpdate] = field(default_factory=list)  # a progress workbook's, by action
    saved_by: str = ""  # who the workbook says last saved it
    notes: list[ReturnNote] = field(default_factory=list)  # what was typed where bva reads nothing

    @property
    def accepted(self) -> bool:
        return self.identity is not None and not any(p.severity == ERROR for p in self.problems)

    @property
    def answered(self) -> int:
        return sum(1 for r in self.responses if r.rating) + len(self.updates)


def parse_rating(scale: Scale, value) -> tuple[str | None, str]:
    """(rating name, '') for a valid or blank score, (None, hint) for anything else."""
    text = cell_text(value).strip()
    if not text:
        return "", ""
    rating = scale.find(text)
    if rating:
        return rating.name, ""
    if isinstance(value, (int, float)) and float(value).is_integer():
        by_value = next((r for r in scale.ratings if r.value == int(value)), None)
        if by_value:
            return None, f" (a number is not a rating: did you mean '{by_value.name}', whose value is {int(value)}?)"
    return None, suggest(text, scale.names)


def input_formulas(path: Path | BinaryIO, columns: list[int], sheet: str = REVIEW_SHEET) -> dict[tuple[int, int], str]:
    """(row, col) -> formula for the formula cells among `columns` of `sheet` (0-based).

    Readers give a formula's cached value; a workbook written by a program may have none. Knowing the
    formula lets us keep what the person typed, as text, and say so. This opens the workbook again with
    a slower reader: call it only when screening found that a worksheet may hold a formula.
    """
    import openpyxl  # heavy: loaded only when needed

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        found = {}
        for row_index, row in enumerate(workbook[sheet].iter_rows()):
            for cell in row:
                col = getattr(cell, "column", None)
                if col is not None and col - 1 in columns and cell.data_type == "f":
                    found[(row_index, col - 1)] = str(cell.value)
        return found
    finally:
        workbook.close()


def _keep_formulas_as_text(path: Path | BinaryIO, table: Table, problems: list[Problem], layout: Layout) -> None:
    """Where an input cell holds a formula with nothing cached, keep the formula's text; say so either way."""
    formulas = input_formulas(path, [table.columns[normalise_label(h)] for h in layout.inputs], layout.sheet)
    rows_by_index = dict(table.rows)
    for (row, col), formula in sorted(formulas.items()):
        values = rows_by_index.get(row)
        if values is None:
            continue
        values.extend([""] * (col + 1 - len(values)))
        shown = cell_text(values[col])
        if not shown:
            values[col] = formula
        problems.append(problem(Code.RETURN_FORMULA, table.file, layout.sheet, a1(row, col), formula=formula[:60],
                                kept=f"its shown value '{shown[:40]}'" if shown else "the formula itself"))


def _read_rows(table: Table, framework: Framework, identity: IssueIdentity, issue: IssueRecord,
               reading: ReturnReading, layout: Layout) -> None:
    """Every issued row, matched by ref: its score, words and any problem, into `reading`."""
    file, sheet = table.file, layout.sheet
    issued = set(identity.refs)
    seen: dict[str, int] = {}
    ratings = ", ".join(framework.scale.names)
    for row, values in table.rows:
        ref = normalise_ref(table.get(values, "Ref"))
        if ref is None:
            continue  # a note typed below the table, not a characteristic
        if ref not in issued:
            reading.problems.append(problem(Code.RETURN_REF_NOT_ISSUED, file, sheet,
                                            table.cell(row, "Ref"), ref=ref))
            continue
        if ref in seen:
            reading.problems.append(problem(Code.RETURN_DUPLICATE_ROW, file, sheet,
                                            table.cell(row, "Ref"), ref=ref, other=seen[ref] + 1))
            continue
        seen[ref] = row
        compare_locked_text(table, row, values, ref, issue, reading.problems)
        words = [(header, cell_text(table.get(values, header))) for header in layout.words]
        too_long = [(h, t) for h, t in words if len(t) > MAX_CELL_TEXT]
        for header, text in too_long:
            reading.problems.append(problem(Code.RETURN_TEXT_TOO_LONG, file, sheet, table.cell(row, header),
                                            length=len(text)))
        raw_score = table.get(values, layout.score)
        rating, hint = parse_rating(framework.scale, raw_score)
        score_cell = table.cell(row, layout.score)
        if rating is None:
            reading.problems.append(problem(Code.SCORE_INVALID, file, sheet, score_cell,
                                            value=cell_text(raw_score).strip(), hint=hint, ratings=ratings))
            continue
        if not too_long:
            commentary, gaps = ([text for _, text in words] + ["", ""])[:2]
            reading.responses.append(Response(ref, identity.reviewer_id, rating, commentary, gaps, file, sheet,
                                              score_cell))
    for ref in identity.refs:
        if ref not in seen:
            reading.problems.append(problem(Code.RETURN_REF_MISSING, file, sheet, ref=ref))


def _read_identity(workbook, file: str, assessment_id: str, secret: bytes,
                   problems: list[Problem]) -> IssueIdentity | None:
    if IDENTITY_SHEET not in workbook.sheet_names:
        problems.append(problem(Code.RETURN_NOT_ISSUED, file,
                                reason="it carries no issue identity; it may be the template or a copy"))
        return None
    values = {cell_text(row[0]).strip(): cell_text(row[1]).strip()
              for row in sheet_rows(workbook, IDENTITY_SHEET) if len(row) >= 2}
    try:
        identity, signature = IssueIdentity.from_rows(values)
    except KeyError as missing:
        problems.append(problem(Code.RETURN_TAMPERED, file, IDENTITY_SHEET,
                                reason=f"its identity has no {missing.args[0]}"))
        return None
    except ValueError as unknown:
        problems.append(problem(Code.RETURN_TAMPERED, file, IDENTITY_SHEET, reason=str(unknown)))
        return None
    if identity.assessment_id != assessment_id:
        problems.append(problem(Code.RETURN_OTHER_ASSESSMENT, file, found=identity.assessment_id,
                                expected=assessment_id))
        return None
    if not identity.verify(secret, signature):
        problems.append(problem(Code.RETURN_TAMPERED, file, IDENTITY_SHEET,
                                reason="its signature does not match its reviewer and characteristics"))
        return None
    return identity


def read_return(path: Path, framework: Framework, assessment_id: str, secret: bytes,
                issues: dict[str, IssueRecord], name: str = "", content: bytes | None = None) -> ReturnReading:
    """Read and check one returned workbook against what was issued (`issues`: issue ID -> record).

    `name` is the file name to report (when `path` is a private copy of the file received); `content`,
    if given, is the file's bytes, read once, so that what is checked is exactly what was hashed.
    """
    path = Path(path)
    file = name or path.name
    reading = ReturnReading()
    screening = screen(path, file, content)
    reading.problems.extend(screening.problems)
    # A workbook bva wrote says bva saved it until a person's program saves it under their name.
    reading.saved, reading.saved_by = screening.saved, "" if screening.saved_by == TOOL_AUTHOR else screening.saved_by
    if not screening.kind:
        return reading
    source = io.BytesIO(content) if content is not None else path
    try:
        workbook = open_workbook(source)
    except Exception as exc:  # calamine raises several unrelated types for unreadable files
        reading.problems.append(problem(Code.RETURN_UNREADABLE, file, reason=str(exc) or type(exc).__name__))
        return reading
    identity = _read_identity(workbook, file, assessment_id, secret, reading.problems)
    if identity is None:
        return reading
    if identity.issue_id not in issues:
        reading.problems.append(problem(Code.RETURN_NOT_ISSUED, file, IDENTITY_SHEET,
                                        reason=f"issue {identity.issue_id} is not in this assessment's records"))
        return reading
    reading.identity = identity
    if identity.kind == IssueKind.PROGRESS:
        reading.notes = in_reading_order(screening.comments, PROGRESS_SHEET)
        _read_progress(workbook, file, screening, io.BytesIO(content) if content is not None else path,
                       identity, issues[identity.issue_id], reading)
        for found in reading.problems:  # a service area sent it, not a reviewer
            found.fields.setdefault("sender", "the service area")
        return reading
    if framework.reviewer(identity.reviewer_id) is None:
        reading.problems.append(problem(Code.RETURN_REVIEWER_REMOVED, file, reviewer=identity.reviewer_id))
    else:
        reading.problems += _saved_by_someone_else(file, screening, framework, identity.reviewer_id)
    layout = LAYOUTS[identity.kind]
    table = read_table(workbook, file, layout.sheet, ["Ref", *layout.inputs], reading.problems,
                       blank_headers_allowed=True)
    if table is None:
        reading.notes += screening.comments
        return reading
    reading.notes = in_reading_order(typed_outside(table, "Ref", layout.score, list(layout.headers),
                                                   lambda value: normalise_ref(value) is not None, reading.problems)
                                     + screening.comments, layout.sheet)
    # openpyxl cannot read .ods; calamine gives no formulas; most returns have none, and screening knows
    if screening.kind in ("xlsx", "xlsm") and screening.has_formulas:
        _keep_formulas_as_text(io.BytesIO(content) if content is not None else path, table, reading.problems, layout)
    _read_rows(table, framework, identity, issues[identity.issue_id], reading, layout)
    return reading


def _saved_by_someone_else(file: str, screening, framework: Framework, reviewer_id: str) -> list[Problem]:
    """A warning for each other reviewer the workbook's 'last saved by', author or file name names."""
    issued = present(framework.reviewer(reviewer_id), reviewer_id)  # (a reviewer removed is said apart)
    sources = [("'last saved by'", screening.saved_by), ("author", screening.author), ("file name", Path(file).stem)]
    return [problem(Code.RETURN_SAVED_BY_OTHER, file, issued=issued.label, how=how, other=other.label)
            for how, other in others_named(sources, framework.reviewer_names, reviewer_id)]


def _read_progress(workbook, file: str, screening, source, identity: IssueIdentity, issue: IssueRecord,
                   reading: ReturnReading) -> ReturnReading:
    """A service area's progress workbook: its updates by action ID."""

    table = read_table(workbook, file, PROGRESS_SHEET, ["Action ID", *INPUTS], reading.problems,
                       blank_headers_allowed=True)
    if table is None:
        return reading
    reading.notes = in_reading_order(typed_outside(table, "Action ID", "Status", PROGRESS_HEADERS,
                                                   lambda value: bool(cell_text(value).strip()), reading.problems)
                                     + reading.notes, PROGRESS_SHEET)
    if screening.kind in ("xlsx", "xlsm") and screening.has_formulas:
        _keep_formulas_as_text(source, table, reading.problems,
                               Layout(PROGRESS_SHEET, "Status", INPUTS[1:]))
    read_progress_rows(table, identity, issue, reading)
    return reading
