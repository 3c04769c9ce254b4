"""The consolidated score: theirs for one reviewer, the lower median for several; Grey never a score."""

import pytest

from bva_excel.consolidation import consolidated_rating
from bva_excel.framework import load_framework


@pytest.fixture
def scale(framework_file):
    return load_framework(framework_file).scale


@pytest.mark.parametrize("ratings, expected", [
    (["Amber"], "Amber"),
    (["Dark green", "Amber"], "Amber"),  # even: the lower of the two middle ratings
    (["Dark green", "Light green", "Red"], "Light green"),  # odd: the median
    (["Dark green", "Dark green", "Yellow", "Red"], "Yellow"),
    (["Grey", "Yellow"], "Yellow"),  # Grey is not a score and is never averaged
    (["Grey"], "Grey"),
    (["", "Light green"], "Light green"),  # blank is not answered, never zero
    (["", ""], ""),
    ([], ""),
])
def test_consolidated_rating(scale, ratings, expected):
    assert consolidated_rating(scale, ratings) == expected
