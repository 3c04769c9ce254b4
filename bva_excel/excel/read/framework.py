"""The framework as officers keep it in Excel: the scale, the characteristics and the reviewers.

`load_framework` reads a template or an assessment workbook, checks every rule in one pass and
returns plain objects, or raises `FrameworkError` listing every problem with its sheet and cell.
"""

from __future__ import annotations

import re
from pathlib import Path

from bva_excel.errors import ERROR, Code, FrameworkError, Problem, problem
from bva_excel.excel.read.sheets import Table, open_workbook, read_table
from bva_excel.model.framework import (
    THEMES,
    Characteristic,
    Framework,
    Rating,
    Reviewer,
    Scale,
    ServiceArea,
    area_key,
    find_theme,
    theme_of_ref,
)
from bva_excel.model.people import CLOSE, closeness, person_key, split_people
from bva_excel.model.text import cell_text, normalise_label, normalise_ref, suggest

SCALE_HEADERS = ["Rating", "Colour", "Value", "Meaning"]
CHARACTERISTIC_HEADERS = ["Ref", "Theme", "Characteristic", "Position statement", "Evidence",
                          "Drafted by", "Reviewers"]
REVIEWER_HEADERS = ["Reviewer ID", "Name", "Email", "Service area"]
SERVICE_AREAS_SHEET = "Service areas"
SERVICE_AREA_HEADERS = ["Service area", "Head of service", "Email"]
NOT_A_REVIEWER = re.compile(r"\(\s*not a reviewer\s*\)", re.IGNORECASE)


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", text) if part.strip()]


def _distinct_rows(table: Table, header: str, key, blank: Code, duplicate: Code, problems: list[Problem],
                   field: str = "value", clean=None):
    """The rows of `table` whose `header` is filled in with a text not used above it (compared by `key`):
    (row, values, that text). A blank one, or one used above, is a problem (codes `blank` and `duplicate`,
    the second naming the first's cell) and is left out."""
    seen: dict = {}
    for row, values in table.rows:
        text = clean(table.text(values, header)) if clean else table.text(values, header)
        cell = table.cell(row, header)
        if not text:
            problems.append(problem(blank, table.file, table.sheet, cell))
        elif key(text) in seen:
            problems.append(problem(duplicate, table.file, table.sheet, cell, other=seen[key(text)], **{field: text}))
        else:
            seen[key(text)] = cell
            yield row, values, text


def _read_scale(table: Table, problems: list[Problem]) -> Scale:
    ratings: list[Rating] = []
    values: dict[int, str] = {}  # value -> the cell it was first given in
    for row, values_row, name in _distinct_rows(table, "Rating", normalise_label, Code.RATING_MISSING, Code.RATING_DUPLICATE,
                                                problems, field="name"):
        colour = table.text(values_row, "Colour")
        raw_value = table.get(values_row, "Value")
        hex_colour = colour.lstrip("#")
        if not re.fullmatch(r"[0-9A-Fa-f]{6}", hex_colour):
            problems.append(problem(Code.RATING_COLOUR_INVALID, table.file, table.sheet,
                                    table.cell(row, "Colour"), value=colour))
        value = None
        if raw_value is not None:
            text = cell_text(raw_value).strip()
            if not re.fullmatch(r"-?\d+", text):
                problems.append(problem(Code.RATING_VALUE_INVALID, table.file, table.sheet,
                                        table.cell(row, "Value"), value=text))
            elif int(text) in values:
                problems.append(problem(Code.RATING_VALUE_DUPLICATE, table.file, table.sheet,
                                        table.cell(row, "Value"), value=text, other=values[int(text)]))
            else:
                value = int(text)
                values[value] = table.cell(row, "Value")
        ratings.append(Rating(name, f"#{hex_colour.upper()}", value, table.text(values_row, "Meaning")))
    if len(values) < 2:
        problems.append(problem(Code.SCALE_TOO_SHORT, table.file, table.sheet))
    return Scale(tuple(ratings))


def _read_reviewers(table: Table, problems: list[Problem]) -> list[Reviewer]:
    reviewers = []
    for row, values, reviewer_id in _distinct_rows(table, "Reviewer ID", str.casefold, Code.REVIEWER_ID_BLANK,
                                                   Code.REVIEWER_ID_DUPLICATE, problems):
        email = table.text(values, "Email")
        name = table.text(values, "Name") or email  # someone known only by their email is named by it
        if not name:
            problems.append(problem(Code.REVIEWER_NAME_BLANK, table.file, table.sheet,
                                    table.cell(row, "Name"), value=reviewer_id))
        reviewers.append(Reviewer(reviewer_id, name, email, table.text(values, "Service area")))
    return reviewers


def _read_service_areas(table: Table, problems: list[Problem]) -> list[ServiceArea]:
    areas = []
    for _, values, name in _distinct_rows(table, "Service area", area_key, Code.SERVICE_AREA_BLANK,
                                          Code.SERVICE_AREA_DUPLICATE, problems, clean=lambda text: " ".join(text.split())):
        areas.append(ServiceArea(name, table.text(values, "Head of service"), table.text(values, "Email")))
    return areas


def _reviewer_finder(reviewers: list[Reviewer]):
    """A function finding a reviewer by ID, email or name, as officers type them (accents, case and order aside):
    the first on the sheet that matches. Looked up, not searched: a sheet lists thousands of reviewers by ID."""
    by_label: dict[str, int] = {}
    by_key: dict[tuple[str, ...], int] = {}
    for index, reviewer in enumerate(reviewers):
        for label in (reviewer.reviewer_id.casefold(), reviewer.email.casefold()):
            by_label.setdefault(label, index)
        by_key.setdefault(person_key(reviewer.name), index)

    def find(text: str) -> Reviewer | None:
        key = person_key(text)
        found = [i for i in (by_label.get(normalise_label(text)), by_key.get(key) if key else None) if i is not None]
        return reviewers[min(found)] if found else None
    return find


def _closest_reviewer(text: str, reviewers: list[Reviewer]) -> Reviewer | None:
    """A reviewer whose name is close to `text` but not certainly the same person."""
    scored = [(closeness(text, r.name), r) for r in reviewers]
    best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    return best[1] if best[0] >= CLOSE else None


def _read_characteristics(table: Table, reviewers: list[Reviewer], problems: list[Problem],
                          notes: list[Problem], doubts: list[Problem]) -> list[Characteristic]:
    characteristics: list[Characteristic] = []
    seen: dict[str, str] = {}  # ref -> the cell it was first given in
    theme_names = ", ".join(t.name for t in THEMES)
    find_reviewer = _reviewer_finder(reviewers)
    for row, values in table.rows:
        ref_cell = table.cell(row, "Ref")
        raw_ref = table.text(values, "Ref")
        ref = normalise_ref(raw_ref)
        if ref is None:
            problems.append(problem(Code.REF_INVALID, table.file, table.sheet, ref_cell, value=raw_ref))
            continue
        if ref in seen:
            problems.append(problem(Code.REF_DUPLICATE, table.file, table.sheet, ref_cell, ref=ref,
                                    other=seen[ref]))
            continue
        seen[ref] = ref_cell
        theme_text = table.text(values, "Theme")
        theme = find_theme(theme_text)
        if theme is None:
            problems.append(problem(Code.THEME_UNKNOWN, table.file, table.sheet, table.cell(row, "Theme"),
                                    value=theme_text, themes=theme_names))
            continue
        ref_theme = theme_of_ref(ref)
        if ref_theme != theme:
            problems.append(problem(Code.THEME_REF_MISMATCH, table.file, table.sheet, ref_cell, ref=ref,
                                    ref_theme=ref_theme.name if ref_theme else ref.rstrip("0123456789"),
                                    theme=theme.name))
        text = table.text(values, "Characteristic")
        if not text:
            problems.append(problem(Code.CHARACTERISTIC_BLANK, table.file, table.sheet,
                                    table.cell(row, "Characteristic"), ref=ref))
        drafters = []
        for name in split_people(table.text(values, "Drafted by"), lambda p: find_reviewer(p) is not None):
            if NOT_A_REVIEWER.search(name):
                continue  # the PMO has said so: someone whose name is like a reviewer's
            match = find_reviewer(name)
            close = None if match else _closest_reviewer(name, reviewers)
            if match:
                drafters.append(match.reviewer_id)
            elif close:
                doubts.append(problem(Code.DRAFTER_UNCERTAIN, table.file, table.sheet, table.cell(row, "Drafted by"),
                                      value=name, ref=ref, reviewer=close.label))
            else:
                notes.append(problem(Code.DRAFTER_UNKNOWN, table.file, table.sheet,
                                     table.cell(row, "Drafted by"), value=name, ref=ref))
        listed = []
        for name in _split_list(table.text(values, "Reviewers")):
            match = find_reviewer(name)
            if match is None:
                problems.append(problem(Code.REVIEWER_UNKNOWN, table.file, table.sheet,
                                        table.cell(row, "Reviewers"), value=name,
                                        hint=suggest(name, [r.reviewer_id for r in reviewers])))
            elif match.reviewer_id not in listed:
                listed.append(match.reviewer_id)
        characteristics.append(Characteristic(
            ref, theme, text, table.text(values, "Position statement"), table.text(values, "Evidence"),
            tuple(drafters), tuple(listed), row + 1, table.cell(row, "Reviewers")))
    return characteristics


def load_framework(path: Path) -> Framework:
    """Read and check the framework in a template or assessment workbook."""
    path = Path(path)
    problems: list[Problem] = []
    notes: list[Problem] = []
    doubts: list[Problem] = []
    try:
        workbook = open_workbook(path)
    except Exception as exc:  # calamine raises several unrelated types for unreadable files
        raise FrameworkError(problem(Code.FRAMEWORK_UNREADABLE, path,
                                       reason=str(exc) or type(exc).__name__)) from exc
    file = path.name
    scale_table = read_table(workbook, file, "Scale", SCALE_HEADERS, problems)
    reviewer_table = read_table(workbook, file, "Reviewers", REVIEWER_HEADERS, problems)
    characteristic_table = read_table(workbook, file, "Characteristics", CHARACTERISTIC_HEADERS, problems)
    scale = _read_scale(scale_table, problems) if scale_table else Scale(())
    reviewers = _read_reviewers(reviewer_table, problems) if reviewer_table else []
    characteristics = (_read_characteristics(characteristic_table, reviewers, problems, notes, doubts)
                       if characteristic_table else [])
    service_areas = None
    if SERVICE_AREAS_SHEET in workbook.sheet_names:  # an assessment made before it existed has none
        area_table = read_table(workbook, file, SERVICE_AREAS_SHEET, SERVICE_AREA_HEADERS, problems)
        service_areas = tuple(_read_service_areas(area_table, problems)) if area_table else ()
    if characteristic_table and not characteristics and not problems:
        problems.append(problem(Code.NO_CHARACTERISTICS, file, "Characteristics"))
    if any(p.severity == ERROR for p in problems):
        raise FrameworkError(problems)
    return Framework(scale, tuple(characteristics), tuple(reviewers), tuple(_once_each(notes)), tuple(doubts),
                     service_areas)


def _once_each(notes: list[Problem]) -> list[Problem]:
    """A drafter who is not a reviewer, said once with every ref they drafted, not once a row."""
    by_name: dict[str, list[Problem]] = {}
    for note in notes:
        by_name.setdefault(note.fields["value"], []).append(note)
    return [problem(Code.DRAFTER_UNKNOWN, same[0].file, same[0].sheet, same[0].cell if len(same) == 1 else "",
                    value=name, ref=", ".join(n.fields["ref"] for n in same)) for name, same in by_name.items()]

