"""What people typed into the previous report, so that running `bva report` again keeps it.

The PMO types moderated scores and notes on `Scores`, senior officers may type over `Final score`,
and service areas fill in the `Action plan`. All of it is read back, keyed by ref or action ID.
"""

from __future__ import annotations

from pathlib import Path

from bva_excel.errors import BvaError, problem
from bva_excel.excel.read.sheets import open_workbook, read_table
from bva_excel.layout import ACTION_INPUT_HEADERS, ACTION_SHEET, SCORES_INPUT_HEADERS, SCORES_SHEET
from bva_excel.model.decisions import Moderation, PreviousEdits, _unplaced, ref_of_action
from bva_excel.model.text import cell_text, normalise_label, normalise_ref


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


