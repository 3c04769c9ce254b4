"""A service area's progress return read as the records keep it: the cases the mutation run found untested
(see docs/testing.md)."""

from __future__ import annotations

import openpyxl
from progress_helpers import _flagged_once, fill_progress, flagged  # noqa: F401  (fixtures)
from test_hostile_returns import rezip
from test_progress import planned  # noqa: F401  (fixture)

from bva_excel.app.ingest import ingest
from bva_excel.app.progress import generate_progress
from bva_excel.excel.read.framework import load_framework


def _progress_workbook(assessment, tmp_path, change=None, name="finance.xlsx"):
    source = generate_progress(assessment).files["Finance"]
    path = fill_progress(source, tmp_path / name, {"ACT-CI001": ("In progress", "Drafted and out for comment.", None)})
    if change:
        workbook = openpyxl.load_workbook(path)
        change(workbook["Progress"])
        workbook.save(path)
    return path


def _headers(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1] if cell.value}


def test_a_column_a_service_area_inserted_without_a_header_does_not_lose_its_updates(planned, tmp_path):  # noqa: F811
    assessment, _ = planned
    path = _progress_workbook(assessment, tmp_path, lambda sheet: sheet.insert_cols(_headers(sheet)["Status"]))
    [outcome] = ingest(assessment, [path]).outcomes
    assert (outcome.status, [p.code for p in outcome.problems]) == ("accepted", [])
    assert [(u.action_id, u.status, u.progress) for u in assessment.records.progress_updates()] == [
        ("ACT-CI001", "In progress", "Drafted and out for comment.")]


def test_a_progress_return_without_its_action_id_header_is_refused_naming_the_header(planned, tmp_path):  # noqa: F811
    assessment, _ = planned

    def rename(sheet):
        sheet.cell(1, _headers(sheet)["Action ID"]).value = "Action"

    path = _progress_workbook(assessment, tmp_path, rename)
    [outcome] = ingest(assessment, [path]).outcomes
    assert outcome.has_errors and assessment.records.progress_updates() == []
    missing = [str(p) for p in outcome.problems if p.code == "HEADER_MISSING"]
    assert len(missing) == 1 and "finance.xlsx, sheet 'Progress': header 'Action ID' is missing from row 1" in missing[0]


def test_a_formula_in_a_progress_return_with_macros_is_kept_as_text_and_named(planned, tmp_path):  # noqa: F811
    assessment, _ = planned

    def formula(sheet):
        column = _headers(sheet)["Progress update"]
        row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, _headers(sheet)["Action ID"]).value
                   == "ACT-CI001")
        sheet.cell(row, column).value = '=CONCAT("Drafted ","for comment")'

    plain = _progress_workbook(assessment, tmp_path, formula)
    path = rezip(plain, tmp_path / "finance.xlsm", add={"xl/vbaProject.bin": b"Attribute VB_Name = \"Evil\""})
    [outcome] = ingest(assessment, [path]).outcomes
    assert outcome.status == "accepted"
    assert sorted(p.code for p in outcome.problems) == ["RETURN_FORMULA", "RETURN_MACROS"]
    assert [u.progress for u in assessment.records.progress_updates()] == ['=CONCAT("Drafted ","for comment")']


def test_a_formula_in_a_progress_return_is_read_from_the_bytes_hashed_even_if_the_file_is_emptied(planned,  # noqa: F811
                                                                                                   tmp_path):
    from bva_excel.excel.read.returns import read_return

    assessment, _ = planned

    def formula(sheet):
        row = next(r for r in range(2, sheet.max_row + 1)
                   if sheet.cell(r, _headers(sheet)["Action ID"]).value == "ACT-CI001")
        sheet.cell(row, _headers(sheet)["Progress update"]).value = '=CONCAT("Drafted ","for comment")'

    path = _progress_workbook(assessment, tmp_path, formula)
    content = path.read_bytes()
    path.write_bytes(b"")  # saved over while ingest reads it: what was hashed is what counts
    reading = read_return(path, load_framework(assessment.workbook), assessment.assessment_id, assessment.secret(),
                          {i.issue_id: i for i in assessment.records.issues()}, path.name, content)
    assert [p.code for p in reading.problems] == ["RETURN_FORMULA"]
    assert [u.progress for u in reading.updates] == ['=CONCAT("Drafted ","for comment")']
