"""The consolidated score: theirs for one reviewer, the lower median for several; Grey never a score."""

import datetime as dt

import pytest
from click.testing import CliRunner
from conftest import answer, current

from bva_excel.cli import cli
from bva_excel.excel.read.framework import load_framework
from bva_excel.model.consolidation import consolidated_rating
from bva_excel.store.folder import open_assessment


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def scale(framework_file):
    return load_framework(framework_file).scale


@pytest.mark.parametrize("ratings, expected", [
    (["Amber"], "Amber"),
    (["Dark green", "Amber"], "Amber"),  # even: the lower of the two middle ratings
    (["Dark green", "Light green", "Red"], "Light green"),  # odd: the median
    (["Dark green", "Dark green", "Yellow", "Red"], "Yellow"),
    (["Grey", "Yellow"], "Yellow"),  # Grey is not a score and is never averaged
    (["Grey"], "Grey"),
    (["", "Light green"], "Light green"),  # blank is not answered, never zero
    (["", ""], ""),
    ([], ""),
])
def test_consolidated_rating(scale, ratings, expected):
    assert consolidated_rating(scale, ratings) == expected


@pytest.mark.parametrize("ratings, expected", [
    (["Purple"], ""),  # a rating taken off the scale since it was given: not a score, and no crash
    (["Purple", "Grey"], "Grey"),
    (["Purple", "Amber"], "Amber"),
])
def test_a_rating_no_longer_on_the_scale_is_not_a_score(scale, ratings, expected):
    assert consolidated_rating(scale, ratings) == expected


def test_a_preferred_return_settles_the_order_of_returns_saved_at_the_same_moment(generated):
    """After the PMO prefers one of two returns saved at one moment, a third saved then is unclear only
    against the return not preferred: the preferred one counts over both."""
    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R01" in ids]
    moment = dt.datetime(2026, 12, 6, 12, 0)
    one = answer(generation.files["R01"], assessment.inbox / "one.xlsx", {ref: ("Amber", "1", "") for ref in refs},
                 saved=moment)
    answer(generation.files["R01"], assessment.inbox / "two.xlsx", {ref: ("Red", "2", "") for ref in refs},
           saved=moment)
    assert run("ingest", assessment.folder).exit_code == 0
    assert run("ingest", assessment.folder, "--prefer", one).exit_code == 0
    answer(generation.files["R01"], assessment.inbox / "three.xlsx", {ref: ("Yellow", "3", "") for ref in refs},
           saved=moment)
    result = run("ingest", assessment.folder)
    assert result.exit_code == 0, result.output
    assert "three.xlsx: it was saved at the same moment as two.xlsx" in result.output
    assert "same moment as one.xlsx" not in result.output
    assert {r.rating for r in current(open_assessment(assessment.folder))["R01"][1]} == {"Amber"}


def test_a_reviewer_removed_from_the_list_is_counted_after_those_still_listed(generated):
    """Answers of a reviewer no longer on 'Reviewers' still count, shown after the listed reviewers'."""
    import openpyxl
    from test_heatmap import notes

    assessment, generation = generated
    for reviewer_id, rating in (("R03", "Amber"), ("R01", "Dark green")):
        refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
        answer(generation.files[reviewer_id], assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: (rating, "Seen.", "Gap.") for ref in refs})
    workbook = openpyxl.load_workbook(assessment.workbook)
    workbook["Reviewers"].delete_rows(4, 1)  # R03
    workbook["Characteristics"].cell(4, 7, "R01")  # L001 listed R03
    workbook.save(assessment.workbook)
    assert run("ingest", assessment.folder).exit_code == 0
    reported = run("report", assessment.folder)
    assert reported.exit_code == 0, reported.output
    [l001] = [lines for tile, lines in notes(assessment.report).items() if tile.startswith("L001")]
    assert l001[2:4] == ["R01 Ann Lee: Dark green", "R03: Amber"]


def test_answers_to_characteristics_taken_off_the_framework_are_named_whatever_was_given(generated):
    """A score alone, or words alone, given for a characteristic later taken off assessment.xlsx: each is
    named when the report is written (left out of it, not lost)."""
    import openpyxl

    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R01" in ids]
    first, second = refs[:2]
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx",
           {first: ("Amber",), second: ("", "Cannot judge: no evidence seen.")})
    assert run("ingest", assessment.folder).exit_code == 0
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Characteristics"]
    for row in sorted((r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value in (first, second)),
                      reverse=True):
        sheet.delete_rows(row, 1)
    workbook.save(assessment.workbook)
    reported = run("report", assessment.folder)
    text = " ".join(reported.output.split())
    for ref in (first, second):
        assert f"R01 answered {ref}, which is no longer in assessment.xlsx, so the answer is left out of the report" in text



def test_the_summary_counts_each_reviewer_s_rejected_files(generated):
    import openpyxl

    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R02" in ids]

    def summary() -> dict:
        run("report", assessment.folder)
        return {r[0]: r[3] for r in openpyxl.load_workbook(assessment.report)["Summary"].iter_rows(values_only=True)
                if r[0]}

    answer(generation.files["R02"], assessment.inbox / "typo.xlsx", {refs[0]: ("Ambr", "Weak.", "Gap.")})
    assert run("ingest", assessment.folder).exit_code == 1
    assert summary()["R02 Bob Stone"] == "Outstanding (1 file rejected)"
    answer(generation.files["R02"], assessment.inbox / "typo again.xlsx", {refs[0]: ("Yelow", "Partly.", "Gap.")})
    run("ingest", assessment.folder)
    answer(generation.files["R02"], assessment.inbox / "right.xlsx", {refs[0]: ("Yellow", "Partly.", "Gap.")})
    run("ingest", assessment.folder)
    shown = summary()
    assert (shown["R02 Bob Stone"], shown["R01 Ann Lee"]) == ("Received (2 files rejected)", "Outstanding")


def test_answers_of_several_reviewers_removed_from_the_list_are_shown_in_the_order_of_their_ids(tmp_path):
    """Reviewers no longer on 'Reviewers' come after those listed, in ID order, whichever returned first."""
    import openpyxl
    from conftest import make_framework
    from test_heatmap import notes

    from bva_excel.app.new import create_assessment

    characteristics = [["L001", "Leadership", "Clear vision", "We have one.", "Plan C", "R01", "R02, R03"],
                       ["G001", "Governance", "Robust scrutiny", "It is robust.", "Minutes", "", "R01"]]
    framework = make_framework(tmp_path / "framework.xlsx", characteristics=characteristics)
    assessment = create_assessment(tmp_path / "BV 2026", framework, "Order")
    assert run("generate", assessment.folder).exit_code == 0
    sent = {path.name.split()[2]: path for path in assessment.outbox.iterdir()}
    answer(sent["R03"], assessment.inbox / "R03.xlsx", {"L001": ("Amber", "Seen.", "Gap.")},
           saved=dt.datetime(2026, 12, 1, 9, 0))  # R03 returned first
    answer(sent["R02"], assessment.inbox / "R02.xlsx", {"L001": ("Yellow", "Seen.", "Gap.")},
           saved=dt.datetime(2026, 12, 2, 9, 0))
    assert run("ingest", assessment.folder).exit_code == 0
    workbook = openpyxl.load_workbook(assessment.workbook)
    workbook["Reviewers"].delete_rows(3, 2)  # R02 and R03
    workbook["Characteristics"].cell(2, 7).value = None  # L001 listed them
    workbook.save(assessment.workbook)
    reported = run("report", assessment.folder)
    assert reported.exit_code == 0, reported.output
    [l001] = [lines for tile, lines in notes(assessment.report).items() if tile.startswith("L001")]
    assert l001[2:4] == ["R02: Yellow", "R03: Amber"]
