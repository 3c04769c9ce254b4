"""What people typed into the previous report, so that running `bva report` again keeps it.

The PMO types moderated scores and notes on `Scores`, senior officers may type over `Final score`,
and service areas fill in the `Action plan`. All of it is read back, keyed by ref or action ID.
"""

from __future__ import annotations

import difflib
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from bva_excel.errors import BvaError, Code, Problem, problem
from bva_excel.excel.read.carried import (
    Carried,
    _sheet_parts,
    drawn_by_people,
    read_cell_notes,
    read_extra_columns,
    read_extra_sheets,
    report_sheets,
)
from bva_excel.excel.read.report_file import ReportFile
from bva_excel.excel.read.sheets import read_table
from bva_excel.layout import (
    ACTION_HEADERS,
    ACTION_INPUT_HEADERS,
    ACTION_SHEET,
    ASSESSMENT_PROPERTY,
    SCORES_FIXED,
    SCORES_INPUT_HEADERS,
    SCORES_SHEET,
    TOOL_SHEETS,
)
from bva_excel.model.decisions import (
    Moderation,
    PreviousEdits,
    _unplaced,
    ref_of_action,
)
from bva_excel.model.framework import Framework
from bva_excel.model.text import cell_text, column_letter, normalise_label, normalise_ref, short_list


def _typed_final_scores(report: ReportFile, column: int) -> set[int]:
    """0-based rows of 'Scores' whose Final score is a typed value rather than the formula we wrote: a cell of
    that column with a value and no formula, read from the sheet's XML as it streams (openpyxl would parse every
    style of the workbook first, several times slower, on every command)."""
    letters = column_letter(column)
    cell_tag, formula_tag = f"{_MAIN}c", f"{_MAIN}f"
    typed = set()
    with report.archive.open(_sheet_parts(report.archive)[SCORES_SHEET]) as sheet:
        for _, element in ElementTree.iterparse(sheet):
            if element.tag != cell_tag:
                continue
            where = _CELL.match(element.get("r", ""))
            if where and where.group(1) == letters and int(where.group(2)) > 1:
                has_value = any(child.tag != formula_tag and "".join(child.itertext()) for child in element)
                if has_value and element.find(formula_tag) is None:
                    typed.add(int(where.group(2)) - 1)
            element.clear()
    return typed


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL = re.compile(r"([A-Z]+)(\d+)$")


def read_previous_edits(report: ReportFile) -> PreviousEdits:
    """Everything typed by hand into an earlier report (empty if there is none).

    Values are read with calamine, which decodes Excel's '_xHHHH_' escapes exactly; openpyxl only
    tells which Final scores are typed values rather than formulas.
    """
    path = report.path
    edits = PreviousEdits()
    if not report.exists:
        return edits
    missing: list = []
    try:
        workbook = report.sheets
        # A header that carries what people typed must be there: a renamed or deleted one would drop it all.
        scores = read_table(workbook, path.name, SCORES_SHEET, ["Ref", *SCORES_INPUT_HEADERS], missing,
                            blank_headers_allowed=True)
        plan = read_table(workbook, path.name, ACTION_SHEET, ["Action ID", *ACTION_INPUT_HEADERS], missing,
                          blank_headers_allowed=True)
    except Exception as exc:  # any reader failure: refuse rather than overwrite what people typed
        raise BvaError(problem(Code.REPORT_UNREADABLE, path, reason=str(exc) or type(exc).__name__)) from exc
    if missing:
        raise BvaError([problem(Code.REPORT_INPUT_LOST, p.file, p.sheet, p.cell, what=p.what) for p in missing])
    try:
        if scores:
            typed = (_typed_final_scores(report, scores.columns[normalise_label("Final score")])
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
        raise BvaError(problem(Code.REPORT_UNREADABLE, path, reason=str(exc) or type(exc).__name__)) from exc
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
            if action_id:  # not typed, but where it is: what is said of it names its row
                edits.action_rows.setdefault(action_id, index + 1)
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


_REVIEWER_COLUMN = re.compile(r"^(reviewer|score|commentary|gaps) \d+$")


def lock_holder(lock: Path) -> str:
    """Who an Excel or LibreOffice lock file says has the file open ('' if it does not say)."""
    try:
        data = lock.read_bytes()[:512]
    except OSError:
        return ""
    if lock.name.startswith(".~lock."):  # LibreOffice: ",user,machine,date,profile;"
        fields = data.decode("utf-8", "replace").split(",")
        user, host, when = (fields + ["", "", "", ""])[1:4]
        return " ".join(part for part in [user.strip(), f"on {host.strip()}" if host.strip() else "",
                                          f"since {when.strip()}" if when.strip() else ""] if part)
    if data:  # Excel: a length byte, then the user's name
        return data[1:1 + data[0]].decode("cp1252", "replace").strip()
    return ""


def check_not_open(path: Path) -> None:
    """Refuse to replace a report that Excel or LibreOffice has open (they leave lock files)."""
    for lock, program in [(path.with_name(f"~${path.name}"), "Excel"),
                          (path.with_name(f".~lock.{path.name}#"), "LibreOffice")]:
        if lock.exists():
            holder = lock_holder(lock)
            raise BvaError(problem(Code.REPORT_OPEN, path, program=program,
                                   holder=f" by {holder}" if holder else "", lock=lock.name))


def check_is_report(report: ReportFile, assessment_id: str) -> None:
    """Refuse a report.xlsx that bva did not write for this assessment: it is never replaced.

    A report is known by its sheets (an Excel or LibreOffice save keeps them) and, since this version, by
    a document property naming its assessment. A file that cannot be read at all is REPORT_UNREADABLE.
    """
    path = report.path
    if not report.exists:
        return
    try:
        sheets = report_sheets(report)
        custom = report.part("docProps/custom.xml")
        core = report.part("docProps/core.xml")
        if core:  # cut short by a failed copy: Excel would offer to repair it; what else was cut is not known
            ElementTree.fromstring(core)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as exc:
        reason = "it is not a workbook, or it is damaged" if not isinstance(exc, OSError) else (exc.strerror or str(exc))
        raise BvaError(problem(Code.REPORT_UNREADABLE, path, reason=reason)) from None
    belongs_to = _assessment_of(custom)
    if belongs_to and belongs_to != assessment_id:
        raise BvaError(problem(Code.REPORT_OTHER_ASSESSMENT, path, other=belongs_to, assessment=assessment_id))
    missing = [name for name in (SCORES_SHEET, ACTION_SHEET) if name not in sheets]
    if not missing:
        return
    if belongs_to or len(set(sheets) & set(TOOL_SHEETS)) >= 2:  # bva's report, with a sheet renamed or deleted
        ours = [name for name in sheets if name not in TOOL_SHEETS]
        raise BvaError(problem(Code.REPORT_SHEET_RENAMED, path, missing=" and ".join(f"'{m}'" for m in missing),
                               are="s are" if len(missing) > 1 else " is",
                               guess=_renamed_as(missing, ours), back=" and ".join(f"'{m}'" for m in missing)))
    raise BvaError(problem(Code.REPORT_FOREIGN, path, sheets=", ".join(f"'{s}'" for s in sheets) or "none"))


def _assessment_of(custom: bytes) -> str:
    """The assessment a report names in its document properties ('' if none, or unreadable)."""
    try:
        root = ElementTree.fromstring(custom) if custom else None
    except ElementTree.ParseError:
        return ""
    for prop in root if root is not None else ():
        if prop.get("name") == ASSESSMENT_PROPERTY:
            return "".join(prop.itertext()).strip()
    return ""


def _renamed_as(missing: list[str], others: list[str]) -> str:
    """' (perhaps renamed 'Action plan 2027')': the sheets whose names look like those missing."""
    guesses = [other for name in missing for other in others
               if name.casefold() in other.casefold()
               or difflib.get_close_matches(name.casefold(), [other.casefold()], n=1, cutoff=0.6)]
    return f" (it looks renamed: {', '.join(repr(g) for g in dict.fromkeys(guesses))})" if guesses else ""


def saved_by(report: ReportFile) -> tuple[str, str]:
    """When the report was last saved (local time, to the minute) and by whom, if a person."""
    when = report.modified.strftime("%d %b %Y %H:%M")
    who = ""
    try:
        core = ElementTree.fromstring(report.part("docProps/core.xml") or b"<x/>")
        who = next(("".join(e.itertext()).strip() for e in core if e.tag.endswith("}lastModifiedBy")), "")
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError):
        pass
    return when, ("" if who == "bva-excel" else who)


def read_carried(report: ReportFile) -> Carried:
    """What people added to the report: sheets of their own and columns inserted on Scores and Action plan
    (stops, changing nothing, on a sheet that cannot be carried)."""
    carried = Carried()
    if not report.exists:
        return carried
    carried.sheets = read_extra_sheets(report, TOOL_SHEETS)
    fixed = {normalise_label(h) for h in SCORES_FIXED}
    scores, warnings = read_extra_columns(
        report, SCORES_SHEET, "Ref",
        lambda h: normalise_label(h) in fixed or bool(_REVIEWER_COLUMN.match(normalise_label(h))))
    plan_headers = {normalise_label(h) for h in ACTION_HEADERS}
    plan, more = read_extra_columns(report, ACTION_SHEET, "Action ID",
                                    lambda h: normalise_label(h) in plan_headers)
    carried.columns, carried.warnings = scores + plan, warnings + more
    carried.notes = (read_cell_notes(report, SCORES_SHEET, "Ref")
                     + read_cell_notes(report, ACTION_SHEET, "Action ID"))
    carried.warnings += [problem(Code.REPORT_DRAWING_NOT_KEPT, report.path, name)
                         for name in drawn_by_people(report, TOOL_SHEETS)]
    return carried


def wording_edited(report: ReportFile, framework: Framework) -> list[Problem]:
    """A warning when a characteristic's words were typed over on Scores: they come from assessment.xlsx."""
    if not report.exists:
        return []
    path = report.path
    table = read_table(report.sheets, path.name, SCORES_SHEET, ["Ref", "Characteristic"], [],
                       blank_headers_allowed=True)
    if table is None:
        return []
    texts = {c.ref: " ".join(c.text.split()) for c in framework.characteristics}
    edited = [ref for _, values in table.rows
              if (ref := normalise_ref(table.get(values, "Ref")) or "") in texts
              and " ".join(table.text(values, "Characteristic").split()) != texts[ref]]
    return [problem(Code.REPORT_WORDING_EDITED, path, SCORES_SHEET, refs=short_list(edited))] if edited else []


