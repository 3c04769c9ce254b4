"""Reading one returned reviewer workbook: who it is from, and every score with the cell it came from.

Scores are matched by header name and ref, never by position. Every problem is collected in one
pass; a return is accepted when none of them is an error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from bva_excel.errors import ERROR, Problem, problem
from bva_excel.framework import Framework, Scale
from bva_excel.identity import IDENTITY_SHEET, IssueIdentity
from bva_excel.reviewer_workbook import REVIEW_SHEET
from bva_excel.sheets import cell_text, normalise_ref, open_workbook, read_table, sheet_rows, suggest

RETURN_HEADERS = ["Ref", "Score", "Commentary", "Gaps and areas to address"]


@dataclass(frozen=True)
class Response:
    """One reviewer's answer for one characteristic, and where it was read from."""

    ref: str
    reviewer_id: str
    rating: str  # the scale's name for it, or "" when not answered
    commentary: str
    gaps: str
    file: str
    sheet: str
    cell: str  # the Score cell

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ReturnReading:
    file: Path
    identity: IssueIdentity | None = None
    responses: list[Response] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.identity is not None and not any(p.severity == ERROR for p in self.problems)

    @property
    def answered(self) -> int:
        return sum(1 for r in self.responses if r.rating)


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


def _read_identity(workbook, file: str, assessment_id: str, secret: bytes,
                   problems: list[Problem]) -> IssueIdentity | None:
    if IDENTITY_SHEET not in workbook.sheet_names:
        problems.append(problem("RETURN_NOT_ISSUED", file,
                                reason="it carries no issue identity; it may be the template or a copy"))
        return None
    values = {cell_text(row[0]).strip(): cell_text(row[1]).strip()
              for row in sheet_rows(workbook, IDENTITY_SHEET) if len(row) >= 2}
    try:
        identity, signature = IssueIdentity.from_rows(values)
    except KeyError as missing:
        problems.append(problem("RETURN_TAMPERED", file, IDENTITY_SHEET,
                                reason=f"its identity has no {missing.args[0]}"))
        return None
    if identity.assessment_id != assessment_id:
        problems.append(problem("RETURN_OTHER_ASSESSMENT", file, found=identity.assessment_id,
                                expected=assessment_id))
        return None
    if not identity.verify(secret, signature):
        problems.append(problem("RETURN_TAMPERED", file, IDENTITY_SHEET,
                                reason="its signature does not match its reviewer and characteristics"))
        return None
    return identity


def read_return(path: Path, framework: Framework, assessment_id: str, secret: bytes,
                issue_ids: set[str]) -> ReturnReading:
    """Read and check one returned workbook against what was issued."""
    path = Path(path)
    file = path.name
    reading = ReturnReading(path)
    try:
        workbook = open_workbook(path)
    except Exception as exc:  # calamine raises several unrelated types for unreadable files
        reading.problems.append(problem("RETURN_UNREADABLE", file, reason=str(exc) or type(exc).__name__))
        return reading
    identity = _read_identity(workbook, file, assessment_id, secret, reading.problems)
    if identity is None:
        return reading
    if identity.issue_id not in issue_ids:
        reading.problems.append(problem("RETURN_NOT_ISSUED", file, IDENTITY_SHEET,
                                        reason=f"issue {identity.issue_id} is not in this assessment's records"))
        return reading
    reading.identity = identity
    if framework.reviewer(identity.reviewer_id) is None:
        reading.problems.append(problem("RETURN_REVIEWER_REMOVED", file, reviewer=identity.reviewer_id))
    table = read_table(workbook, file, REVIEW_SHEET, RETURN_HEADERS, reading.problems, blank_headers_allowed=True)
    if table is None:
        return reading
    issued = set(identity.refs)
    seen: dict[str, int] = {}
    ratings = ", ".join(framework.scale.names)
    for row, values in table.rows:
        ref = normalise_ref(table.get(values, "Ref"))
        if ref is None:
            continue  # a note typed below the table, not a characteristic
        if ref not in issued:
            reading.problems.append(problem("RETURN_REF_NOT_ISSUED", file, REVIEW_SHEET,
                                            table.cell(row, "Ref"), ref=ref))
            continue
        if ref in seen:
            reading.problems.append(problem("RETURN_DUPLICATE_ROW", file, REVIEW_SHEET,
                                            table.cell(row, "Ref"), ref=ref, other=seen[ref] + 1))
            continue
        seen[ref] = row
        raw_score = table.get(values, "Score")
        rating, hint = parse_rating(framework.scale, raw_score)
        score_cell = table.cell(row, "Score")
        if rating is None:
            reading.problems.append(problem("SCORE_INVALID", file, REVIEW_SHEET, score_cell,
                                            value=cell_text(raw_score).strip(), hint=hint, ratings=ratings))
            continue
        reading.responses.append(Response(
            ref, identity.reviewer_id, rating, cell_text(table.get(values, "Commentary")),
            cell_text(table.get(values, "Gaps and areas to address")), file, REVIEW_SHEET, score_cell))
    for ref in identity.refs:
        if ref not in seen:
            reading.problems.append(problem("RETURN_REF_MISSING", file, REVIEW_SHEET, ref=ref))
    return reading
