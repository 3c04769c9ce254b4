"""The moderation round, end to end through the CLI: workbooks out, returns in, moderated scores in the
report with provenance, and the later of a typed and a returned moderation counting."""

from __future__ import annotations

import datetime as dt
import json
import os

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer, make_framework, set_saved_time

from bva_excel.app.new import create_assessment
from bva_excel.cli import cli
from bva_excel.model.identity import IDENTITY_SHEET
from bva_excel.store.folder import open_assessment

REVIEWERS = [[f"R0{n}", name, "", ""] for n, name in enumerate(
    ["Ann Lee", "Bob Stone", "Cai Wyn", "Dee Okafor", "Eve Marsh"], start=1)]
CHARACTERISTICS = [
    ["CI001", "Continuous improvement", "Services improve", "We improve.", "Plan A", "R04", "R01, R02"],
    ["L001", "Leadership", "Clear vision", "We have one.", "Plan C", "R05", "R01, R03"],
    ["G001", "Governance", "Robust scrutiny", "It is robust.", "Minutes", "", "R02, R03"],
]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def moderate(source, target, moderations: dict, saved: dt.datetime | None = None):
    """Fill a moderation workbook as a moderator would: ref -> (moderated score, note)."""
    workbook = openpyxl.load_workbook(source)
    sheet = workbook["Moderation"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        ref = sheet.cell(row, headers["Ref"]).value
        if ref in moderations:
            sheet.cell(row, headers["Moderated score"], moderations[ref][0])
            sheet.cell(row, headers["Moderation note"], moderations[ref][1])
    workbook.save(target)
    set_saved_time(target, saved or dt.datetime(2026, 12, 10, 9, 0))
    return target


@pytest.fixture
def scored(tmp_path):
    """CI001 and L001 three steps apart (open high findings); G001 agreed."""
    return scored_assessment(tmp_path, CHARACTERISTICS)


def scored_assessment(tmp_path, characteristics):
    """An assessment of `characteristics` with the reviewers' returns ingested (see `scored`)."""
    framework = make_framework(tmp_path / "f.xlsx", characteristics=characteristics, reviewers=REVIEWERS)
    assessment = create_assessment(tmp_path / "BV 2026", framework, "Moderated")
    assert run("generate", assessment.folder).exit_code == 0
    given = {"R01": {"CI001": "Dark green", "L001": "Dark green"}, "R02": {"CI001": "Amber", "G001": "Light green"},
             "R03": {"L001": "Amber", "G001": "Light green"}}
    for path in assessment.outbox.iterdir():
        reviewer_id = path.name.split()[2]
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: (rating, "Seen.", "A gap.") for ref, rating in given[reviewer_id].items()})
    assert run("ingest", assessment.folder).exit_code == 0
    return assessment


def moderated_how(assessment, ref: str) -> tuple[str, str]:
    """What `bva detail` says of the moderated score of `ref`: the rating shown, and how it was set."""
    from test_detail import after

    assert run("detail", assessment.folder, ref).exit_code == 0
    sheet = openpyxl.load_workbook(assessment.folder / "detail" / f"detail {ref}.xlsx")[ref]
    return after(sheet, "Moderated score").value, after(sheet, "Moderated score", column=2).value


def test_moderation_workbooks_share_out_open_findings_to_moderators_who_had_no_part(scored):
    result = run("generate", scored.folder, "--moderation", "--moderators", "R04,R05")
    assert result.exit_code == 0, result.output
    # CI001 was drafted by R04, L001 by R05: each goes to the other.
    assert "BV moderation R04 Dee Okafor.xlsx  (1 characteristic: L001)" in result.output
    assert "BV moderation R05 Eve Marsh.xlsx  (1 characteristic: CI001)" in result.output
    workbook = openpyxl.load_workbook(scored.outbox / "BV moderation R05 Eve Marsh.xlsx")
    sheet = workbook["Moderation"]
    row = {h.value: c.value for h, c in zip(sheet[1], sheet[2])}
    assert row["Ref"] == "CI001" and row["Consolidated score"] == "Amber"
    assert row["Reviewers' scores"].startswith("R01 Ann Lee: Dark green\nCommentary: Seen.\nGaps: A gap.")
    assert "Reviewers are 3 scale steps apart (R01 Dark green, R02 Amber)" in row["Findings"]
    assert sheet.protection.sheet and not sheet["H2"].protection.locked and sheet["D2"].protection.locked
    assert [v.formula1 for v in sheet.data_validations.dataValidation] == [
        '"Dark green,Light green,Yellow,Amber,Red,Grey"']
    identity = {r[0].value: r[1].value for r in workbook[IDENTITY_SHEET].iter_rows()}
    assert identity["format"] == "bva-excel moderation workbook 1" and identity["refs"] == "CI001"



def test_characteristics_open_to_several_moderators_are_shared_out_evenly(tmp_path):
    """Nine characteristics, each open to three of the four moderators (the fourth drafted it): each moderator
    gets two or three, never one they drafted, and every characteristic goes to one moderator."""
    moderators = ["R04", "R05", "R06", "R07"]
    reviewers = REVIEWERS + [["R06", "Fay Hart", "", ""], ["R07", "Gus Lowe", "", ""]]
    characteristics = [[f"{prefix}00{n}", theme, f"Item {n}", "We do.", "Plan", moderators[(3 * index + n - 1) % 4],
                        "R01, R02" if n % 2 else "R02, R03"]
                       for index, (prefix, theme) in enumerate([("CI", "Continuous improvement"), ("L", "Leadership"),
                                                                ("G", "Governance")])
                       for n in (1, 2, 3)]
    framework = make_framework(tmp_path / "f.xlsx", characteristics=characteristics, reviewers=reviewers)
    assessment = create_assessment(tmp_path / "BV 2026", framework, "Shared")
    assert run("generate", assessment.folder).exit_code == 0
    result = run("generate", assessment.folder, "--moderation", "--all", "--moderators", ",".join(moderators))
    assert result.exit_code == 0, result.output
    shares = {i.reviewer_id: i.refs for i in open_assessment(assessment.folder).records.issues()
              if i.kind == "moderation"}
    assert sorted(ref for refs in shares.values() for ref in refs) == sorted(c[0] for c in characteristics)
    drafted = {c[0]: c[5] for c in characteristics}
    assert not [(moderator, ref) for moderator, refs in shares.items() for ref in refs if drafted[ref] == moderator]
    assert sorted(len(shares.get(moderator, ())) for moderator in moderators) == [2, 2, 2, 3]


@pytest.mark.parametrize("final, said", [
    ("Amber", "- A senior officer has typed a final score of Amber in the report."),
    ("Gren", "- A senior officer has typed a final score of Gren in the report, which is not a rating.")])
def test_a_moderator_sees_a_score_already_moderated_or_typed_as_final_in_the_report(scored, final, said):
    run("report", scored.folder)
    workbook = openpyxl.load_workbook(scored.report)
    scores = workbook["Scores"]
    scores["E2"], scores["F2"] = "Yellow", "Panel view."  # CI001, moderated by hand
    scores["G3"] = final  # L001, a senior officer's final score over the formula
    workbook.save(scored.report)
    result = run("generate", scored.folder, "--moderation", "--all", "--moderators", "R04,R05")
    assert result.exit_code == 0, result.output
    findings = {}
    for path in scored.outbox.glob("BV moderation *.xlsx"):
        sheet = openpyxl.load_workbook(path)["Moderation"]
        findings.update({row[0]: row[6] for row in sheet.iter_rows(min_row=2, values_only=True)})
    assert findings["CI001"].splitlines()[0] == "- Moderated already in the report: Yellow (Panel view.)."
    assert findings["L001"].splitlines()[0] == said
    assert findings["G001"] == "None open."

def test_a_moderation_return_sets_the_moderated_score_with_its_provenance(scored):
    run("generate", scored.folder, "--moderation", "--moderators", "R04,R05")
    moderate(scored.outbox / "BV moderation R05 Eve Marsh.xlsx", scored.inbox / "moderation R05.xlsx",
             {"CI001": ("Yellow", "Evidence supports partly in place.")})
    ingested = run("ingest", scored.folder)
    assert ingested.exit_code == 0, ingested.output
    assert "accepted   moderation R05.xlsx  (R05 Eve Marsh, answered 1/1)" in ingested.output
    assert run("report", scored.folder).exit_code == 0
    workbook = openpyxl.load_workbook(scored.report)
    scores = {r[0]: dict(zip([c.value for c in workbook["Scores"][1]], r))
              for r in workbook["Scores"].iter_rows(min_row=2, values_only=True)}
    assert (scores["CI001"]["Moderated score"], scores["CI001"]["Moderation note"]) == (
        "Yellow", "Evidence supports partly in place.")
    assert scores["CI001"]["Consolidated score"] == "Amber"  # the reviewers' answers are untouched
    responses = [dict(zip([c.value for c in workbook["Responses"][1]], r))
                 for r in workbook["Responses"].iter_rows(min_row=2, values_only=True)]
    [row] = [r for r in responses if r["Round"] == "Moderation"]
    assert (row["Ref"], row["Reviewer ID"], row["Score"], row["File"], row["Sheet"], row["Cell"]) == (
        "CI001", "R05", "Yellow", "moderation R05.xlsx", "Moderation", "H2")
    assert row["Received"]
    checked = run("check", scored.folder).output
    assert "resolved: moderated to Yellow: Evidence supports partly in place." in checked
    # Nothing was typed in the report: one moderated score, so nothing overruled (the next test finds one).
    kinds = [f["kind"] for f in json.loads(run("check", scored.folder, "--json").stdout)["findings"]]
    assert "MODERATION_OVERRULED" not in kinds


def test_the_later_of_a_typed_and_a_returned_moderation_counts_and_check_says_which(scored):
    run("generate", scored.folder, "--moderation", "--moderators", "R04,R05")
    run("report", scored.folder)
    workbook = openpyxl.load_workbook(scored.report)  # typed by hand first
    workbook["Scores"]["E2"] = "Red"
    workbook["Scores"]["F2"] = "Typed before the round."
    workbook.save(scored.report)
    earlier = dt.datetime.now().timestamp() - 3600
    os.utime(scored.report, (earlier, earlier))
    moderate(scored.outbox / "BV moderation R05 Eve Marsh.xlsx", scored.inbox / "moderation R05.xlsx",
             {"CI001": ("Yellow", "From the round.")})
    run("ingest", scored.folder)
    checked = run("check", scored.folder).output
    assert ("Red typed in report.xlsx was overruled by Yellow from R05's moderation return moderation R05.xlsx, "
            "received later") in checked
    received = next(r.received for r in open_assessment(scored.folder).records.returns()
                    if r.name == "moderation R05.xlsx")
    assert moderated_how(scored, "CI001") == (
        "Yellow", f"Set by R05 Eve Marsh in the moderation round: return moderation R05.xlsx, cell H2, received "
                  f"{dt.datetime.fromisoformat(received):%d %b %Y %H:%M}. Earlier: Red typed in report.xlsx was "
                  "overruled by Yellow from R05's moderation return moderation R05.xlsx, received later.")
    found = [f for f in json.loads(run("check", scored.folder, "--json").stdout)["findings"]
             if f["kind"] == "MODERATION_OVERRULED"]  # one finding, saying which of the two counts
    assert [(f["severity"], f["ref"], f["theme"], f["finding"], f["reviewers"]) for f in found] == [
        ("low", "CI001", "Continuous improvement", "Two moderated scores: the later one counts", [])]
    run("report", scored.folder)  # the return's moderation is written in; now someone types over it later
    workbook = openpyxl.load_workbook(scored.report)
    assert workbook["Scores"]["E2"].value == "Yellow"
    workbook["Scores"]["E2"] = "Light green"
    workbook["Scores"]["F2"] = "Senior moderator's view after the workshop."
    workbook.save(scored.report)
    later = dt.datetime.now().timestamp() + 60  # typed a minute after the return came in
    os.utime(scored.report, (later, later))
    checked = run("check", scored.folder).output
    assert ("Yellow from R05's moderation return moderation R05.xlsx was overruled by Light green typed in "
            "report.xlsx later") in checked
    rating, words = moderated_how(scored, "CI001")
    assert (rating, words.split("; the report was last saved ")[0]) == (
        "Light green", "Typed into report.xlsx ('Scores', Moderated score)")
    assert words.endswith(". Who typed it is not recorded. Earlier: Yellow from R05's moderation return moderation "
                          "R05.xlsx was overruled by Light green typed in report.xlsx later.")
    run("report", scored.folder)
    assert openpyxl.load_workbook(scored.report)["Scores"]["E2"].value == "Light green"
    trail = json.loads(run("changes", scored.folder, "--json").stdout)["changes"]
    [typed_later] = [c for c in trail if c["field"] == "Moderated score" and c["after"] == "Light green"]
    assert typed_later["before"] == "Yellow" and typed_later["source"].startswith("typed in report.xlsx")


def test_a_final_score_typed_in_the_report_still_counts_after_a_moderation_return(scored):
    run("generate", scored.folder, "--moderation", "--moderators", "R04,R05")
    run("report", scored.folder)
    workbook = openpyxl.load_workbook(scored.report)
    workbook["Scores"]["G2"] = "Light green"  # the panel's final word on CI001, typed over the formula
    workbook.save(scored.report)
    moderate(scored.outbox / "BV moderation R05 Eve Marsh.xlsx", scored.inbox / "moderation R05.xlsx",
             {"CI001": ("Yellow", "From the round.")})
    assert run("ingest", scored.folder).exit_code == 0
    assert run("report", scored.folder).exit_code == 0
    scores = openpyxl.load_workbook(scored.report)["Scores"]
    assert (scores["E2"].value, scores["G2"].value) == ("Yellow", "Light green")


def test_a_moderator_never_gets_what_they_drafted_or_scored(scored):
    refused = run("generate", scored.folder, "--moderation", "--moderators", "R01,R04")
    assert refused.exit_code == 1
    assert refused.output.splitlines() == [
        "error: no moderator who had no part in them can be given CI001 (1 of the 2 characteristics to moderate; "
        "moderators: R01, R04; a moderator may not have drafted a characteristic, or scored it or been sent it to "
        "score). Name more moderators with --moderators, people on 'Reviewers' who did not review these (add them "
        "to 'Reviewers' first if they are not there). Nothing was issued."]
    assert not list(scored.outbox.glob("BV moderation*"))


def test_a_reviewer_still_due_to_return_is_not_made_a_moderator_of_what_they_were_sent(tmp_path):
    framework = make_framework(tmp_path / "f.xlsx", characteristics=CHARACTERISTICS, reviewers=REVIEWERS)
    assessment = create_assessment(tmp_path / "BV 2026", framework)
    run("generate", assessment.folder)
    answer(assessment.outbox / "BV review R01 Ann Lee.xlsx", assessment.inbox / "R01.xlsx",
           {"CI001": ("Dark green", "Strong.", "A real gap remains."), "L001": ("Dark green", "Strong.", "")})
    answer(assessment.outbox / "BV review R03 Cai Wyn.xlsx", assessment.inbox / "R03.xlsx",
           {"L001": ("Amber", "Weak.", "Gap."), "G001": ("Light green", "Fine.", "")})
    run("ingest", assessment.folder)  # R02 has not yet returned CI001, which is open (a top score with gaps)
    result = run("generate", assessment.folder, "--moderation", "--moderators", "r02, R05")  # IDs in any case
    assert result.exit_code == 0, result.output
    issued = {i.reviewer_id: i.refs for i in open_assessment(assessment.folder).records.issues()
              if i.kind == "moderation"}
    assert issued == {"R05": ("CI001",), "R02": ("L001",)}  # not CI001 to R02, who may still score it


def test_moderation_options_are_checked(scored):
    assert run("generate", scored.folder, "--moderation").exit_code == 2
    assert run("generate", scored.folder, "--moderators", "R04").exit_code == 2
    unknown = run("generate", scored.folder, "--moderation", "--moderators", "R4")
    assert unknown.exit_code == 1 and "did you mean 'R04'" in unknown.output
    everything = run("generate", scored.folder, "--moderation", "--moderators", "R04,R05", "--all")
    assert everything.exit_code == 0, everything.output
    issued = [i for i in open_assessment(scored.folder).records.issues() if i.kind == "moderation"]
    assert sorted(ref for i in issued for ref in i.refs) == ["CI001", "G001", "L001"]


def test_the_report_counts_each_answer_of_a_moderation_return(tmp_path):
    characteristics = [row[:5] + (["R04"] if row[0] == "L001" else row[5:6]) + row[6:] for row in CHARACTERISTICS]
    assessment = scored_assessment(tmp_path, characteristics)  # both open findings drafted by R04
    assert run("generate", assessment.folder, "--moderation", "--moderators", "R05").exit_code == 0
    moderate(assessment.outbox / "BV moderation R05 Eve Marsh.xlsx", assessment.inbox / "moderation R05.xlsx",
             {"CI001": ("Yellow", "Partly in place."), "L001": ("Light green", "Vision agreed.")})
    run("ingest", assessment.folder)
    assert run("report", assessment.folder).exit_code == 0
    returns = {r[0]: r for r in openpyxl.load_workbook(assessment.report)["Returns"].iter_rows(min_row=2,
                                                                                              values_only=True)}
    assert returns["moderation R05.xlsx"][4:6] == ("accepted", 2)
    assert returns["R01.xlsx"][4:6] == ("accepted", 2) and returns["R02.xlsx"][4:6] == ("accepted", 2)


def test_issue_moderation_writes_what_generate_moderation_writes(scored, monkeypatch):
    from conftest import issued_alike

    options = ["--moderators", "R04,R05", "--all", "--deadline", "2027-01-08"]
    by_issue, by_generate = issued_alike(scored.folder, ["issue", "moderation", "FOLDER", *options],
                                         ["generate", "FOLDER", "--moderation", *options], monkeypatch)
    assert by_issue == by_generate
    assert by_issue[0] == 0, by_issue[1]
    shown = [value for name, held in by_issue[2].items() if name.startswith("BV moderation") for value in held.values()]
    assert "Please return it by Friday 08 January 2027." in shown
    assert {"CI001", "L001", "G001"} <= set(shown)  # --all: the agreed G001 too


def test_issue_moderation_with_no_moderator_named_is_a_usage_error_and_writes_nothing(scored):
    result = run("issue", "moderation", scored.folder, "--moderators", " , ")
    assert result.exit_code == 2
    assert '--moderators needs at least one reviewer ID, e.g. --moderators "R05,R06".' in result.output
    assert not [p for p in (scored.folder / "outbox").iterdir() if p.name.startswith("BV moderation")]
