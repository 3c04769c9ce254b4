"""Sign-off: recorded with who and when, refused over open high findings, changes afterwards shown."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer

from bva_excel.cli import cli
from bva_excel.excel.read.framework import load_framework
from bva_excel.store.folder import open_assessment


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def scored(generated):
    """Every reviewer has returned; L001 is three steps apart (a high finding), the rest Light green."""
    assessment, generation = generated
    for reviewer_id, path in generation.files.items():
        refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
        answers = {ref: ("Light green", "Fine.", "None") for ref in refs}
        if "L001" in answers:
            answers["L001"] = ("Dark green", "Strong.", "") if reviewer_id == "R01" else ("Amber", "Weak.", "No plan")
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx", answers)
    assert run("ingest", assessment.folder).exit_code == 0
    assert run("report", assessment.folder).exit_code == 0
    return assessment


def type_into_scores(assessment, ref: str, **cells) -> None:
    workbook = openpyxl.load_workbook(assessment.report)
    sheet = workbook["Scores"]
    headers = [c.value for c in sheet[1]]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == ref)
    for header, value in cells.items():
        sheet.cell(row, headers.index(header.replace("_", " ").capitalize()) + 1, value)
    workbook.save(assessment.report)


def scores_row(assessment, ref: str) -> dict:
    sheet = openpyxl.load_workbook(assessment.report, data_only=True)["Scores"]
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == ref)
    return dict(zip(headers, row))


def test_sign_off_is_refused_while_a_high_finding_is_open_and_nothing_is_recorded(scored):
    result = run("signoff", scored.folder, "--by", "Jane Smith, Assistant Chief Executive")
    assert result.exit_code == 1
    assert (f"error: 1 high-severity findings are still open (the first: L001 Reviewers are 3 scale steps apart), "
            f"so the scores are not signed off. Moderate them (bva check \"{scored.folder}\" lists them), or sign off "
            "anyway with --accept-open: their number is recorded with the sign-off.") in result.output
    assert open_assessment(scored.folder).records.signoffs() == []


def test_sign_off_over_open_findings_with_accept_open_is_recorded_and_shown(scored):
    result = run("signoff", scored.folder, "--by", "Jane Smith, Assistant Chief Executive", "--accept-open")
    assert result.exit_code == 0, result.output
    assert "1 high-severity findings were open and accepted" in result.output
    [signoff] = open_assessment(scored.folder).records.signoffs()
    assert (signoff.signed_by, signoff.open_high, signoff.finals["L001"]) == (
        "Jane Smith, Assistant Chief Executive", 1, "Amber")
    run("report", scored.folder)
    workbook = openpyxl.load_workbook(scored.report)
    for sheet in ("Summary", "Heat map"):
        subtitle = workbook[sheet]["A2"].value
        assert "signed off by Jane Smith, Assistant Chief Executive on " in subtitle
        assert subtitle.endswith("with 1 high-severity finding still open")
    assert scores_row(scored, "L001")["Signed-off score"] == "Amber"


def test_a_final_score_changed_after_sign_off_needs_a_note_and_shows_both_values(scored):
    type_into_scores(scored, "L001", moderated_score="Yellow", moderation_note="Plan agreed at workshop.")
    run("report", scored.folder)
    assert run("signoff", scored.folder, "--by", "Jane Smith, ACE").exit_code == 0
    type_into_scores(scored, "CI001", final_score="Dark green")  # "could be regarded as green now"
    checked = run("check", scored.folder)
    assert checked.exit_code == 1
    assert "CI001   Final score changed since sign-off without a note: Light green to Dark green" in checked.output
    assert "signed off as Light green by Jane Smith, ACE on " in checked.output
    type_into_scores(scored, "CI001", moderation_note="Evidence of the new complaints process seen.")
    checked = run("check", scored.folder)
    assert checked.exit_code == 0, checked.output
    assert "CI001   Final score changed since sign-off: Light green to Dark green" in checked.output
    run("report", scored.folder)
    assert scores_row(scored, "CI001")["Signed-off score"] == "Light green"
    # The titles never show a changed map as signed off.
    workbook = openpyxl.load_workbook(scored.report)
    for sheet in ("Summary", "Heat map"):
        assert workbook[sheet]["A2"].value.endswith(
            "signed off by Jane Smith, ACE on " + workbook[sheet]["A2"].value.split(" on ")[-1].split(";")[0]
            + "; 1 final score changed since (CI001), not signed off")


def test_a_title_says_signed_off_while_the_scores_are_those_signed_off(scored):
    run("signoff", scored.folder, "--by", "Jane Smith, ACE", "--accept-open")
    [signoff] = open_assessment(scored.folder).records.signoffs()
    run("report", scored.folder)
    workbook = openpyxl.load_workbook(scored.report)
    for sheet in ("Summary", "Heat map"):
        assert workbook[sheet]["A2"].value.endswith(
            f"; signed off by Jane Smith, ACE on {dt.datetime.fromisoformat(signoff.signed_at):%d %B %Y %H:%M} "
            "with 1 high-severity finding still open")


def test_signing_off_again_keeps_the_earlier_sign_off(scored):
    run("signoff", scored.folder, "--by", "Jane Smith, ACE", "--accept-open")
    again = run("signoff", scored.folder, "--by", "Tom Ng, Chief Executive", "--accept-open")
    assert "1 earlier sign-off is kept." in again.output
    assert [s.signed_by for s in open_assessment(scored.folder).records.signoffs()] == [
        "Jane Smith, ACE", "Tom Ng, Chief Executive"]
    run("report", scored.folder)
    assert "signed off by Tom Ng, Chief Executive" in openpyxl.load_workbook(scored.report)["Summary"]["A2"].value


def test_sign_off_needs_someone_to_sign(scored):
    result = run("signoff", scored.folder, "--by", "  ")
    assert result.exit_code == 1 and 'Say who signs off: --by "Name, Role".' in result.output


def test_the_spread_and_threshold_chosen_once_hold_for_report_check_and_sign_off(scored):
    """A looser spread given to one command is not a way round the sign-off gate: it is kept for all."""
    assert run("check", scored.folder, "--spread", "4").exit_code == 0  # 3 steps apart: not a disagreement at 4
    assert run("check", scored.folder).exit_code == 0  # still 4
    assert run("signoff", scored.folder, "--by", "Jane Smith, ACE").exit_code == 0
    assert run("check", scored.folder, "--spread", "2").exit_code == 1  # back to 2: L001 is open again
    refused = run("signoff", scored.folder, "--by", "Jane Smith, ACE")
    assert refused.exit_code == 1 and "1 high-severity findings are still open" in refused.output
    run("report", scored.folder, "--action-threshold", "light GREEN")
    plan = [r[1] for r in openpyxl.load_workbook(scored.report)["Action plan"].iter_rows(min_row=2, values_only=True)]
    run("report", scored.folder)
    again = [r[1] for r in openpyxl.load_workbook(scored.report)["Action plan"].iter_rows(min_row=2, values_only=True)]
    assert again == plan and "G001" in plan  # Light green is on the plan while that threshold is kept


def test_a_score_first_given_after_sign_off_is_shown_as_changed_from_blank(generated):
    assessment, generation = generated
    refs = {rid: [ref for ref, ids in generation.allocation.items() if rid in ids] for rid in generation.files}
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx", {ref: ("Light green", "Fine.", "") for ref in refs["R01"]})
    run("ingest", assessment.folder)
    assert run("signoff", assessment.folder, "--by", "Jane Smith, ACE", "--accept-open").exit_code == 0
    [signoff] = open_assessment(assessment.folder).records.signoffs()
    when = f"{signoff.signed_at[:10]} {signoff.signed_at[11:16]}"
    answer(generation.files["R02"], assessment.inbox / "R02.xlsx", {ref: ("Amber", "Weak.", "Gap.") for ref in refs["R02"]})
    run("ingest", assessment.folder)
    changed = [f for f in json.loads(run("check", assessment.folder, "--json").stdout)["findings"]
               if f["kind"].startswith("CHANGED_SINCE_SIGNOFF")]
    framework = load_framework(assessment.workbook)
    assert changed == [{"kind": "CHANGED_SINCE_SIGNOFF_NO_NOTE", "severity": "medium", "ref": ref,
                        "theme": framework.characteristic(ref).theme.name,
                        "finding": "Final score changed since sign-off without a note: blank to Amber",
                        "reviewers": [], "resolved": "",
                        "evidence": f"signed off as blank by Jane Smith, ACE on {when}; now Amber; say why in "
                                    "'Moderation note'"} for ref in refs["R02"]]
    run("report", assessment.folder)
    type_into_scores(assessment, refs["R02"][0], moderation_note="Returned late; Amber agreed.")
    noted = [f for f in json.loads(run("check", assessment.folder, "--json").stdout)["findings"]
             if f["ref"] == refs["R02"][0] and f["kind"].startswith("CHANGED_SINCE_SIGNOFF")]
    assert [(f["kind"], f["severity"], f["finding"], f["evidence"]) for f in noted] == [(
        "CHANGED_SINCE_SIGNOFF", "low", "Final score changed since sign-off: blank to Amber",
        f"signed off as blank by Jane Smith, ACE on {when}; now Amber; note: 'Returned late; Amber agreed.'")]


def test_a_characteristic_added_after_sign_off_is_not_said_to_have_changed_until_it_is_scored(scored):
    assert run("signoff", scored.folder, "--by", "Jane Smith, ACE", "--accept-open").exit_code == 0
    workbook = openpyxl.load_workbook(scored.workbook)
    workbook["Characteristics"].append(["G002", "Governance", "Open meetings", "We hold them.", "Minutes", "", ""])
    workbook.save(scored.workbook)
    findings = json.loads(run("check", scored.folder, "--json").stdout)["findings"]
    assert [f for f in findings if f["kind"].startswith("CHANGED_SINCE_SIGNOFF")] == []
    assert [f["ref"] for f in findings if f["kind"] == "NO_USABLE_SCORE"] == ["G002"]



def test_a_spread_and_threshold_given_to_sign_off_decide_it_and_are_kept_for_the_report(scored):
    """L001's reviewers are 3 steps apart: no disagreement at --spread 4, so nothing open stops the sign-off."""
    signed = run("signoff", scored.folder, "--by", "Jane Smith, ACE", "--spread", "4", "--action-threshold", "light green")
    assert signed.exit_code == 0, signed.output
    assert "high-severity" not in signed.output
    [signoff] = open_assessment(scored.folder).records.signoffs()
    assert signoff.open_high == 0
    findings = json.loads(run("check", scored.folder, "--json").stdout)["findings"]
    assert not [f for f in findings if f["ref"] == "L001" and f["severity"] == "high"]  # the spread is kept
    run("report", scored.folder)
    plan = [r[1] for r in openpyxl.load_workbook(scored.report)["Action plan"].iter_rows(min_row=2, values_only=True)]
    assert "G001" in plan  # Light green is on the plan: the threshold is kept


@pytest.fixture
def one_silent(generated):
    """Every reviewer but R03 (Cai Wyn) has returned, Light green throughout; L001 was issued to R01 and R03."""
    assessment, generation = generated
    for reviewer_id, path in generation.files.items():
        if reviewer_id != "R03":
            refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
            answer(path, assessment.inbox / f"{reviewer_id}.xlsx", {ref: ("Light green", "Fine.", "None") for ref in refs})
    assert run("ingest", assessment.folder).exit_code == 0
    assert run("report", assessment.folder).exit_code == 0
    return assessment, generation


def test_sign_off_names_a_reviewer_who_returned_nothing_and_what_fewer_scored_and_records_it(one_silent):
    assessment, generation = one_silent
    silent = sorted(ref for ref, ids in generation.allocation.items() if "R03" in ids)
    result = run("signoff", assessment.folder, "--by", "Jane Smith, Assistant Chief Executive", "--accept-open")
    assert result.exit_code == 0, result.output
    assert f"warning: 1 reviewer returned nothing: R03 Cai Wyn (none of {len(silent)})" in result.output
    short = {ref: (1 if ref == "L001" else 0, 2 if ref == "L001" else 1) for ref in silent}
    assert f"{len(silent)} characteristics scored by fewer reviewers than they were issued to" in result.output
    assert "L001 (1 of 2)" in result.output
    [signoff] = open_assessment(assessment.folder).records.signoffs()
    assert signoff.not_returned == (f"R03 Cai Wyn (none of {len(silent)})",)
    assert signoff.short == short


def test_sign_off_with_every_return_in_says_nothing_is_missing(scored):
    result = run("signoff", scored.folder, "--by", "Jane Smith, Assistant Chief Executive", "--accept-open")
    assert "returned nothing" not in result.output and "fewer reviewers" not in result.output
    [signoff] = open_assessment(scored.folder).records.signoffs()
    assert (signoff.not_returned, signoff.short) == ((), {})


def test_a_return_after_sign_off_says_which_signed_off_scores_it_changes_and_so_does_the_report(one_silent):
    assessment, generation = one_silent
    assert run("signoff", assessment.folder, "--by", "Jane Smith, Chief Executive", "--accept-open").exit_code == 0
    silent = sorted(ref for ref, ids in generation.allocation.items() if "R03" in ids)
    late = {ref: ("Amber", "Late.", "Gaps") for ref in silent}
    answer(generation.files["R03"], assessment.inbox / "R03 late.xlsx", late)
    result = run("ingest", assessment.folder)
    assert result.exit_code == 0, result.output
    today = dt.date.today().isoformat()
    changes = [f"{ref} {'Light green' if ref == 'L001' else 'blank'} to Amber" for ref in silent]
    assert (f"warning: the new answers change {len(silent)} final scores signed off on {today}: "
            f"{', '.join(changes)}.") in result.output
    again = run("ingest", assessment.folder)  # nothing new: nothing said
    assert "signed off" not in again.output
    reported = run("report", assessment.folder)
    assert (f"warning: {len(silent)} final scores differ from the sign-off of {today}: {', '.join(changes)}; "
            "marked as changed since sign-off") in reported.output


def test_a_return_after_sign_off_that_changes_no_final_score_says_nothing_of_sign_off(scored):
    assert run("signoff", scored.folder, "--by", "Jane Smith, Chief Executive", "--accept-open").exit_code == 0
    assessment = open_assessment(scored.folder)
    [issue] = [i for i in assessment.records.issues() if i.reviewer_id == "R02"]
    source = assessment.outbox / issue.file
    answer(source, assessment.inbox / "R02 again.xlsx", {ref: ("Light green", "Still fine.", "None") for ref in issue.refs})
    result = run("ingest", scored.folder)
    assert "accepted" in result.output and "signed off" not in result.output
    assert "differ from the sign-off" not in run("report", scored.folder).output
