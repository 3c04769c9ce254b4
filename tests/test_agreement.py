"""Krippendorff's alpha (ordinal) against published worked examples and the reference package."""

import random

import pytest

from bva_excel.model.agreement import ordinal_alpha

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, values 1-5, with missing values. Published: ordinal alpha = 0.815.
OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
# Section A of the same paper: two observers, binary data, 10 units. Published: alpha = 0.095.
BINARY = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]


def units(observers):
    return [list(unit) for unit in zip(*observers)]


def test_published_example_with_missing_values():
    alpha = ordinal_alpha(units(OBSERVERS), [1, 2, 3, 4, 5])
    assert round(alpha.value, 3) == 0.815
    assert (alpha.units, alpha.pairable) == (11, 40)  # unit 12 has a single value and is not pairable


def test_published_binary_example():
    assert round(ordinal_alpha(units(BINARY), [0, 1]).value, 3) == 0.095


def test_perfect_agreement_is_one_and_cannot_be_computed_without_variation():
    assert ordinal_alpha([[1, 1], [3, 3], [2, 2]], [1, 2, 3]).value == 1
    constant = ordinal_alpha([[2, 2], [2, 2, 2]], [1, 2, 3])
    assert constant.value is None and "every score given is the same" in constant.reason


def test_one_rater_cannot_be_computed():
    alpha = ordinal_alpha([[1, None], [3], [None, 2]], [1, 2, 3])
    assert alpha.value is None and alpha.reason == "no characteristic has two or more scores"


def test_values_off_the_scale_are_refused():
    with pytest.raises(ValueError, match=r"^values not on the scale: \['7', 'x'\]$"):
        ordinal_alpha([[1, 7], ["x", None]], [1, 2, 3])


def test_agrees_with_the_reference_package_on_random_data():
    krippendorff = pytest.importorskip("krippendorff")
    import numpy as np

    rng = random.Random(7)
    for _ in range(25):
        raters, items, levels = rng.randint(2, 5), rng.randint(3, 30), rng.randint(2, 6)
        data = [[rng.choice([None] + list(range(1, levels + 1))) for _ in range(items)] for _ in range(raters)]
        ours = ordinal_alpha(units(data), list(range(1, levels + 1)))
        if ours.value is None:
            continue
        matrix = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)
        theirs = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal",
                                    value_domain=list(range(1, levels + 1)))
        assert ours.value == pytest.approx(theirs, abs=1e-9)
