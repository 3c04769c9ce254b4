"""Nothing a person gave is lost or silently replaced: each case as a PMO meets it in the first week."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import REVIEWERS, answer, current, make_framework

from bva_excel.app.new import create_assessment
from bva_excel.cli import cli
from bva_excel.model.identity import IDENTITY_SHEET
from bva_excel.store.folder import open_assessment


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def edit_framework(assessment, change) -> None:
    """Edit assessment.xlsx as the PMO does in Excel."""
    workbook = openpyxl.load_workbook(assessment.workbook)
    change(workbook)
    workbook.save(assessment.workbook)


def issued_refs(assessment) -> dict[str, tuple[str, ...]]:
    return {i.reviewer_id: i.refs for i in assessment.records.issues()}


def identity_of(path: Path) -> dict[str, str]:
    sheet = openpyxl.load_workbook(path)[IDENTITY_SHEET]
    return {row[0].value: row[1].value for row in sheet.iter_rows()}


def add_characteristic(ref, theme, text, drafted_by=""):
    return lambda w: w["Characteristics"].append([ref, theme, text, "We do.", "Minutes", drafted_by, ""])


@pytest.fixture
def wide(tmp_path):
    """Six reviewers, twelve characteristics, two reviewers each."""
    reviewers = [[f"R0{n}", f"Reviewer {n}", f"r{n}@example.gov.uk", "Service"] for n in range(1, 7)]
    characteristics = [[f"{p}00{n}", theme, f"{theme} {n}", "We do.", "Minutes", "", ""]
                       for p, theme in [("CI", "Continuous improvement"), ("L", "Leadership"), ("G", "Governance"),
                                        ("C", "Culture")] for n in range(1, 4)]
    framework = make_framework(tmp_path / "wide.xlsx", characteristics=characteristics, reviewers=reviewers)
    assessment = create_assessment(tmp_path / "BV 2026", framework, "Wide")
    assert run("generate", assessment.folder, "--per-characteristic", 2).exit_code == 0
    return assessment


# 1. Re-generating keeps what was issued.

def test_regenerate_after_adding_a_characteristic_keeps_every_assignment_and_every_answer(wide):
    assessment = wide
    before = issued_refs(assessment)
    outbox = {p.name: p.stat().st_mtime_ns for p in assessment.outbox.iterdir()}
    for reviewer_id, refs in before.items():
        answer(assessment.outbox / next(p for p in outbox if f" {reviewer_id} " in p),
               assessment.inbox / f"{reviewer_id} first.xlsx", {ref: ("Yellow", "Seen.", "Gap.") for ref in refs})
    assert run("ingest", assessment.folder).exit_code == 0
    edit_framework(assessment, add_characteristic("CI004", "Continuous improvement", "Learning lessons"))
    result = run("generate", assessment.folder, "--per-characteristic", 2)
    assert result.exit_code == 0, result.output
    after = issued_refs(open_assessment(assessment.folder))
    gained = {r for r in after if after[r] != before[r]}
    assert len(gained) == 2  # only the two reviewers given the new characteristic
    for reviewer_id in before:
        assert set(before[reviewer_id]) <= set(after[reviewer_id])  # nobody lost anything
        assert set(after[reviewer_id]) - set(before[reviewer_id]) <= {"CI004"}
    for reviewer_id in gained:
        assert f"Reviewer {reviewer_id[-1]}: now also CI004" in result.output
    assert f"unchanged, no new workbook: {', '.join(r for r in sorted(before) if r not in gained)}" in result.output
    rewritten = {p.name for p in assessment.outbox.iterdir() if p.stat().st_mtime_ns != outbox.get(p.name)}
    assert rewritten == {name for name in outbox if any(f" {r} " in name for r in gained)}
    # A reviewer fills in the new workbook, answering only the new characteristic: everything counts.
    reviewer_id = sorted(gained)[0]
    new_workbook = next(p for p in assessment.outbox.iterdir() if f" {reviewer_id} " in p.name)
    answer(new_workbook, assessment.inbox / f"{reviewer_id} second.xlsx", {"CI004": ("Amber", "Weak.", "No log.")})
    ingested = run("ingest", assessment.folder)
    assert ingested.exit_code == 0, ingested.output
    answers = {r.ref: r.rating for r in current(open_assessment(assessment.folder))[reviewer_id][1]}
    assert answers == {**{ref: "Yellow" for ref in before[reviewer_id]}, "CI004": "Amber"}


def test_reallocate_starts_again_on_purpose_and_says_what_it_discards(wide):
    before = issued_refs(wide)
    edit_framework(wide, lambda w: [w["Characteristics"].delete_rows(2, 1)])  # CI001 dropped
    result = run("generate", wide.folder, "--per-characteristic", 2, "--reallocate")
    assert result.exit_code == 0, result.output
    moved = sum(len(set(refs) - set(issued_refs(open_assessment(wide.folder)).get(r, ()))) for r, refs in before.items())
    assert f"Started the allocation again (--reallocate): {moved} earlier assignments are discarded" in result.output
    assert "CI001 (no longer in assessment.xlsx)" in result.output


def test_listing_other_reviewers_on_a_row_moves_only_that_row(wide):
    before = issued_refs(wide)
    holders = [r for r, refs in before.items() if "G002" in refs]
    newcomer = next(r for r in before if r not in holders)

    def relist(workbook):
        sheet = workbook["Characteristics"]
        row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "G002")
        sheet.cell(row, 7, f"{holders[0]}, {newcomer}")
    edit_framework(wide, relist)
    result = run("generate", wide.folder, "--per-characteristic", 2)
    assert result.exit_code == 0, result.output
    after = issued_refs(open_assessment(wide.folder))
    assert "G002" in after[newcomer] and "G002" not in after[holders[1]]
    assert "no longer G002 (other reviewers listed for it)" in result.output
    changed = {r for r in before if before[r] != after[r]}
    assert changed == {newcomer, holders[1]}


# 2 and 3. Answers count per characteristic, later by the time saved inside the workbook.

@pytest.fixture
def first_returns(generated):
    assessment, generation = generated
    refs = {rid: [ref for ref, ids in generation.allocation.items() if rid in ids] for rid in generation.files}
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx", {ref: ("Yellow", "Seen.", "Gap.") for ref in refs["R01"]},
           saved=dt.datetime(2026, 12, 2, 10, 0))
    assert run("ingest", assessment.folder).exit_code == 0
    return assessment, generation, refs


def test_a_copy_of_the_unfilled_workbook_is_refused_and_earlier_answers_stay(first_returns):
    assessment, generation, refs = first_returns
    (assessment.inbox / "R01 blank.xlsx").write_bytes(generation.files["R01"].read_bytes())
    result = run("ingest", assessment.folder)
    assert result.exit_code == 1
    assert (f"R01 blank.xlsx: no score, commentary or gaps are filled in for any of its {len(refs['R01'])} "
            "characteristics (the unfilled workbook?). Ask the reviewer to fill it in and send it again") in result.output
    assert {r.rating for r in current(open_assessment(assessment.folder))["R01"][1]} == {"Yellow"}



def test_a_rejected_file_once_its_sender_s_correction_is_accepted_stops_failing_ingest(first_returns):
    assessment, generation, refs = first_returns
    typo = {ref: ("Ambr", "Weak.", "Gap.") for ref in refs["R02"]}
    answer(generation.files["R02"], assessment.inbox / "R02 typo.xlsx", typo, saved=dt.datetime(2026, 12, 3, 9, 0))
    assert run("ingest", assessment.folder).exit_code == 1
    again = run("ingest", assessment.folder)  # nothing new: the typo still stands, and says so
    assert again.exit_code == 1
    assert ("Rejected when first read, and not replaced since (see the Returns sheet or --json): R02 typo.xlsx"
            in again.output)
    assert "already ingested (1 of them rejected then), 0 skipped." in again.output
    fixed = {ref: ("Amber", "Weak.", "Gap.") for ref in refs["R02"]}
    answer(generation.files["R02"], assessment.inbox / "R02 fixed.xlsx", fixed, saved=dt.datetime(2026, 12, 3, 10, 0))
    for later in (run("ingest", assessment.folder), run("ingest", assessment.folder)):  # the run taking it, and after
        assert later.exit_code == 0, later.output
        assert ("Rejected before, and since replaced by an accepted return from the same sender (you may move them "
                "out of the inbox): R02 typo.xlsx") in later.output
        assert "not replaced since" not in later.output and "ask the senders of rejected files" not in later.output
    [typo_file] = [f for f in json.loads(run("ingest", assessment.folder, "--json").output)["files"]
                   if f["file"] == "R02 typo.xlsx"]
    assert not typo_file["rejected"]
    assert [p["code"] for p in typo_file["problems"]] == ["ALREADY_INGESTED", "REJECTED_SINCE_REPLACED"]
    statuses = {r.name: r.status for r in open_assessment(assessment.folder).records.returns()}
    assert statuses["R02 typo.xlsx"] == "rejected"  # the record of what happened is unchanged

def test_a_partial_resend_replaces_only_what_it_answers_and_says_which_answers_stand(first_returns):
    assessment, generation, refs = first_returns
    answer(generation.files["R01"], assessment.inbox / "R01 resend.xlsx", {refs["R01"][0]: ("Amber", "Worse.", "More.")},
           saved=dt.datetime(2026, 12, 3, 10, 0))
    result = run("ingest", assessment.folder)
    assert result.exit_code == 0, result.output
    assert "R01 resend.xlsx: its answers replace 1 earlier answer(s) from R01.xlsx (1 with another score)." in \
        result.output
    assert (f"R01 resend.xlsx: it leaves blank the score of {', '.join(refs['R01'][1:])} ({len(refs['R01']) - 1} in "
            "all), which R01.xlsx answered: those answers still count.") in result.output
    answers = {r.ref: r.rating for r in current(open_assessment(assessment.folder))["R01"][1]}
    assert answers == {ref: "Amber" if ref == refs["R01"][0] else "Yellow" for ref in refs["R01"]}
    run("report", assessment.folder)
    returns = {row[0]: row[4:6] for row in openpyxl.load_workbook(assessment.report)["Returns"].iter_rows(
        min_row=2, values_only=True)}
    assert returns == {"R01.xlsx": ("accepted", len(refs["R01"]) - 1),  # both still count, in part
                       "R01 resend.xlsx": ("accepted", 1)}
    summary = {row[0]: row for row in openpyxl.load_workbook(assessment.report)["Summary"].iter_rows(values_only=True)}
    assert summary["R01 Ann Lee"][5] == "R01 resend.xlsx, R01.xlsx"  # where the answers that count came from


def test_the_later_save_wins_whatever_the_names_and_file_times(first_returns):
    assessment, generation, refs = first_returns
    final = answer(generation.files["R01"], assessment.inbox / "BV return.xlsx",
                   {ref: ("Light green", "Final.", "") for ref in refs["R01"]}, saved=dt.datetime(2026, 12, 5, 16, 0))
    draft = answer(generation.files["R01"], assessment.inbox / "BV return - draft.xlsx",
                   {ref: ("Red", "Draft.", "Gap.") for ref in refs["R01"]}, saved=dt.datetime(2026, 12, 4, 9, 0))
    for path in (final, draft):  # Outlook's "Save all attachments": one moment for both
        os.utime(path, (1_800_000_000, 1_800_000_000))
    result = run("ingest", assessment.folder)
    assert result.exit_code == 0, result.output
    assert {r.rating for r in current(open_assessment(assessment.folder))["R01"][1]} == {"Light green"}
    assert (f"BV return.xlsx: its answers replace {len(refs['R01'])} earlier answer(s) from BV return - draft.xlsx "
            f"({len(refs['R01'])} with another score)" in result.output)


def test_an_older_save_ingested_later_does_not_replace_the_newer(first_returns):
    assessment, generation, refs = first_returns
    answer(generation.files["R01"], assessment.inbox / "final.xlsx",
           {ref: ("Light green", "Final.", "") for ref in refs["R01"]}, saved=dt.datetime(2026, 12, 5, 16, 0))
    run("ingest", assessment.folder)
    answer(generation.files["R01"], assessment.inbox / "draft found later.xlsx",
           {ref: ("Red", "Draft.", "Gap.") for ref in refs["R01"]}, saved=dt.datetime(2026, 12, 4, 9, 0))
    result = run("ingest", assessment.folder)
    assert result.exit_code == 0, result.output
    assert (f"draft found later.xlsx: it was saved at 2026-12-04 09:00:00, before final.xlsx, saved at "
            f"2026-12-05 16:00:00, so for {', '.join(refs['R01'])} the answers of final.xlsx still count") in result.output
    assert {r.rating for r in current(open_assessment(assessment.folder))["R01"][1]} == {"Light green"}


def test_when_the_order_is_unclear_it_says_so_and_prefer_chooses(first_returns):
    assessment, generation, refs = first_returns
    moment = dt.datetime(2026, 12, 6, 12, 0)
    one = answer(generation.files["R01"], assessment.inbox / "one.xlsx", {ref: ("Amber", "1", "g") for ref in refs["R01"]},
                 saved=moment)
    answer(generation.files["R01"], assessment.inbox / "two.xlsx", {ref: ("Red", "2", "g") for ref in refs["R01"]},
           saved=moment)
    result = run("ingest", assessment.folder)
    assert "two.xlsx: it was saved at the same moment as one.xlsx" in result.output
    assert 'bva ingest FOLDER --prefer "two.xlsx"' in result.output
    chosen = run("ingest", assessment.folder, "--prefer", one)
    assert chosen.exit_code == 0, chosen.output
    assert "one.xlsx: its answers now count over R01's other returns." in chosen.output
    assert {r.rating for r in current(open_assessment(assessment.folder))["R01"][1]} == {"Amber"}
    assert run("report", assessment.folder).exit_code == 0  # the report follows the choice
    workbook = openpyxl.load_workbook(assessment.report)
    scores = {row[0]: row[3] for row in workbook["Scores"].iter_rows(min_row=2, values_only=True)}
    assert {scores[ref] for ref in refs["R01"] if ref != "L001"} == {"Amber"}
    returns = {row[0]: row[4:6] for row in workbook["Returns"].iter_rows(min_row=2, values_only=True)}
    assert returns == {"R01.xlsx": ("superseded", 0), "one.xlsx": ("accepted", len(refs["R01"])),
                       "two.xlsx": ("superseded", 0)}
    refused = run("ingest", assessment.folder, "--prefer", generation.files["R01"])
    assert refused.exit_code == 1 and "has not been ingested, so it cannot be preferred" in refused.output
    by_name = run("ingest", assessment.folder, "--prefer", "two.xlsx")  # as ingest suggested: its name in the inbox
    assert by_name.exit_code == 0, by_name.output
    assert "two.xlsx: its answers now count over R01's other returns." in by_name.output
    assert {r.rating for r in current(open_assessment(assessment.folder))["R01"][1]} == {"Red"}


# 4. Drafted by, matched as a person would.

@pytest.mark.parametrize("typed", ["Cai Wyn", "cai wyn", "Wyn, Cai", "Cai Wyn (Housing)", "Mr Cai Wyn",
                                   "R02; Cai Wyn", "Ann Lee / Wyn, Cai", "R01 and Cai Wyn", "cai@example.gov.uk"])
def test_a_drafter_written_as_people_write_names_never_reviews_their_statement(tmp_path, typed):
    reviewers = [list(r) for r in REVIEWERS]
    reviewers[2][1] = "Cai Wŷn"  # an accent that the PMO's keyboard may not type
    characteristics = [["CI001", "Continuous improvement", "Services improve", "We do.", "Plan", typed, ""]]
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", characteristics=characteristics,
                                                                  reviewers=reviewers))
    assert run("generate", assessment.folder, "--per-characteristic", 3).exit_code == 1  # only two are independent
    result = run("generate", assessment.folder, "--per-characteristic", 2 if ";" not in typed and "/" not in typed
                 and " and " not in typed else 1)
    assert result.exit_code == 0, result.output
    assert "R03" not in open_assessment(assessment.folder).records.issues()[0].reviewer_id
    assert all("CI001" not in i.refs for i in open_assessment(assessment.folder).records.issues()
               if i.reviewer_id == "R03")


def test_a_drafter_close_to_a_reviewer_stops_generate_with_did_you_mean(tmp_path):
    characteristics = [["CI001", "Continuous improvement", "Services improve", "We do.", "Plan", "Anne Lee", ""],
                       ["CI002", "Continuous improvement", "Peer challenge", "We do.", "Plan", "Chief Executive's Office", ""]]
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", characteristics=characteristics))
    result = run("generate", assessment.folder)
    assert result.exit_code == 1
    assert ("assessment.xlsx, sheet 'Characteristics', cell F2: 'Anne Lee' drafted CI001: did you mean 'R01 Ann Lee'?") in result.output
    assert "Chief Executive" not in result.output  # plainly not a reviewer: no question asked
    assert not list(assessment.outbox.iterdir())


@pytest.mark.parametrize("typed, reviewer", [("Lukasz Wojcik", "Łukasz Wójcik"), ("Soren Ostergaard", "Søren Østergaard"),
                                             ("Wojcik, Łukasz", "Łukasz Wójcik"), ("Strasse, Jo", "Jo Straße")])
def test_letters_that_unicode_does_not_split_are_matched_without_their_marks(tmp_path, typed, reviewer):
    reviewers = [["R01", reviewer, "", ""], ["R02", "Bob Stone", "", ""], ["R03", "Cai Wyn", "", ""]]
    characteristics = [["CI001", "Continuous improvement", "Services improve", "We do.", "Plan", typed, ""]]
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", characteristics=characteristics,
                                                                  reviewers=reviewers))
    result = run("generate", assessment.folder, "--per-characteristic", 2)
    assert result.exit_code == 0, result.output
    assert all("CI001" not in i.refs for i in open_assessment(assessment.folder).records.issues() if i.reviewer_id == "R01")


def test_an_initial_and_surname_asks_and_not_a_reviewer_says_it_is_someone_else(tmp_path):
    reviewers = [["R01", "Łukasz Wójcik", "", ""], ["R02", "Bob Stone", "", ""], ["R03", "Cai Wyn", "", ""]]
    characteristics = [["CI001", "Continuous improvement", "Services improve", "We do.", "Plan", "Ł. Wójcik", ""]]
    framework = make_framework(tmp_path / "f.xlsx", characteristics=characteristics, reviewers=reviewers)
    assessment = create_assessment(tmp_path / "a", framework)
    asked = run("generate", assessment.folder)
    assert asked.exit_code == 1 and "'Ł. Wójcik' drafted CI001: did you mean 'R01 Łukasz Wójcik'?" in asked.output
    edit_framework(assessment, lambda w: [w["Characteristics"].cell(2, 6, "Ł. Wójcik (not a reviewer)")])
    assert run("generate", assessment.folder).exit_code == 0


# 5. An interrupted generate leaves all its workbooks or none.

@pytest.mark.subprocess
@pytest.mark.parametrize("delay", [0.45, 0.6, 0.75, 0.9])
def test_a_generate_killed_at_any_moment_leaves_all_or_none(tmp_path, delay):
    reviewers = [[f"R{n:02d}", f"Reviewer {n}", "", "Service"] for n in range(1, 13)]
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", reviewers=reviewers))
    process = subprocess.Popen([sys.executable, "-m", "bva_excel", "generate", str(assessment.folder),
                                "--per-characteristic", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.kill()
    process.wait()
    recorded = {i.issue_id for i in open_assessment(assessment.folder).records.issues()}
    outbox = [identity_of(p)["issue_id"] for p in assessment.outbox.iterdir()]
    assert set(outbox) <= recorded  # nothing in the outbox that was not recorded
    # The next command completes or undoes it, and says so; then the outbox holds the whole set.
    result = run("generate", assessment.folder, "--per-characteristic", 3)
    assert result.exit_code == 0, result.output
    final = open_assessment(assessment.folder).records.issues()
    issued_now = {i.reviewer_id: i.issue_id for i in final}
    assert sorted(identity_of(p)["issue_id"] for p in assessment.outbox.iterdir()) == sorted(issued_now.values())
    assert not list(assessment.records_dir.glob("staging-*"))


# 6. A reviewer removed after returning.

def test_a_reviewer_removed_after_returning_is_counted_and_said_once(generated):
    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R03" in ids]
    answer(generation.files["R03"], assessment.inbox / "R03.xlsx", {ref: ("Amber", "Weak.", "Gap.") for ref in refs})
    edit_framework(assessment, lambda w: w["Reviewers"].delete_rows(4, 1))
    edit_framework(assessment, lambda w: [w["Characteristics"].cell(4, 7, "R01")])  # L001 listed R03
    ingested = run("ingest", assessment.folder)
    assert ingested.exit_code == 0, ingested.output
    assert "reviewer R03 is no longer listed on 'Reviewers'; their answers are kept and counted" in ingested.output
    reported = run("report", assessment.folder)
    assert reported.exit_code == 0, reported.output
    scores = openpyxl.load_workbook(assessment.report)["Scores"]
    consolidated = {r[0]: r[3] for r in scores.iter_rows(min_row=2, values_only=True)}
    assert all(consolidated[ref] == "Amber" for ref in refs if ref != "L001")
    summary = {r[0]: r[1:] for r in openpyxl.load_workbook(assessment.report)["Summary"].iter_rows(values_only=True)
               if r[0]}
    assert summary["R03 (no longer listed)"][:3] == (len(refs), len(refs), "Received")
    assert summary["R03 (no longer listed)"][4] == "R03.xlsx"
    checked = run("check", assessment.folder)
    assert checked.output.count("R03 is no longer on 'Reviewers'") == 1
    [removed] = [f for f in json.loads(run("check", assessment.folder, "--json").stdout)["findings"]
                 if f["kind"] == "REVIEWER_NOT_LISTED"]
    assert removed == {"kind": "REVIEWER_NOT_LISTED", "severity": "low", "ref": "", "theme": "",
                       "finding": f"R03 is no longer on 'Reviewers'; their {len(refs)} answers are kept and counted",
                       "reviewers": ["R03"], "resolved": "",
                       "evidence": "restore them on 'Reviewers' to show their name, or moderate their scores"}
    assert "No return yet from R03" not in checked.output
    generated_again = run("generate", assessment.folder)
    assert "BV review R03 Cai Wyn.xlsx" not in [p.name for p in assessment.outbox.iterdir()]
    assert "moved out of the outbox (no longer current): BV review R03 Cai Wyn" in generated_again.output



def test_a_reviewer_removed_with_a_newer_workbook_unreturned_is_counted_by_what_they_returned(wide):
    """The Summary counts a removed reviewer's characteristics from their returns, not from a workbook
    issued later that they never sent back."""
    assessment = wide
    before = issued_refs(assessment)
    for reviewer_id, refs in before.items():
        workbook = next(p for p in assessment.outbox.iterdir() if f" {reviewer_id} " in p.name)
        answer(workbook, assessment.inbox / f"{reviewer_id}.xlsx", {ref: ("Yellow", "Seen.", "Gap.") for ref in refs})
    assert run("ingest", assessment.folder).exit_code == 0
    edit_framework(assessment, add_characteristic("CI004", "Continuous improvement", "Learning lessons"))
    assert run("generate", assessment.folder, "--per-characteristic", 2).exit_code == 0
    after = issued_refs(open_assessment(assessment.folder))
    removed = sorted(r for r in after if len(after[r]) > len(before[r]))[0]
    edit_framework(assessment, lambda w: w["Reviewers"].delete_rows(int(removed[-1]) + 1, 1))
    reported = run("report", assessment.folder)
    assert reported.exit_code == 0, reported.output
    summary = {r[0]: r[1:] for r in openpyxl.load_workbook(assessment.report)["Summary"].iter_rows(values_only=True)
               if r[0]}
    returned = len(before[removed])
    assert summary[f"{removed} (no longer listed)"][:3] == (returned, returned, "Received")

# 8. Messages that hold up.

def test_check_json_is_only_json_even_with_warnings(generated):
    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R01" in ids]
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx", {ref: ("Amber", "Weak.", "Gap.") for ref in refs})
    run("ingest", assessment.folder)
    run("report", assessment.folder)
    workbook = openpyxl.load_workbook(assessment.report)
    workbook["Scores"].cell(2, 5, "Greeen")  # a typo: a warning
    workbook.save(assessment.report)
    result = CliRunner().invoke(cli, ["check", str(assessment.folder), "--json"])
    data = json.loads(result.stdout)
    assert [w["code"] for w in data["warnings"]] == ["MODERATED_SCORE_INVALID"]


def test_an_untouched_assessment_says_to_fill_it_in_and_one_without_returns_to_wait(tmp_path):
    assessment = create_assessment(tmp_path / "BV 2026", None, "Untouched")
    checked = run("check", assessment.folder)
    assert f"Next: fill in {assessment.workbook}" in checked.output
    reported = run("report", assessment.folder)
    assert reported.exit_code == 0 and f"Next: fill in {assessment.workbook}" in reported.output
    assert "moderate" not in reported.output.lower()


def test_waiting_for_returns_is_the_next_step_once_generated(generated):
    assessment, _ = generated
    result = run("check", assessment.folder)
    assert "Next: wait for the returns; save them in" in result.output
    assert "Next: moderate" not in result.output


def test_ingest_makes_a_deleted_inbox_again(generated):
    assessment, _ = generated
    assessment.inbox.rmdir()
    result = run("ingest", assessment.folder)
    assert assessment.inbox.is_dir()
    assert f"No files to read: save the returned attachments in {assessment.inbox}" in result.output


def test_an_unquoted_folder_name_with_a_space_gets_a_hint(tmp_path, monkeypatch):
    (tmp_path / "BV 2026").mkdir()
    monkeypatch.chdir(tmp_path)
    result = run("report", "BV", "2026")
    assert result.exit_code == 2
    assert 'A folder name with spaces needs quotes: bva report "BV 2026"' in result.output


def test_did_you_mean_never_suggests_a_removed_reviewer(generated):
    assessment, _ = generated
    edit_framework(assessment, lambda w: w["Reviewers"].delete_rows(4, 1))  # R03 leaves
    edit_framework(assessment, lambda w: [w["Characteristics"].cell(4, 7, "R01, R3")])
    result = run("generate", assessment.folder)
    assert result.exit_code == 1
    assert "reviewer 'R3' is not listed on the 'Reviewers' sheet" in result.output
    assert "R03" not in result.output


def test_generate_lists_workbooks_in_reviewer_order(tmp_path):
    reviewers = [["R03", "Cai", "", ""], ["R01", "Ann", "", ""], ["R02", "Bob", "", ""]]
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", reviewers=reviewers))
    result = run("generate", assessment.folder)
    listed = [line.split()[2] for line in result.output.splitlines() if line.startswith("  BV review ")]
    assert listed == ["R03", "R01", "R02"]


# 9. Reviewer workbooks: locked with a password; a reviewer known only by email.

def test_reviewer_sheets_are_locked_with_the_assessment_password(generated):
    assessment, generation = generated
    password = assessment.records.sheet_password()
    workbook = openpyxl.load_workbook(generation.files["R01"])
    from openpyxl.utils.protection import hash_password

    for name in ("Review", "Scale"):
        protection = workbook[name].protection
        assert protection.sheet and protection.password == hash_password(password)
        assert protection.password != hash_password("")  # a casual unprotect with no password fails
    shown = run("generate", assessment.folder, "--show-password")
    assert password in shown.output


def test_a_reviewer_with_an_email_but_no_name_is_named_by_it(tmp_path):
    reviewers = [["R01", "Ann Lee", "ann@example.gov.uk", ""], ["R02", "", "bob@example.gov.uk", ""],
                 ["R03", "Cai Wyn", "", ""]]
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", reviewers=reviewers))
    result = run("generate", assessment.folder)
    assert result.exit_code == 0, result.output
    assert "BV review R02 bob@example.gov.uk.xlsx" in result.output


# 10. Files colleagues can open; edits never dropped silently.

def test_written_files_get_the_permissions_of_any_new_file(returned_folder):
    assessment = returned_folder
    run("report", assessment.folder)
    old = os.umask(0o022)
    try:
        expected = 0o644
    finally:
        os.umask(old)
    if old != 0o022:
        pytest.skip("the test expects the usual umask 022")
    for path in [assessment.report, assessment.workbook, *assessment.outbox.iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == expected, path.name


@pytest.fixture
def returned_folder(generated):
    assessment, generation = generated
    for reviewer_id, path in generation.files.items():
        refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx", {ref: ("Yellow", "Seen.", "Gap.") for ref in refs})
    run("ingest", assessment.folder)
    return assessment


def refused_after_editing(assessment, edit) -> str:
    """Report, edit report.xlsx as someone might in Excel, report again: refused, with the report as it was.
    Returns what bva printed."""
    run("report", assessment.folder)
    workbook = openpyxl.load_workbook(assessment.report)
    edit(workbook)
    workbook.save(assessment.report)
    before = assessment.report.read_bytes()
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert assessment.report.read_bytes() == before
    return result.output


@pytest.mark.parametrize("header", ["Moderated score", "Moderation note", "Final score"])
def test_a_renamed_input_header_stops_the_report_and_keeps_what_was_typed(returned_folder, header):
    def rename(workbook):
        scores = workbook["Scores"]
        column = [c.value for c in scores[1]].index(header) + 1
        scores.cell(2, 5, "Red")
        scores.cell(2, 6, "Evidence was missing.")
        scores.cell(1, column, f"{header} (PMO)")
    output = refused_after_editing(returned_folder, rename)
    assert (f"report.xlsx, sheet 'Scores': header '{header}' is missing from row 1 (did you mean '{header} (PMO)'?); "
            "that column carries what people typed, so the report was not written again") in output


def test_an_input_header_typed_twice_stops_the_report_and_names_both_cells(returned_folder):
    """Which of two 'Moderated score' columns holds the moderation cannot be told: nothing is guessed."""
    cells = {}

    def repeat(workbook):
        scores = workbook["Scores"]
        headers = [c.value for c in scores[1]]
        cells["first"] = openpyxl.utils.get_column_letter(headers.index("Moderated score") + 1)
        cells["spare"] = openpyxl.utils.get_column_letter(len(headers) + 1)
        scores[f"{cells['first']}2"] = "Red"
        scores[f"{cells['spare']}1"] = "Moderated score"
    output = refused_after_editing(returned_folder, repeat)
    assert (f"report.xlsx, sheet 'Scores', cell {cells['spare']}1: header 'Moderated score' appears twice "
            f"(also in {cells['first']}1); that column carries what people typed, so the report was not written "
            "again") in output


@pytest.mark.parametrize("header", ["Action ID", "Owner"])
def test_a_renamed_action_plan_header_stops_the_report_and_keeps_the_plan(returned_folder, header):
    def rename(workbook):
        plan = workbook["Action plan"]
        headers = [c.value for c in plan[1]]
        plan.cell(2, headers.index("Owner") + 1, "Head of Finance")
        plan.cell(1, headers.index(header) + 1, f"{header} (PMO)")
    output = refused_after_editing(returned_folder, rename)
    assert (f"report.xlsx, sheet 'Action plan': header '{header}' is missing from row 1 (did you mean "
            f"'{header} (PMO)'?); that column carries what people typed, so the report was not written "
            "again") in output


def test_a_reviewer_added_since_the_workbooks_were_generated_is_not_yet_in_the_summary(first_returns):
    assessment, _, _ = first_returns
    edit_framework(assessment, lambda w: w["Reviewers"].insert_rows(2) or [
        w["Reviewers"].cell(2, col, value) for col, value in enumerate(["R00", "New Person", "", "HR"], start=1)])
    assert run("report", assessment.folder).exit_code == 0
    rows = [r[0] for r in openpyxl.load_workbook(assessment.report)["Summary"].iter_rows(values_only=True) if r[0]]
    start = rows.index("Reviewer")
    assert rows[start + 1:] == ["R01 Ann Lee", "R02 Bob Stone", "R03 Cai Wyn"]


# 7. One meaning of "no gaps".

@pytest.mark.parametrize("words", ["None identified.", "none", "No gaps", "n/a", "Nil", "-", "No gaps identified."])
def test_words_meaning_no_gap_raise_no_action_and_no_finding(generated, words):
    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if ids == ("R02",)]
    answer(generation.files["R02"], assessment.inbox / "R02.xlsx",
           {refs[0]: ("Light green", "Well evidenced.", words), refs[1]: ("Dark green", "Strong.", words)})
    run("ingest", assessment.folder)
    result = run("report", assessment.folder)
    assert result.exit_code == 0, result.output
    plan = [row[1] for row in openpyxl.load_workbook(assessment.report)["Action plan"].iter_rows(min_row=2, values_only=True)]
    assert refs[0] not in plan and refs[1] not in plan
    assert "although the reviewer lists gaps" not in run("check", assessment.folder).output


def test_a_real_gap_raises_an_action_and_a_top_score_with_it_a_finding(generated):
    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if ids == ("R02",)]
    answer(generation.files["R02"], assessment.inbox / "R02.xlsx",
           {refs[0]: ("Dark green", "Strong.", "No owner for the succession plan.")})
    run("ingest", assessment.folder)
    run("report", assessment.folder)
    plan = {row[1]: row[5] for row in openpyxl.load_workbook(assessment.report)["Action plan"].iter_rows(
        min_row=2, values_only=True)}
    assert plan[refs[0]] == "R02: No owner for the succession plan."
    assert f"{refs[0]:<7} Dark green although the reviewer lists gaps [R02]" in run("check", assessment.folder).output


@pytest.mark.parametrize("command", [["report"], ["check"], ["ingest"], ["actions"]], ids=" ".join)
def test_any_next_command_finishes_a_round_stopped_half_way_and_says_so(generated, monkeypatch, command):
    """A generate stopped after its workbooks were written and recorded, before they reached the outbox:
    whatever the officer runs next moves them in, and says so."""
    import bva_excel.app.issue as issuing

    assessment, _ = generated
    run("report", assessment.folder)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(issuing, "_into_outbox", stopped)
    with pytest.raises(KeyboardInterrupt):
        issuing.generate(open_assessment(assessment.folder), per_characteristic=2)
    monkeypatch.undo()
    waiting = [p.name for p in assessment.records_dir.glob("staging-*/*.xlsx")]
    assert waiting  # recorded, and waiting to be moved into the outbox

    result = run(command[0], assessment.folder, *command[1:])

    assert (f"note: finished an interrupted bva generate: moved {len(waiting)} recorded workbooks into the outbox"
            in result.output)
    assert not list(assessment.records_dir.glob("staging-*"))
    issued = {issue.file for issue in open_assessment(assessment.folder).records.issues()}
    assert set(waiting) <= {p.name for p in assessment.outbox.iterdir()} <= issued
