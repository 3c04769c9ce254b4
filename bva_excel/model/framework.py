"""model.framework"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from bva_excel.errors import Problem
from bva_excel.model.people import NameIndex
from bva_excel.model.text import cell_text, normalise_label

T = TypeVar("T")


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
    match = re.match(r"[A-Z]+", ref)
    return next((t for t in THEMES if match and t.prefix == match.group(0)), None)


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
        return sorted((r for r in self.ratings if r.value is not None), key=lambda r: -(r.value or 0))

    @cached_property
    def _by_label(self) -> dict[str, Rating]:
        """The ratings by their names as a person might type them: made on first use, as a scale is read once and
        asked thousands of times."""
        by_label: dict[str, Rating] = {}
        for rating in self.ratings:
            by_label.setdefault(normalise_label(rating.name), rating)
        return by_label

    def find(self, text: object) -> Rating | None:
        """The rating a person meant, whatever the case and spacing (' light GREEN ')."""
        return self._by_label.get(normalise_label(cell_text(text)))

    @cached_property
    def labels(self) -> dict[str, str]:
        """Each rating's short label, by its name, for a heat-map tile: see `short_labels`."""
        return short_labels(self.names)

    def by_value(self, value: int) -> Rating:
        return next(r for r in self.ratings if r.value == value)

    def action_threshold(self, name: str | None = None) -> Rating:
        """The rating at or below which a score needs an action: `name` if given, else the middle
        scored rating (the lower middle when even), which is Yellow on the default scale."""
        found = self.find(name) if name else None
        if found is not None:
            return found
        scored = self.scored
        return scored[len(scored) // 2]


def short_labels(names: list[str]) -> dict[str, str]:
    """A short label for each rating, for a heat-map tile to say its rating in a few letters as well as by its
    colour: the initials of the name's words, a number kept whole ('Dark green' DG, 'Amber' A, 'Level 10' L10,
    '3' 3); the whole name where two ratings would share a label (told apart without regard to case)."""
    def initials(name: str) -> str:
        words = re.findall(r"[^\W_]+", name)
        return "".join(w if w.isdigit() else w[0].upper() for w in words) or name.strip()

    labels = {name: initials(name) for name in names}
    shared = Counter(label.casefold() for label in labels.values())
    return {name: label if shared[label.casefold()] == 1 else name.strip() for name, label in labels.items()}


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


def present(found: T | None, what: str) -> T:
    """`found`, which the caller knows is there (a reviewer or characteristic the framework itself listed, say);
    an error in the tool, never in what people typed, if it is not."""
    if found is None:
        raise LookupError(f"{what} is not in the framework")
    return found


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

    @cached_property
    def reviewer_names(self) -> NameIndex:
        """The reviewers indexed by name, email and each word of their names (ingest looks for each return)."""
        return NameIndex(self.reviewers)

    @property
    def themes(self) -> list[Theme]:
        """Themes that have characteristics, in the guidance's order."""
        present = {c.theme for c in self.characteristics}
        return [t for t in THEMES if t in present]


