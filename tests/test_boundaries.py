"""Every boundary the README states, tried from both sides, as a user meets it: what `bva` prints,
its exit code, and the report's cells read back.

One small exercise is scored once for the module (below) and copied for each test, so a test can
write its report and type into it without touching the others.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import SCALE, answer, make_framework, shared

from bva_excel.app.issue import generate
from bva_excel.app.new import create_assessment
from bva_excel.cli import cli
from bva_excel.excel.read import screening
from bva_excel.excel.read.framework import load_framework
from bva_excel.excel.read.returns import read_return
from bva_excel.model.consistency import check
from bva_excel.model.consolidation import Consolidation, ReviewerProgress
from bva_excel.model.decisions import PreviousEdits, decide
from bva_excel.model.recorded import IssueRecord, Response
from bva_excel.store.folder import open_assessment

NONE = "None identified."
REVIEWERS = [[f"R0{n}", name, f"r{n}@example.gov.uk", "Service"]
             for n, name in enumerate(["Ann Lee", "Bob Stone", "Cai Wyn", "Dee Kaur", "Eve Roy"], start=1)]
# Ref (CI0004 as an officer might type it: it is CI004), theme, reviewers listed by the PMO.
LISTED = [("CI001", "Continuous improvement", "R01, R02"), ("CI002", "Continuous improvement", "R01, R02"),
          ("CI003", "Continuous improvement", "R01, R02"), ("CI0004", "Continuous improvement", "R01, R02"),
          ("L001", "Leadership", "R01, R02"), ("L002", "Leadership", "R01, R02"), ("L003", "Leadership", "R01, R02"),
          ("G001", "Governance", "R01"), ("G002", "Governance", "R02"), ("G003", "Governance", "R05"),
          ("R001", "Use of resources", "R01, R02, R03"), ("R002", "Use of resources", "R01, R02, R03, R04")]
# ref -> reviewer -> (score, commentary, gaps). R05 never returns.
SCORED = {
    "CI001": {"R01": ("Dark green", "Strong.", "n/a"), "R02": ("Light green", "Good.", NONE)},  # 1 step apart
    "CI002": {"R01": ("Dark green", "Strong.", NONE), "R02": ("Yellow", "Partly.", NONE)},  # 2 steps
    "CI003": {"R01": ("Dark green", "Strong.", NONE), "R02": ("Amber", "Weak.", NONE)},  # 3 steps
    "CI004": {"R01": ("Dark green", "Strong.", NONE), "R02": (" red ", "None at all.", NONE)},  # 4 steps
    "L001": {"R01": ("Grey", "Members decide.", NONE), "R02": ("Yellow", "Partly.", NONE)},  # Grey against a score
    "L002": {"R01": ("Grey", "Members decide.", NONE), "R02": ("GREY", "Not ours.", NONE)},  # Grey both: agreed
    "L003": {"R01": ("light  GREEN", "Good.", NONE), "R02": ("", "Cannot judge this one.", "")},  # blank: no score
    "G001": {"R01": ("Grey", "Members decide.", "Ask members for a decision on the budget")},  # Grey, gaps listed
    "G002": {"R02": ("Light green", "Good.", "Train the new scrutiny chairs")},  # Light green, gaps listed
    "R001": {"R01": ("Light green", "Good.", NONE), "R02": ("Yellow", "Partly.", NONE),
             "R03": ("Red", "Poor.", NONE)},  # odd: the median
    "R002": {"R01": ("Dark green", "Strong.", NONE), "R02": ("Dark green", "Strong.", NONE),
             "R03": ("Yellow", "Partly.", NONE), "R04": ("Red", "Poor.", NONE)},  # even: the lower middle
}
CONSOLIDATED = {"CI001": "Light green", "CI002": "Yellow", "CI003": "Amber", "CI004": "Red", "L001": "Yellow",
                "L002": "Grey", "L003": "Light green", "G001": "Grey", "G002": "Light green", "G003": "",
                "R001": "Yellow", "R002": "Yellow"}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def findings(folder: Path, *options) -> tuple[int, list[dict]]:
    result = run("check", folder, "--json", *options)
    return result.exit_code, json.loads(result.stdout)["findings"]


def of_kind(found: list[dict], kind: str) -> dict[str, str]:
    """ref (or reviewers, for a finding about a reviewer) -> severity, for the findings of one kind."""
    return {f["ref"] or ", ".join(f["reviewers"]): f["severity"] for f in found if f["kind"] == kind}


def sheet_rows(path: Path, sheet: str, data_only: bool = False) -> list[tuple]:
    return list(openpyxl.load_workbook(path, data_only=data_only)[sheet].iter_rows(values_only=True))


def by_ref(path: Path, sheet: str, data_only: bool = False) -> dict[str, dict]:
    rows = sheet_rows(path, sheet, data_only)
    return {row[rows[0].index("Ref")]: dict(zip(rows[0], row)) for row in rows[1:]}


@pytest.fixture(scope=shared("module"))
def exercise(tmp_path_factory) -> Path:
    """Twelve characteristics scored as in SCORED, every return but R05's ingested."""
    base = tmp_path_factory.mktemp("boundaries")
    rows = [[ref, theme, f"Characteristic {ref}", "We do.", "Minutes", "", listed] for ref, theme, listed in LISTED]
    framework = make_framework(base / "framework.xlsx", characteristics=rows, reviewers=REVIEWERS)
    assessment = create_assessment(base / "BV 2026", framework, "Boundaries")
    generation = generate(assessment)
    for reviewer_id in ("R01", "R02", "R03", "R04"):
        given = {ref: by[reviewer_id] for ref, by in SCORED.items() if reviewer_id in by}
        answer(generation.files[reviewer_id], assessment.inbox / f"{reviewer_id}.xlsx", given)
    assert run("ingest", assessment.folder).exit_code == 0
    assessment.records.close()
    return assessment.folder


@pytest.fixture
def folder(exercise, tmp_path) -> Path:
    return Path(shutil.copytree(exercise, tmp_path / "BV 2026"))


# Consolidation: one reviewer, theirs; several, the median, the lower middle when even; Grey never
# averaged; blank never a score. Ratings in any case and spacing; refs as prefix and number.

def test_the_consolidated_and_final_scores_in_the_report(folder):
    assert run("report", folder).exit_code == 0
    scores = by_ref(folder / "report.xlsx", "Scores", data_only=True)
    assert list(scores) == list(CONSOLIDATED)  # CI0004 is CI004
    assert {ref: row["Consolidated score"] for ref, row in scores.items()} == CONSOLIDATED
    assert {ref: row["Final score"] or "" for ref, row in scores.items()} == CONSOLIDATED  # blank, never 0
    assert (scores["CI004"]["Score 2"], scores["L003"]["Score 1"]) == ("Red", "Light green")  # as the scale says them


# The action plan: Yellow or below, or gaps listed; --action-threshold moves the line.

DEFAULT_PLAN = ["CI002", "CI003", "CI004", "L001", "G001", "G002", "R001", "R002"]


@pytest.mark.parametrize("threshold, expected", [
    (None, DEFAULT_PLAN),
    ("Yellow", DEFAULT_PLAN),
    ("Amber", ["CI003", "CI004", "G001", "G002"]),
    (" light GREEN ", ["CI001", "CI002", "CI003", "CI004", "L001", "L003", "G001", "G002", "R001", "R002"]),
    ("Red", ["CI004", "G001", "G002"]),
])
def test_the_action_plan_takes_scores_at_or_below_the_threshold_and_any_listed_gaps(folder, threshold, expected):
    options = ["--action-threshold", threshold] if threshold else []
    result = run("report", folder, *options)
    assert result.exit_code == 0, result.output
    assert f"{len(expected)} actions on the action plan." in result.output
    plan = by_ref(folder / "report.xlsx", "Action plan")
    assert list(plan) == expected
    assert plan["CI004"]["Gap identified"] == "Scored Red; no gaps were listed by the reviewers."
    assert plan["G001"]["Gap identified"] == "R01: Ask members for a decision on the budget"  # Grey, but gaps
    assert (plan["G002"]["Score"], plan["G002"]["Gap identified"]) == ("Light green", "R02: Train the new scrutiny chairs")


@pytest.mark.parametrize("threshold, flagged", [
    (None, {"CI002", "CI003", "CI004", "L001", "R001", "R002"}),  # each has a Yellow, Amber or Red with no gaps
    ("Amber", {"CI003", "CI004", "R001", "R002"}),  # the Yellows are no longer low
])
def test_a_low_score_with_no_gaps_is_a_finding_at_or_below_the_same_threshold(folder, threshold, flagged):
    options = ["--action-threshold", threshold] if threshold else []
    code, found = findings(folder, *options)
    assert code == 1
    low = {f["ref"] for f in found if f["kind"] == "LOW_SCORE_NO_GAPS"}
    assert low == flagged


def test_an_unknown_or_unscored_threshold_is_refused(folder):
    result = run("report", folder, "--action-threshold", "Grey")
    assert result.exit_code == 2  # a mistake in the command line
    assert result.output == ("error: 'Grey' is not a scored rating on the scale. Choose one of: Dark green, "
                             "Light green, Yellow, Amber, Red.\n")
    assert not (folder / "report.xlsx").exists()


def test_the_default_threshold_is_the_lower_middle_of_an_even_scale(tmp_path):
    four = [row for row in SCALE if row[0] != "Yellow"]  # Dark green, Light green, Amber, Red, Grey
    scale = load_framework(make_framework(tmp_path / "f.xlsx", scale=four)).scale
    assert scale.action_threshold().name == "Amber"
    assert load_framework(make_framework(tmp_path / "g.xlsx")).scale.action_threshold().name == "Yellow"


# Disagreement: 2 or more scale steps apart (--spread), high when one more than the spread;
# Grey against a score.

@pytest.mark.parametrize("spread, expected", [
    (None, {"CI002": "medium", "CI003": "high", "CI004": "high", "R001": "high", "R002": "high"}),
    (2, {"CI002": "medium", "CI003": "high", "CI004": "high", "R001": "high", "R002": "high"}),
    (3, {"CI003": "medium", "CI004": "high", "R001": "medium", "R002": "high"}),
    (1, {"CI001": "medium", "CI002": "high", "CI003": "high", "CI004": "high", "R001": "high", "R002": "high"}),
    (4, {"CI004": "medium", "R002": "medium"}),
])
def test_disagreement_is_two_or_more_steps_apart_and_high_one_step_further(folder, spread, expected):
    options = ["--spread", spread] if spread else []
    code, found = findings(folder, *options)
    assert code == 1
    assert of_kind(found, "DISAGREEMENT") == expected
    apart = {f["ref"]: f["finding"] for f in found if f["kind"] == "DISAGREEMENT"}
    assert apart.get("CI004") == "Reviewers are 4 scale steps apart"


def test_grey_against_a_score_is_a_finding_and_grey_against_grey_is_not(folder):
    _, found = findings(folder)
    grey = [f for f in found if f["kind"] == "GREY_VS_SCORE"]
    assert [(f["ref"], f["severity"], f["reviewers"], f["evidence"]) for f in grey] == [
        ("L001", "medium", ["R02", "R01"], "R02 Yellow, R01 Grey")]


def test_a_spread_below_one_is_a_usage_error(folder):
    result = run("check", folder, "--spread", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--spread': 0 is not in the range x>=1." in result.output


# Moderation: a typed Final score beats a moderated score, which beats the consolidated score; a
# moderated score without a note is itself a finding.

def type_into_scores(path: Path, typed: dict[str, dict[str, str]]) -> None:
    """Type into the report's Scores sheet as a moderator would in Excel (ref -> header -> text)."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Scores"]
    headers = [c.value for c in sheet[1]]
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    for ref, cells in typed.items():
        for header, text in cells.items():
            sheet.cell(rows[ref], headers.index(header) + 1, text)
    workbook.save(path)


def test_a_typed_final_score_beats_a_moderated_one_which_beats_the_consolidated(folder):
    run("report", folder)
    type_into_scores(folder / "report.xlsx", {
        "CI003": {"Moderated score": "Yellow", "Moderation note": "Plan seen at panel."},
        "CI004": {"Moderated score": "Yellow", "Moderation note": "Plan seen at panel.", "Final score": "Light green"},
        "L001": {"Final score": "Amber"}})
    result = run("report", folder)
    assert result.exit_code == 0, result.output
    scores = by_ref(folder / "report.xlsx", "Scores", data_only=True)
    final = {ref: row["Final score"] or "" for ref, row in scores.items()}
    assert final == {**CONSOLIDATED, "CI003": "Yellow", "CI004": "Light green", "L001": "Amber"}
    assert (scores["CI004"]["Consolidated score"], scores["CI004"]["Moderated score"]) == ("Red", "Yellow")
    plan = by_ref(folder / "report.xlsx", "Action plan")
    assert "CI004" not in plan  # Light green with no gaps, whatever the reviewers said
    assert (plan["CI003"]["Score"], plan["L001"]["Score"]) == ("Yellow", "Amber")
    tiles = {row[0]: row[1:] for row in sheet_rows(folder / "report.xlsx", "Heat map", data_only=True)}
    assert tiles["Continuous improvement"][:4] == ("CI001\nLG", "CI002!\nY", "CI003*\nY", "CI004*\nLG")
    heat_map = openpyxl.load_workbook(folder / "report.xlsx")["Heat map"]
    assert "Final score: Light green (set by a senior officer)" in heat_map.cell(5, 5).comment.text
    assert "Final score: Yellow (moderated from Amber: Plan seen at panel.)" in heat_map.cell(5, 4).comment.text



def test_a_typed_final_score_that_is_no_rating_is_kept_said_by_cell_and_settles_nothing(folder):
    run("report", folder)
    scores = openpyxl.load_workbook(folder / "report.xlsx")["Scores"]
    final = [c.value for c in scores[1]].index("Final score")
    listed = [v.sqref for v in scores.data_validations.dataValidation if v.type == "list"]
    assert any(f"{openpyxl.utils.get_column_letter(final + 1)}2:" in str(ref) for ref in listed)  # the cell offers the scale
    type_into_scores(folder / "report.xlsx", {"CI002": {"Final score": "light GREEN"}, "CI003": {"Final score": "Gren"}})
    result = run("report", folder)
    assert result.exit_code == 0, result.output
    assert ("report.xlsx, sheet 'Scores', cell G4: the final score 'Gren' typed for CI003 is not a rating on the scale "
            "(did you mean 'Dark green' or 'Light green'?), so the heat map and the Summary show CI003 as not "
            "answered. Choose one of: Dark green, Light green, Yellow, Amber, Red, Grey from the cell's list, or "
            "clear the cell to let the moderated or consolidated score count.") in " ".join(result.output.split())
    assert "CI002" not in result.output  # a rating in another case is a rating
    assert by_ref(folder / "report.xlsx", "Scores")["CI003"]["Final score"] == "Gren"  # kept as typed
    _, found = findings(folder)
    resolved = {f["ref"]: f["resolved"] for f in found if f["kind"] == "DISAGREEMENT"}
    assert resolved["CI002"] == "final score set to Light green by a senior officer"
    assert resolved["CI003"] == ""
    heat_map = openpyxl.load_workbook(folder / "report.xlsx")["Heat map"]
    assert "Final score: Gren (set by a senior officer, but not a rating on the scale)" in heat_map.cell(5, 4).comment.text

def test_a_moderated_score_without_a_note_is_a_finding_and_settles_nothing(folder):
    run("report", folder)
    type_into_scores(folder / "report.xlsx", {
        "CI003": {"Moderated score": "Yellow", "Moderation note": "Plan seen at panel."},
        "CI004": {"Moderated score": "Yellow", "Moderation note": "   "}})
    _, found = findings(folder)
    assert of_kind(found, "MODERATED_WITHOUT_NOTE") == {"CI004": "medium"}
    disagreement = {f["ref"]: f["resolved"] for f in found if f["kind"] == "DISAGREEMENT"}
    assert disagreement["CI003"] == "moderated to Yellow: Plan seen at panel."
    assert disagreement["CI004"] == ""  # still open
    without = next(f for f in found if f["kind"] == "MODERATED_WITHOUT_NOTE")
    assert (without["finding"], without["evidence"]) == ("Moderated score without a note saying why",
                                                         "consolidated Red, moderated Yellow")


# The Summary: final scores counted per theme; received and outstanding per reviewer.

def test_the_summary_counts_final_scores_per_theme_and_says_who_is_outstanding(folder):
    run("report", folder)
    rows = [row for row in sheet_rows(folder / "report.xlsx", "Summary", data_only=True)  # counts as cached
            if any(v is not None for v in row)]
    start = next(i for i, row in enumerate(rows) if row[0] == "Theme")
    assert [list(row[:9]) for row in rows[start:start + 5]] == [
        ["Theme", "Dark green", "Light green", "Yellow", "Amber", "Red", "Grey", "Not answered", "Total"],
        ["Continuous improvement", 0, 1, 1, 1, 1, 0, 0, 4],
        ["Leadership", 0, 1, 1, 0, 0, 1, 0, 3],
        ["Governance", 0, 1, 0, 0, 0, 1, 1, 3],
        ["Use of resources", 0, 0, 2, 0, 0, 0, 0, 2]]
    assert list(rows[start + 5][:9]) == ["All themes", 0, 3, 4, 1, 1, 2, 1, 12]
    reviewers = next(i for i, row in enumerate(rows) if row[0] == "Reviewer")
    table = {row[0]: row[1:4] for row in rows[reviewers + 1:]}
    assert table == {"R01 Ann Lee": (10, 10, "Received"), "R02 Bob Stone": (10, 9, "Received"),
                     "R03 Cai Wyn": (2, 2, "Received"), "R04 Dee Kaur": (1, 1, "Received"),
                     "R05 Eve Roy": (1, 0, "Outstanding")}
    files = {row[0]: (bool(row[4]), row[5]) for row in rows[reviewers + 1:]}
    assert files["R02 Bob Stone"] == (True, "R02.xlsx") and files["R05 Eve Roy"] == (False, "")


# Exit codes: 0 ok, 1 the input has problems, 2 a mistake in the command line.

def test_exit_codes(folder, tmp_path):
    assert run("report", folder).exit_code == 0
    assert run("ingest", folder).exit_code == 0  # nothing new, nothing rejected
    (folder / "inbox" / "typo.xlsx").write_bytes(b"%PDF-1.4")
    assert run("ingest", folder).exit_code == 1
    assert run("check", folder).exit_code == 1  # findings open
    assert run("check", folder, "--spread", "9").exit_code == 1  # still: R05 outstanding, G003 unscored
    assert run("report", folder, "--no-such-option").exit_code == 2
    assert run("report").exit_code == 2  # no folder
    assert run("report", tmp_path / "nowhere").exit_code == 2  # a folder that is not there
    assert run("report", tmp_path).exit_code == 1  # there, but not an assessment


# Returns: refs as prefix and number; ratings in any case and spacing; a cell of up to 32,767
# characters.

@pytest.fixture(scope=shared("module"))
def issued(exercise, tmp_path_factory):
    """A copy of the exercise to read returns against (reading changes nothing)."""
    folder = Path(shutil.copytree(exercise, tmp_path_factory.mktemp("issued") / "BV 2026"))
    return open_assessment(folder)


def read(assessment, path):
    return read_return(path, load_framework(assessment.workbook), assessment.assessment_id, assessment.secret(),
                       {i.issue_id: i for i in assessment.records.issues()})


def workbook_of(assessment, reviewer_id) -> Path:
    return next(p for p in assessment.outbox.iterdir() if f" {reviewer_id} " in p.name)


def test_a_ref_typed_with_extra_zeros_and_in_lower_case_is_the_same_characteristic(issued, tmp_path):
    path = answer(workbook_of(issued, "R03"), tmp_path / "r.xlsx",
                  {"R001": ("Amber", "Weak.", "Gap."), "R002": ("Red", "Poor.", "Gap.")})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Review"]
    assert (sheet["A2"].value, sheet["A3"].value) == ("R001", "R002")
    sheet["A2"], sheet["A3"] = " r0001 ", "R-2"
    workbook.save(path)
    reading = read(issued, path)
    assert reading.accepted, [str(p) for p in reading.problems]
    assert [(r.ref, r.rating) for r in reading.responses] == [("R001", "Amber"), ("R002", "Red")]
    sheet["A3"] = "R0003"  # a ref that was not issued is not read as another
    workbook.save(path)
    assert [(p.code, p.cell) for p in read(issued, path).problems] == [
        ("RETURN_REF_NOT_ISSUED", "A3"), ("RETURN_REF_MISSING", "")]


@pytest.mark.parametrize("typed, expected", [
    ("dark green", "Dark green"), ("  LIGHT   green ", "Light green"), ("yElLoW", "Yellow"), ("grey ", "Grey"),
    ("Dark-green", None), ("Lightgreen", None), ("Yellow.", None)])
def test_a_rating_in_any_case_and_spacing_is_read_and_anything_else_refused(issued, tmp_path, typed, expected):
    path = answer(workbook_of(issued, "R04"), tmp_path / "r.xlsx", {"R002": (typed, "Seen.", "Gap.")})
    reading = read(issued, path)
    if expected:
        assert [r.rating for r in reading.responses] == [expected] and reading.problems == []
    else:
        assert [p.code for p in reading.problems] == ["SCORE_INVALID"] and not reading.accepted


@pytest.mark.parametrize("length, accepted", [(32_767, True), (32_768, False)])
def test_a_cell_holds_up_to_32767_characters(issued, tmp_path, length, accepted):
    marker = "gaps-to-lengthen"
    short = answer(workbook_of(issued, "R04"), tmp_path / "short.tmp", {"R002": ("Yellow", "Seen.", marker)})
    # Excel cannot type more than 32,767 characters into a cell (nor will openpyxl write them); a program can.
    path = tmp_path / "long.xlsx"
    with zipfile.ZipFile(short) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item).replace(marker.encode(), b"x" * length))
    reading = read(issued, path)
    assert reading.accepted is accepted
    if accepted:
        assert [len(r.gaps) for r in reading.responses] == [length]
    else:
        [problem] = reading.problems
        assert str(problem) == ("long.xlsx, sheet 'Review', cell H2: the cell holds 32,768 characters, more than "
                                "an Excel cell can hold (32,767). Ask the reviewer to shorten it, or to put the "
                                "detail in a separate document.")


# Harsh or kind reviewers: an offset of 0.75 scale steps is flagged; three shared characteristics are
# enough to judge; fewer is said to be too little data; on themes alone, five scores are enough.

LEVELS = ["Red", "Amber", "Yellow", "Light green", "Dark green"]


def judge(tmp_path, scores: dict[str, dict[str, str]], moderation: dict | None = None):
    """The checks' findings for `scores` (ref -> reviewer -> rating), each characteristic in one theme
    (Leadership for the refs starting "L", else Continuous improvement)."""
    rows = [[ref, "Leadership" if ref.startswith("L") else "Continuous improvement", f"Item {ref}", "", "", "", ""]
            for ref in scores]
    framework = load_framework(make_framework(tmp_path / f"f{len(list(tmp_path.iterdir()))}.xlsx", characteristics=rows))
    responses = {ref: [Response(ref, rid, rating, "Seen.", "Gap.", "f", "Review", "F2") for rid, rating in by.items()]
                 for ref, by in scores.items()}
    reviewers = sorted({rid for by in scores.values() for rid in by})
    issues = [IssueRecord(f"i{r}", r, "2026-01-01", "f", "", tuple(ref for ref in scores if r in scores[ref]))
              for r in reviewers]
    progress = [ReviewerProgress(i.reviewer_id, "", len(i.refs), len(i.refs), "2026-01-02", "f") for i in issues]
    consolidation = Consolidation(framework, responses, [], progress)
    decisions, _ = decide(framework.scale, {ref: consolidation.consolidated(ref) for ref in scores},
                          PreviousEdits(moderation or {}))
    return check(consolidation, decisions, issues).findings


def about(found, reviewer_id: str) -> dict[str, tuple[str, str]]:
    return {f.kind: (f.finding, f.evidence) for f in found
            if f.kind.startswith("REVIEWER_") and f.reviewers == (reviewer_id,)}


def above(differences: list[int]) -> dict[str, dict[str, str]]:
    """R01 scores each characteristic `difference` steps above R02, who scores Yellow; they meet nobody else."""
    return {f"CI{i:03d}": {"R01": LEVELS[2 + d], "R02": "Yellow"} for i, d in enumerate(differences, start=1)}


def pair(found) -> list[tuple[str, str, str]]:
    return [(f.kind, f.severity, f.finding) for f in found if f.kind.startswith("REVIEWER_PAIR")]


def test_a_pair_three_quarters_of_a_step_apart_is_flagged(tmp_path):
    assert pair(judge(tmp_path, above([1, 1, 1, 0]))) == [(
        "REVIEWER_PAIR_APART", "medium", "R01 scored 0.8 steps above R02 on all 4 characteristics they share; only "
                                         "a third reviewer can say which is out of line")]


def test_a_pair_less_than_three_quarters_of_a_step_apart_is_said_not_flagged(tmp_path):
    assert [kind for kind, *_ in pair(judge(tmp_path, above([1, 1, 1, 1, 1, 1, 1, 0, 0, 0])))] == ["REVIEWER_PAIR"]


@pytest.mark.parametrize("differences, higher, lower, kind, severity", [
    ([0, 0, 0], "R01", "R02", "REVIEWER_PAIR", "info"),  # level: the pair is named in the order they were met
    ([-1, -1, -1], "R02", "R01", "REVIEWER_PAIR_APART", "medium"),  # the higher scorer first, whichever it is
])
def test_a_pair_finding_names_the_higher_first_and_says_what_would_tell_them_apart(tmp_path, differences, higher,
                                                                                   lower, kind, severity):
    [found] = [f.as_dict() for f in judge(tmp_path, above(differences)) if f.kind.startswith("REVIEWER_PAIR")]
    gap = f"{abs(sum(differences)) / len(differences):.1f}"
    assert found == {
        "kind": kind, "severity": severity, "ref": "", "theme": "", "reviewers": [higher, lower], "resolved": "",
        "finding": f"{higher} scored {gap} steps above {lower} on all 3 characteristics they share; only a third "
                   "reviewer can say which is out of line",
        "evidence": "R01 and R02 share characteristics with nobody else, so neither can be compared with colleagues; "
                    "give a third reviewer some of their characteristics"}


def test_three_shared_characteristics_are_enough_to_judge_a_pair(tmp_path):
    assert [kind for kind, *_ in pair(judge(tmp_path, above([2, 2, 2])))] == ["REVIEWER_PAIR_APART"]


def test_two_shared_characteristics_are_too_little_data_and_said(tmp_path):
    assert pair(judge(tmp_path, above([2, 2]))) == []
    assert about(judge(tmp_path, above([2, 2])), "R01") == {"REVIEWER_TOO_LITTLE_DATA": (
        "Too little data to judge R01's scoring",
        "0 shared characteristics (need 3) and 2 scores on themes colleagues also scored (need 5)")}


def among_three(differences: list[int]) -> dict[str, dict[str, str]]:
    """R01 scores each characteristic `difference` steps above R02 and R03, who both score Yellow."""
    return {f"CI{i:03d}": {"R01": LEVELS[2 + d], "R02": "Yellow", "R03": "Yellow"}
            for i, d in enumerate(differences, start=1)}


def test_a_reviewer_three_quarters_of_a_step_above_colleagues_is_flagged(tmp_path):
    [(kind, (finding, evidence))] = about(judge(tmp_path, among_three([1, 1, 1, 0] * 3)), "R01").items()
    assert (kind, finding) == ("REVIEWER_LENIENT", "R01 scores 0.8 scale steps above colleagues")
    assert evidence.startswith("offset +0.75 steps (give or take ")


@pytest.mark.parametrize("differences, kind, severity, finding, evidence", [
    ([0] * 6, "REVIEWER_OFFSET", "info", "0.0 scale steps above colleagues: within the usual range", "+0.00 steps (give or take 0.35) on 6"),
    ([-1] * 6, "REVIEWER_SEVERE", "medium", "1.0 scale steps below colleagues", "-1.00 steps (give or take 0.35) on 6"),
    # Two steps apart, then level, in turn: the scatter widens the likely range well beyond rounding's.
    ([2, 0] * 3, "REVIEWER_LENIENT", "medium", "1.0 scale steps above colleagues", "+1.00 steps (give or take 0.76) on 6"),
    ([2, 1, 0], "REVIEWER_LENIENT", "medium", "1.0 scale steps above colleagues", "+1.00 steps (give or take 0.98) on 3"),
    ([2, 0, 1, 0], "REVIEWER_LENIENT", "low", "0.8 scale steps above colleagues, possibly: too few shared scores to be sure",
     "+0.75 steps (give or take 0.81) on 4"),
])
def test_a_reviewer_s_offset_is_said_with_its_direction_and_how_sure_it_is(tmp_path, differences, kind, severity,
                                                                          finding, evidence):
    found = [f.as_dict() for f in judge(tmp_path, among_three(differences))
             if f.kind.startswith("REVIEWER_") and f.reviewers == ("R01",)]
    assert found == [{"kind": kind, "severity": severity, "ref": "", "theme": "", "reviewers": ["R01"], "resolved": "",
                      "finding": f"R01 scores {finding}",
                      "evidence": f"offset {evidence} characteristics shared with colleagues (R02, R03)"}]


def test_a_reviewer_less_than_three_quarters_of_a_step_above_is_within_the_usual_range(tmp_path):
    [(kind, (finding, _))] = about(judge(tmp_path, among_three([1] * 7 + [0] * 3)), "R01").items()
    assert (kind, finding) == ("REVIEWER_OFFSET", "R01 scores 0.7 scale steps above colleagues: within the usual range")


@pytest.mark.parametrize("alone, expected", [
    (5, {"REVIEWER_LENIENT": ("R03 scores 2.0 scale steps above colleagues",
                              "offset +2.00 steps (give or take 0.25) on 5 scores compared with colleagues' on the "
                              "same themes (Continuous improvement), not the same characteristics")}),
    (4, {"REVIEWER_TOO_LITTLE_DATA": ("Too little data to judge R03's scoring",
                                      "0 shared characteristics (need 3) and 4 scores on themes colleagues also "
                                      "scored (need 5)")})])
def test_on_themes_alone_five_scores_are_enough_to_judge(tmp_path, alone, expected):
    scores = {f"CI{i:03d}": {"R01" if i <= 3 else "R02": "Yellow"} for i in range(1, 7)}
    scores |= {f"CI{i:03d}": {"R03": "Dark green"} for i in range(7, 7 + alone)}
    assert about(judge(tmp_path, scores), "R03") == expected


def in_a_group_of(size: int) -> dict[str, dict[str, str]]:
    """R01 scores three characteristics a step above `size - 1` colleagues, who all score Yellow."""
    return {f"CI{i:03d}": {f"R{j:02d}": "Light green" if j == 1 else "Yellow" for j in range(1, size + 1)}
            for i in range(1, 4)}


def sharing_two() -> dict[str, dict[str, str]]:
    """R01 and R02 score five characteristics alike; R03 scores two of them, a step higher."""
    scores = {f"CI{i:03d}": {"R01": "Yellow", "R02": "Yellow"} for i in range(1, 6)}
    for ref in ("CI001", "CI002"):
        scores[ref]["R03"] = "Light green"
    return scores


def alone_and_scattered() -> dict[str, dict[str, str]]:
    """R03 scores five characteristics nobody else scores, one or two steps above colleagues on the theme."""
    scores = {f"CI{i:03d}": {"R01" if i <= 3 else "R02": "Yellow"} for i in range(1, 7)}
    return scores | {f"CI{i:03d}": {"R03": rating} for i, rating in
                     zip(range(7, 12), ["Dark green", "Light green", "Dark green", "Light green", "Dark green"])}


@pytest.mark.parametrize("scores, reviewer_id, kind, severity, finding, evidence", [
    (lambda: above([2, 2, 2]) | {"CI004": {"R03": "Yellow"}}, "R03", "REVIEWER_TOO_LITTLE_DATA", "info",
     "Too little data to judge R03's scoring",  # said for a reviewer named after a pair, too
     "0 shared characteristics (need 3) and 1 scores on themes colleagues also scored (need 5)"),
    (sharing_two, "R03", "REVIEWER_TOO_LITTLE_DATA", "info", "Too little data to judge R03's scoring",
     "2 shared characteristics (need 3) and 2 scores on themes colleagues also scored (need 5)"),
    (lambda: in_a_group_of(7), "R01", "REVIEWER_LENIENT", "medium", "R01 scores 1.0 scale steps above colleagues",
     "offset +1.00 steps (give or take 0.38) on 3 characteristics shared with colleagues (R02, R03, R04, R05, R06, R07)"),
    (lambda: in_a_group_of(8), "R01", "REVIEWER_LENIENT", "medium", "R01 scores 1.0 scale steps above colleagues",
     "offset +1.00 steps (give or take 0.37) on 3 characteristics shared with colleagues (R02, R03, R04, R05, R06, "
     "R07, ...)"),
    (lambda: {f"{t}{i:03d}": {"R01": "Yellow", "R02": "Yellow"} for t in ("CI", "L") for i in range(1, 4)}
     | {f"{t}{i:03d}": {"R03": "Light green"} for t, i in [("CI", 4), ("CI", 5), ("CI", 6), ("L", 4), ("L", 5)]},
     "R03", "REVIEWER_LENIENT", "medium", "R03 scores 1.0 scale steps above colleagues",
     "offset +1.00 steps (give or take 0.25) on 5 scores compared with colleagues' on the same themes (Continuous "
     "improvement, Leadership), not the same characteristics"),
    (alone_and_scattered, "R03", "REVIEWER_LENIENT", "medium", "R03 scores 1.6 scale steps above colleagues",
     "offset +1.60 steps (give or take 0.48) on 5 scores compared with colleagues' on the same themes (Continuous "
     "improvement), not the same characteristics"),
])
def test_what_a_reviewer_s_offset_rests_on_is_said(tmp_path, scores, reviewer_id, kind, severity, finding, evidence):
    found = [f.as_dict() for f in judge(tmp_path, scores())
             if f.kind.startswith("REVIEWER_") and f.reviewers == (reviewer_id,)]
    assert found == [{"kind": kind, "severity": severity, "ref": "", "theme": "", "reviewers": [reviewer_id],
                      "resolved": "", "finding": finding, "evidence": evidence}]


@pytest.mark.parametrize("note, without_note", [("Plan seen at panel.", False), ("", True), ("  \n ", True)])
def test_a_moderated_score_needs_a_note_that_says_something(tmp_path, note, without_note):
    from bva_excel.model.decisions import Moderation

    found = judge(tmp_path, {"CI001": {"R01": "Dark green", "R02": "Amber"}},
                  {"CI001": Moderation("Light green", note)})
    assert [f.kind for f in found if f.kind == "MODERATED_WITHOUT_NOTE"] == (["MODERATED_WITHOUT_NOTE"] * without_note)
    [disagreement] = [f for f in found if f.kind == "DISAGREEMENT"]
    assert disagreement.resolved == ("" if without_note else "moderated to Light green: Plan seen at panel.")


# Screening limits, from both sides. The real limits are tens of megabytes and thousands of parts;
# where building a file that size would slow the suite, the limit is lowered to the size of a real
# return, which tries the same comparison.

@pytest.fixture(scope=shared("module"))
def plain(issued, tmp_path_factory) -> bytes:
    path = answer(workbook_of(issued, "R04"), tmp_path_factory.mktemp("plain") / "r.xlsx", {"R002": ("Amber",)})
    return path.read_bytes()


def padded(content: bytes, extra: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        for name, data in extra.items():
            target.writestr(name, data)
    return buffer.getvalue()


def screened(content: bytes, tmp_path) -> tuple[str, list[str]]:
    path = tmp_path / "r.xlsx"
    path.write_bytes(content)
    result = screening.screen(path, content=content)
    return result.kind, [str(p) for p in result.problems]


def test_a_file_of_exactly_the_size_limit_is_read_and_one_byte_more_is_refused(plain, tmp_path, monkeypatch):
    monkeypatch.setattr(screening, "MAX_FILE_BYTES", len(plain))
    assert screened(plain, tmp_path) == ("xlsx", [])
    monkeypatch.setattr(screening, "MAX_FILE_BYTES", len(plain) - 1)
    kind, problems = screened(plain, tmp_path)
    assert kind == "" and problems == [
        "r.xlsx: the file is 0 MB, far larger than a return can be (limit 0 MB). Check what was sent; ask the "
        "reviewer for the workbook they were issued."]


def test_a_zip_of_exactly_the_part_limit_is_read_and_one_part_more_is_refused(plain, tmp_path):
    parts = len(zipfile.ZipFile(io.BytesIO(plain)).infolist())
    filler = {f"xl/media/pad{i}.bin": b"" for i in range(screening.MAX_MEMBERS - parts)}
    assert screened(padded(plain, filler), tmp_path) == ("xlsx", [])
    filler["xl/media/one-more.bin"] = b""
    assert screened(padded(plain, filler), tmp_path)[1] == [
        "r.xlsx: refused unread: it holds 2,001 parts, far beyond any real workbook (a decompression bomb?). Do "
        "not open it; ask the reviewer to resend the workbook they were issued."]


def test_the_unpacked_size_limit_from_both_sides(plain, tmp_path, monkeypatch):
    unpacked = sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(plain)).infolist())
    monkeypatch.setattr(screening, "MAX_UNPACKED_BYTES", unpacked)
    assert screened(plain, tmp_path) == ("xlsx", [])
    monkeypatch.setattr(screening, "MAX_UNPACKED_BYTES", unpacked - 1)
    assert screened(plain, tmp_path)[1] == [
        "r.xlsx: refused unread: it would unpack to 0 MB, far beyond any real workbook (a decompression bomb?). Do "
        "not open it; ask the reviewer to resend the workbook they were issued."]


def zeros_of_whole_ratio(plain: bytes) -> tuple[bytes, int]:
    """The return with a part of zeros over a megabyte whose size is a whole multiple of its packed size."""
    size = 2 * 1024 * 1024
    for _ in range(20):
        content = padded(plain, {"xl/media/pad.bin": bytes(size)})
        member = zipfile.ZipFile(io.BytesIO(content)).getinfo("xl/media/pad.bin")
        if member.file_size % member.compress_size == 0:
            return content, member.file_size // member.compress_size
        size = member.compress_size * (size // member.compress_size)
    raise AssertionError("no whole ratio found")


def test_the_compression_ratio_limit_from_both_sides(plain, tmp_path, monkeypatch):
    zeros, ratio = zeros_of_whole_ratio(plain)
    assert ratio > screening.MAX_RATIO  # the real limit refuses it ...
    monkeypatch.setattr(screening, "MAX_RATIO", ratio)  # ... a limit of exactly its ratio lets it through
    assert screened(zeros, tmp_path) == ("xlsx", [])
    monkeypatch.setattr(screening, "MAX_RATIO", ratio - 1)
    assert screened(zeros, tmp_path)[1] == [
        f"r.xlsx: refused unread: part xl/media/pad.bin would inflate {ratio:,} times, far beyond any real workbook "
        "(a decompression bomb?). Do not open it; ask the reviewer to resend the workbook they were issued."]


@pytest.mark.parametrize("size, refused", [(1024 * 1024, False), (1024 * 1024 + 1, True)])
def test_only_a_part_over_a_megabyte_is_judged_by_its_ratio(plain, tmp_path, size, refused):
    kind, problems = screened(padded(plain, {"xl/media/pad.bin": bytes(size)}), tmp_path)
    assert (kind == "", len(problems)) == ((True, 1) if refused else (False, 0))


# Agreement: 0.800 or more is agreement to rely on, 0.667 to 0.800 good enough only for tentative
# conclusions, below 0.667 too low to rely on.

@pytest.mark.parametrize("value, reading", [
    (0.8, "reviewers agree well enough to rely on the scores (0.800 or more)"),
    (0.7999, "agreement good enough only for tentative conclusions (0.667 to 0.800): moderate the disagreements"),
    (0.667, "agreement good enough only for tentative conclusions (0.667 to 0.800): moderate the disagreements"),
    (0.6669, "agreement too low to rely on (below 0.667): the scores need moderating before they are used"),
])
def test_agreement_is_read_against_the_usual_thresholds(value, reading):
    from bva_excel.model.agreement import Alpha

    assert Alpha(value, 5, 11).reading == reading
    assert Alpha(value, 5, 11).describe() == f"{value:.3f} over 5 characteristics (11 scores): {reading}"


@pytest.mark.parametrize("units, few", [(4, True), (5, False)])
def test_agreement_over_fewer_than_five_characteristics_is_said_to_be_too_little(units, few):
    from bva_excel.model.agreement import Alpha

    reading = Alpha(0.9, units, 2 * units).reading
    assert (reading == "too few characteristics scored twice to judge agreement (fewer than 5)") == few


def test_agreement_over_one_characteristic_or_none(tmp_path):
    from bva_excel.model.agreement import Alpha

    assert Alpha(1.0, 1, 2).describe().startswith("1.000 over 1 characteristic (2 scores): ")
    assert Alpha(None, 0, 0, "no characteristic has two or more scores").describe() == (
        "cannot be computed: no characteristic has two or more scores")
    assert Alpha(None, 0, 0, "why").reading == ""


def test_agreement_is_said_overall_and_for_each_theme(tmp_path):
    found = [f.as_dict() for f in judge(tmp_path, {"CI001": {"R01": "Yellow", "R02": "Yellow"},
                                                   "L001": {"R01": "Amber", "R02": "Red"}}) if f.kind == "AGREEMENT"]
    title = "Agreement between reviewers (Krippendorff's alpha, ordinal)"
    assert [(f["severity"], f["ref"], f["theme"], f["finding"], f["reviewers"]) for f in found] == [
        ("info", "", theme, title, []) for theme in ("All themes", "Continuous improvement", "Leadership")]
    assert found[1]["evidence"] == ("cannot be computed: every score given is the same, so agreement beyond chance "
                                    "cannot be measured")  # Continuous improvement's own, not all themes'


# Most serious first; agreement overall and per theme, Grey and blanks missing.

def test_findings_come_most_serious_first_then_in_framework_order(folder):
    _, found = findings(folder)
    order = ["high", "medium", "low", "info"]
    severities = [order.index(f["severity"]) for f in found]
    assert severities == sorted(severities)
    high = [(f["kind"], f["ref"]) for f in found if f["severity"] == "high"]
    assert high == [("DISAGREEMENT", "CI003"), ("DISAGREEMENT", "CI004"), ("NO_USABLE_SCORE", "G003"),
                    ("DISAGREEMENT", "R001"), ("DISAGREEMENT", "R002")]


def test_agreement_is_computed_overall_and_per_theme_with_grey_and_blanks_missing(folder):
    from bva_excel.model.agreement import ordinal_alpha

    steps = ["Red", "Amber", "Yellow", "Light green", "Dark green"]
    by_label = {step.lower(): step for step in steps}  # Grey and blank are missing
    units = {ref: [by_label.get(" ".join(rating.split()).lower()) for rating, *_ in by.values()]
             for ref, by in SCORED.items()}
    themes = {"All themes": list(CONSOLIDATED), "Continuous improvement": ["CI001", "CI002", "CI003", "CI004"],
              "Leadership": ["L001", "L002", "L003"], "Governance": ["G001", "G002", "G003"],
              "Use of resources": ["R001", "R002"]}
    _, found = findings(folder)
    agreement = {f["theme"]: f["evidence"] for f in found if f["kind"] == "AGREEMENT"}
    assert list(agreement) == list(themes)
    for theme, refs in themes.items():
        expected = ordinal_alpha([units.get(ref, []) for ref in refs], steps)
        assert agreement[theme] == expected.describe(), theme
    assert agreement["Governance"] == "cannot be computed: no characteristic has two or more scores"
    assert agreement["Continuous improvement"].endswith("over 4 characteristics (8 scores): too few characteristics "
                                                        "scored twice to judge agreement (fewer than 5)")


@pytest.mark.parametrize("command", [["report"], ["check"], ["signoff", "--by", "Jane Smith", "--accept-open"]])
@pytest.mark.parametrize("value", ["", "  "])
def test_a_blank_threshold_is_a_command_line_mistake_said_as_such(folder, command, value):
    result = run(command[0], folder, *command[1:], "--action-threshold", value)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: '{value}' is not a scored rating on the scale")
    assert "Traceback" not in result.output and not (folder / "report.xlsx").exists()
