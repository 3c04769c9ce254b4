"""What a reviewer types where bva reads nothing (a row they inserted, text beside the table, a comment on a cell)
is named by ingest, kept in the records and shown on the report's 'Notes from returns', never dropped."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import openpyxl
from click.testing import CliRunner
from conftest import answer, refs_of, set_saved_time
from openpyxl.comments import Comment
from progress_helpers import _flagged_once, fill_progress, flagged, plan, planned  # noqa: F401  (fixtures)
from sheet_setup import setup

from bva_excel.app.progress import generate_progress
from bva_excel.cli import cli
from bva_excel.store.folder import open_assessment

NOTE = "My extra note: overall the council is improving"
NOTES_SHEET = "Notes from returns"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def typed_by_hand(path, inserted: list[list], beside: dict[str, str] = None, comments: dict[str, str] = None):
    """Unprotect-and-type as a reviewer does: insert rows after row 2 holding `inserted` (cells from column A),
    type text in cells beside the table, put comments on cells; saved again."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Review"]
    for offset, values in enumerate(inserted):
        sheet.insert_rows(3 + offset)
        for col, value in enumerate(values, start=1):
            if value:
                sheet.cell(3 + offset, col, value)
    for cell, text in (beside or {}).items():
        sheet[cell] = text
    for cell, text in (comments or {}).items():
        sheet[cell].comment = Comment(text, "Ann Lee")
    workbook.save(path)
    set_saved_time(path, dt.datetime(2026, 12, 2, 10, 0))
    return path


def problems_of(result) -> dict[str, list[dict]]:
    return {f["file"]: f["problems"] for f in json.loads(result.output)["files"]}


def notes_on_report(assessment) -> list[tuple]:
    sheet = openpyxl.load_workbook(assessment.report)[NOTES_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Who", "File", "Received", "Sheet", "Cell", "What", "Text")
    return [row[:2] + row[3:] for row in rows[1:]]


def test_text_in_an_inserted_row_beside_the_table_and_in_a_comment_is_named_and_kept(generated):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = answer(generation.files["R01"], assessment.inbox / "R01 return.xlsx",
                  {ref: ("Light green", "Good.", "None.") for ref in refs})
    typed_by_hand(path, [[NOTE]], beside={"J2": "Ask Finance for the 2025 figures"},
                  comments={"G2": "Not sure about this one"})
    answer(generation.files["R02"], assessment.inbox / "R02.xlsx",
           {ref: ("Yellow", "Fair.", "Some.") for ref in refs_of(generation, "R02")})
    result = run("ingest", assessment.folder, "--json")
    assert result.exit_code == 0, result.output
    assert not [p for p in problems_of(result)["R02.xlsx"] if "NOT_READ" in p["code"]]  # nothing typed outside
    said = {(p["code"], p["cell"]): p for p in problems_of(result)["R01 return.xlsx"]}
    row = said["RETURN_ROW_NOT_READ", "A3"]
    assert (row["severity"], row["sheet"]) == ("note", "Review")
    assert row["message"] == ("this row has no Ref, so what is typed in it is not read: A3 'My extra note: overall "
                              "the council is i…'; it is kept on the report's 'Notes from returns' sheet")
    assert "column J is not one the workbook was issued with, so bva does not read it: J2 'Ask Finance for the " \
           "2025 figures'" in said["RETURN_COLUMN_NOT_READ", "J2"]["message"]
    assert said["RETURN_COMMENT_NOT_READ", "G2"]["message"].startswith(
        "a comment on this cell says 'Ann Lee: Not sure about this one'")
    assert {r.rating for r in open_assessment(assessment.folder).records.responses_by_return([1])[1]} == \
        {"Light green"}  # the answers themselves are read as before
    shutil.rmtree(assessment.inbox)  # kept in the records: the returned file is not needed again
    assert run("report", assessment.folder).exit_code == 0
    assert notes_on_report(assessment) == [
        ("R01 Ann Lee", "R01 return.xlsx", "Review", "G2", "A comment on a cell", "Ann Lee: Not sure about this one"),
        ("R01 Ann Lee", "R01 return.xlsx", "Review", "J2", "Typed in a column bva does not read",
         "Ask Finance for the 2025 figures"),
        ("R01 Ann Lee", "R01 return.xlsx", "Review", "A3", "Typed in a row with no ref or action ID", NOTE)]


def test_a_score_typed_in_an_inserted_row_is_said_not_to_count_and_how_to_fix_it(generated):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = answer(generation.files["R01"], assessment.inbox / "R01.xlsx", {ref: ("Yellow", "Fair.", "Some.")
                                                                          for ref in refs})
    typed_by_hand(path, [["", "", "", "", "", "Amber", "Worse than it says", "No plan at all"]])
    result = run("ingest", assessment.folder, "--json")
    assert result.exit_code == 0, result.output
    (score,) = [p for p in problems_of(result)["R01.xlsx"] if p["code"] == "RETURN_SCORE_IN_ROW_WITHOUT_KEY"]
    assert (score["severity"], score["sheet"], score["cell"]) == ("warning", "Review", "F3, G3, H3")
    assert score["message"] == ("the Score 'Amber' is typed in a row with no Ref, so it is not counted; what is "
                                "typed in the row (F3 'Amber', G3 'Worse than it says', H3 'No plan at all') is kept "
                                "on the report's 'Notes from returns' sheet")
    assert score["fix"] == ("Ask the reviewer to type it in the Score cell of its own row (the row with the Ref it "
                            "is about) and send the workbook again.")
    assert run("report", assessment.folder).exit_code == 0
    kept = notes_on_report(assessment)
    assert [(row[3], row[5]) for row in kept] == [("F3", "Amber"), ("G3", "Worse than it says"),
                                                  ("H3", "No plan at all")]
    assert [row[4] for row in kept] == ["A score or status typed in a row with no ref or action ID (not counted)",
                                        "Typed in a row with no ref or action ID",
                                        "Typed in a row with no ref or action ID"]  # only the score is a score
    scores = openpyxl.load_workbook(assessment.report)["Scores"]
    assert "Amber" not in {cell.value for row in scores.iter_rows(min_row=2) for cell in row[3:4]}


def test_the_notes_sheet_is_set_up_like_the_other_report_sheets_and_known_as_the_tools_own(generated):
    assessment, generation = generated
    path = answer(generation.files["R02"], assessment.inbox / "R02.xlsx",
                  {ref: ("Yellow", "Fair.", "Some.") for ref in refs_of(generation, "R02")})
    typed_by_hand(path, [[NOTE]])
    run("ingest", assessment.folder)
    first = run("report", assessment.folder)
    again = run("report", assessment.folder)  # the sheet it wrote is its own: written again, not carried
    assert first.exit_code == again.exit_code == 0, again.output
    workbook = openpyxl.load_workbook(assessment.report)
    assert workbook.sheetnames.count(NOTES_SHEET) == 1 and workbook.sheetnames[-1] == "Scale"
    assert "added" not in again.output.lower() and NOTES_SHEET not in again.output
    sheet = setup(workbook[NOTES_SHEET])
    assert (sheet["frozen"], sheet["filter"]) == ("A2", "A1:G2")
    assert sheet["print"] == setup(workbook["Responses"])["print"]  # as the report's other lists print
    assert {k: sheet["print"][k] for k in ("orientation", "fit to page", "pages tall", "titles")} == \
        {"orientation": "landscape", "fit to page": True, "pages tall": 0, "titles": "$1:$1"}


def test_a_row_inserted_in_a_progress_return_is_named_and_kept(planned):
    assessment, report = planned
    result = generate_progress(assessment)
    path = fill_progress(result.files["Finance"], assessment.inbox / "Finance.xlsx",
                         {"ACT-CI001": ("In progress", "Drafted.", None)})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Progress"]
    sheet.insert_rows(3)
    sheet["J3"], sheet["K3"] = "Complete", "The training was done in November"
    workbook.save(path)
    ingested = run("ingest", assessment.folder, "--json")
    assert ingested.exit_code == 0, ingested.output
    (score,) = [p for p in problems_of(ingested)["Finance.xlsx"] if p["code"] == "RETURN_SCORE_IN_ROW_WITHOUT_KEY"]
    assert score["message"].startswith("the Status 'Complete' is typed in a row with no Action ID, so it is not "
                                       "counted")
    assert "Ask the service area to type it in the Status cell" in score["fix"]
    assert run("report", assessment.folder).exit_code == 0
    assert [row[3:] for row in notes_on_report(assessment)] == [
        ("J3", "A score or status typed in a row with no ref or action ID (not counted)", "Complete"),
        ("K3", "Typed in a row with no ref or action ID", "The training was done in November")]
    assert plan(report)["ACT-G001"]["Status"] is None  # not counted for any action
