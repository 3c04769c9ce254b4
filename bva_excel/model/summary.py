"""Final scores counted per theme, for the Summary sheet and the pictures."""

from __future__ import annotations

from dataclasses import dataclass

from bva_excel.model.framework import Framework

NOT_ANSWERED = "Not answered"


@dataclass(frozen=True)
class ThemeCounts:
    """A row per theme (in the guidance's order), a column per rating on the scale and then "Not answered"."""

    columns: list[str]
    rows: dict[str, dict[str, int]]  # theme -> column -> how many

    @property
    def themes(self) -> list[str]:
        return list(self.rows)

    def column(self, name: str) -> list[int]:
        """One column's counts, theme by theme."""
        return [row[name] for row in self.rows.values()]

    def column_totals(self) -> dict[str, int]:
        """Each column's count over every theme."""
        return {name: sum(self.column(name)) for name in self.columns}

    def total(self) -> int:
        return sum(sum(row.values()) for row in self.rows.values())


def theme_counts(framework: Framework, final: dict[str, str]) -> ThemeCounts:
    """Final scores counted per theme.

    "Not answered" is the theme's characteristics less those with a rating on the scale, as the
    sheet's formulas count it (so a final score typed that is not on the scale is not answered).
    """
    scale = framework.scale
    columns = [*scale.names, NOT_ANSWERED]
    rows = {theme.name: dict.fromkeys(columns, 0) for theme in framework.themes}
    for characteristic in framework.characteristics:
        score = final.get(characteristic.ref, "")
        rating = scale.find(score) if score else None
        rows[characteristic.theme.name][rating.name if rating else NOT_ANSWERED] += 1
    return ThemeCounts(columns, rows)
