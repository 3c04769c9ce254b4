"""A progress workbook filled in late, after a newer one was issued to the same service area: its updates are
kept but do not undo newer progress; and an update never silently reopens an action made done since."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest
from click.testing import CliRunner
from progress_helpers import _flagged_once, fill_progress, flagged, plan, progress_returned, type_plan  # noqa: F401  (fixtures)
from test_progress import planned  # noqa: F401  (fixture)

from bva_excel.app.ingest import ingest
from bva_excel.app.progress import generate_progress
from bva_excel.app.report import write_report
from bva_excel.cli import cli


@pytest.fixture
def two_rounds(planned, tmp_path):  # noqa: F811
    """Finance returned round 1 (ACT-CI001 Complete) and round 2 (ACT-G001 Complete); round 1's workbook is kept
    aside, as Finance still has it."""
    assessment, report = planned
    first = generate_progress(assessment)
    old = shutil.copy(first.files["Finance"], tmp_path / "first Finance.xlsx")
    fill_progress(old, assessment.inbox / "RE round 1.xlsx", {"ACT-CI001": ("Complete", "Adopted", None)})
    ingest(assessment)
    second = generate_progress(assessment)
    assert second.actions["Finance"] == ["ACT-G001"]  # done actions are not sent
    fill_progress(second.files["Finance"], assessment.inbox / "RE round 2.xlsx",
                  {"ACT-G001": ("Complete", "Trained", None)})
    ingest(assessment)
    write_report(assessment)
    return assessment, report, old


def test_a_late_return_of_a_replaced_workbook_is_kept_but_does_not_undo_newer_progress(two_rounds):
    assessment, report, old = two_rounds
    fill_progress(old, assessment.inbox / "RE late.xlsx", {"ACT-CI001": ("In progress", "Still drafting", None),
                                                          "ACT-G001": ("Not started", "", None)})
    said = CliRunner().invoke(cli, ["ingest", str(assessment.folder)]).output
    assert ("accepted   RE late.xlsx  (the progress return from Finance, updates on 2 of its 2 actions, kept but "
            "not put on the plan)") in said
    outcome = next(o for o in ingest(assessment).outcomes if o.name == "RE late.xlsx")
    assert outcome.status == "unchanged"
    outcome = next(r for r in assessment.records.returns() if r.name == "RE late.xlsx")
    assert outcome.status == "accepted"
    issued = [i for i in assessment.records.issues() if i.kind == "progress" and i.reviewer_id == "Finance"]
    when = issued[-1].issued_at.replace("T", " ")
    found = [str(p) for p in outcome.problems if p.code == "PROGRESS_WORKBOOK_REPLACED"]
    assert len(found) == 1 and found[0].startswith("RE late.xlsx: this return was made on the progress workbook "
                                                   "issued to Finance on ")
    assert (f"a newer one (BV progress Finance.xlsx, issued {when[8:10]}" in found[0]
            and found[0].endswith("Ask them to use the newer workbook, or type the update into the Action plan."))
    write_report(assessment)
    actions = plan(report)
    assert (actions["ACT-CI001"]["Status"], actions["ACT-CI001"]["Progress update"]) == ("Complete", "Adopted")
    assert (actions["ACT-G001"]["Status"], actions["ACT-G001"]["Progress update"]) == ("Complete", "Trained")
    history = list(openpyxl.load_workbook(report)["Action history"].iter_rows(min_row=2, values_only=True))
    assert [(row[1], row[4], row[7], bool(row[9])) for row in history] == [
        ("ACT-CI001", "Complete", "RE round 1.xlsx", False), ("ACT-G001", "Complete", "RE round 2.xlsx", False),
        ("ACT-CI001", "In progress", "RE late.xlsx", True), ("ACT-G001", "Not started", "RE late.xlsx", True)]
    newer = found[0][found[0].index("(BV progress Finance.xlsx, issued "):].split(")")[0] + ")"  # when, as said
    assert history[2][9] == (f"Not put on the plan: made on a progress workbook that a newer one {newer} had "
                             "replaced before it came back")


def test_an_update_does_not_reopen_an_action_typed_complete_since_its_workbook_was_issued(planned):  # noqa: F811
    assessment, report = planned
    round_ = generate_progress(assessment)
    type_plan(report, {"ACT-G001": {"Status": "Complete"}})
    write_report(assessment)
    fill_progress(round_.files["Finance"], assessment.inbox / "RE Finance.xlsx",
                  {"ACT-G001": ("In progress", "Booked", None)})
    ingest(assessment)
    result = write_report(assessment)
    g001 = plan(report)["ACT-G001"]
    assert (g001["Status"], g001["Progress update"]) == ("Complete", "Booked")
    assert "It stays Complete: In progress from RE Finance.xlsx would reopen it" in g001["Update from"]
    said = [str(w) for w in result.warnings if w.code == "ACTION_NOT_REOPENED"]
    assert len(said) == 1 and said[0].startswith("report.xlsx, sheet 'Action plan': action ACT-G001 stays Complete: "
                                                 "'In progress' from the progress return from Finance, RE Finance.xlsx")
    again = write_report(assessment)  # said once: the next report shows it as dealt with
    assert plan(report)["ACT-G001"]["Status"] == "Complete"
    assert not [w for w in again.warnings if w.code == "ACTION_NOT_REOPENED"]


def test_a_corrected_return_of_the_same_workbook_may_reopen_what_it_completed(planned):  # noqa: F811
    assessment, report = planned
    round_ = progress_returned(assessment, {"ACT-G001": ("Complete", "Trained", None)})
    fill_progress(round_.files["Finance"], assessment.inbox / "RE Finance corrected.xlsx",
                  {"ACT-G001": ("In progress", "Half trained", None)})
    ingest(assessment)
    write_report(assessment)
    assert plan(report)["ACT-G001"]["Status"] == "In progress"


def test_a_doctored_return_is_said_without_contradiction(planned):  # noqa: F811
    from click.testing import CliRunner

    from bva_excel.cli import cli

    assessment, _ = planned
    round_ = generate_progress(assessment)
    workbook = openpyxl.load_workbook(round_.files["Legal services"])
    workbook["Progress"]["A2"] = "ACT-G001"  # an action sent to Finance, typed over Legal's own
    workbook["Progress"]["J2"] = "Complete"
    workbook.save(assessment.inbox / "doctored.xlsx")
    result = CliRunner().invoke(cli, ["ingest", str(assessment.folder)])
    lines = [line for line in result.output.splitlines() if "doctored.xlsx" in line]
    assert lines[0] == "rejected   doctored.xlsx  (the progress return from Legal services, nothing taken from it)"
    assert [line.split(": ", 2)[1] for line in lines[1:]] == [
        "doctored.xlsx, sheet 'Progress', cell A2", "doctored.xlsx, sheet 'Progress'"]
    assert "was not sent to Legal services" in lines[1] and "ACT-CI001-2 was sent but its row is missing" in lines[2]
    assert "no status, progress update" not in result.output and "answered" not in result.output


def test_wording_for_service_areas_and_in_help(planned):  # noqa: F811
    from click.testing import CliRunner

    from bva_excel.app.follow_up import FollowUpReport, _summary_lines
    from bva_excel.cli import cli
    from bva_excel.errors import Code, problem

    assert problem(Code.RETURN_FORMULA, "a.xlsx", formula="=1", kept="it").fix.endswith("ask the reviewer to type plain "
                                                                                      "text next time.")
    assert problem(Code.RETURN_FORMULA, "a.xlsx", formula="=1", kept="it", sender="the service area").fix.endswith(
        "ask the service area to type plain text next time.")
    assessment, _ = planned
    round_ = generate_progress(assessment)
    workbook = openpyxl.load_workbook(round_.files["Finance"])
    workbook["Progress"]["K2"] = "=1+1"
    workbook.save(assessment.inbox / "formula.xlsx")
    outcome = next(o for o in ingest(assessment).outcomes if o.name == "formula.xlsx")
    assert [p.fix for p in outcome.problems if p.code == "RETURN_FORMULA"] == [
        "Check the text in the report; ask the service area to type plain text next time."]
    report = FollowUpReport(None, [], None, {}, {}, [], [], [("A1", "a", 1), ("A2", "b", 1)], [])
    assert _summary_lines(report)[-1] == "2 characteristics have all their actions complete."
    report.complete_characteristics = report.complete_characteristics[:1]
    assert _summary_lines(report)[-1] == "1 characteristic has all its actions complete."
    helps = {name: CliRunner().invoke(cli, [name, "--help"]).output for name in ("report", "ingest", "check")}
    assert "'Action history'" in helps["report"] and "progress return" in helps["ingest"]
    assert "problems on the action plan" in helps["check"]


def test_update_from_and_history_name_the_cells_filled_in(planned):  # noqa: F811
    assessment, report = planned
    progress_returned(assessment, {"ACT-G001": (None, "Room booked", None)})
    write_report(assessment)
    assert plan(report)["ACT-G001"]["Update from"].startswith(
        "the progress return from Finance, RE Finance.xlsx, cell K3 (received ")
    history = list(openpyxl.load_workbook(report)["Action history"].iter_rows(min_row=2, values_only=True))
    assert [(row[1], row[8]) for row in history] == [("ACT-G001", "K3")]


def test_generating_again_says_which_workbooks_it_replaces_and_a_restored_row_says_it_is_sent(planned):  # noqa: F811
    from click.testing import CliRunner

    from bva_excel.cli import cli

    assessment, report = planned
    first = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"])
    assert "replace" not in first.output
    again = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"])
    assert ("  note: 2 of these replace the workbook of the same name from an earlier round (BV progress "
            "Finance.xlsx, BV progress Legal services.xlsx)") in again.output
    workbook = openpyxl.load_workbook(report)
    sheet = workbook["Action plan"]
    sheet.delete_rows(next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "ACT-G001"))
    workbook.save(report)
    result = write_report(assessment)
    said = [str(w) for w in result.warnings if w.code == "ACTION_ROWS_RESTORED"]
    assert len(said) == 1 and "an open one is sent in progress workbooks like any other" in said[0]
    assert "ACT-G001" in generate_progress(assessment).actions["Finance"]


def test_a_late_return_ingested_before_this_rule_existed_is_judged_by_its_times(two_rounds):
    """Records written by an earlier version have no warning with the return: the times decide."""
    import sqlite3

    assessment, report, old = two_rounds
    fill_progress(old, assessment.inbox / "RE late.xlsx", {"ACT-CI001": ("In progress", "Still drafting", None)})
    ingest(assessment)
    assessment.records.close()
    with sqlite3.connect(assessment.records_dir / "records.sqlite") as db:
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f"DROP TRIGGER {trigger}")  # only to make records as an earlier version wrote them
        db.execute("DELETE FROM return_problem WHERE code = 'PROGRESS_WORKBOOK_REPLACED'")
        db.execute("UPDATE return_file SET received = '2999-01-01T00:00:00' WHERE name = 'RE late.xlsx'")
    from bva_excel.store.folder import open_assessment

    assessment = open_assessment(assessment.folder)
    write_report(assessment)
    assert plan(report)["ACT-CI001"]["Status"] == "Complete"
    # 'Action history' says which newer workbook replaced it, issued when, in words as the warning would have.
    newer = [i for i in assessment.records.issues() if i.kind == "progress" and i.reviewer_id == "Finance"][-1]
    history = {row[7]: row[9] for row in openpyxl.load_workbook(report)["Action history"].iter_rows(values_only=True)}
    assert history["RE late.xlsx"] == (
        f"Not put on the plan: made on a progress workbook that a newer one (BV progress Finance.xlsx, issued "
        f"{dt.datetime.fromisoformat(newer.issued_at):%d %b %Y %H:%M}) had replaced before it came back")
