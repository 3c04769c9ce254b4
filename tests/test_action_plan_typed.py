"""What the report and bva check say about actions typed where they do not fit: above the first row, with an
ID already in use, or for a service area not on the 'Service areas' sheet."""

from __future__ import annotations

import json

import openpyxl
from click.testing import CliRunner
from progress_helpers import _flagged_once, flagged, list_service_areas, plan, type_plan  # noqa: F401

from bva_excel.app.report import write_report
from bva_excel.cli import cli


def test_an_action_typed_above_the_first_row_is_kept_under_no_characteristic_and_said(flagged):  # noqa: F811
    assessment, report = flagged
    workbook = openpyxl.load_workbook(report)
    workbook["Action plan"].insert_rows(2)
    workbook["Action plan"]["G2"] = "Publish the plan"
    workbook["Action plan"]["H2"] = "Jo"
    workbook.save(report)
    result = write_report(assessment)
    rows = plan(report)
    new = next(row for row in rows.values() if row["Action"] == "Publish the plan")
    assert (new["Ref"] or "", new["Owner"]) == ("", "Jo")
    assert new["Gap identified"].startswith("Under no characteristic (typed above the first one); type its "
                                            "characteristic's Ref")
    assert "NEW002" not in json.dumps(list(rows.values()), default=str)
    said = [str(w) for w in result.warnings if w.code == "ACTION_NO_CHARACTERISTIC"]
    assert said == [f"report.xlsx, sheet 'Action plan', cell B2: action {new['Action ID']} on row 2 is under no "
                    "characteristic (it was typed above the first one), so it is kept with a blank Ref. Type its "
                    "characteristic's Ref (such as CI001) in 'Ref', then run the command again."]
    again = write_report(assessment)  # kept, still said, and now at the row the report wrote it on
    assert [r["Action"] for r in plan(report).values() if not r["Ref"]] == ["Publish the plan"]
    assert [w.code for w in again.warnings if w.code == "ACTION_NO_CHARACTERISTIC"] == ["ACTION_NO_CHARACTERISTIC"]
    checked = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    assert "is under no characteristic" in checked.output
    from bva_excel.app.signoff import sign_off

    sign_off(assessment, "Jane Smith, Assistant Chief Executive", accept_open=True)
    signed = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    assert f"action {new['Action ID']} (under no characteristic) has no service area or target date" in signed.output


def test_an_id_already_in_use_typed_on_another_row_is_said(flagged):  # noqa: F811
    assessment, report = flagged
    type_plan(report, {"ACT-CI001": {"Action": "Plan"}})
    type_plan(report, {}, [("ACT-G001", {"Action ID": "ACT-CI001", "Ref": "G001", "Action": "Copy"})])
    result = write_report(assessment)
    said = [str(w) for w in result.warnings if w.code == "ACTION_ID_REUSED"]
    assert said == ["report.xlsx, sheet 'Action plan', cell A4: 'ACT-CI001' on this row is already the ID of the "
                    "action on row 2, so this row's action was given the ID ACT-G001-2. If the two rows are one "
                    "action, delete one of them; otherwise nothing to do."]
    assert plan(report)["ACT-G001-2"]["Action"] == "Copy"


def test_report_warns_of_a_service_area_not_on_the_sheet_and_check_says_it_once(flagged):  # noqa: F811
    assessment, report = flagged
    list_service_areas(assessment, [("Human Resources", "", "")])
    type_plan(report, {"ACT-CI001": {"Action": "Plan", "Service area": "Human Resorces"}})
    result = CliRunner().invoke(cli, ["report", str(assessment.folder)])
    assert result.exit_code == 0
    assert ("  warning: report.xlsx, sheet 'Action plan', cell I2: action ACT-CI001 is for service area 'Human "
            "Resorces', which is not on the 'Service areas' sheet of assessment.xlsx (did you mean 'Human "
            "Resources'?)") in result.output
    checked = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    assert checked.output.count("'Human Resorces'") == 2  # one finding: its message names it twice


def test_actions_typed_under_their_characteristic_raise_no_warning_about_where_they_are(flagged):  # noqa: F811
    assessment, report = flagged  # the test above types one above the first row, and is told
    type_plan(report, {"ACT-CI001": {"Action": "Publish the plan", "Owner": "Jo"}},
              [("ACT-CI001", {"Action ID": "FIN-7", "Action": "Cost it"}), ("ACT-G001", {"Action": "Train"})])
    result = write_report(assessment)
    assert [w.code for w in result.warnings if w.code.startswith("ACTION_")] == []


def test_an_action_with_an_id_of_its_own_style_keeps_the_characteristic_it_was_typed_under(flagged, tmp_path):  # noqa: F811,E501
    import csv

    assessment, report = flagged
    type_plan(report, {}, [("ACT-CI001", {"Action ID": "FIN-7", "Action": "Cost it"})])  # a finance team's own ID
    target = tmp_path / "plan.csv"
    exported = CliRunner().invoke(cli, ["actions", str(assessment.folder), "--csv", str(target)])
    assert exported.exit_code == 0, exported.output
    with open(target, encoding="utf-8-sig", newline="") as handle:
        assert [(row[0], row[1]) for row in csv.reader(handle)][1:] == [
            ("ACT-CI001", "CI001"), ("FIN-7", "CI001"), ("ACT-G001", "G001")]


def test_each_unknown_service_area_is_said_once_and_an_empty_list_is_said_to_hold_none_yet(flagged):  # noqa: F811
    assessment, report = flagged
    workbook = openpyxl.load_workbook(assessment.workbook)
    areas = workbook["Service areas"]
    areas.delete_rows(2, areas.max_row)  # none listed yet
    workbook.save(assessment.workbook)
    type_plan(report, {"ACT-CI001": {"Service area": "Parks"}, "ACT-G001": {"Service area": "Housing"}})
    checked = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    assert checked.exit_code == 1
    said = [line for line in checked.output.splitlines() if "not on the 'Service areas' sheet" in line]
    assert [line.split("service area ")[1].split(",")[0] for line in said] == ["'Parks'", "'Housing'"]
    assert all(line.endswith("(listed now: none yet).") for line in said), said
