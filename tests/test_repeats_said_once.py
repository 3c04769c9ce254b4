"""The same message about many refs or actions is said once, with the count and which; --verbose says each."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import CHARACTERISTICS, make_framework, return_all

from bva_excel.app.demo import run_demo
from bva_excel.app.new import create_assessment
from bva_excel.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="bva")


def _lines(output: str, text: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


@pytest.fixture
def misspelt(tmp_path):
    """Nine characteristics drafted by 'Ann Leee', a misspelling of the reviewer Ann Lee."""
    rows = [[f"CI{n:03}", "Continuous improvement", f"Characteristic {n}", "We do.", "Plan", "Ann Leee", ""]
            for n in range(101, 110)]
    framework = make_framework(tmp_path / "f.xlsx", characteristics=CHARACTERISTICS + rows)
    assessment = create_assessment(tmp_path / "BV", framework, "Test")
    assessment.records.close()
    return assessment.folder


def test_one_misspelt_drafter_is_one_error_naming_every_characteristic(misspelt):
    result = run("generate", misspelt)
    assert result.exit_code == 1
    said = _lines(result.output, "'Ann Leee' drafted")
    assert len(said) == 1, result.output
    assert "'Ann Leee' drafted CI101: did you mean 'R01 Ann Lee'? The same for 8 more" in said[0]
    assert "8 more (CI102, CI103, CI104, CI105, CI106, CI107, CI108, CI109)" in said[0]
    assert "?." not in result.output
    assert not list((misspelt / "outbox").glob("*.xlsx"))  # still refused, as each error alone would be


def test_verbose_says_each_misspelt_drafter_on_its_own_line(misspelt):
    result = run("generate", misspelt, "--verbose")
    assert result.exit_code == 1
    said = _lines(result.output, "'Ann Leee' drafted")
    assert [line.split("drafted ")[1][:5] for line in said] == [f"CI{n}" for n in range(101, 110)]
    assert all("did you mean 'R01 Ann Lee'? If so" in line for line in said)


def test_two_alike_are_still_said_apart(tmp_path):
    rows = [[f"CI{n:03}", "Continuous improvement", f"Characteristic {n}", "We do.", "Plan", "Ann Leee", ""]
            for n in (101, 102)]
    assessment = create_assessment(tmp_path / "BV", make_framework(tmp_path / "f.xlsx",
                                                                   characteristics=CHARACTERISTICS + rows), "Test")
    assessment.records.close()
    result = run("generate", assessment.folder)
    assert len(_lines(result.output, "'Ann Leee' drafted")) == 2
    assert "the same for" not in result.output


@pytest.fixture(scope="module")
def signed_off_demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("repeats") / "demo").assessment.folder


def test_actions_with_no_owner_after_sign_off_are_one_line_with_the_count(signed_off_demo):
    report = signed_off_demo / "report.xlsx"
    workbook = openpyxl.load_workbook(report)
    plan = workbook["Action plan"]
    headers = [c.value for c in plan[1]]
    emptied = []
    complete = [row for row in range(2, plan.max_row + 1)
                if all(plan.cell(row, headers.index(h) + 1).value for h in ("Owner", "Service area", "Target date"))
                and plan.cell(row, headers.index("Status") + 1).value not in ("Complete", "Closed")]
    for row in complete[:5]:  # five actions lose their owner, and only that
        plan.cell(row, headers.index("Owner") + 1).value = None
        emptied.append(plan.cell(row, headers.index("Action ID") + 1).value)
    workbook.save(report)
    result = run("check", signed_off_demo)
    said = _lines(result.output, "has no owner")
    assert len(said) == 1, result.output
    assert f"the same for 4 more ({', '.join(emptied[1:])})" in said[0]
    verbose = run("check", signed_off_demo, "--verbose")
    assert sorted(line.split("action ")[1].split(" ")[0] for line in _lines(verbose.output, "has no owner")) == \
        sorted(emptied)
    assert len(_lines(run("check", signed_off_demo, "--json").output, "has no owner")) == 5  # JSON lists each



def test_a_reviewer_whose_only_return_was_rejected_is_not_said_to_have_sent_none(signed_off_demo):
    checked = run("check", signed_off_demo)  # the demo's R06 sent one return, with a typo in a score
    assert "No return accepted yet from R06 (1 rejected: see 'Returns')" in checked.output
    assert "No return yet from R08" in checked.output  # R08 sent nothing at all


def test_findings_alike_for_many_refs_are_one_entry_and_verbose_lists_each(generated):
    from bva_excel.excel.read.framework import load_framework

    assessment, generation = generated  # every return in, no moderation round: no moderation note anywhere
    refs = [c.ref for c in load_framework(assessment.workbook).characteristics if c.ref != "L001"][:4]
    given = dict(zip(refs, [("Amber", "Seen", "Gaps"), ("Yellow", "Seen", "Gaps"), ("Light green", "Seen", "Gaps"),
                            ("Dark green", "Seen", "")]))  # each its own consolidated score: its own evidence
    return_all(assessment, generation, given, ("Amber", "Seen", "Gaps"))
    assert run("ingest", assessment.folder).exit_code == 0
    assert run("report", assessment.folder).exit_code == 0
    folder = assessment.folder
    workbook = openpyxl.load_workbook(folder / "report.xlsx")
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    for row in range(2, scores.max_row + 1):  # moderated to Red, with no note saying why
        if scores.cell(row, 1).value in refs:
            assert not scores.cell(row, headers.index("Moderation note") + 1).value
            scores.cell(row, headers.index("Moderated score") + 1, "Red")
    workbook.save(folder / "report.xlsx")
    grouped = run("check", folder).output
    assert f"  {', '.join(refs)} (4): Moderated score without a note saying why" in grouped
    assert "; ".join(f"{ref}: consolidated" for ref in refs[:1]) in grouped  # each one's evidence, by ref
    each = run("check", folder, "--verbose").output
    assert sorted(line.split()[0] for line in each.splitlines()
                  if line.endswith("Moderated score without a note saying why")) == sorted(refs)
