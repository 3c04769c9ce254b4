"""Progress returns as people send them back over several rounds: a return on a workbook a newer one replaced
names that newer one by the day it was issued; a row emptied or an action ID changed in a return; a report
written by the version before; and the 'Action history' sheet as a reader uses it."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest
from progress_helpers import (  # noqa: F401  (fixtures)
    _flagged_once,
    clock_at,
    fill_progress,
    flagged,
    plan,
    progress_returned,
    type_plan,
)
from test_progress import planned  # noqa: F401  (fixture)

import bva_excel.app.progress
from bva_excel.app.ingest import ingest
from bva_excel.app.progress import generate_progress
from bva_excel.app.report import write_report
from bva_excel.errors import BvaError


def accepted(assessment, name: str):
    return next(r for r in assessment.records.returns() if r.name == name)


def test_a_late_return_names_the_newer_workbook_that_replaced_it_by_the_day_it_was_issued(planned, monkeypatch,  # noqa: F811
                                                                                         tmp_path):
    """Three rounds issued ten days apart; Finance returns the second round's workbook after the third was issued."""
    assessment, _ = planned
    days = [dt.datetime.combine(dt.date.today() - dt.timedelta(days=ago), dt.time(10, 0)) for ago in (30, 20, 10)]
    kept = None
    for number, day in enumerate(days, start=1):
        with monkeypatch.context() as then:
            then.setattr(bva_excel.app.progress, "dt", clock_at(day))
            issued = generate_progress(assessment)
        if number == 2:
            kept = shutil.copy(issued.files["Finance"], tmp_path / "second round Finance.xlsx")
    fill_progress(kept, assessment.inbox / "RE late.xlsx", {"ACT-G001": ("In progress", "Booked", None)})
    ingest(assessment)
    [warning] = [str(p) for p in accepted(assessment, "RE late.xlsx").problems if p.code == "PROGRESS_WORKBOOK_REPLACED"]
    assert warning == (
        f"RE late.xlsx: this return was made on the progress workbook issued to Finance on {days[1]:%d %b %Y} 10:00, "
        f"and a newer one (BV progress Finance.xlsx, issued {days[2]:%d %b %Y} 10:00) had replaced it before this "
        "came back; its updates are kept in the records and on 'Action history' but do not change the action plan. "
        "Ask them to use the newer workbook, or type the update into the Action plan.")


def progress_return(assessment, tmp_path, change) -> str:
    """Finance's workbook (ACT-CI001 in row 2, ACT-G001 in row 3), changed by `change(sheet)`, ACT-G001 filled in
    and ingested: the name of the return."""
    source = generate_progress(assessment).files["Finance"]
    workbook = openpyxl.load_workbook(source)
    change(workbook["Progress"])
    workbook.save(tmp_path / "changed.xlsx")
    fill_progress(tmp_path / "changed.xlsx", assessment.inbox / "RE Finance.xlsx",
                  {"ACT-G001": ("In progress", "Booked", None), "ACT-X9": ("Complete", "Done", None)})
    ingest(assessment)
    return "RE Finance.xlsx"


def test_a_note_typed_in_a_row_between_the_actions_does_not_hide_the_rows_below_it(planned, tmp_path):  # noqa: F811
    assessment, report = planned

    def note_between(sheet):
        sheet.insert_rows(3)
        sheet["K3"] = "Both actions are with the new Head of Finance."

    name = progress_return(assessment, tmp_path, note_between)
    record = accepted(assessment, name)
    assert record.status == "accepted" and [(p.code, p.cell) for p in record.problems] == [
        ("RETURN_ROW_NOT_READ", "K3")]  # named, and kept on the report; the rows below are read
    write_report(assessment)
    assert (plan(report)["ACT-G001"]["Status"], plan(report)["ACT-G001"]["Progress update"]) == ("In progress",
                                                                                                 "Booked")


def test_an_action_id_changed_to_one_not_sent_is_refused_by_name_and_the_rows_below_are_still_read(planned,  # noqa: F811
                                                                                                   tmp_path):
    assessment, _ = planned
    name = progress_return(assessment, tmp_path, lambda sheet: setattr(sheet["A2"], "value", "ACT-X9"))
    assert [str(p) for p in accepted(assessment, name).problems] == [
        "RE Finance.xlsx, sheet 'Progress', cell A2: action ACT-X9 was not sent to Finance. Ask them to report "
        "only on the actions they were sent.",
        "RE Finance.xlsx, sheet 'Progress': action ACT-CI001 was sent but its row is missing. It is left as it was; "
        "ask the service area if that was meant."]


def test_an_action_s_row_copied_in_a_return_is_refused_naming_both_rows(planned, tmp_path):  # noqa: F811
    assessment, _ = planned

    def copied(sheet):  # ACT-CI001's row copied below itself, above ACT-G001's
        sheet.insert_rows(3)
        for col in range(1, sheet.max_column + 1):
            sheet.cell(3, col, sheet.cell(2, col).value)

    name = progress_return(assessment, tmp_path, copied)
    assert [str(p) for p in accepted(assessment, name).problems] == [
        "RE Finance.xlsx, sheet 'Progress', cell A3: ref ACT-CI001 appears twice (also at row 2). Ask the service "
        "area to keep one row per characteristic."]


def test_an_action_s_words_changed_in_a_return_are_said_by_cell_and_the_update_is_kept(planned, tmp_path):  # noqa: F811
    assessment, report = planned
    def reworded(sheet):
        sheet["C3"], sheet["E3"] = "Scrutiny is robust", "Training (done)"

    name = progress_return(assessment, tmp_path, reworded)
    record = accepted(assessment, name)
    assert record.status == "accepted"
    assert [str(p) for p in record.problems] == [  # (worded for a reviewer's return: the catalogue has no other)
        "RE Finance.xlsx, sheet 'Progress', cell C3: the characteristic of ACT-G001 differs from the text issued; the "
        "scores are kept. Read it as the reviewer's suggested wording; assessment.xlsx is unchanged.",
        "RE Finance.xlsx, sheet 'Progress', cell E3: the action of ACT-G001 differs from the text issued; the scores "
        "are kept. Read it as the reviewer's suggested wording; assessment.xlsx is unchanged."]
    write_report(assessment)
    assert plan(report)["ACT-G001"]["Progress update"] == "Booked"


def test_a_report_written_by_the_version_before_still_counts_the_update_it_showed(planned):  # noqa: F811
    """That version said where an update came from in other words; what was typed over the update since stands."""
    assessment, report = planned
    progress_returned(assessment, {"ACT-G001": ("In progress", "Booked", None)})
    write_report(assessment)
    [update] = assessment.records.progress_updates()
    received = update.received[:16].replace("T", " ")
    type_plan(report, {"ACT-G001": {
        "Update from": f"Finance's progress return RE Finance.xlsx, cell {update.cell} (received {received}, "
                       f"SHA-256 {update.sha256[:8]})",
        "Status": "Closed", "Progress update": "Superseded"}})
    write_report(assessment)
    g001 = plan(report)["ACT-G001"]
    assert (g001["Status"], g001["Progress update"]) == ("Closed", "Superseded")
    assert g001["Update from"].startswith("Typed in the report since the progress return from Finance, ")


@pytest.fixture
def history(planned, tmp_path):  # noqa: F811
    """Finance has returned one update; the report is written."""
    assessment, report = planned
    progress_returned(assessment, {"ACT-G001": ("In progress", "Booked", dt.datetime(2027, 9, 30))})
    write_report(assessment)
    return assessment, report


def test_action_history_is_set_up_to_read_filter_and_print(history):
    from bva_excel.excel.write.styles import HEADER_COLOUR

    assessment, report = history
    sheet = openpyxl.load_workbook(report)["Action history"]
    received = {r.name: r.received for r in assessment.records.returns()}
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows == [(received["RE Finance.xlsx"].replace("T", " "), "ACT-G001", "G001", "Finance", "In progress",
                     "Booked", "2027-09-30", "RE Finance.xlsx", "J3, K3, L3", "")]
    assert all(c.font.b and c.fill.fgColor.rgb.endswith(HEADER_COLOUR.lstrip("#")) for c in sheet[1])
    assert sheet.row_dimensions[1].height == 30  # two lines: 'Revised target date' is read whole
    assert (sheet.freeze_panes, sheet.auto_filter.ref) == ("A2", "A1:J2")
    widths = {n: d.width for d in sheet.column_dimensions.values() for n in range(d.min, d.max + 1)}
    assert widths[6] >= 50 and min(widths[n] for n in range(1, 11)) >= 7  # the update itself widest
    assert all(d.alignment.wrap_text for d in sheet.column_dimensions.values())
    assert all(c.alignment.wrap_text for row in sheet.iter_rows(min_row=2) for c in row)


def test_the_guide_of_a_progress_workbook_says_who_it_is_for_what_to_do_and_by_when(planned):  # noqa: F811
    from progress_helpers import list_service_areas

    assessment, _ = planned
    issued = generate_progress(assessment, dt.date(2027, 1, 15), "the Policy team")
    guide = [row[0] for row in openpyxl.load_workbook(issued.files["Finance"])["Guide"].iter_rows(values_only=True)]
    assert guide == [
        "Test assessment: progress on the action plan",
        "This workbook is for Finance (Fay Green). It holds the 2 actions on the Best Value action plan that your "
        "service area delivers and that are not yet complete.",
        "Please return it by Friday 15 January 2027.",
        "How to fill it in",
        "1. Go to the 'Progress' sheet. Each row is one action, with the characteristic and gap it answers, its owner "
        "and target date, and its status and update as the plan shows them now.",
        "2. In 'Status', choose where the action stands now.",
        "3. In 'Progress update', say in a sentence or two what has been done since the last update.",
        "4. If the target date has to move, type the new date in 'Revised target date' (such as 31/03/2027), and say "
        "why in the update.",
        "Leave a row blank to leave that action as it is. Only the shaded cells can be changed.",
        "How to return it",
        "Save the workbook (any file name will do) and email it back to the Policy team."]
    list_service_areas(assessment, [("Finance", "Fay Green", ""), ("Legal services", "", "")])  # no head named
    issued = generate_progress(assessment)
    guide = [row[0] for row in openpyxl.load_workbook(issued.files["Legal services"])["Guide"].iter_rows(values_only=True)]
    assert guide[1:3] == [
        "This workbook is for Legal services. It holds the 1 action on the Best Value action plan that your service "
        "area delivers and that are not yet complete.",
        "Please return it by the date in the covering email."]
    assert guide[-1] == "Save the workbook (any file name will do) and email it back to the PMO."


def test_a_date_that_is_no_date_and_a_misspelt_status_are_each_said_with_the_rows_below_still_read(planned,  # noqa: F811
                                                                                                    tmp_path):
    assessment, _ = planned
    source = generate_progress(assessment).files["Finance"]
    fill_progress(source, assessment.inbox / "RE Finance.xlsx", {"ACT-CI001": ("In progress", "Late", "next spring"),
                                                                 "ACT-G001": ("Compelte", "Trained", None)})
    ingest(assessment)
    assert [str(p) for p in accepted(assessment, "RE Finance.xlsx").problems] == [
        "RE Finance.xlsx, sheet 'Progress', cell L2: 'next spring' is not a date. Type the revised target date as a "
        "date, such as 31/03/2027.",
        "RE Finance.xlsx, sheet 'Progress', cell J3: 'Compelte' is not a status (did you mean 'Complete'?). Choose "
        "one of: Not started, In progress, Complete, Closed."]


def test_an_action_id_typed_with_a_comma_stops_the_round_before_anything_is_issued(planned):  # noqa: F811
    assessment, report = planned
    type_plan(report, {}, [("ACT-G001", {"Action ID": "ACT-G001,2", "Action": "Refresher", "Service area": "Finance"})])
    with pytest.raises(BvaError) as refused:
        generate_progress(assessment)
    assert [str(p) for p in refused.value.problems] == [
        "report.xlsx, sheet 'Action plan': action ID 'ACT-G001,2' holds a comma, which a progress workbook cannot "
        "carry. Type the ID without the comma (or clear it: the next free ID is given)."]
    assert not list(assessment.outbox.glob("BV progress*"))


def test_generate_progress_says_what_it_did_not_send_what_it_replaces_and_what_waits(planned, monkeypatch):  # noqa: F811
    """ACT-CI001 is complete and Legal services' action is closed: only Finance is asked, twice; the second time its
    workbook in the outbox is open in Excel (simulated: Windows refuses to replace it)."""
    import errno
    import os

    from click.testing import CliRunner

    from bva_excel.cli import cli

    assessment, report = planned
    type_plan(report, {"ACT-CI001": {"Status": "Complete"}, "ACT-CI001-2": {"Status": "Closed"}})
    first = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[:3] == [
        f"Wrote 1 progress workbooks to {assessment.outbox}:", "  BV progress Finance.xlsx  (1 action: ACT-G001)",
        "  2 complete or closed actions are not sent."]
    again = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"])
    assert again.output.splitlines()[2] == (
        "  note: 1 of these replaces the workbook of the same name from an earlier round (BV progress Finance.xlsx); "
        "a return of the earlier one is still read, but if it comes after this one was issued it does not change "
        "the plan.")
    replace = os.replace

    def excel_has_it_open(source, target, *args, **kwargs):
        if os.fspath(target) == os.fspath(assessment.outbox / "BV progress Finance.xlsx"):
            raise PermissionError(errno.EACCES, "The process cannot access the file", str(target))
        return replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", excel_has_it_open)
    waiting = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"])
    assert waiting.exit_code == 1
    assert (f"error: {assessment.outbox / 'BV progress Finance.xlsx'}: the new workbook cannot be put in the outbox: "
            "the file there is open in Excel or another program") in waiting.output


def test_generate_progress_on_an_older_assessment_adds_the_service_areas_and_says_so(flagged):  # noqa: F811
    from click.testing import CliRunner

    from bva_excel.cli import cli

    assessment, report = flagged
    workbook = openpyxl.load_workbook(assessment.workbook)
    del workbook["Service areas"]  # as made before the sheet existed
    workbook.save(assessment.workbook)
    type_plan(report, {"ACT-CI001": {"Action": "Plan", "Service area": "Finance"}})  # R01's service area
    result = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "note: assessment.xlsx: this assessment was made before service areas were kept, so a 'Service areas' sheet "
        "was added with the 3 service areas named on 'Reviewers' (Finance, Legal, Housing); ")
    assert f"Wrote 1 progress workbooks to {assessment.outbox}:" in result.output


def test_a_corrected_return_of_the_latest_workbook_may_reopen_what_it_completed_after_a_report_showed_it(planned,  # noqa: F811
                                                                                                        tmp_path):
    """Finance reports ACT-G001 in progress (round 1), then complete (round 2), each shown by a report; then it
    corrects its round 2 return: not complete after all. The correction comes from the workbook that completed it."""
    assessment, report = planned
    for number, status in [(1, "In progress"), (2, "Complete")]:
        round_ = generate_progress(assessment)
        fill_progress(round_.files["Finance"], tmp_path / f"round {number}.xlsx", {"ACT-G001": (status, status, None)})
        shutil.copy(tmp_path / f"round {number}.xlsx", assessment.inbox / f"RE round {number}.xlsx")
        ingest(assessment)
        write_report(assessment)
    assert plan(report)["ACT-G001"]["Status"] == "Complete"
    fill_progress(round_.files["Finance"], assessment.inbox / "RE round 2 corrected.xlsx",
                  {"ACT-G001": ("In progress", "Half the members trained", None)})
    ingest(assessment)
    result = write_report(assessment)
    assert (plan(report)["ACT-G001"]["Status"], plan(report)["ACT-G001"]["Progress update"]) == (
        "In progress", "Half the members trained")
    assert not [w for w in result.warnings if w.code == "ACTION_NOT_REOPENED"]


def test_update_from_names_the_return_until_what_it_gave_is_typed_over(planned):  # noqa: F811
    assessment, report = planned
    progress_returned(assessment, {"ACT-G001": ("In progress", "Booked", None)})
    write_report(assessment)
    shown = plan(report)["ACT-G001"]["Update from"]
    assert shown.startswith("the progress return from Finance, RE Finance.xlsx, cells J3, K3 (received ")
    write_report(assessment)  # nothing typed: still the return's
    assert plan(report)["ACT-G001"]["Update from"] == shown
    type_plan(report, {"ACT-G001": {"Progress update": "Booked for March"}})  # the status left as the return gave it
    write_report(assessment)
    assert plan(report)["ACT-G001"]["Update from"] == f"Typed in the report since {shown}"


def test_an_action_moved_to_another_service_area_is_not_reopened_by_the_old_area_s_late_return(planned,  # noqa: F811
                                                                                              tmp_path):
    """ACT-CI001-2 was Legal services'; it moved to Finance, which completed it; Legal's first workbook comes back late."""
    assessment, report = planned
    first = generate_progress(assessment)
    legal = shutil.copy(first.files["Legal services"], tmp_path / "Legal's copy.xlsx")
    type_plan(report, {"ACT-CI001-2": {"Service area": "Finance"}})
    second = generate_progress(assessment)
    assert second.actions == {"Finance": ["ACT-CI001", "ACT-CI001-2", "ACT-G001"]}  # nothing newer for Legal services
    fill_progress(second.files["Finance"], assessment.inbox / "RE Finance.xlsx",
                  {"ACT-CI001-2": ("Complete", "Peer review held", None)})
    ingest(assessment)
    fill_progress(legal, assessment.inbox / "RE Legal late.xlsx", {"ACT-CI001-2": ("In progress", "Booking", None)})
    ingest(assessment)
    result = write_report(assessment)
    assert plan(report)["ACT-CI001-2"]["Status"] == "Complete"
    assert [w.code for w in result.warnings if w.fields.get("action") == "ACT-CI001-2"] == ["ACTION_NOT_REOPENED"]


def test_a_progress_workbook_is_titled_for_its_service_area_says_what_issued_it_and_shows_its_dates(planned):  # noqa: F811
    from bva_excel import __version__

    assessment, _ = planned
    workbook = openpyxl.load_workbook(generate_progress(assessment).files["Finance"])
    assert workbook.properties.title == "Test assessment: progress by Finance"
    assert workbook.properties.description == f"Issued by bva-excel {__version__}"
    target = workbook["Progress"]["G2"]  # ACT-CI001's target date
    assert (target.value, target.number_format, target.alignment.vertical) == (
        dt.datetime(2027, 3, 31), "dd/mm/yyyy", "top")
