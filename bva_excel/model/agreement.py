"""Krippendorff's alpha for ordinal data: how far reviewers agree, beyond chance.

Written here rather than taken from the common package, which is GPL. Follows Krippendorff (2011),
"Computing Krippendorff's Alpha-Reliability": a coincidence matrix over the units with two or more
values, and the ordinal distance between ranks c and k, (sum of n_g for g from c to k - (n_c+n_k)/2)^2.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

FEW_UNITS = 5  # below this many characteristics scored twice, alpha says little either way


@dataclass(frozen=True)
class Alpha:
    value: float | None  # None when it cannot be computed
    units: int  # units (characteristics) with two or more values
    pairable: int  # values in those units
    reason: str = ""  # why it could not be computed

    def describe(self) -> str:
        if self.value is None:
            return f"cannot be computed: {self.reason}"
        plural = "characteristic" if self.units == 1 else "characteristics"
        return f"{self.value:.3f} over {self.units} {plural} ({self.pairable} scores): {self.reading}"

    @property
    def reading(self) -> str:
        """What the value means, by Krippendorff's usual thresholds (0.800 and 0.667)."""
        if self.value is None:
            return ""
        if self.units < FEW_UNITS:
            return f"too few characteristics scored twice to judge agreement (fewer than {FEW_UNITS})"
        if self.value >= 0.8:
            return "reviewers agree well enough to rely on the scores (0.800 or more)"
        if self.value >= 0.667:
            return "agreement good enough only for tentative conclusions (0.667 to 0.800): moderate the disagreements"
        return "agreement too low to rely on (below 0.667): the scores need moderating before they are used"


def ordinal_alpha(units: list[list[Any]], scale: list[Any]) -> Alpha:
    """Alpha over `units` (each a list of the values given to one item; None is missing).

    `scale` lists every possible value in order, lowest first, whether or not it was used.
    """
    rank = {value: i for i, value in enumerate(scale)}
    unknown = {v for unit in units for v in unit if v is not None and v not in rank}
    if unknown:
        raise ValueError(f"values not on the scale: {sorted(map(str, unknown))}")
    size = len(scale)
    coincidence = [[0.0] * size for _ in range(size)]
    pairable_units = pairable_values = 0
    for unit in units:
        values = [rank[v] for v in unit if v is not None]
        if len(values) < 2:
            continue
        pairable_units += 1
        pairable_values += len(values)
        # Every ordered pair of the unit's m scores adds 1/(m-1). Counting n_v scores per rank gives
        # n_c*n_k such pairs for c != k and n_c*(n_c-1) for c == k, so a large unit costs its ranks
        # squared rather than its scores squared.
        counts = Counter(values)
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                coincidence[c][k] += n_c * (n_k - (c == k)) / (len(values) - 1)
    if pairable_units == 0:
        return Alpha(None, 0, 0, "no characteristic has two or more scores")
    totals = [sum(row) for row in coincidence]
    n = sum(totals)

    def distance(c: int, k: int) -> float:
        low, high = min(c, k), max(c, k)
        return (sum(totals[low:high + 1]) - (totals[c] + totals[k]) / 2) ** 2

    observed = sum(coincidence[c][k] * distance(c, k) for c in range(size) for k in range(size))
    expected = sum(totals[c] * totals[k] * distance(c, k) for c in range(size) for k in range(size))
    if expected == 0:
        return Alpha(None, pairable_units, pairable_values,
                     "every score given is the same, so agreement beyond chance cannot be measured")
    return Alpha(1 - (n - 1) * observed / expected, pairable_units, pairable_values)
