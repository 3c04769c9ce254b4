"""The framework as officers keep it in Excel: the scale, the characteristics and the reviewers.

`load_framework` reads a template or an assessment workbook, checks every rule in one pass and
returns plain objects, or raises `FrameworkError` listing every problem with its sheet and cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bva_excel.errors import ERROR, FrameworkError, Problem, problem
from bva_excel.people import CLOSE, closeness, person_key, split_people
from bva_excel.sheets import (Table, cell_text, normalise_label, normalise_ref, open_workbook,
                              read_table, suggest)

SCALE_HEADERS = ["Rating", "Colour", "Value", "Meaning"]
CHARACTERISTIC_HEADERS = ["Ref", "Theme", "Characteristic", "Position statement", "Evidence",
                          "Drafted by", "Reviewers"]
REVIEWER_HEADERS = ["Reviewer ID", "Name", "Email", "Service area"]
SERVICE_AREAS_SHEET = "Service areas"
SERVICE_AREA_HEADERS = ["Service area", "Head of service", "Email"]
NOT_A_REVIEWER = re.compile(r"\(\s*not a reviewer\s*\)", re.IGNORECASE)


@dataclass(frozen=True)
class Theme:
    prefix: str
    name: str


# The seven themes of the statutory guidance (May 2024). The characteristics under them are data.
THEMES = (
    Theme("CI", "Continuous improvement"),
    Theme("L", "Leadership"),
    Theme("G", "Governance"),
    Theme("C", "Culture"),
    Theme("R", "Use of resources"),
    Theme("SD", "Service delivery"),
    Theme("PCE", "Partnerships and community engagement"),
)


def find_theme(text: str) -> Theme | None:
    """A theme by its name or its ref prefix, in any case."""
    label = normalise_label(text)
    for theme in THEMES:
        if label in (normalise_label(theme.name), theme.prefix.casefold()):
            return theme
    return None


def theme_of_ref(ref: str) -> Theme | None:
    prefix = re.match(r"[A-Z]+", ref).group(0)
    return next((t for t in THEMES if t.prefix == prefix), None)


@dataclass(frozen=True)
class Rating:
    name: str
    colour: str  # '#RRGGBB'
    value: int | None  # None: not a score (e.g. Grey, outside officers' control)
    meaning: str = ""

    @property
    def scored(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Scale:
    ratings: tuple[Rating, ...]

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.ratings]

    @property
    def scored(self) -> list[Rating]:
        """Scored ratings, best first."""
        return sorted((r for r in self.ratings if r.scored), key=lambda r: -r.value)

    def find(self, text) -> Rating | None:
        """The rating a person meant, whatever the case and spacing (' light GREEN ')."""
        try:
            by_label = self._by_label
        except AttributeError:  # made on first use: a scale is read once and asked thousands of times
            by_label = {}
            for rating in self.ratings:
                by_label.setdefault(normalise_label(rating.name), rating)
            object.__setattr__(self, "_by_label", by_label)
        return by_label.get(normalise_label(cell_text(text)))

    def by_value(self, value: int) -> Rating:
        return next(r for r in self.ratings if r.value == value)

    def action_threshold(self, name: str | None = None) -> Rating:
        """The rating at or below which a score needs an action: `name` if given, else the middle
        scored rating (the lower middle when even), which is Yellow on the default scale."""
        if name:
            return self.find(name)
        scored = self.scored
        return scored[len(scored) // 2]


@dataclass(frozen=True)
class Reviewer:
    reviewer_id: str
    name: str
    email: str = ""
    service_area: str = ""

    @property
    def label(self) -> str:
        return f"{self.reviewer_id} {self.name}"


@dataclass(frozen=True)
class ServiceArea:
    """A service area that delivers actions, and the Corporate Head of Service who reports on them."""

    name: str
    head: str = ""
    email: str = ""


def area_key(name: str) -> str:
    """A service area's name as matched: case, accents' absence aside, and spacing do not matter."""
    return " ".join(str(name or "").split()).casefold()


@dataclass(frozen=True)
class Characteristic:
    ref: str
    theme: Theme
    text: str
    position_statement: str = ""
    evidence: str = ""
    drafted_by: tuple[str, ...] = ()  # reviewer IDs of the drafters that are reviewers
    reviewers: tuple[str, ...] = ()  # reviewer IDs listed by the PMO; empty: allocate automatically
    row: int = 0  # Excel row on 'Characteristics'
    reviewers_cell: str = ""  # where the PMO listed the reviewers, for messages


@dataclass(frozen=True)
class Framework:
    scale: Scale
    characteristics: tuple[Characteristic, ...]
    reviewers: tuple[Reviewer, ...]
    notes: tuple[Problem, ...] = field(default=(), compare=False)
    # Drafters that are nearly, but not certainly, a reviewer: allocation stops on them ("did you mean").
    doubts: tuple[Problem, ...] = field(default=(), compare=False)
    # The 'Service areas' sheet; None for an assessment made before the sheet existed.
    service_areas: tuple[ServiceArea, ...] | None = None

    def service_area(self, name: str) -> ServiceArea | None:
        """The listed service area called `name` (case and spacing aside), or None."""
        key = area_key(name)
        return next((a for a in self.service_areas or () if area_key(a.name) == key), None) if key else None

    def characteristic(self, ref: str) -> Characteristic | None:
        """The characteristic with this ref, or None."""
        return self._characteristic_by_ref.get(ref)

    def reviewer(self, reviewer_id: str) -> Reviewer | None:
        """The reviewer with this ID, or None."""
        return self._reviewer_by_id.get(reviewer_id)

    # Looked up once per response, so a scan of the tuple each time would make the pipeline quadratic.
    # cached_property writes to the instance dict directly, which a frozen dataclass allows; the
    # indexes are not fields, so equality and hashing are unchanged. Reversed so that the first of a
    # repeated key wins, as a scan from the top would find it.
    @cached_property
    def _characteristic_by_ref(self) -> dict[str, Characteristic]:
        return {c.ref: c for c in reversed(self.characteristics)}

    @cached_property
    def _reviewer_by_id(self) -> dict[str, Reviewer]:
        return {r.reviewer_id: r for r in reversed(self.reviewers)}

    @property
    def themes(self) -> list[Theme]:
        """Themes that have characteristics, in the guidance's order."""
        present = {c.theme for c in self.characteristics}
        return [t for t in THEMES if t in present]


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", text) if part.strip()]


def _distinct_rows(table: Table, header: str, key, blank: str, duplicate: str, problems: list[Problem],
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
    ratings, values = [], {}
    for row, values_row, name in _distinct_rows(table, "Rating", normalise_label, "RATING_MISSING", "RATING_DUPLICATE",
                                                problems, field="name"):
        colour = table.text(values_row, "Colour")
        raw_value = table.get(values_row, "Value")
        hex_colour = colour.lstrip("#")
        if not re.fullmatch(r"[0-9A-Fa-f]{6}", hex_colour):
            problems.append(problem("RATING_COLOUR_INVALID", table.file, table.sheet,
                                    table.cell(row, "Colour"), value=colour))
        value = None
        if raw_value is not None:
            text = cell_text(raw_value).strip()
            if not re.fullmatch(r"-?\d+", text):
                problems.append(problem("RATING_VALUE_INVALID", table.file, table.sheet,
                                        table.cell(row, "Value"), value=text))
            elif int(text) in values:
                problems.append(problem("RATING_VALUE_DUPLICATE", table.file, table.sheet,
                                        table.cell(row, "Value"), value=text, other=values[int(text)]))
            else:
                value = int(text)
                values[value] = table.cell(row, "Value")
        ratings.append(Rating(name, f"#{hex_colour.upper()}", value, table.text(values_row, "Meaning")))
    if len(values) < 2:
        problems.append(problem("SCALE_TOO_SHORT", table.file, table.sheet))
    return Scale(tuple(ratings))


def _read_reviewers(table: Table, problems: list[Problem]) -> list[Reviewer]:
    reviewers = []
    for row, values, reviewer_id in _distinct_rows(table, "Reviewer ID", str.casefold, "REVIEWER_ID_BLANK",
                                                   "REVIEWER_ID_DUPLICATE", problems):
        email = table.text(values, "Email")
        name = table.text(values, "Name") or email  # someone known only by their email is named by it
        if not name:
            problems.append(problem("REVIEWER_NAME_BLANK", table.file, table.sheet,
                                    table.cell(row, "Name"), value=reviewer_id))
        reviewers.append(Reviewer(reviewer_id, name, email, table.text(values, "Service area")))
    return reviewers


def _read_service_areas(table: Table, problems: list[Problem]) -> list[ServiceArea]:
    areas = []
    for _, values, name in _distinct_rows(table, "Service area", area_key, "SERVICE_AREA_BLANK",
                                          "SERVICE_AREA_DUPLICATE", problems, clean=lambda text: " ".join(text.split())):
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
    characteristics, seen = [], {}
    theme_names = ", ".join(t.name for t in THEMES)
    find_reviewer = _reviewer_finder(reviewers)
    for row, values in table.rows:
        ref_cell = table.cell(row, "Ref")
        raw_ref = table.text(values, "Ref")
        ref = normalise_ref(raw_ref)
        if ref is None:
            problems.append(problem("REF_INVALID", table.file, table.sheet, ref_cell, value=raw_ref))
            continue
        if ref in seen:
            problems.append(problem("REF_DUPLICATE", table.file, table.sheet, ref_cell, ref=ref,
                                    other=seen[ref]))
            continue
        seen[ref] = ref_cell
        theme_text = table.text(values, "Theme")
        theme = find_theme(theme_text)
        if theme is None:
            problems.append(problem("THEME_UNKNOWN", table.file, table.sheet, table.cell(row, "Theme"),
                                    value=theme_text, themes=theme_names))
            continue
        ref_theme = theme_of_ref(ref)
        if ref_theme != theme:
            problems.append(problem("THEME_REF_MISMATCH", table.file, table.sheet, ref_cell, ref=ref,
                                    ref_theme=ref_theme.name if ref_theme else ref.rstrip("0123456789"),
                                    theme=theme.name))
        text = table.text(values, "Characteristic")
        if not text:
            problems.append(problem("CHARACTERISTIC_BLANK", table.file, table.sheet,
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
                doubts.append(problem("DRAFTER_UNCERTAIN", table.file, table.sheet, table.cell(row, "Drafted by"),
                                      value=name, ref=ref, reviewer=close.label))
            else:
                notes.append(problem("DRAFTER_UNKNOWN", table.file, table.sheet,
                                     table.cell(row, "Drafted by"), value=name, ref=ref))
        listed = []
        for name in _split_list(table.text(values, "Reviewers")):
            match = find_reviewer(name)
            if match is None:
                problems.append(problem("REVIEWER_UNKNOWN", table.file, table.sheet,
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
        raise FrameworkError(problem("FRAMEWORK_UNREADABLE", path, reason=str(exc) or type(exc).__name__))
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
        problems.append(problem("NO_CHARACTERISTICS", file, "Characteristics"))
    if any(p.severity == ERROR for p in problems):
        raise FrameworkError(problems)
    return Framework(scale, tuple(characteristics), tuple(reviewers), tuple(_once_each(notes)), tuple(doubts),
                     service_areas)


def _once_each(notes: list[Problem]) -> list[Problem]:
    """A drafter who is not a reviewer, said once with every ref they drafted, not once a row."""
    by_name: dict[str, list[Problem]] = {}
    for note in notes:
        by_name.setdefault(note.fields["value"], []).append(note)
    return [problem("DRAFTER_UNKNOWN", same[0].file, same[0].sheet, same[0].cell if len(same) == 1 else "",
                    value=name, ref=", ".join(n.fields["ref"] for n in same)) for name, same in by_name.items()]

