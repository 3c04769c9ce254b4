"""Allocation: balanced, and never to the officer who drafted the statement."""

import pytest
from conftest import CHARACTERISTICS, make_framework

from bva_excel.errors import AllocationError
from bva_excel.excel.read.framework import load_framework
from bva_excel.model.allocation import allocate, by_reviewer


def test_listed_reviewers_are_kept_and_the_rest_balanced(framework_file):
    framework = load_framework(framework_file)
    allocation = allocate(framework, 1)
    assert allocation["L001"] == ("R01", "R03")
    loads = {r: len(refs) for r, refs in by_reviewer(allocation).items()}
    assert max(loads.values()) - min(loads.values()) <= 1
    for characteristic in framework.characteristics:
        assert not set(allocation[characteristic.ref]) & set(characteristic.drafted_by)


def test_two_per_characteristic_never_includes_the_drafter(framework_file):
    framework = load_framework(framework_file)
    allocation = allocate(framework, 2)
    assert allocation["CI001"] == ("R02", "R03")  # R01 drafted it
    assert all(len(set(v)) == len(v) for v in allocation.values())


def test_an_explicit_allocation_that_breaks_independence_is_an_error(tmp_path):
    rows = [list(r) for r in CHARACTERISTICS]
    rows[0][6] = "R01"  # CI001 drafted by R01
    with pytest.raises(AllocationError) as caught:
        allocate(load_framework(make_framework(tmp_path / "f.xlsx", characteristics=rows)))
    assert str(caught.value) == ("assessment.xlsx, sheet 'Characteristics', cell G2: R01 is listed to review "
                                 "CI001, which they drafted. Choose another reviewer: reviewers must not score "
                                 "their own statements.")


def test_too_few_independent_reviewers(framework_file):
    with pytest.raises(AllocationError) as caught:
        allocate(load_framework(framework_file), 3)
    assert {p.code for p in caught.value.problems} == {"ALLOCATION_SHORT"}
    assert "CI001 needs 3 independent reviewers but only 2 are available" in str(caught.value)
