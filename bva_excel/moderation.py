"""What people typed into the previous report, so that running `bva report` again keeps it.

The PMO types moderated scores and notes on `Scores`, senior officers may type over `Final score`,
and service areas fill in the `Action plan`. All of it is read back, keyed by ref or action ID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.errors import BvaError, problem
from bva_excel.sheets import normalise_label, normalise_ref

SCORES_SHEET = "Scores"
ACTION_SHEET = "Action plan"
ACTION_INPUT_HEADERS = ["Action", "Owner", "Service area", "Target date", "Status", "Progress update"]


@dataclass(frozen=True)
class Moderation:
    moderated: str = ""  # as typed; checked against the scale when the report is written
    note: str = ""
    final_override: str = ""  # a Final score typed over the formula


@dataclass
class PreviousEdits:
    moderation: dict[str, Moderation] = field(default_factory=dict)
    actions: dict[str, dict] = field(default_factory=dict)  # action ID -> header -> value


def _headers(sheet) -> dict[str, int]:
    first = next(sheet.iter_rows(min_row=1, max_row=1), ())
    return {normalise_label(c.value): i for i, c in enumerate(first) if c.value not in (None, "")}


def _text(value) -> str:
    return "" if value is None else str(value)


def read_previous_edits(path: Path) -> PreviousEdits:
    """Everything typed by hand into an earlier report at `path` (empty if there is none)."""
    import openpyxl

    path = Path(path)
    edits = PreviousEdits()
    if not path.exists():
        return edits
    try:
        workbook = openpyxl.load_workbook(path)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise BvaError(problem("REPORT_UNREADABLE", path, reason=str(exc) or type(exc).__name__))
    if SCORES_SHEET in workbook.sheetnames:
        sheet = workbook[SCORES_SHEET]
        cols = _headers(sheet)
        for row in sheet.iter_rows(min_row=2):
            cells = {header: row[col] for header, col in cols.items() if col < len(row)}
            ref = normalise_ref(cells["ref"].value) if "ref" in cells else None
            if not ref:
                continue
            final = cells.get("final score")
            typed_final = final is not None and final.data_type != "f" and final.value not in (None, "")
            moderation = Moderation(
                _text(cells["moderated score"].value) if "moderated score" in cells else "",
                _text(cells["moderation note"].value) if "moderation note" in cells else "",
                _text(final.value) if typed_final else "")
            if moderation != Moderation():
                edits.moderation[ref] = moderation
    if ACTION_SHEET in workbook.sheetnames:
        sheet = workbook[ACTION_SHEET]
        cols = _headers(sheet)
        for row in sheet.iter_rows(min_row=2, values_only=True):
            action_id = _text(row[cols["action id"]]).strip() if "action id" in cols else ""
            if not action_id:
                continue
            typed = {h: row[cols[normalise_label(h)]] for h in ACTION_INPUT_HEADERS
                     if normalise_label(h) in cols and row[cols[normalise_label(h)]] not in (None, "")}
            if typed:
                edits.actions[action_id] = typed
    return edits


@dataclass(frozen=True)
class ScoreDecision:
    """How one characteristic's final score came about."""

    consolidated: str
    moderated: str  # the scale's name when it matched, else as typed
    note: str
    final: str
    final_typed: str  # a Final score typed over the formula, kept as typed


def decide(scale, consolidated: dict[str, str], edits: PreviousEdits, file: str = "report.xlsx"):
    """Final score per ref: a typed Final score, else a valid moderated score, else the consolidated one.

    Returns (ref -> ScoreDecision, warnings for moderated scores that are not on the scale).
    """
    from bva_excel.sheets import suggest

    decisions, warnings = {}, []
    for ref, base in consolidated.items():
        moderation = edits.moderation.get(ref, Moderation())
        moderated = moderation.moderated.strip()
        valid = scale.find(moderated) if moderated else None
        if moderated and valid is None:
            warnings.append(problem("MODERATED_SCORE_INVALID", file, SCORES_SHEET, ref=ref, value=moderated,
                                    hint=suggest(moderated, scale.names), ratings=", ".join(scale.names)))
        typed_final = scale.find(moderation.final_override)
        final = (typed_final.name if typed_final else moderation.final_override) or (
            valid.name if valid else base)
        decisions[ref] = ScoreDecision(base, valid.name if valid else moderation.moderated, moderation.note,
                                       final, moderation.final_override)
    return decisions, warnings
