"""report.xlsx lives on after bva writes it: every earlier report is kept, every change is traced, what
people added (sheets, columns) is carried, and a workbook that is not a bva report is never replaced."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import return_all
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image

from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.cli import cli


@pytest.fixture
def returned(generated):
    """Every reviewer has returned; R01 scores L001 Dark green and R03 Amber; SD001 has a gap listed."""
    assessment, generation = generated
    return_all(assessment, generation, {"SD001": ("Amber", "Weak", "No complaints log")}, ("Light green", "Seen.", ""))
    ingest(assessment)
    return assessment, generation


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="bva")


def rows_of(path, sheet: str, shown: bool = False) -> list[list]:
    """The rows of `sheet`: formulas as written, or (`shown`) the values they show."""
    workbook = openpyxl.load_workbook(path, data_only=shown)
    return [list(row) for row in workbook[sheet].iter_rows(values_only=True)]


def later(path, seconds: int = 5) -> None:
    """Make the file look saved `seconds` later than it was (as when a person saves it after bva)."""
    stat = path.stat()
    os.utime(path, (stat.st_atime + seconds, stat.st_mtime + seconds))


def type_into(path, sheet: str, key: str, values: dict, key_header: str) -> None:
    """Type values into the row of `key` on `sheet`, by header, as a person would in Excel."""
    workbook = openpyxl.load_workbook(path)
    ws = workbook[sheet]
    headers = [c.value for c in ws[1]]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, headers.index(key_header) + 1).value == key)
    for header, value in values.items():
        ws.cell(row, headers.index(header) + 1).value = value
    workbook.save(path)
    later(path)


def changes_on_sheet(path) -> list[tuple]:
    """(ref or action, field, before, after) for each row of the Changes sheet."""
    rows = rows_of(path, "Changes")
    header = rows[0]
    at = {name: header.index(name) for name in header}
    return [(r[at["Ref or action"]], r[at["Field"]], r[at["Before"]], r[at["After"]]) for r in rows[1:] if r[1]]


# History.

def test_each_report_keeps_the_one_before_under_the_time_it_was_saved(returned):
    assessment, _ = returned
    first = write_report(assessment)
    assert first.history is None and not (assessment.folder / "history").exists()
    first_bytes = assessment.report.read_bytes()
    saved = dt.datetime.fromtimestamp(assessment.report.stat().st_mtime)
    second = write_report(assessment)
    assert second.history == assessment.folder / "history" / f"report {saved:%Y-%m-%d %H%M%S}.xlsx"
    assert second.history.read_bytes() == first_bytes
    assert second.history.stat().st_mode & 0o044 == 0o044  # colleagues can open it


def test_a_history_copy_is_never_overwritten(returned):
    assessment, _ = returned
    write_report(assessment)
    saved = dt.datetime.fromtimestamp(assessment.report.stat().st_mtime)
    taken = assessment.folder / "history" / f"report {saved:%Y-%m-%d %H%M%S}.xlsx"
    taken.parent.mkdir()
    taken.write_bytes(b"an earlier copy someone kept")
    result = write_report(assessment)
    assert taken.read_bytes() == b"an earlier copy someone kept"
    assert result.history == taken.with_name(f"report {saved:%Y-%m-%d %H%M%S} (2).xlsx")
    assert result.history.read_bytes()[:2] == b"PK"


def test_the_same_report_is_not_copied_twice(returned):
    assessment, _ = returned
    write_report(assessment)
    saved = assessment.report.stat().st_mtime
    kept = write_report(assessment).history
    shutil.copyfile(kept, assessment.report)  # the earlier report put back, as it was
    os.utime(assessment.report, (saved, saved))
    assert write_report(assessment).history is None
    assert len(list((assessment.folder / "history").iterdir())) == 1


# The change trail.

def test_the_first_report_has_no_changes_and_says_how_the_sheet_fills(returned):
    assessment, _ = returned
    result = write_report(assessment)
    assert result.new_changes == []
    assert rows_of(result.path, "Changes")[1][0].startswith("No changes yet")


def test_changes_typed_between_runs_are_listed_one_by_one_and_kept_in_the_records(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    type_into(path, "Scores", "SD001", {"Moderated score": "Red", "Moderation note": "No evidence of a log"}, "Ref")
    type_into(path, "Action plan", "ACT-SD001", {"Action": "Start a complaints log", "Owner": "Head of Customer",
                                                  "Target date": dt.datetime(2027, 3, 31)}, "Action ID")
    result = write_report(assessment)
    expected = [("SD001", "Moderated score", "(blank)", "Red"),
                ("SD001", "Moderation note", "(blank)", "No evidence of a log"),
                ("SD001", "Final score", "Amber", "Red"),
                ("ACT-SD001", "Action", "(blank)", "Start a complaints log"),
                ("ACT-SD001", "Owner", "(blank)", "Head of Customer"),
                ("ACT-SD001", "Target date", "(blank)", "2027-03-31")]
    assert changes_on_sheet(result.path) == expected
    assert [(c.key, c.field, c.before, c.after) for c in result.new_changes] == [
        (k, f, "" if b == "(blank)" else b, a) for k, f, b, a in expected]
    sources = {c.field: c.source for c in result.new_changes}
    assert sources["Moderated score"].startswith("typed in report.xlsx (saved ")
    assert sources["Final score"] == "the moderated score"

    type_into(path, "Scores", "SD001", {"Moderated score": "Amber"}, "Ref")  # moderated again
    result = write_report(assessment)
    assert changes_on_sheet(result.path) == expected + [("SD001", "Moderated score", "Red", "Amber"),
                                                        ("SD001", "Final score", "Red", "Amber")]
    assert len(result.new_changes) == 2

    # The trail is in the records: it survives the report and its history being deleted.
    shutil.rmtree(assessment.folder / "history")
    assessment.report.unlink()
    listed = run("changes", assessment.folder, "--json")
    assert listed.exit_code == 0, listed.output
    trail = json.loads(listed.output)["changes"]
    assert [(c["key"], c["field"], c["before"], c["after"]) for c in trail][-2:] == [
        ("SD001", "Moderated score", "Red", "Amber"), ("SD001", "Final score", "Red", "Amber")]
    assert len(trail) == 8
    text = run("changes", assessment.folder)
    assert "SD001  Moderated score: Red -> Amber" in text.output
    refs = len({change["key"] for change in trail})
    assert text.output.splitlines()[-1].startswith(f"8 changes to {refs} characteristics or actions, oldest first; "
                                                   "the latest seen ")


def test_running_again_with_nothing_changed_adds_no_change(returned):
    assessment, _ = returned
    write_report(assessment)
    type_into(assessment.report, "Scores", "CI001", {"Moderated score": "Yellow"}, "Ref")
    assert len(write_report(assessment).new_changes) == 2
    result = write_report(assessment)
    assert result.new_changes == [] and len(changes_on_sheet(result.path)) == 2


def test_a_deleted_action_row_is_a_change_to_blank(returned):
    assessment, _ = returned
    write_report(assessment)
    type_into(assessment.report, "Action plan", "ACT-SD001", {"Owner": "Head of Customer"}, "Action ID")
    write_report(assessment)
    type_into(assessment.report, "Action plan", "ACT-SD001", {"Owner": None}, "Action ID")
    result = write_report(assessment)
    assert [(c.key, c.field, c.before, c.after) for c in result.new_changes] == [
        ("ACT-SD001", "Owner", "Head of Customer", "")]


def test_bva_changes_says_when_the_report_was_saved_since_bva_wrote_it(returned):
    assessment, _ = returned
    write_report(assessment)
    assert "was saved after" not in run("changes", assessment.folder).output
    later(assessment.report, 60)
    said = run("changes", assessment.folder)
    assert said.exit_code == 0
    assert "report.xlsx was saved after bva last wrote it: run bva report" in said.output


# What people added.

def test_a_sheet_a_person_added_is_carried_with_its_values_formulas_and_notes(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    notes = workbook.create_sheet("Panel notes")
    notes["A1"] = "Panel meeting"
    notes["A1"].comment = Comment("Chaired by the Monitoring Officer", "PMO")
    notes["B1"] = dt.datetime(2027, 1, 14)
    notes["B1"].number_format = "dd/mm/yyyy"
    notes["A2"] = 3
    notes["A3"] = "=A2*2"
    notes["A4"] = "=Scores!A2"
    notes.merge_cells("C1:D1")
    notes["C1"] = "Merged heading"
    notes.column_dimensions["A"].width = 40
    workbook.save(path)
    result = run("report", assessment.folder)
    assert result.exit_code == 0, result.output
    assert "Kept your sheet 'Panel notes'" in result.output
    kept = openpyxl.load_workbook(path)
    assert kept.sheetnames[-1] == "Panel notes"
    sheet = kept["Panel notes"]
    assert (sheet["A1"].value, sheet["A2"].value, sheet["A3"].value, sheet["A4"].value) == (
        "Panel meeting", 3, "=A2*2", "=Scores!A2")
    assert sheet["B1"].value == dt.datetime(2027, 1, 14) and sheet["B1"].number_format == "dd/mm/yyyy"
    assert sheet["A1"].comment.text.endswith("Chaired by the Monitoring Officer")
    assert [str(r) for r in sheet.merged_cells.ranges] == ["C1:D1"] and sheet["C1"].value == "Merged heading"
    assert sheet.column_dimensions["A"].width == pytest.approx(40, abs=1)
    # ... and again on the next run.
    assert run("report", assessment.folder).exit_code == 0
    assert openpyxl.load_workbook(path)["Panel notes"]["A1"].value == "Panel meeting"


def _logo(path, colour: str, size=(40, 20)):
    from PIL import Image as Picture  # openpyxl needs pillow for pictures

    Picture.new("RGB", size, colour).save(path)
    return path


def _pictures_shown(path, sheet: str) -> list[tuple[str, int, int, bytes]]:
    """(top-left cell, width and height in pixels as shown, the picture's bytes) of each picture on `sheet`."""
    from bva_excel.excel.read.carried import _sheet_parts, pictures_on

    with zipfile.ZipFile(path) as archive:
        found = pictures_on(archive, _sheet_parts(archive)[sheet]) or []
    return [(f"{openpyxl.utils.get_column_letter(p.col + 1)}{p.row + 1}", p.width, p.height, p.data) for p in found]


def test_a_picture_on_a_sheet_of_a_person_s_own_is_kept_where_it_was_at_its_size(returned, tmp_path):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    logo = Image(str(_logo(tmp_path / "logo.png", "red")))
    logo.width, logo.height = 120, 60  # shown at three times its size
    briefing = workbook.create_sheet("Briefing")
    briefing["A1"] = "Council logo below"
    briefing.add_image(logo, "B3")
    workbook.save(path)
    data = (tmp_path / "logo.png").read_bytes()
    result = run("report", assessment.folder)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output and "cannot carry" not in result.output
    assert "Kept your sheet 'Briefing' (values, formulas, column widths, merged cells and notes, 1 picture;" \
        in result.output  # said, so nobody thinks it was dropped
    assert _pictures_shown(path, "Briefing") == [("B3", 120, 60, data)]
    assert openpyxl.load_workbook(path)["Briefing"]["A1"].value == "Council logo below"
    assert run("report", assessment.folder).exit_code == 0  # and again, through a second report
    assert _pictures_shown(path, "Briefing") == [("B3", 120, 60, data)]


def test_a_sheet_with_a_chart_stops_the_report_and_says_how_to_keep_it(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    briefing = workbook.create_sheet("Briefing")
    briefing.append(["Theme", "Count"])
    briefing.append(["Culture", 3])
    chart = BarChart()
    chart.add_data(Reference(briefing, min_col=2, min_row=1, max_row=2), titles_from_data=True)
    briefing.add_chart(chart, "D2")
    workbook.save(path)
    before = path.read_bytes()
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert ("report.xlsx, sheet 'Briefing': this sheet, added to the report by a person, holds a picture, chart or "
            "shape, which bva cannot carry into the new report") in result.output
    assert "Move or Copy" in result.output
    assert path.read_bytes() == before and not (assessment.folder / "history").exists()


def test_a_sheet_with_only_values_is_not_refused_and_its_values_are_in_the_new_report(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    briefing = workbook.create_sheet("Briefing")
    briefing.append(["Words only", "For the Chair"])
    briefing.append([None, 12.5])
    workbook.save(path)
    result = run("report", assessment.folder)
    assert result.exit_code == 0, result.output
    assert "Kept your sheet 'Briefing'" in result.output
    assert openpyxl.load_workbook(path).sheetnames[-1] == "Briefing"
    assert rows_of(path, "Briefing") == [["Words only", "For the Chair"], [None, 12.5]]


def test_a_column_inserted_on_scores_keeps_its_values_by_ref_over_two_runs(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    scores = workbook["Scores"]
    scores.insert_cols(7)  # between 'Moderation note' and 'Final score'
    scores.cell(1, 7, "Panel comment")
    rows = {scores.cell(r, 1).value: r for r in range(2, scores.max_row + 1)}
    scores.cell(rows["SD001"], 7, "Ask for the complaints data")
    scores.cell(rows["CI001"], 7, "Agreed")
    workbook.save(path)
    for _ in range(2):
        result = run("report", assessment.folder)
        assert result.exit_code == 0, result.output
        assert "Kept your column 'Panel comment' on 'Scores'" in result.output
        kept = openpyxl.load_workbook(path)["Scores"]
        headers = [c.value for c in kept[1]]
        assert headers.count("Panel comment") == 1 and headers[6] == "Final score"
        col = headers.index("Panel comment") + 1
        found = {kept.cell(r, 1).value: kept.cell(r, col).value for r in range(2, kept.max_row + 1)}
        assert found["SD001"] == "Ask for the complaints data" and found["CI001"] == "Agreed"
        assert found["L001"] is None


def test_a_column_inserted_on_the_action_plan_keeps_its_values_by_action(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    plan = workbook["Action plan"]
    plan.insert_cols(3)
    plan.cell(1, 3, "Corporate plan link")
    ids = {plan.cell(r, 1).value: r for r in range(2, plan.max_row + 1)}
    plan.cell(ids["ACT-SD001"], 3, "Priority 2")
    workbook.save(path)
    write_report(assessment)
    kept = openpyxl.load_workbook(path)["Action plan"]
    headers = [c.value for c in kept[1]]
    col = headers.index("Corporate plan link") + 1
    assert {kept.cell(r, 1).value: kept.cell(r, col).value for r in range(2, kept.max_row + 1)}["ACT-SD001"] == \
        "Priority 2"


def test_a_value_in_an_added_column_without_a_ref_is_said(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    scores = workbook["Scores"]
    last = scores.max_column + 1
    scores.cell(1, last, "Panel comment")
    scores.cell(scores.max_row + 2, last, "A note below the table")
    workbook.save(path)
    result = run("report", assessment.folder)
    assert result.exit_code == 0
    assert "a value in the column 'Panel comment', added by a person, is in a row with no Ref" in result.output
    assert "kept in the copy of the previous report in history/" in result.output


# A report.xlsx that is not a bva report.

def test_a_workbook_saved_over_the_report_is_never_replaced(returned):
    assessment, _ = returned
    write_report(assessment)
    other = openpyxl.Workbook()
    other.active.title = "Budget"
    other.active["A1"] = "Someone's budget, saved here by mistake"
    other.save(assessment.report)
    before = assessment.report.read_bytes()
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert "report.xlsx: this is not a report written by bva (its sheets are 'Budget')" in result.output
    assert assessment.report.read_bytes() == before
    assert run("check", assessment.folder).exit_code == 1  # nothing reads it as a report


def test_a_renamed_sheet_is_named_and_renaming_it_back_keeps_what_was_typed(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    type_into(path, "Action plan", "ACT-SD001", {"Action": "Start a complaints log"}, "Action ID")
    workbook = openpyxl.load_workbook(path)
    workbook["Action plan"].title = "Action plan 2027"
    workbook.save(path)
    before = path.read_bytes()
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert ("report.xlsx: the report's 'Action plan' sheet is missing (it looks renamed: 'Action plan 2027')"
            in result.output)
    assert "Rename the sheet back to 'Action plan'" in result.output
    assert "not a report written by bva" not in result.output and "Move it out" not in result.output
    assert path.read_bytes() == before
    workbook = openpyxl.load_workbook(path)  # the advice, followed
    workbook["Action plan 2027"].title = "Action plan"
    workbook.save(path)
    assert run("report", assessment.folder).exit_code == 0
    plan = rows_of(path, "Action plan")
    assert any("Start a complaints log" in row for row in plan)


def test_both_sheets_bva_reads_missing_are_both_named(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    del workbook["Action plan"]
    workbook["Scores"].title = "Scores (old)"
    workbook.save(path)
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert ("the report's 'Scores' and 'Action plan' sheets are missing (it looks renamed: 'Scores (old)')"
            in result.output)


def test_a_damaged_report_is_never_replaced(returned):
    assessment, _ = returned
    write_report(assessment)
    data = assessment.report.read_bytes()
    assessment.report.write_bytes(data[: len(data) // 2])
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert "report.xlsx: the previous report cannot be read (" in result.output
    assert assessment.report.read_bytes() == data[: len(data) // 2]


def test_a_report_of_another_assessment_is_never_replaced(returned, tmp_path):
    assessment, _ = returned
    write_report(assessment)
    from conftest import make_framework

    from bva_excel.app.new import create_assessment

    other = create_assessment(tmp_path / "other", make_framework(tmp_path / "f.xlsx"), "Another")
    shutil.copyfile(assessment.report, other.report)
    before = other.report.read_bytes()
    result = run("report", other.folder)
    assert result.exit_code == 1
    assert f"this report belongs to another assessment ({assessment.assessment_id}, not {other.assessment_id})" \
        in result.output
    assert other.report.read_bytes() == before


def test_a_column_with_values_but_no_header_is_kept_and_named_by_its_letter(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    scores = workbook["Scores"]
    last = scores.max_column + 1
    rows = {scores.cell(r, 1).value: r for r in range(2, scores.max_row + 1)}
    scores.cell(rows["G001"], last, "check with audit")
    workbook.save(path)
    result = run("report", assessment.folder)
    from bva_excel.model.text import column_letter

    assert f"Kept your column 'Column {column_letter(last - 1)} (no header)' on 'Scores'" in result.output
    kept = openpyxl.load_workbook(path)["Scores"]
    headers = [c.value for c in kept[1]]
    col = headers.index(f"Column {column_letter(last - 1)} (no header)") + 1
    assert kept.cell(rows["G001"], col).value == "check with audit"


# A deleted row or a missing report loses nothing bva has seen.

def moderated_and_planned(assessment):
    """A report with SD001 moderated to Red with a note and ACT-SD001 given an action and an owner, seen by a run."""
    write_report(assessment)
    type_into(assessment.report, "Scores", "SD001", {"Moderated score": "Red", "Moderation note": "No log"}, "Ref")
    type_into(assessment.report, "Action plan", "ACT-SD001", {"Action": "Start a log", "Owner": "Head of Customer"},
              "Action ID")
    return write_report(assessment)


def test_a_deleted_report_keeps_what_was_typed_into_it_from_the_records(returned):
    assessment, _ = returned
    moderated_and_planned(assessment)
    assessment.report.unlink()
    shutil.rmtree(assessment.folder / "history")
    result = run("report", assessment.folder)
    assert result.exit_code == 0, result.output
    assert ("warning: report.xlsx: the report is missing (bva last wrote it on ") in result.output
    assert "is kept from the records (moderations of SD001; actions ACT-SD001)" in result.output
    scores = {row[0]: row for row in rows_of(assessment.report, "Scores")}
    assert scores["SD001"][4:6] == ["Red", "No log"]
    plan = {row[0]: row for row in rows_of(assessment.report, "Action plan")}
    header = rows_of(assessment.report, "Action plan")[0]
    assert (plan["ACT-SD001"][header.index("Action")], plan["ACT-SD001"][header.index("Owner")]) == (
        "Start a log", "Head of Customer")
    assert "changes since the last report" not in result.output  # nothing was typed away


def test_a_deleted_row_keeps_its_moderation_and_its_action(returned):
    assessment, _ = returned
    moderated_and_planned(assessment)
    workbook = openpyxl.load_workbook(assessment.report)
    for sheet, key in [("Scores", "SD001"), ("Action plan", "ACT-SD001")]:
        ws = workbook[sheet]
        ws.delete_rows(next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == key))
    workbook.save(assessment.report)
    result = run("report", assessment.folder)
    assert result.exit_code == 0, result.output
    assert ("warning: report.xlsx, sheet 'Scores': the rows of SD001 are missing; their moderated score, moderation "
            "note and typed final score, as bva last saw them, are kept. To clear a moderation, empty its cells "
            "instead of deleting the row.") in result.output
    assert "sheet 'Action plan': the rows of ACT-SD001 are missing" in result.output
    assert {row[0]: row for row in rows_of(assessment.report, "Scores", shown=True)}["SD001"][4:7] == [
        "Red", "No log", "Red"]
    # Emptied cells, unlike a deleted row, clear it.
    type_into(assessment.report, "Scores", "SD001", {"Moderated score": None, "Moderation note": None}, "Ref")
    result = run("report", assessment.folder)
    assert "are missing" not in result.output
    assert {row[0]: row for row in rows_of(assessment.report, "Scores", shown=True)}["SD001"][4:7] == [
        "", "", "Amber"]


def test_a_moderation_from_a_moderation_return_is_not_put_back_as_typed(returned):
    """Only what was typed in the report is kept from the trail; a moderation return stays in the records."""
    from bva_excel.model.changes import restore_missing
    from bva_excel.model.decisions import PreviousEdits
    from bva_excel.model.recorded import SeenValue

    seen = [SeenValue("2026-12-01T09:00:00", "characteristic", "CI001", "Moderated score", "Red",
                      "from R02's moderation return m.xlsx, cell H2, received 2026-12-01T08:00:00"),
            SeenValue("2026-12-01T09:00:00", "characteristic", "CI002", "Moderated score", "Amber",
                      "typed in report.xlsx (saved 01 Dec 2026 08:59)"),
            SeenValue("2026-12-01T09:00:00", "characteristic", "CI002", "Final score", "Amber", "the moderated score"),
            SeenValue("2026-12-01T09:00:00", "characteristic", "G001", "Final score", "Red",
                      "typed in report.xlsx (saved 01 Dec 2026 08:59)")]
    edits = PreviousEdits()
    assert restore_missing(edits, seen) == (["CI002", "G001"], [])
    assert (edits.moderation["CI002"].moderated, edits.moderation["CI002"].final_override) == ("Amber", "")
    assert (edits.moderation["G001"].moderated, edits.moderation["G001"].final_override) == ("", "Red")
    present = PreviousEdits(refs_present={"CI002", "G001"})
    assert restore_missing(present, seen) == ([], []) and present.moderation == {}


def test_notes_people_put_on_cells_of_scores_and_the_action_plan_stay_on_their_cell(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    scores, plan = workbook["Scores"], workbook["Action plan"]
    headers = [c.value for c in scores[1]]
    rows = {scores.cell(r, 1).value: r for r in range(2, scores.max_row + 1)}
    scores.cell(rows["SD001"], headers.index("Moderation note") + 1).comment = Comment("Ask the Chair", "Jane Smith")
    plan_headers = [c.value for c in plan[1]]
    plan_rows = {plan.cell(r, 1).value: r for r in range(2, plan.max_row + 1)}
    plan.cell(plan_rows["ACT-SD001"], plan_headers.index("Owner") + 1).comment = Comment("Confirm by March", "PMO")
    workbook.save(path)
    for _ in range(2):
        result = run("report", assessment.folder)
        assert result.exit_code == 0 and "warning" not in result.output, result.output
        kept = openpyxl.load_workbook(path)
        scores, plan = kept["Scores"], kept["Action plan"]
        rows = {scores.cell(r, 1).value: r for r in range(2, scores.max_row + 1)}
        note = scores.cell(rows["SD001"], [c.value for c in scores[1]].index("Moderation note") + 1).comment
        assert note is not None and note.text == "Ask the Chair" and note.author == "Jane Smith"
        plan_rows = {plan.cell(r, 1).value: r for r in range(2, plan.max_row + 1)}
        owner = plan.cell(plan_rows["ACT-SD001"], [c.value for c in plan[1]].index("Owner") + 1).comment
        assert owner is not None and owner.text == "Confirm by March"
        others = [c for row in scores.iter_rows() for c in row if c.comment is not None]
        assert len(others) == 1  # no other cell gained a note


def test_a_picture_put_on_one_of_bva_s_sheets_is_said_not_to_be_kept_and_the_advice_keeps_it(returned, tmp_path):
    assessment, _ = returned
    path = write_report(assessment).path
    assert "warning" not in run("report", assessment.folder).output  # bva's own chart on Summary is no picture
    workbook = openpyxl.load_workbook(path)
    workbook["Summary"].add_image(Image(str(_logo(tmp_path / "logo.png", "blue"))), "J2")
    workbook.save(path)
    result = run("report", assessment.folder)
    assert result.exit_code == 0
    assert ("warning: report.xlsx, sheet 'Summary': a picture or shape was added to this sheet, which bva writes "
            "anew each time, so it is not in the new report. It is kept in the copy of the previous report in "
            "history/") in result.output
    assert "put pictures on a sheet of your own, which bva keeps" in result.output
    assert _pictures_shown(path, "Summary") == []
    workbook = openpyxl.load_workbook(path)  # the advice, followed
    workbook.create_sheet("Cover").add_image(Image(str(tmp_path / "logo.png")), "A1")
    workbook.save(path)
    result = run("report", assessment.folder)
    assert result.exit_code == 0 and "warning" not in result.output
    assert [cell for cell, *_ in _pictures_shown(path, "Cover")] == ["A1"]


def test_a_characteristic_s_words_typed_over_on_scores_are_said_to_belong_in_assessment_xlsx(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    assert "wording" not in run("report", assessment.folder).output
    type_into(path, "Scores", "CI002", {"Characteristic": "Peer challenge, every two years"}, "Ref")
    result = run("report", assessment.folder)
    assert ("warning: report.xlsx, sheet 'Scores': the wording of CI002 was changed here, but the report takes the "
            "characteristics' words from assessment.xlsx") in result.output


def test_a_progress_return_is_credited_only_with_what_a_return_can_give():
    """The PMO's own correction of a service area is typed, even when a return updated the action since."""
    from bva_excel.model.changes import current_values

    values = current_values({}, {"ACT-C001": {"Service area": "Human Resources", "Status": "Complete",
                                             "Target date": dt.datetime(2027, 3, 31), "Owner": "Head of HR"}},
                            "typed in report.xlsx (saved 01 Dec 2026 09:00)",
                            {"ACT-C001": "the progress return from Human Resources HR.xlsx"})
    assert {field: source for (_, _, field), (_, source) in values.items()} == {
        "Service area": "typed in report.xlsx (saved 01 Dec 2026 09:00)",
        "Owner": "typed in report.xlsx (saved 01 Dec 2026 09:00)",
        "Status": "the progress return from Human Resources HR.xlsx",
        "Target date": "the progress return from Human Resources HR.xlsx"}
    assert values[("action", "ACT-C001", "Target date")][0] == "2027-03-31"


def test_a_sheet_a_person_named_changes_before_bva_had_one_is_carried(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    del workbook["Changes"]  # as a report from before the Changes sheet
    workbook.create_sheet("Changes")["A1"] = "Changes agreed at the panel"
    workbook.save(path)
    result = run("report", assessment.folder)
    assert result.exit_code == 0, result.output
    kept = openpyxl.load_workbook(path)
    assert kept["Changes"]["A1"].value == "Seen"
    assert kept["Changes (2)"]["A1"].value == "Changes agreed at the panel"
