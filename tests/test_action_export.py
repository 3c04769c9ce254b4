"""`bva actions`: the action plan out to a business planning tool, as CSV that Excel opens correctly (and in
which no formula runs) or as a workbook, with the same IDs on every export."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter
from progress_helpers import _flagged_once, flagged, list_service_areas, type_plan  # noqa: F401  (fixtures)

from bva_excel.app.report import write_report
from bva_excel.cli import cli

HEADERS = ["Action ID", "Ref", "Theme", "Characteristic", "Gap", "Action", "Owner", "Service area", "Target date",
           "Status", "Progress update", "Last updated"]


@pytest.fixture
def planned(flagged):
    assessment, report = flagged
    list_service_areas(assessment, [("Finance", "Fay Green", "fay@example.gov.uk"), ("Légal", "", "")])
    type_plan(report, {
        "ACT-CI001": {"Action": "=HYPERLINK(\"http://evil\",\"click\")", "Owner": "@Jo", "Service area": "Finance",
                      "Target date": dt.datetime(2027, 3, 31), "Status": "In progress",
                      "Progress update": "-10% spend; +2 staff"},
        "ACT-G001": {"Action": "Scrutiny training – members’ panel", "Owner": "Siân", "Service area": "Légal"}},
        [("ACT-CI001", {"Action": "Peer review", "Service area": "finance", "Target date": "end of March"})])
    return assessment, report


def export(folder, *options):
    result = CliRunner().invoke(cli, ["actions", str(folder), *options])
    return result


def test_csv_opens_alike_in_the_csv_module_and_pandas_with_no_formula_to_run(planned, tmp_path):
    assessment, _ = planned
    target = tmp_path / "plan.csv"
    result = export(assessment.folder, "--csv", str(target))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"Wrote 3 actions to {target}"
    assert result.output.splitlines()[1].startswith("  note: 1 action typed into report.xlsx without an ID was "
                                                    "exported as ACT-CI001-2; run bva report")
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel looks for
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADERS
    assert rows[1] == ["ACT-CI001", "CI001", "Continuous improvement", "Services improve",
                       "Scored Amber; no gaps were listed by the reviewers.", "'=HYPERLINK(\"http://evil\",\"click\")",
                       "'@Jo", "Finance", "2027-03-31", "In progress", "'-10% spend; +2 staff", ""]
    assert rows[2][0] == "ACT-CI001-2" and rows[2][8] == "end of March"
    assert rows[3][0] == "ACT-G001" and rows[3][5:8] == ["Scrutiny training – members’ panel", "Siân", "Légal"]
    table = pd.read_csv(target, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(table.columns) == HEADERS
    assert table.values.tolist() == rows[1:]
    every_cell = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in every_cell if cell[:1] in ("=", "+", "-", "@")]


def test_every_export_gives_the_same_ids_once_the_report_has_them(planned, tmp_path):
    assessment, _ = planned
    export(assessment.folder, "--csv", str(tmp_path / "1.csv"))
    write_report(assessment)
    export(assessment.folder, "--csv", str(tmp_path / "2.csv"))
    write_report(assessment)
    export(assessment.folder)
    ids = [[row[0] for row in csv.reader(open(path, encoding="utf-8-sig"))][1:]
           for path in (tmp_path / "1.csv", tmp_path / "2.csv", assessment.folder / "actions.csv")]
    assert ids == [["ACT-CI001", "ACT-CI001-2", "ACT-G001"]] * 3


def test_one_service_area_as_a_workbook_with_dates_as_dates(planned, tmp_path):
    assessment, _ = planned
    target = tmp_path / "finance.xlsx"
    result = export(assessment.folder, "--xlsx", str(target), "--service-area", "FINANCE")
    assert result.output.splitlines()[0] == f"Wrote 2 actions of Finance to {target}"
    sheet = openpyxl.load_workbook(target)["Actions"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == HEADERS
    assert [row[0] for row in rows[1:]] == ["ACT-CI001", "ACT-CI001-2"]
    assert rows[1][5] == "=HYPERLINK(\"http://evil\",\"click\")" and sheet["F2"].data_type == "s"  # text, not run
    assert rows[1][8] == dt.datetime(2027, 3, 31) and sheet["I2"].number_format == "yyyy-mm-dd"


def test_an_unknown_service_area_and_both_formats_are_refused(planned):
    assessment, _ = planned
    result = export(assessment.folder, "--service-area", "Finnance")
    assert result.exit_code == 1
    assert result.output == ("error: no action is for service area 'Finnance', and it is not on the 'Service areas' "
                             "sheet (did you mean 'Finance'?). Give one of: Finance, Légal.\n")
    both = export(assessment.folder, "--csv", "a.csv", "--xlsx", "a.xlsx")
    assert both.exit_code == 2 and "Choose one of --csv and --xlsx." in both.output


def test_service_areas_are_written_as_listed_and_a_misspelt_one_is_counted(planned, tmp_path):
    assessment, report = planned
    type_plan(report, {"ACT-CI001": {"Service area": "  FINANCE "}, "ACT-G001": {"Service area": "Finace"}})
    target = tmp_path / "finance.csv"
    result = export(assessment.folder, "--csv", str(target), "--service-area", "finance")
    assert result.exit_code == 0, result.output
    assert ("  warning: 1 action names a service area not on the 'Service areas' sheet ('Finace') (so it is not "
            "in this export); run bva check") in result.output
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [(row[0], row[7]) for row in rows] == [("ACT-CI001", "Finance"), ("ACT-CI001-2", "Finance")]
    from bva_excel.app.follow_up import write_follow_up

    followed = write_follow_up(assessment, tmp_path / "f.xlsx")
    sheet = openpyxl.load_workbook(followed.path)["All actions"]
    assert [sheet.cell(r, 6).value for r in range(2, 5)] == ["Finance", "Finance", "Finace"]


def test_an_action_with_no_service_area_yet_is_not_counted_as_naming_an_unknown_one(planned, tmp_path):
    assessment, report = planned
    type_plan(report, {"ACT-G001": {"Service area": None}})  # not yet given one (the test above misspells one)
    result = export(assessment.folder, "--csv", str(tmp_path / "finance.csv"), "--service-area", "Finance")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"Wrote 2 actions of Finance to {tmp_path / 'finance.csv'}"
    assert "warning" not in result.output and "not on the 'Service areas' sheet" not in result.output


@pytest.mark.parametrize("typed", ["2027-03-31", " 31/03/2027 ", "31/03/27", "31.03.2027", "31 March 2027",
                                   "31 Mar 2027"])
def test_a_target_date_typed_as_text_in_each_form_the_readme_names_is_exported_as_a_date(flagged, tmp_path, typed):
    assessment, report = flagged
    type_plan(report, {"ACT-CI001": {"Target date": typed}, "ACT-G001": {"Target date": "03/31/2027"}})
    target = tmp_path / "plan.xlsx"
    assert export(assessment.folder, "--xlsx", str(target)).exit_code == 0
    dates = {row[0]: row[8] for row in openpyxl.load_workbook(target)["Actions"].iter_rows(values_only=True)}
    assert dates["ACT-CI001"] == dt.datetime(2027, 3, 31)
    assert dates["ACT-G001"] == "03/31/2027"  # month first is not a form it reads: kept as typed


@pytest.mark.parametrize("command", [["actions"], ["follow-up"], ["generate", "--progress"]])
def test_before_the_first_report_each_action_command_says_to_run_report_first(generated, command):
    assessment, _ = generated
    result = CliRunner().invoke(cli, [command[0], str(assessment.folder), *command[1:]])
    assert result.exit_code == 1, result.output
    assert (f"report.xlsx: there is no report yet, and the action plan lives in it, so bva {' '.join(command)} has nothing "
            f"to work from") in result.output
    assert f'Run bva report "{assessment.folder.name}" first' in result.output
    assert not (assessment.folder / "actions.csv").exists()


def test_a_report_deleted_after_it_was_written_does_not_stop_the_export(planned, tmp_path):
    assessment, report = planned
    write_report(assessment)  # the actions typed are now in the records' trail
    report.unlink()
    result = export(assessment.folder, "--csv", str(tmp_path / "plan.csv"))
    assert result.exit_code == 0, result.output
    assert "there is no report yet" not in result.output
    with open(tmp_path / "plan.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [(row[0], row[7], row[8]) for row in rows] == [  # as typed, kept in the records
        ("ACT-CI001", "Finance", "2027-03-31"), ("ACT-CI001-2", "Finance", "end of March"), ("ACT-G001", "Légal", "")]


def test_a_date_typed_into_a_text_field_is_exported_as_the_reader_saw_it(flagged, tmp_path):
    assessment, report = flagged  # Excel makes "31/03/2027" typed into a cell a date, and "31/03/2027 14:00" a time
    type_plan(report, {"ACT-CI001": {"Progress update": dt.datetime(2027, 3, 31, 14, 0), "Owner": 1042.0},
                       "ACT-G001": {"Progress update": dt.datetime(2027, 3, 31), "Owner": 7.5}})
    target = tmp_path / "plan.csv"
    assert export(assessment.folder, "--csv", str(target)).exit_code == 0
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = {row[0]: row for row in csv.reader(handle)}
    assert (rows["ACT-CI001"][10], rows["ACT-G001"][10]) == ("2027-03-31 14:00:00", "2027-03-31")
    assert (rows["ACT-CI001"][6], rows["ACT-G001"][6]) == ("1042", "7.5")  # a number typed (a staff number, say)


def test_the_workbook_export_is_set_up_to_read_and_filter_and_keeps_text_that_looks_like_a_date_as_text(flagged,
                                                                                                        tmp_path):
    from bva_excel.excel.write.styles import HEADER_COLOUR

    assessment, report = flagged
    type_plan(report, {"ACT-G001": {"Action": "Scrutiny training", "Service area": "Finance",
                                    "Target date": dt.datetime(2027, 3, 31), "Progress update": "2027-04-01"}})
    target = tmp_path / "finance.xlsx"
    assert export(assessment.folder, "--xlsx", str(target), "--service-area", "Finance").exit_code == 0
    workbook = openpyxl.load_workbook(target)
    assert workbook.properties.title == "Test assessment: action plan"
    sheet = workbook["Actions"]
    assert sheet.max_row == 2  # the one action of Finance
    assert all(c.font.b and c.fill.fgColor.rgb.endswith(HEADER_COLOUR.lstrip("#")) for c in sheet[1])
    assert sheet.freeze_panes == "B2"  # the header row and the action ID stay in sight
    assert sheet.auto_filter.ref == "A1:L2"
    column = {header: col for col, header in zip("ABCDEFGHIJKL", HEADERS)}
    width = {get_column_letter(n): d.width for d in sheet.column_dimensions.values() for n in range(d.min, d.max + 1)}
    assert all(width[column[h]] >= 40 for h in ("Gap", "Action", "Progress update"))
    assert min(width[c] for c in column.values()) >= 7
    # A row a person adds below wraps its text too: every column is set to.
    assert all(d.alignment.wrap_text for d in sheet.column_dimensions.values())
    for header in ("Gap", "Action"):  # long text wraps, read from the top of the row
        cell = sheet[f"{column[header]}2"]
        assert (cell.alignment.wrap_text, cell.alignment.vertical) == (True, "top")
    target_date = sheet[f"{column['Target date']}2"]
    assert (target_date.value, target_date.number_format, target_date.alignment.vertical) == (
        dt.datetime(2027, 3, 31), "yyyy-mm-dd", "top")
    update = sheet[f"{column['Progress update']}2"]
    assert (update.value, update.data_type) == ("2027-04-01", "s")  # typed as text: not made a date


def test_an_unknown_service_area_is_offered_those_listed_else_those_the_plan_names_else_none_yet(flagged):
    assessment, report = flagged  # its 'Service areas' sheet lists none
    unknown = export(assessment.folder, "--service-area", "Housing")
    assert unknown.exit_code == 1
    assert unknown.output == ("error: no action is for service area 'Housing', and it is not on the 'Service areas' "
                              "sheet. Give one of: none yet.\n")
    type_plan(report, {"ACT-CI001": {"Service area": "Finance"}})  # ACT-G001 has none yet
    misspelt = export(assessment.folder, "--service-area", "Finnance")
    assert misspelt.exit_code == 1
    assert misspelt.output == ("error: no action is for service area 'Finnance', and it is not on the 'Service areas' "
                               "sheet (did you mean 'Finance'?). Give one of: Finance.\n")
    list_service_areas(assessment, [("Finance", "Fay Green", ""), ("Housing", "Hal Ode", "")])  # Housing: no action
    listed = export(assessment.folder, "--service-area", "Housng")
    assert listed.exit_code == 1
    assert listed.output == ("error: no action is for service area 'Housng', and it is not on the 'Service areas' "
                             "sheet (did you mean 'Housing'?). Give one of: Finance, Housing.\n")
