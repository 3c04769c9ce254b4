"""`bva follow-up`: the committee's follow-up report on the action plan, each count as a reader sees it."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
from click.testing import CliRunner
from progress_helpers import (  # noqa: F401  (fixtures)
    _flagged_once,
    fill_progress,
    flagged,
    list_service_areas,
    planned,
    type_plan,
)

from bva_excel.app.follow_up import write_follow_up
from bva_excel.app.ingest import ingest
from bva_excel.app.progress import generate_progress
from bva_excel.app.report import write_report
from bva_excel.cli import cli

TODAY = dt.date(2027, 1, 20)




def summary_table(path, title: str) -> dict[str, list]:
    """A table on the Summary sheet: first column -> the numbers beside it."""
    sheet = openpyxl.load_workbook(path)["Summary"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    start = next(i for i, row in enumerate(rows) if row[0] == title) + 2
    found = {}
    for row in rows[start:]:
        if row[0] is None:
            break
        found[row[0]] = [v for v in row[1:] if v is not None]
    return found


def sheet_rows(path, name: str) -> list[list]:
    return [[c.value for c in row] for row in openpyxl.load_workbook(path)[name].iter_rows(min_row=2)]


def test_the_first_follow_up_counts_by_status_and_area_with_overdue_and_who_has_not_returned(planned, tmp_path):
    assessment, _ = planned
    round_ = generate_progress(assessment, dt.date(2027, 1, 15))
    fill_progress(round_.files["Finance"], assessment.inbox / "RE Finance.xlsx",
                  {"ACT-CI001": ("Complete", "Plan adopted", None)})
    ingest(assessment)
    result = write_follow_up(assessment, tmp_path / "January.xlsx", TODAY)
    path = result.path
    assert summary_table(path, "Actions by status") == {
        "Not started": [0], "In progress": [0], "Complete": [1], "Closed": [0], "No status given": [2], "Total": [3]}
    assert summary_table(path, "Actions by service area") == {"Finance": [0, 0, 1, 0, 1, 2],
                                                              "Legal services": [0, 0, 0, 0, 1, 1]}
    with zipfile.ZipFile(path) as archive:  # native charts, not pictures
        assert len([n for n in archive.namelist() if n.startswith("xl/charts/chart")]) == 2
    assert [row[0] for row in sheet_rows(path, "Overdue")] == ["ACT-G001"]
    assert [row[:3] + row[5:] for row in sheet_rows(path, "Not returned")] == [
        ["Legal services", "Lee Hunt", "lee@example.gov.uk", dt.datetime(2027, 1, 15), None]]
    assert sheet_rows(path, "Changes") == [["This is the first follow-up: the next one will list what is completed, "
                                            "slipped or new since."] + [None] * 11]
    assert sheet_rows(path, "Complete characteristics")[0][0] == "No characteristic has all its actions complete yet."
    summary = openpyxl.load_workbook(path)["Summary"]
    assert [summary.cell(r, 1).value for r in range(4, 8)] == [
        "3 actions: 1 complete or closed, 1 overdue.",
        "This is the first follow-up: the next one will say what changed since.",
        "1 service area has not returned progress.",
        "No characteristic has all its actions complete yet."]


def test_the_next_follow_up_says_what_was_completed_slipped_and_added(planned, tmp_path):
    assessment, report = planned
    write_follow_up(assessment, tmp_path / "first.xlsx", TODAY)
    round_ = generate_progress(assessment)
    fill_progress(round_.files["Legal services"], assessment.inbox / "RE Legal.xlsx",
                  {"ACT-CI001-2": ("Closed", "Done another way", None)})
    fill_progress(round_.files["Finance"], assessment.inbox / "RE Finance.xlsx",
                  {"ACT-CI001": ("In progress", "Needs Cabinet", dt.datetime(2027, 5, 31)),
                   "ACT-G001": ("Complete", "Trained", None)})
    ingest(assessment)
    write_report(assessment)
    type_plan(report, {}, [("ACT-G001", {"Action": "Refresher in a year", "Service area": "Finance"})])
    write_report(assessment)
    result = CliRunner().invoke(cli, ["follow-up", str(assessment.folder), "-o", str(tmp_path / "second.xlsx")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == (f"  since the follow-up of {dt.date.today().isoformat()} (first.xlsx): "
                                             "2 completed, 1 slipped, 1 new.")
    assert openpyxl.load_workbook(tmp_path / "second.xlsx")["Summary"].cell(5, 1).value == (
        f"Since the last follow-up (first.xlsx, {dt.date.today():%d %B %Y}): 2 completed, 1 slipped, 1 new.")
    changes = [(row[0], row[2], row[1]) for row in sheet_rows(tmp_path / "second.xlsx", "Changes")]
    assert changes == [("Completed", "ACT-CI001-2", "no status given then, Closed now"),
                       ("Completed", "ACT-G001", "no status given then, Complete now"),
                       ("Slipped", "ACT-CI001", "target date moved from 31/03/2027 to 31/05/2027"),
                       ("New", "ACT-G001-2", "added since the last follow-up")]
    assert sheet_rows(tmp_path / "second.xlsx", "Complete characteristics") == [  # G001 has a new open action
        ["No characteristic has all its actions complete yet.", None, None]]
    assert sheet_rows(tmp_path / "second.xlsx", "Not returned") == [
        ["Every service area asked for progress has returned it."] + [None] * 6]
    assert len(assessment.records.follow_ups()) == 2


def test_a_characteristic_whose_actions_are_all_complete_is_listed(planned, tmp_path):
    assessment, report = planned
    type_plan(report, {"ACT-CI001": {"Status": "Complete"}, "ACT-CI001-2": {"Status": "closed"}})
    write_report(assessment)
    result = write_follow_up(assessment, tmp_path / "f.xlsx", TODAY)
    assert sheet_rows(result.path, "Complete characteristics") == [["CI001", "Services improve", 2]]


def test_what_counts_as_completed_slipped_and_new():
    from bva_excel.app.follow_up import changes_since
    from bva_excel.model.action_plan import ActionInputs, ActionRow
    from bva_excel.model.recorded import FollowUp

    def row(action_id, status="", target=None):
        inputs = ActionInputs(status=status or None,
                              target_date=dt.datetime.fromisoformat(target) if target else None)
        return ActionRow(action_id, "CI001", "Continuous improvement", "Services improve", "Amber", "Gap", inputs)

    def was(status="", target=""):
        return {"ref": "CI001", "status": status, "target": target, "service_area": "Finance"}

    previous = FollowUp("2027-01-10T09:00:00", "first.xlsx", {
        "earlier": was("In progress", "2027-06-30"), "later": was("In progress", "2027-03-31"),
        "passed": was("In progress", "2027-01-15"), "late both times": was("", "2026-12-01"),
        "done": was("In progress", "2027-03-31"), "closed before": was("Closed", "2026-12-01")})
    rows = [row("earlier", "In progress", "2027-05-31"), row("later", "In progress", "2027-04-30"),
            row("passed", "In progress", "2027-01-15"), row("late both times", "", "2026-12-01"),
            row("done", "Complete", "2027-03-31"), row("closed before", "Closed", "2026-12-01"), row("new")]
    found = [(c.what, c.row.action_id, c.why) for c in changes_since(rows, previous, dt.date(2027, 1, 20))]
    assert found == [("Completed", "done", "In progress then, Complete now"),
                     ("Slipped", "later", "target date moved from 31/03/2027 to 30/04/2027"),
                     ("Slipped", "passed", "target date 15/01/2027 passed since the last follow-up"),
                     ("New", "new", "added since the last follow-up")]
    assert changes_since(rows, None, dt.date(2027, 1, 20)) == []


def test_a_second_follow_up_on_one_day_keeps_the_first_in_history(planned):
    assessment, _ = planned
    target = assessment.folder / "follow-up for committee.xlsx"
    first = CliRunner().invoke(cli, ["follow-up", str(assessment.folder), "-o", str(target)])
    assert first.exit_code == 0 and "kept as" not in first.output
    sent = target.read_bytes()
    result = CliRunner().invoke(cli, ["follow-up", str(assessment.folder), "-o", str(target)])
    kept = [line for line in result.output.splitlines() if line.startswith("The previous follow-up is kept as ")]
    assert len(kept) == 1, result.output
    copy = assessment.folder / kept[0][len("The previous follow-up is kept as "):-1]
    assert copy.parent.name == "history" and copy.read_bytes() == sent



def test_a_follow_up_put_back_from_history_is_not_kept_there_twice(planned):
    """Someone puts the follow-up already sent back in place of a later one; the next run replaces it and says
    where it is kept: the copy in history/ it came from, not a second one."""
    import shutil

    assessment, _ = planned
    target = assessment.folder / "follow-up for committee.xlsx"
    run = ["follow-up", str(assessment.folder), "-o", str(target)]
    assert CliRunner().invoke(cli, run).exit_code == 0
    sent = target.read_bytes()
    assert CliRunner().invoke(cli, run).exit_code == 0
    [copy] = (assessment.folder / "history").glob("follow-up for committee *.xlsx")
    assert copy.read_bytes() == sent
    shutil.copy2(copy, target)  # the one sent, put back
    again = CliRunner().invoke(cli, run)
    assert again.exit_code == 0, again.output
    assert list((assessment.folder / "history").glob("follow-up for committee *.xlsx")) == [copy]
    assert f"The previous follow-up is kept as history/{copy.name}.\n" in again.output


def test_a_second_dated_follow_up_on_one_day_is_kept_under_its_name_and_the_time(planned):
    assessment, _ = planned
    assert CliRunner().invoke(cli, ["follow-up", str(assessment.folder)]).exit_code == 0
    [first] = assessment.folder.glob("follow-up *.xlsx")
    sent = first.read_bytes()
    assert CliRunner().invoke(cli, ["follow-up", str(assessment.folder)]).exit_code == 0
    [kept] = (assessment.folder / "history").glob("follow-up *.xlsx")
    saved = dt.datetime.fromtimestamp(kept.stat().st_mtime)
    assert kept.name == f"{first.stem} {saved:%H%M%S}.xlsx"  # the date once, as in its name
    assert kept.read_bytes() == sent


def test_follow_up_actions_and_progress_with_no_report_say_run_bva_report_first(flagged):
    assessment, report = flagged
    report.unlink()
    assessment.records.keep_setting("report_written", "")
    for command in (["follow-up"], ["actions"], ["generate", "--progress"]):
        result = CliRunner().invoke(cli, [command[0], str(assessment.folder), *command[1:]])
        assert result.exit_code == 1, result.output
        assert ("there is no report yet, and the action plan lives in it, so bva "
                f"{' '.join(command)} has nothing to work from. Run bva report") in result.output
        assert not list(assessment.folder.glob("follow-up*")) and not (assessment.folder / "actions.csv").exists()


def test_a_return_on_an_earlier_workbook_of_this_round_counts_as_returned(planned, tmp_path):
    assessment, _ = planned
    first = generate_progress(assessment)
    fill_progress(first.files["Legal services"], assessment.inbox / "RE Legal.xlsx",
                  {"ACT-CI001-2": ("In progress", "Booked", None)})
    ingest(assessment)
    generate_progress(assessment)  # issued again, to both: Legal's answer came on its first workbook
    result = CliRunner().invoke(cli, ["follow-up", str(assessment.folder), "-o", str(tmp_path / "f.xlsx")])
    assert [line for line in result.output.splitlines() if "not returned" in line] == [
        f"  not returned: Finance (sent {dt.date.today().isoformat()} as BV progress Finance.xlsx; none returned "
        "yet)"]
    assert [row[0] for row in sheet_rows(tmp_path / "f.xlsx", "Not returned")] == ["Finance"]


def test_a_round_begins_with_the_first_workbook_issued_since_the_last_follow_up():
    from types import SimpleNamespace

    from bva_excel.app.follow_up import not_returned
    from bva_excel.model.recorded import FollowUp, IssueRecord

    issues = [IssueRecord("a1", "Legal", "2027-01-05T09:00:00", "BV progress Legal.xlsx", kind="progress"),
              IssueRecord("a2", "Legal", "2027-01-12T09:00:00", "BV progress Legal.xlsx", kind="progress"),
              IssueRecord("a3", "Legal", "2027-02-05T09:00:00", "BV progress Legal.xlsx", kind="progress")]
    returned = [SimpleNamespace(status="accepted", issue_id="a1", received="2027-01-10T10:00:00")]

    def areas_missing(follow_ups, issued):
        records = SimpleNamespace(issues=lambda: issued, returns=lambda: returned, follow_ups=lambda: follow_ups)
        framework = SimpleNamespace(service_area=lambda name: None)
        return [(n.area, n.last_return) for n in not_returned(SimpleNamespace(records=records), framework)]

    assert areas_missing([], issues[:2]) == []  # returned on the first workbook, before the second was issued
    january = FollowUp("2027-01-20T09:00:00", "January.xlsx", {})
    assert areas_missing([january], issues[:2]) == []  # nothing issued since January's follow-up: same round
    assert areas_missing([january], issues) == [("Legal", "2027-01-10T10:00:00")]  # a new round


def test_readable_when_printed_guide_fits_a_portrait_page_and_is_locked_and_rows_fit_their_text(planned, tmp_path):
    assessment, report = planned
    round_ = generate_progress(assessment)
    for path in [round_.files["Finance"], next(assessment.outbox.glob("BV review *.xlsx"))]:
        guide = openpyxl.load_workbook(path)["Guide"]
        assert guide.protection.sheet  # a reviewer reads it, and cannot edit it
        assert guide.page_setup.orientation == "portrait" and guide.sheet_properties.pageSetUpPr.fitToPage
        width = guide.column_dimensions["A"].width
        assert width * 7 / 96 + guide.page_margins.left + guide.page_margins.right <= 8.27  # inches, on A4
        long_line = next(r for r in range(1, guide.max_row + 1) if len(guide.cell(r, 1).value or "") > width * 1.2)
        assert guide.cell(long_line, 1).alignment.wrap_text and guide.row_dimensions[long_line].height >= 30
    long = "Members and officers share an understanding of the democratic mandate and act on it together " * 2
    type_plan(report, {"ACT-G001": {"Action": long}})
    write_report(assessment)
    result = write_follow_up(assessment, tmp_path / "f.xlsx", TODAY)
    sheet = openpyxl.load_workbook(result.path)["All actions"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "ACT-G001")
    assert sheet.row_dimensions[row].height >= 15 * 6  # 190 characters in a 36-wide column: six lines or more
    changes = openpyxl.load_workbook(result.path)["Changes"]
    assert "A2:L2" in [str(r) for r in changes.merged_cells.ranges]  # the sentence is read across the table


def test_an_empty_action_plan_is_said_instead_of_a_next_step(flagged):  # noqa: F811
    assessment, report = flagged
    workbook = openpyxl.load_workbook(report)
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    for row in range(2, scores.max_row + 1):
        if scores.cell(row, 1).value in ("CI001", "G001"):
            scores.cell(row, headers.index("Moderated score") + 1, "Light green")
    workbook.save(report)
    write_report(assessment)
    for command in ("actions", "follow-up"):
        result = CliRunner().invoke(cli, [command, str(assessment.folder)])
        assert result.exit_code == 0, result.output
        assert "warning: report.xlsx, sheet 'Action plan': the action plan is empty" in result.output
        assert "Next:" not in result.output


def test_a_target_date_typed_as_iso_text_that_has_passed_is_overdue(flagged, tmp_path):
    assessment, report = flagged
    type_plan(report, {"ACT-CI001": {"Target date": "2027-01-19"}, "ACT-G001": {"Target date": "2027-01-20"}})
    result = write_follow_up(assessment, tmp_path / "f.xlsx", TODAY)
    assert [row[0] for row in sheet_rows(result.path, "Overdue")] == ["ACT-CI001"]  # the 20th is not yet past


def test_a_follow_up_that_failed_half_way_leaves_the_earlier_one_as_it_was_and_the_next_keeps_its_copy_once(
        planned, monkeypatch):
    """The failed try puts back what it had done (no copy left in history/); the next keeps the earlier one once."""
    import bva_excel.app.follow_up

    assessment, _ = planned
    target = assessment.folder / "follow-up for committee.xlsx"
    assert CliRunner().invoke(cli, ["follow-up", str(assessment.folder), "-o", str(target)]).exit_code == 0
    sent = target.read_bytes()
    with monkeypatch.context() as failing:
        def full_disk(*args, **kwargs):
            raise OSError(28, "No space left on device")
        failing.setattr(bva_excel.app.follow_up, "_write", full_disk)
        assert CliRunner().invoke(cli, ["follow-up", str(assessment.folder), "-o", str(target)]).exit_code != 0
    assert target.read_bytes() == sent
    assert list((assessment.folder / "history").glob("follow-up for committee *.xlsx")) == []
    again = CliRunner().invoke(cli, ["follow-up", str(assessment.folder), "-o", str(target)])
    assert again.exit_code == 0, again.output
    [copy] = (assessment.folder / "history").glob("follow-up for committee *.xlsx")
    assert copy.read_bytes() == sent
    assert f"The previous follow-up is kept as history/{copy.name}.\n" in again.output


def test_every_action_is_listed_as_typed_and_counted_under_its_service_area_as_listed(planned, tmp_path):
    """Two actions for Finance (one typed 'finance ', one closed), one for Legal services, three for an area not listed
    (one complete) and one with none, due today; G001's only action is closed. Legal services is listed first; no
    progress was asked for. Ten days later: one action added, one closed, and the one due today has passed."""
    assessment, report = planned
    today = dt.date.today()
    list_service_areas(assessment, [("Legal services", "Lee Hunt", ""), ("Finance", "Fay Green", "")])
    type_plan(report, {"ACT-CI001": {"Progress update": "Draft out for comment"},
                       "ACT-G001": {"Service area": "finance ", "Status": "Closed", "Target date": "end of March"}},
              [("ACT-CI001-2", {"Action ID": "ACT-CI001-5", "Action": "Benchmark",
                                "Target date": dt.datetime.combine(today, dt.time())}),
               ("ACT-CI001-2", {"Action ID": "ACT-CI001-4", "Action": "Audit the plan", "Service area": "Audit",
                                "Status": "Complete"}),
               ("ACT-CI001-2", {"Action ID": "ACT-CI001-3", "Action": "Audit the data", "Service area": "Audit"}),
               ("ACT-CI001-5", {"Action ID": "ACT-CI001-7", "Action": "Audit the audit", "Service area": "Audit"})])
    path = write_follow_up(assessment, tmp_path / "follow-up.xlsx", today).path
    # Those listed first, in the order listed; then those typed; none given last.
    assert list(summary_table(path, "Actions by service area").items()) == [
        ("Legal services", [0, 0, 0, 0, 1, 1]), ("Finance", [0, 1, 0, 1, 0, 2]), ("Audit", [0, 0, 1, 0, 2, 3]),
        ("No service area given", [0, 0, 0, 0, 1, 1])]
    summary = openpyxl.load_workbook(path)["Summary"]
    assert summary["A6"].value == "No progress has been asked of the service areas yet."
    assert sheet_rows(path, "All actions") == [  # (a cell left blank in the plan is an empty text)
        ["ACT-CI001", "CI001", "Services improve", "Write the plan", "Jo", "Finance", dt.datetime(2027, 3, 31),
         "In progress", "Draft out for comment", None],
        ["ACT-CI001-2", "CI001", "Services improve", "Peer review", "Kim", "Legal services", dt.datetime(2027, 6, 30),
         "No status given", "", None],
        ["ACT-CI001-3", "CI001", "Services improve", "Audit the data", "", "Audit", "", "No status given", "", None],
        ["ACT-CI001-4", "CI001", "Services improve", "Audit the plan", "", "Audit", "", "Complete", "", None],
        ["ACT-CI001-5", "CI001", "Services improve", "Benchmark", "", "", dt.datetime.combine(today, dt.time()),
         "No status given", "", None],
        ["ACT-CI001-7", "CI001", "Services improve", "Audit the audit", "", "Audit", "", "No status given", "", None],
        ["ACT-G001", "G001", "Robust scrutiny", "Scrutiny training", "Al", "Finance", "end of March", "Closed", "",
         None]]
    assert sheet_rows(path, "Complete characteristics") == [["G001", "Robust scrutiny", 1]]
    type_plan(report, {"ACT-CI001-2": {"Status": "Closed"}},
              [("ACT-CI001", {"Action ID": "ACT-CI001-6", "Action": "Consult staff"})])
    later = write_follow_up(assessment, tmp_path / "later.xlsx", today + dt.timedelta(days=10)).path
    assert [row[:3] for row in sheet_rows(later, "Changes")] == [
        ["Completed", "no status given then, Closed now", "ACT-CI001-2"],
        ["Slipped", f"target date {today:%d/%m/%Y} passed since the last follow-up", "ACT-CI001-5"],
        ["New", "added since the last follow-up", "ACT-CI001-6"]]


def test_a_service_area_renamed_or_taken_off_the_list_since_it_was_asked_is_still_named_as_not_returned(planned,
                                                                                                       tmp_path):
    """Asked: Finance and Legal services. Since then Finance is listed as 'FINANCE' and Legal services not at all."""
    assessment, _ = planned
    round_ = generate_progress(assessment, dt.date(2027, 1, 15))
    list_service_areas(assessment, [("FINANCE", "Fay Green", "fay@example.gov.uk"), ("", "", "")])
    rows = sheet_rows(write_follow_up(assessment, tmp_path / "f.xlsx", TODAY).path, "Not returned")
    sent = {path.name: next(i.issued_at for i in assessment.records.issues() if i.file == path.name)
            for path in round_.files.values()}
    assert rows == [
        ["FINANCE", "Fay Green", "fay@example.gov.uk",
         dt.datetime.fromisoformat(sent["BV progress Finance.xlsx"][:10]), "BV progress Finance.xlsx",
         dt.datetime(2027, 1, 15), None],
        ["Legal services", "", "", dt.datetime.fromisoformat(sent["BV progress Legal services.xlsx"][:10]),
         "BV progress Legal services.xlsx", dt.datetime(2027, 1, 15), None]]
