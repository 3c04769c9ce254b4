"""Progress from the service areas by workbook: issued per service area, returned through ingest, shown on the
next report with its date and source, every update kept on 'Action history'; a service area not listed is
refused with "did you mean"."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from click.testing import CliRunner
from progress_helpers import (  # noqa: F401  (fixtures)
    _flagged_once,
    fill_progress,
    flagged,
    list_service_areas,
    plan,
    progress_returned,
    type_plan,
)

from bva_excel.app.ingest import ingest
from bva_excel.app.progress import generate_progress
from bva_excel.app.report import write_report
from bva_excel.cli import cli
from bva_excel.errors import BvaError

AREAS = [("Finance", "Fay Green", "fay@example.gov.uk"), ("Legal services", "Lee Hunt", "lee@example.gov.uk")]


@pytest.fixture
def planned(flagged):
    """CI001 Amber and G001 Red on the plan with three actions: two for Finance, one for Legal services."""
    assessment, report = flagged
    list_service_areas(assessment, AREAS)
    type_plan(report, {
        "ACT-CI001": {"Action": "Write the improvement plan", "Owner": "Jo Bloggs", "Service area": "Finance",
                      "Target date": dt.datetime(2027, 3, 31), "Status": "In progress"},
        "ACT-G001": {"Action": "Scrutiny training", "Owner": "Al Khan", "Service area": "finance",
                     "Target date": dt.datetime(2027, 2, 1)}},
        [("ACT-CI001", {"Action": "Peer review", "Owner": "Kim Ray", "Service area": "Legal services",
                        "Target date": dt.datetime(2027, 6, 30)})])
    write_report(assessment)
    return assessment, report


def progress_sheet(path):
    return openpyxl.load_workbook(path)["Progress"]


def test_one_protected_workbook_per_service_area_with_its_actions_and_their_context(planned):
    assessment, _ = planned
    result = generate_progress(assessment, dt.date(2027, 1, 15))
    assert result.actions == {"Finance": ["ACT-CI001", "ACT-G001"], "Legal services": ["ACT-CI001-2"]}
    assert sorted(p.name for p in result.files.values()) == ["BV progress Finance.xlsx",
                                                             "BV progress Legal services.xlsx"]
    sheet = progress_sheet(result.files["Finance"])
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=1, max_row=3)]
    assert rows[0] == ["Action ID", "Ref", "Characteristic", "Gap identified", "Action", "Owner", "Target date",
                       "Current status", "Last update", "Status", "Progress update", "Revised target date"]
    assert rows[1][:9] == ["ACT-CI001", "CI001", "Services improve",
                           "Scored Amber; no gaps were listed by the reviewers.", "Write the improvement plan",
                           "Jo Bloggs", dt.datetime(2027, 3, 31), "In progress", ""]
    assert rows[2][7] == "None given"
    assert sheet.protection.sheet
    assert [sheet.cell(2, c).protection.locked for c in (1, 5, 7, 10, 11, 12)] == [True, True, True, False, False,
                                                                                   False]
    checks = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert checks["J2:J3"].formula1 == '"Not started,In progress,Complete,Closed"'
    assert checks["L2:L3"].type == "date"
    guide = openpyxl.load_workbook(result.files["Finance"])["Guide"]
    assert "Finance (Fay Green)" in guide["A2"].value and "Friday 15 January 2027" in guide["A3"].value


def test_a_round_returned_shows_on_the_report_and_in_the_history_and_leaves_the_rest(planned):
    assessment, report = planned
    result = generate_progress(assessment)
    fill_progress(result.files["Finance"], assessment.inbox / "RE Finance.xlsx",
                  {"ACT-CI001": ("Complete", "Plan adopted by Cabinet", None)})
    outcome = next(o for o in ingest(assessment).outcomes if o.name == "RE Finance.xlsx")
    assert (outcome.status, outcome.answered, outcome.issued, outcome.has_errors) == ("accepted", 1, 2, False)
    write_report(assessment)
    returns = {row[0]: row for row in openpyxl.load_workbook(report)["Returns"].iter_rows(min_row=2, values_only=True)}
    assert returns["RE Finance.xlsx"][2:6] == ("Finance", returns["RE Finance.xlsx"][3], "accepted", 1)  # 1 update
    summary = [row[0] for row in openpyxl.load_workbook(report)["Summary"].iter_rows(values_only=True)]
    assert "Finance" not in summary  # a service area is not a reviewer with returns outstanding
    actions = plan(report)
    sha = next(r.sha256 for r in assessment.records.returns() if r.name == "RE Finance.xlsx")
    received = next(r.received for r in assessment.records.returns() if r.name == "RE Finance.xlsx")
    assert (actions["ACT-CI001"]["Status"], actions["ACT-CI001"]["Progress update"],
            actions["ACT-CI001"]["Update from"]) == (
        "Complete", "Plan adopted by Cabinet",
        f"the progress return from Finance, RE Finance.xlsx, cells J2, K2 (received {received[:10]} {received[11:16]}, "
        f"SHA-256 {sha[:8]})")
    assert actions["ACT-CI001"]["Last updated"].date() == dt.date.today()
    assert (actions["ACT-G001"]["Status"], actions["ACT-G001"]["Progress update"], actions["ACT-G001"]["Update from"],
            actions["ACT-G001"]["Target date"]) == (None, None, "", dt.datetime(2027, 2, 1))  # left blank: unchanged
    # A second round: Legal services moves its date; Finance's earlier update stays on the plan and in the history.
    second = generate_progress(assessment)
    assert second.actions == {"Finance": ["ACT-G001"], "Legal services": ["ACT-CI001-2"]}  # complete: not sent
    fill_progress(second.files["Legal services"], assessment.inbox / "RE Legal.xlsx",
                  {"ACT-CI001-2": ("In progress", "Reviewer booked", dt.datetime(2027, 9, 30))})
    ingest(assessment)
    write_report(assessment)
    actions = plan(report)
    assert (actions["ACT-CI001-2"]["Status"], actions["ACT-CI001-2"]["Target date"]) == (
        "In progress", dt.datetime(2027, 9, 30))
    assert actions["ACT-CI001"]["Status"] == "Complete"
    history = list(openpyxl.load_workbook(report)["Action history"].iter_rows(min_row=2, values_only=True))
    assert [(row[1], row[2], row[3], row[4], row[5], row[6], row[7]) for row in history] == [
        ("ACT-CI001", "CI001", "Finance", "Complete", "Plan adopted by Cabinet", "", "RE Finance.xlsx"),
        ("ACT-CI001-2", "CI001", "Legal services", "In progress", "Reviewer booked", "2027-09-30", "RE Legal.xlsx")]


def test_what_is_typed_into_the_report_after_a_return_stands(planned):
    assessment, report = planned
    progress_returned(assessment, {"ACT-G001": ("In progress", "Booked", None)})
    write_report(assessment)
    type_plan(report, {"ACT-G001": {"Status": "Closed", "Progress update": "Superseded by the new plan"}})
    for _ in range(2):  # and again: the return, already shown, is not applied over what was typed
        write_report(assessment)
        g001 = plan(report)["ACT-G001"]
        assert (g001["Status"], g001["Progress update"], g001["Last updated"].date()) == (
            "Closed", "Superseded by the new plan", dt.date.today())  # when the last return came: kept
        assert g001["Update from"].startswith("Typed in the report since the progress return from Finance, "
                                              "RE Finance.xlsx, cells J3, K3 (received ")


def test_a_return_with_a_wrong_status_or_a_missing_row_says_so(planned):
    assessment, report = planned
    result = generate_progress(assessment)
    fill_progress(result.files["Finance"], assessment.inbox / "wrong.xlsx", {"ACT-CI001": ("Done", "", None)})
    workbook = openpyxl.load_workbook(result.files["Finance"])
    workbook["Progress"].delete_rows(3)  # ACT-G001's row
    workbook["Progress"]["J2"] = "Complete"
    workbook.save(assessment.inbox / "short.xlsx")
    outcomes = {o.name: o for o in ingest(assessment).outcomes}
    assert [str(p) for p in outcomes["wrong.xlsx"].problems] == [
        "wrong.xlsx, sheet 'Progress', cell J2: 'Done' is not a status. Choose one of: Not started, In progress, "
        "Complete, Closed."]
    assert outcomes["wrong.xlsx"].has_errors
    assert [str(p) for p in outcomes["short.xlsx"].problems] == [
        "short.xlsx, sheet 'Progress': action ACT-G001 was sent but its row is missing. It is left as it was; ask "
        "the service area if that was meant."]
    write_report(assessment)
    assert plan(report)["ACT-CI001"]["Status"] == "Complete" and plan(report)["ACT-G001"]["Status"] is None


def test_an_action_for_a_service_area_not_listed_is_held_back_with_did_you_mean_and_the_others_sent(planned):
    assessment, report = planned
    type_plan(report, {"ACT-CI001-2": {"Service area": "Legal servics"}})
    result = generate_progress(assessment)
    assert [str(p) for p in result.held] == [
        "report.xlsx, sheet 'Action plan', cell I3: action ACT-CI001-2 is for service area 'Legal servics', which "
        "is not on the 'Service areas' sheet of assessment.xlsx (did you mean 'Legal services'?). Correct it on the "
        "Action plan, or add 'Legal servics' to 'Service areas' (listed now: Finance, Legal services)."]
    assert result.held_actions == ["ACT-CI001-2"]
    assert sorted(p.name for p in assessment.outbox.glob("BV progress*")) == ["BV progress Finance.xlsx"]
    assert "ACT-CI001-2" not in [a for actions in result.actions.values() for a in actions]
    said = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"])
    assert said.exit_code == 1
    assert "BV progress Finance.xlsx" in said.output
    assert ("Not sent: 1 action (ACT-CI001-2) for a service area not on the 'Service areas' sheet" in said.output)
    assert "(did you mean 'Legal services'?)" in said.output
    result = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    assert ("error: report.xlsx, sheet 'Action plan', cell I3: action ACT-CI001-2 is for service area "
            "'Legal servics', which is not on the 'Service areas' sheet of assessment.xlsx (did you mean "
            "'Legal services'?)") in result.output


def test_a_round_whose_every_open_action_is_for_an_unlisted_area_writes_nothing(planned):
    assessment, report = planned
    type_plan(report, {name: {"Service area": "Nowhere"} for name in ("ACT-CI001", "ACT-CI001-2", "ACT-G001")})
    with pytest.raises(BvaError) as refused:
        generate_progress(assessment)
    assert "service area 'Nowhere', which is not on the 'Service areas' sheet" in str(refused.value)
    assert not list(assessment.outbox.glob("BV progress*"))


def test_after_sign_off_check_lists_open_actions_with_no_owner_service_area_or_date(planned):
    from bva_excel.app.signoff import sign_off

    assessment, report = planned
    type_plan(report, {"ACT-CI001": {"Owner": None}, "ACT-G001": {"Target date": None, "Service area": None}},
              [("ACT-CI001-2", {"Action": "Done already", "Status": "Closed"})])  # above ACT-G001
    write_report(assessment)
    before = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    assert "Action plan (" not in before.output  # not signed off yet
    sign_off(assessment, "Jane Smith, Assistant Chief Executive", accept_open=True)
    after = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    listed = after.output[after.output.index("Action plan ("):].splitlines()
    assert listed[:3] == [
        "Action plan (2)",
        "  warning: report.xlsx, sheet 'Action plan', cell A2: action ACT-CI001 (CI001) has no owner, and the scores "
        "are signed off. Fill in what is missing on the Action plan, so that someone is answerable for the action by "
        "a date.",
        "  warning: report.xlsx, sheet 'Action plan', cell A5: action ACT-G001 (G001) has no service area or target "
        "date, and the scores are signed off. Fill in what is missing on the Action plan, so that someone is "
        "answerable for the action by a date."]  # ACT-CI001-3 is closed: nothing to chase


def test_generate_progress_says_what_it_wrote_and_who_was_not_asked(planned):
    assessment, report = planned
    type_plan(report, {"ACT-G001": {"Service area": None}})
    result = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress", "--deadline", "2027-01-15"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == [f"Wrote 2 progress workbooks to {assessment.outbox}:",
                         "  BV progress Finance.xlsx  (1 action: ACT-CI001)",
                         "  BV progress Legal services.xlsx  (1 action: ACT-CI001-2)"]
    assert lines[3] == ("  warning: 1 open action has no service area, so nobody was asked about it: ACT-G001. Type a "
                        "'Service area' on the Action plan and generate again.")
    both = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress", "--moderation"])
    assert both.exit_code == 2 and "--progress and --moderation are two different rounds: choose one." in both.output


def test_a_progress_workbook_whose_identity_was_edited_is_refused(planned):
    assessment, report = planned
    result = generate_progress(assessment)
    workbook = openpyxl.load_workbook(result.files["Legal services"])
    identity = workbook["bva_identity"]
    row = next(r for r in range(1, identity.max_row + 1) if identity.cell(r, 1).value == "refs")
    identity.cell(row, 2, "ACT-CI001-2,ACT-G001")  # claims an action sent to Finance
    workbook["Progress"]["J2"] = "Complete"
    workbook.save(assessment.inbox / "edited.xlsx")
    outcome = next(o for o in ingest(assessment).outcomes if o.name == "edited.xlsx")
    assert [p.code for p in outcome.problems] == ["RETURN_TAMPERED"] and outcome.has_errors
    write_report(assessment)
    assert plan(report)["ACT-CI001-2"]["Status"] is None


def test_check_json_carries_the_action_plan_problems(planned):
    import json

    assessment, report = planned
    type_plan(report, {"ACT-G001": {"Service area": "Fin"}})
    result = CliRunner().invoke(cli, ["check", str(assessment.folder), "--json"])
    found = json.loads(result.stdout)["action_plan"]
    assert [(p["code"], p["cell"], p["severity"]) for p in found] == [("ACTION_SERVICE_AREA_UNKNOWN", "I4", "error")]
    assert result.exit_code == 1


def test_a_later_return_under_the_same_name_is_applied(planned):
    assessment, report = planned
    for status, words in [("In progress", "Booked"), ("Complete", "Trained")]:
        round_ = generate_progress(assessment)
        fill_progress(round_.files["Finance"], assessment.inbox / "RE Finance.xlsx", {"ACT-G001": (status, words, None)})
        ingest(assessment)
        write_report(assessment)
    g001 = plan(report)["ACT-G001"]
    assert (g001["Status"], g001["Progress update"]) == ("Complete", "Trained")


def test_an_unfilled_return_a_wrong_date_and_nothing_to_ask_are_said(planned):
    assessment, report = planned
    result = generate_progress(assessment)
    fill_progress(result.files["Finance"], assessment.inbox / "blank.xlsx", {})
    fill_progress(result.files["Legal services"], assessment.inbox / "date.xlsx",
                  {"ACT-CI001-2": ("In progress", "", "next month")})
    outcomes = {o.name: o for o in ingest(assessment).outcomes}
    assert [str(p) for p in outcomes["blank.xlsx"].problems] == [
        "blank.xlsx: no status, progress update or revised target date is filled in for any of its 2 actions (the "
        "unfilled workbook?). Ask the service area to fill it in and send it again; nothing was taken from this file."]
    assert [str(p) for p in outcomes["date.xlsx"].problems] == [
        "date.xlsx, sheet 'Progress', cell L2: 'next month' is not a date. Type the revised target date as a date, "
        "such as 31/03/2027."]
    assert outcomes["blank.xlsx"].has_errors and outcomes["date.xlsx"].has_errors
    type_plan(report, {action: {"Service area": None} for action in ("ACT-CI001", "ACT-CI001-2", "ACT-G001")})
    with pytest.raises(BvaError) as refused:
        generate_progress(assessment)
    assert [str(p) for p in refused.value.problems] == [
        "report.xlsx, sheet 'Action plan': no open action has a service area, so there is no progress to ask for. "
        "Type each action's 'Service area' (one of the 'Service areas' sheet of assessment.xlsx) on the Action plan, "
        "then run the command again."]


def test_after_sign_off_an_action_nobody_has_filled_in_is_listed_with_all_three_missing(flagged):
    from bva_excel.app.signoff import sign_off

    assessment, report = flagged  # the plan as the report wrote it: nothing typed on it yet
    sign_off(assessment, "Jane Smith, Assistant Chief Executive", accept_open=True)
    checked = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    listed = checked.output[checked.output.index("Action plan ("):].splitlines()
    assert listed[1] == ("  warning: report.xlsx, sheet 'Action plan', cell A2: action ACT-CI001 (CI001) has no "
                         "owner, service "
                         "area or target date, and the scores are signed off. Fill in what is missing on the Action "
                         "plan, so that someone is answerable for the action by a date.")


def test_issue_progress_writes_what_generate_progress_writes(planned, monkeypatch):
    from conftest import issued_alike

    assessment, _ = planned
    by_issue, by_generate = issued_alike(assessment.folder, ["issue", "progress", "FOLDER", "--deadline", "2027-01-15"],
                                         ["generate", "FOLDER", "--progress", "--deadline", "2027-01-15"], monkeypatch)
    assert by_issue == by_generate
    assert by_issue[0] == 0 and [name for name in by_issue[2] if name.startswith("BV progress")]
    assert any(value == "Please return it by Friday 15 January 2027." for held in by_issue[2].values()
               for value in held.values())
