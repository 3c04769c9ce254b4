"""bva detail: how each score was reached, in the words a committee member reads, for characteristics in every
state (three scores, two, one, Grey only, none; moderated by typing, with a word that is no rating; a reviewer
taken off the list since), and the file named after what was asked for."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer, make_framework
from progress_helpers import type_plan
from test_detail import after

from bva_excel.app.detail import when
from bva_excel.app.ingest import ingest
from bva_excel.app.new import create_assessment
from bva_excel.app.report import write_report
from bva_excel.cli import cli
from bva_excel.store.folder import open_assessment

CHARACTERISTICS = [  # Ref, Theme, Characteristic, Position statement, Evidence, Drafted by, Reviewers
    ["CI001", "Continuous improvement", "Services improve", "We improve.", "Plan A", "", "R01, R02, R03"],
    ["CI002", "Continuous improvement", "Peer challenge", "We invite it.", "Report B", "", "R01, R02"],
    ["L001", "Leadership", "Clear vision", "We have one.", "Plan C", "", "R01"],
    ["G001", "Governance", "Robust scrutiny", "It is robust.", "Minutes", "", "R02"],
    ["R001", "Use of resources", "Internal control", "It works.", "Audit", "", "R03"],
    ["SD001", "Service delivery", "Customer focus", "We listen.", "Survey", "", "R01"],
    ["SD002", "Service delivery", "Complaints", "We learn.", "Log", "", "R02"],
    ["SD003", "Service delivery", "Digital access", "Online.", "Stats", "", "R01, R02"],
    ["SD004", "Service delivery", "Working with partners", "We do.", "MoUs", "", "R01, R02"],
]
GIVEN = {"R01": {"CI001": "Dark green", "CI002": "Dark green", "L001": "Yellow", "SD001": "Light green", "SD003": "Grey",
                 "SD004": "Grey"},
         "R02": {"CI001": "Amber", "CI002": "Amber", "G001": "Grey", "SD002": "Light green", "SD003": "Grey",
                 "SD004": "Amber"},
         "R03": {"CI001": "Yellow"}}  # R03 leaves R001 blank


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def reached(tmp_path):
    """Every reviewer has returned; the report is written; SD001 is moderated to Yellow by typing (no note),
    SD002 is typed 'Gren', which is no rating, and CI002's action is given an owner typed as a number (a staff
    number); then R03 is taken off 'Reviewers' (and off CI001 and R001)."""
    framework = make_framework(tmp_path / "f.xlsx", characteristics=CHARACTERISTICS)
    assessment = create_assessment(tmp_path / "BV", framework, "How")
    assert run("generate", assessment.folder).exit_code == 0
    for path in assessment.outbox.iterdir():
        reviewer_id = path.name.split()[2]
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: (rating, "Seen.", "A gap." if rating != "Grey" else "") for ref, rating in GIVEN[reviewer_id].items()})
    ingest(assessment)
    write_report(assessment)
    workbook = openpyxl.load_workbook(assessment.report)
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    for row in range(2, scores.max_row + 1):
        typed = {"SD001": "Yellow", "SD002": "Gren"}.get(scores.cell(row, 1).value)
        if typed:
            scores.cell(row, headers.index("Moderated score") + 1, typed)
    workbook.save(assessment.report)
    type_plan(assessment.report, {"ACT-CI002": {"Action": "Invite a peer review", "Owner": 1042.0}})
    workbook = openpyxl.load_workbook(assessment.workbook)
    workbook["Reviewers"].delete_rows(4)  # R03, and where R03 was listed to review
    workbook["Characteristics"]["G2"], workbook["Characteristics"]["G6"] = "R01, R02", "R01"
    workbook.save(assessment.workbook)
    return assessment


def how(sheet, label: str) -> tuple[str, str]:
    """The score shown beside `label` under 'How the score was reached', and the words beside it."""
    return after(sheet, label, start="How the score was reached").value, after(
        sheet, label, start="How the score was reached", column=2).value


def test_how_each_score_was_reached_is_said_in_words(reached):
    assert run("detail", reached.folder, "all").exit_code == 0
    workbook = openpyxl.load_workbook(reached.folder / "detail" / "detail all characteristics.xlsx")
    assert how(workbook["CI001"], "Consolidated score") == (
        "Yellow", "The median of 3 reviewers' scores: R01 Ann Lee Dark green, R02 Bob Stone Amber, "
                  "R03 (no longer listed) Yellow.")
    assert how(workbook["CI002"], "Consolidated score") == (
        "Amber", "The median of 2 reviewers' scores (the lower of the two middle ratings, as their number is even): "
                 "R01 Ann Lee Dark green, R02 Bob Stone Amber.")
    assert how(workbook["CI002"], "Moderated score") == ("none", "Not moderated.")
    assert how(workbook["CI002"], "Final score") == ("Amber", "The consolidated score (not moderated).")
    assert how(workbook["CI002"], "Signed-off score") == ("none", "Not signed off yet.")
    assert after(workbook["CI002"], "Owner", start="ACT-CI002: Invite a peer review").value == "1042"
    assert how(workbook["L001"], "Consolidated score") == ("Yellow", "The only reviewer's score: R01 Ann Lee.")
    assert how(workbook["G001"], "Consolidated score") == (
        "Grey", "Grey: not scored (R02 Bob Stone); it is never averaged.")
    assert how(workbook["SD003"], "Consolidated score") == (
        "Grey", "Grey: not scored (R01 Ann Lee, R02 Bob Stone); it is never averaged.")
    assert how(workbook["SD004"], "Consolidated score") == (  # a Grey beside a score: said, never averaged
        "Amber", "The only reviewer's score: R02 Bob Stone. Grey from R01 Ann Lee is not a score and is never "
                 "averaged.")
    assert how(workbook["R001"], "Consolidated score") == ("none", "No reviewer has scored it yet.")
    assert how(workbook["R001"], "Final score") == ("none", "Not scored yet.")
    moderated = how(workbook["SD001"], "Moderated score")
    assert moderated[0] == "Yellow"
    assert moderated[1].startswith("Typed into report.xlsx ('Scores', Moderated score); the report was last saved ")
    assert moderated[1].endswith(". Who typed it is not recorded. No note says why.")
    assert how(workbook["SD002"], "Moderated score") == (
        "Gren", "'Gren' was typed into report.xlsx, but it is not a rating on the scale, so it is not used. No note "
                "says why.")
    assert how(workbook["SD002"], "Final score") == ("Light green", "The consolidated score (not moderated).")


@pytest.mark.parametrize("asked, name", [
    (["all"], "detail all characteristics.xlsx"),
    (["all", "L001"], "detail 9 characteristics.xlsx"),
    (["ci", "G001"], "detail CI001 CI002 G001.xlsx"),
    (["service delivery"], "detail Service delivery.xlsx")])
def test_the_file_is_named_after_what_was_asked_for(reached, asked, name):
    result = run("detail", reached.folder, *asked)
    assert result.exit_code == 0, result.output
    assert (reached.folder / "detail" / name).is_file(), result.output



def _type_moderated(assessment, ref: str, rating: str) -> None:
    workbook = openpyxl.load_workbook(assessment.report)
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == ref)
    scores.cell(row, headers.index("Moderated score") + 1, rating)
    scores.cell(row, headers.index("Moderation note") + 1, f"{rating} on a second look.")
    workbook.save(assessment.report)


def test_the_sign_off_is_told_with_its_open_findings_a_score_changed_since_and_every_earlier_one(reached):
    """Two sign-offs, a score moderated between them and again after the second, and a characteristic added to
    the framework since: the detail says each, in order, as a committee member reads it."""
    folder = reached.folder
    assert run("report", folder).exit_code == 0
    assert run("signoff", folder, "--by", "Jane Smith", "--accept-open").exit_code == 0
    _type_moderated(reached, "SD002", "Amber")
    assert run("report", folder).exit_code == 0
    assert run("signoff", folder, "--by", "Alex Morgan", "--accept-open").exit_code == 0
    _type_moderated(reached, "SD002", "Red")
    assert run("report", folder).exit_code == 0
    workbook = openpyxl.load_workbook(reached.workbook)
    workbook["Characteristics"].append(["SD009", "Service delivery", "Added since", "We will.", "Plan", "", ""])
    workbook.save(reached.workbook)
    signoffs = open_assessment(folder).records.signoffs()
    high = signoffs[-1].open_high
    assert high >= 1  # the open findings accepted are said
    assert run("detail", folder, "SD002", "SD009").exit_code == 0
    detail = openpyxl.load_workbook(folder / "detail" / "detail SD002 SD009.xlsx")
    score, said = how(detail["SD002"], "Signed-off score")
    assert score == "Amber"
    open_findings = (f", with {high} high-severity finding{'s' * (high != 1)} still open across the assessment "
                     "(accepted)") if high else ""
    assert said == (f"Signed off by Alex Morgan on {when(signoffs[-1].signed_at)}{open_findings}. The final score "
                    f"has changed since: it is now Red. Earlier sign-off: Light green by Jane Smith on "
                    f"{when(signoffs[0].signed_at)}.")
    assert how(detail["SD009"], "Signed-off score")[1].endswith(
        ". This characteristic was not in the framework then. Earlier sign-off: blank by Jane Smith on "
        f"{when(signoffs[0].signed_at)}.")


def test_a_score_typed_into_a_report_since_deleted_is_told_without_a_time_it_was_saved(reached):
    folder = reached.folder
    assert run("report", folder).exit_code == 0  # what was typed is seen, and kept in the records
    reached.report.unlink()
    assert run("detail", folder, "SD001").exit_code == 0
    detail = openpyxl.load_workbook(folder / "detail" / "detail SD001.xlsx")
    assert how(detail["SD001"], "Moderated score") == (
        "Yellow", "Typed into report.xlsx ('Scores', Moderated score). Who typed it is not recorded. No note says "
                  "why.")
