"""Loading and checking the framework: every broken rule reported at once, with sheet and cell."""

import pytest
from conftest import CHARACTERISTICS, REVIEWERS, SCALE, make_framework

from bva_excel.errors import FrameworkError
from bva_excel.excel.read.framework import load_framework


def codes_and_cells(error: FrameworkError) -> set[tuple[str, str, str]]:
    return {(p.code, p.sheet, p.cell) for p in error.problems}


def test_a_valid_framework_loads_into_plain_objects(framework_file):
    framework = load_framework(framework_file)
    assert [c.ref for c in framework.characteristics] == ["CI001", "CI002", "L001", "G001", "R001", "SD001"]
    l001 = framework.characteristic("L001")
    assert l001.reviewers == ("R01", "R03")
    assert l001.drafted_by == ("R02",)
    assert framework.characteristic("CI002").drafted_by == ("R01",)  # matched by name
    assert framework.scale.find(" light GREEN ").name == "Light green"
    assert framework.scale.find("Grey").scored is False


def test_codes_are_compared_as_prefix_and_number(tmp_path):
    rows = CHARACTERISTICS + [["L0001", "Leadership", "Again", "", "", "", ""]]
    with pytest.raises(FrameworkError) as caught:
        load_framework(make_framework(tmp_path / "f.xlsx", characteristics=rows))
    assert ("REF_DUPLICATE", "Characteristics", "A8") in codes_and_cells(caught.value)
    assert "ref L001 is listed twice (also at A4)" in str(caught.value)


def test_every_problem_is_listed_with_its_sheet_and_cell(tmp_path):
    scale = SCALE + [["", "#FFFFFF", 0, "no name"]]
    rows = [list(r) for r in CHARACTERISTICS]
    rows[1][1] = "Leadershp"  # unknown theme
    rows[3][6] = "R09"  # reviewer not on Reviewers
    path = make_framework(tmp_path / "f.xlsx", scale=scale, characteristics=rows)
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    found = codes_and_cells(caught.value)
    assert ("RATING_MISSING", "Scale", "A8") in found
    assert ("THEME_UNKNOWN", "Characteristics", "B3") in found
    assert ("REVIEWER_UNKNOWN", "Characteristics", "G5") in found
    assert len(caught.value.problems) == 3
    assert "f.xlsx, sheet 'Characteristics', cell B3: theme 'Leadershp' is not one of the seven" in str(caught.value)


def test_blank_and_misspelt_headers_are_refused(tmp_path):
    import openpyxl

    path = make_framework(tmp_path / "f.xlsx")
    workbook = openpyxl.load_workbook(path)
    workbook["Characteristics"]["C1"] = None
    workbook["Reviewers"]["B1"] = "Nmae"
    workbook.save(path)
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    found = codes_and_cells(caught.value)
    assert ("HEADER_BLANK", "Characteristics", "C1") in found
    assert ("HEADER_MISSING", "Reviewers", "") in found
    assert "header 'Name' is missing from row 1 (did you mean 'Nmae'?)" in str(caught.value)


def test_a_missing_sheet_is_named(tmp_path):
    import openpyxl

    path = make_framework(tmp_path / "f.xlsx")
    workbook = openpyxl.load_workbook(path)
    workbook["Reviewers"].title = "Reviewer"
    workbook.save(path)
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    assert "sheet 'Reviewers' is missing (did you mean 'Reviewer'?)" in str(caught.value)


def test_ref_whose_prefix_disagrees_with_its_theme(tmp_path):
    rows = CHARACTERISTICS + [["G009", "Culture", "Shared values", "", "", "", ""]]
    with pytest.raises(FrameworkError) as caught:
        load_framework(make_framework(tmp_path / "f.xlsx", characteristics=rows))
    assert ("THEME_REF_MISMATCH", "Characteristics", "A8") in codes_and_cells(caught.value)


def test_a_drafter_who_is_not_a_reviewer_is_only_a_note(tmp_path):
    rows = CHARACTERISTICS + [["C001", "Culture", "Shared values", "", "", "Head of HR", ""]]
    framework = load_framework(make_framework(tmp_path / "f.xlsx", characteristics=rows))
    assert [(n.code, n.cell) for n in framework.notes] == [("DRAFTER_UNKNOWN", "F8")]
    assert framework.characteristic("C001").drafted_by == ()


def test_duplicate_reviewer_ids(tmp_path):
    with pytest.raises(FrameworkError) as caught:
        load_framework(make_framework(tmp_path / "f.xlsx", reviewers=REVIEWERS + [["r01", "Dup", "", ""]]))
    assert ("REVIEWER_ID_DUPLICATE", "Reviewers", "A5") in codes_and_cells(caught.value)


def test_a_rating_listed_twice_and_a_reviewer_with_no_id_are_each_named_by_cell(tmp_path):
    scale = SCALE + [[" amber ", "#FFC000", 9, "Again"]]
    reviewers = REVIEWERS + [["", "No Id", "", ""]]
    with pytest.raises(FrameworkError) as caught:
        load_framework(make_framework(tmp_path / "f.xlsx", scale=scale, reviewers=reviewers))
    amber = next(i for i, row in enumerate(SCALE) if row[0] == "Amber") + 2
    assert [str(p) for p in caught.value.problems] == [
        f"f.xlsx, sheet 'Scale', cell A{len(SCALE) + 2}: rating 'amber' is listed twice (also at A{amber}). "
        "Give every rating its own name.",
        f"f.xlsx, sheet 'Reviewers', cell A{len(REVIEWERS) + 2}: this reviewer row has no 'Reviewer ID'. "
        "Give every reviewer a short unique ID such as R01."]
