"""What people typed into the previous report, so that running `bva report` again keeps it.

The PMO types moderated scores and notes on `Scores`, senior officers may type over `Final score`,
and service areas fill in the `Action plan`. All of it is read back, keyed by ref or action ID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.errors import BvaError, problem
from bva_excel.excel.read.sheets import open_workbook, read_table
from bva_excel.model.text import cell_text
from bva_excel.model.text import normalise_label, normalise_ref

SCORES_SHEET = "Scores"
ACTION_SHEET = "Action plan"
ACTION_INPUT_HEADERS = ["Action", "Owner", "Service area", "Target date", "Status", "Progress update"]
SCORES_INPUT_HEADERS = ["Moderated score", "Moderation note", "Final score"]


@dataclass(frozen=True)
class Moderation:
    moderated: str = ""  # as typed; checked against the scale when the report is written
    note: str = ""
    final_override: str = ""  # a Final score typed over the formula


@dataclass
class PreviousEdits:
    moderation: dict[str, Moderation] = field(default_factory=dict)
    actions: dict[str, dict] = field(default_factory=dict)  # action ID -> header -> value, in sheet order
    action_refs: dict[str, str] = field(default_factory=dict)  # action ID -> the ref it is an action for
    action_rows: dict[str, int] = field(default_factory=dict)  # action ID -> Excel row it was typed on
    assigned: list[tuple[int, str, str]] = field(default_factory=list)  # (Excel row, ID as typed, ID given)
    reused: list[tuple[int, str, int]] = field(default_factory=list)  # (Excel row, ID typed, row already using it)
    action_sources: dict[str, str] = field(default_factory=dict)  # action ID -> its 'Update from', as written
    refs_present: set[str] = field(default_factory=set)  # refs with a row on 'Scores' (typed into or not)
    actions_present: set[str] = field(default_factory=set)  # action IDs with a row on 'Action plan'


def _typed_final_scores(path: Path, column: int) -> set[int]:
    """0-based rows of 'Scores' whose Final score is a typed value rather than the formula we wrote."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return {index for index, row in enumerate(workbook[SCORES_SHEET].iter_rows(min_row=1))
                if index > 0 and column < len(row) and getattr(row[column], "data_type", "f") != "f"
                and row[column].value not in (None, "")}
    finally:
        workbook.close()


def read_previous_edits(path: Path) -> PreviousEdits:
    """Everything typed by hand into an earlier report at `path` (empty if there is none).

    Values are read with calamine, which decodes Excel's '_xHHHH_' escapes exactly; openpyxl only
    tells which Final scores are typed values rather than formulas.
    """
    path = Path(path)
    edits = PreviousEdits()
    if not path.exists():
        return edits
    missing: list = []
    try:
        workbook = open_workbook(path)
        # A header that carries what people typed must be there: a renamed or deleted one would drop it all.
        scores = read_table(workbook, path.name, SCORES_SHEET, ["Ref", *SCORES_INPUT_HEADERS], missing,
                            blank_headers_allowed=True)
        plan = read_table(workbook, path.name, ACTION_SHEET, ["Action ID", *ACTION_INPUT_HEADERS], missing,
                          blank_headers_allowed=True)
    except Exception as exc:  # any reader failure: refuse rather than overwrite what people typed
        raise BvaError(problem("REPORT_UNREADABLE", path, reason=str(exc) or type(exc).__name__))
    if missing:
        raise BvaError([problem("REPORT_INPUT_LOST", p.file, p.sheet, p.cell, what=p.what) for p in missing])
    try:
        if scores:
            typed = (_typed_final_scores(path, scores.columns[normalise_label("Final score")])
                     if normalise_label("Final score") in scores.columns else set())
            for index, values in scores.rows:
                ref = normalise_ref(scores.get(values, "Ref"))
                if not ref:
                    continue
                edits.refs_present.add(ref)
                moderation = Moderation(cell_text(scores.get(values, "Moderated score")),
                                        cell_text(scores.get(values, "Moderation note")),
                                        cell_text(scores.get(values, "Final score")) if index in typed else "")
                if moderation != Moderation():
                    edits.moderation[ref] = moderation
        if plan:
            _read_actions(plan, edits)
    except Exception as exc:  # any reader failure: refuse rather than overwrite what people typed
        raise BvaError(problem("REPORT_UNREADABLE", path, reason=str(exc) or type(exc).__name__))
    return edits


_ACTION_ID = re.compile(r"^\s*ACT-([A-Za-z]{1,4}\s*-?\s*\d{1,6})(?:-\d+)?\s*$", re.IGNORECASE)


def ref_of_action(action_id: str) -> str | None:
    """The ref in an action ID such as ACT-R002 or ACT-R002-2 (None if it holds none)."""
    match = _ACTION_ID.match(action_id or "")
    if not match or _unplaced(action_id):
        return None
    return normalise_ref(match.group(1))


def _unplaced(action_id: str) -> bool:
    """An ID given to an action typed under no characteristic (ACT-NEW-2 and on)."""
    return re.match(r"^\s*ACT-NEW-\d+\s*$", action_id or "", re.IGNORECASE) is not None


def _read_actions(plan, edits: PreviousEdits) -> None:
    """Every action typed on 'Action plan', in sheet order, each with its ref and a unique ID.

    A row someone inserted belongs to the characteristic named in its Ref or ID, else to the row above.
    A typed row with no ID, or with an ID already used above it (a copied row), is given the next free
    `ACT-<ref>-<n>`; the change is noted in `assigned`. The tool's own row for a characteristic with
    nothing typed into it is not an action anyone typed, and is left out.
    """
    typed_rows, ref = [], ""
    for index, values in plan.rows:
        action_id = plan.text(values, "Action ID")
        ref = (normalise_ref(plan.get(values, "Ref")) if plan.column("Ref") is not None else None) \
            or ref_of_action(action_id) or ("" if _unplaced(action_id) else ref)
        inputs = {h: plan.get(values, h) for h in ACTION_INPUT_HEADERS if plan.get(values, h) is not None}
        if action_id:
            edits.actions_present.add(action_id)
        if not inputs and (not action_id or action_id.casefold() == f"ACT-{ref}".casefold()):
            continue
        typed_rows.append((index + 1, action_id, ref, inputs, plan.text(values, "Update from")))
    used = {action_id.casefold() for _, action_id, _, _, _ in typed_rows if action_id}
    seen: dict[str, int] = {}
    for row, action_id, ref, inputs, source in typed_rows:
        given = action_id
        if action_id and action_id.casefold() in seen:
            edits.reused.append((row, action_id, seen[action_id.casefold()]))
        if not action_id or action_id.casefold() in seen:
            number = 2
            while f"ACT-{ref or 'NEW'}-{number}".casefold() in used:
                number += 1
            given = f"ACT-{ref or 'NEW'}-{number}"
            used.add(given.casefold())
            edits.assigned.append((row, action_id, given))
        seen[given.casefold()] = row
        edits.actions[given] = inputs
        edits.action_refs[given] = ref
        edits.action_rows[given] = row
        if source:
            edits.action_sources[given] = source


@dataclass(frozen=True)
class ScoreDecision:
    """How one characteristic's final score came about."""

    consolidated: str
    moderated: str  # the scale's name when it matched, else as typed
    note: str
    final: str
    final_typed: str  # a Final score typed over the formula, kept as typed
    moderated_by: str = ""  # where the moderated score came from: a moderation return, or '' (typed in the report)
    overruled: str = ""  # a different moderated score that a later one replaced, in words


def _later_of(moderation: Moderation, returned, report_saved: str) -> tuple[Moderation, str, str]:
    """The typed moderation or the moderation-round answer, whichever is later; where it came from; and the
    one it overruled, in words. The report is as late as it was last saved."""
    response, record = returned
    from_return = Moderation(response.rating, response.commentary, moderation.final_override)
    source = f"{response.reviewer_id}'s moderation return {record.name}, cell {response.cell}, received {record.received}"
    typed = moderation.moderated.strip()
    if not typed or (typed.casefold(), moderation.note.strip()) == (response.rating.casefold(), response.commentary.strip()):
        return from_return, source, ""
    if report_saved and report_saved > record.received:
        return moderation, "", (f"{response.rating} from {response.reviewer_id}'s moderation return {record.name} "
                                f"was overruled by {typed} typed in report.xlsx later")
    return from_return, source, (f"{typed} typed in report.xlsx was overruled by {response.rating} from "
                                 f"{response.reviewer_id}'s moderation return {record.name}, received later")


def decide(scale, consolidated: dict[str, str], edits: PreviousEdits, file: str = "report.xlsx",
           returned: dict | None = None, report_saved: str = ""):
    """Final score per ref: a typed Final score, else a valid moderated score, else the consolidated one.

    The moderated score is the one typed into the report or the one from the moderation round
    (`returned`: ref -> (response, return)), whichever is later (`report_saved`: when the report was saved).
    Returns (ref -> ScoreDecision, warnings for moderated scores that are not on the scale).
    """
    from bva_excel.model.text import suggest

    decisions, warnings = {}, []
    for ref, base in consolidated.items():
        moderation = edits.moderation.get(ref, Moderation())
        source = overruled = ""
        if returned and ref in returned:
            moderation, source, overruled = _later_of(moderation, returned[ref], report_saved)
        moderated = moderation.moderated.strip()
        valid = scale.find(moderated) if moderated else None
        if moderated and valid is None:
            warnings.append(problem("MODERATED_SCORE_INVALID", file, SCORES_SHEET, ref=ref, value=moderated,
                                    hint=suggest(moderated, scale.names), ratings=", ".join(scale.names)))
        typed_final = scale.find(moderation.final_override)
        final = (typed_final.name if typed_final else moderation.final_override) or (
            valid.name if valid else base)
        decisions[ref] = ScoreDecision(base, valid.name if valid else moderation.moderated, moderation.note,
                                       final, moderation.final_override, source, overruled)
    return decisions, warnings
