"""The reviewer workbook as a reviewer meets it: only their items, dropdowns, nothing to break."""

import openpyxl

from bva_excel.layout import REVIEW_HEADERS
from bva_excel.model.identity import IDENTITY_SHEET, IssueIdentity


def test_one_workbook_per_reviewer_with_only_their_items(generated):
    assessment, generation = generated
    assert set(generation.files) == {"R01", "R02", "R03"}
    for reviewer_id, path in generation.files.items():
        sheet = openpyxl.load_workbook(path)["Review"]
        refs = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]
        assert refs == [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


def test_review_sheet_layout_protection_and_dropdown(generated):
    _, generation = generated
    workbook = openpyxl.load_workbook(generation.files["R01"])
    assert workbook.sheetnames == ["Guide", "Review", "Scale", IDENTITY_SHEET]
    sheet = workbook["Review"]
    assert [c.value for c in sheet[1]] == REVIEW_HEADERS
    assert sheet.protection.sheet is True
    rows = sheet.max_row
    for row in range(2, rows + 1):
        locked = {h: sheet.cell(row, i + 1).protection.locked for i, h in enumerate(REVIEW_HEADERS)}
        assert [h for h, is_locked in locked.items() if not is_locked] == [
            "Score", "Commentary", "Gaps and areas to address"]
        assert sheet.cell(row, 4).alignment.wrap_text
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 1
    assert validations[0].type == "list"
    assert validations[0].formula1 == '"Dark green,Light green,Yellow,Amber,Red,Grey"'
    assert str(validations[0].sqref) == f"F2:F{rows}"
    assert sheet.freeze_panes == "B2"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0  # 1 is the default
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.column_dimensions["D"].width > 50


def test_identity_is_hidden_signed_and_not_the_secret(generated):
    assessment, generation = generated
    workbook = openpyxl.load_workbook(generation.files["R02"])
    hidden = workbook[IDENTITY_SHEET]
    assert hidden.sheet_state == "veryHidden"
    values = {row[0]: row[1] for row in hidden.iter_rows(values_only=True)}
    assert values["assessment_id"] == assessment.assessment_id
    assert values["reviewer_id"] == "R02"
    identity, signature = IssueIdentity.from_rows(values)
    assert identity.verify(assessment.secret(), signature)  # signed with this assessment's secret ...
    assert not identity.verify(bytes(32), signature)  # ... and no other
    secret_hex = assessment.secret().hex()
    for path in generation.files.values():
        assert secret_hex.encode() not in path.read_bytes()


def test_guide_names_the_reviewer_and_the_deadline(assessment):
    import datetime as dt

    from bva_excel.app.issue import generate

    generation = generate(assessment, deadline=dt.date(2026, 12, 18), pmo="bv@example.gov.uk")
    guide = openpyxl.load_workbook(generation.files["R03"])["Guide"]
    text = "\n".join(str(c.value) for c in guide["A"] if c.value)
    assert "Cai Wyn (R03)" in text
    assert "Friday 18 December 2026" in text
    assert "bv@example.gov.uk" in text
