"""A file open in Excel on Windows cannot be replaced or moved: said by name, nothing half-written left.

Windows' refusal is simulated: os.replace raises PermissionError, as it does there, for the files
Excel "has open".
"""

import errno
import os
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from bva_excel.assessment import create_assessment, open_assessment
from bva_excel.cli import cli
from bva_excel.identity import IDENTITY_SHEET

BUSY = "The process cannot access the file because it is being used by another process"
STILL_OPEN = "it is open in Excel or another program, or you may not change it"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def excel_has_open(monkeypatch) -> set[Path]:
    """The files (or folders) Excel has open: os.replace refuses to replace or move them, as on Windows."""
    held: set[Path] = set()
    replace = os.replace

    def refusing(source, target, *args, **kwargs):
        if {Path(source), Path(target)} & held:
            raise PermissionError(errno.EACCES, BUSY, str(source), None, str(target))
        return replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", refusing)
    return held


def half_written(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def issue_in(workbook: Path) -> str:
    rows = openpyxl.load_workbook(workbook)[IDENTITY_SHEET].iter_rows(values_only=True)
    return dict(rows)["issue_id"]


def test_a_report_open_in_excel_is_left_as_it_was_and_named(generated, excel_has_open):
    assessment, _ = generated
    assert run("report", assessment.folder).exit_code == 0
    before = assessment.report.read_bytes()
    excel_has_open.add(assessment.report)
    result = run("report", assessment.folder)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {assessment.report}: cannot be replaced, so it was left as it was: {STILL_OPEN} ({BUSY}). Close it "
        "(in Excel, or wherever it is open) and run the command again; if it is not open, ask for permission to "
        "change files in its folder.\n")
    assert assessment.report.read_bytes() == before
    assert half_written(assessment.folder) == []


def test_outbox_workbooks_open_in_excel_wait_and_the_rest_is_done_and_recorded(generated, excel_has_open):
    assessment, generation = generated
    workbook = openpyxl.load_workbook(assessment.workbook)
    workbook["Reviewers"].delete_rows(4, 1)  # R03 leaves: their workbook is withdrawn, SD001 goes to R02
    workbook["Characteristics"].cell(4, 7, "R01")  # L001 listed R01 and R03
    workbook["Characteristics"].cell(5, 7, "R02")  # G001 moves from R01 to R02: R01 gets a new workbook too
    workbook.save(assessment.workbook)
    r01, r03 = generation.files["R01"], generation.files["R03"]
    before = {path: path.read_bytes() for path in (r01, r03)}
    excel_has_open.update({r01, r03})

    result = run("generate", assessment.folder)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {r03}: this workbook is no longer current, but it cannot be moved out of the outbox: {STILL_OPEN} "
        f"({BUSY}). Close it and delete it from the outbox, so that nobody sends it; its returns still count.",
        f"error: {r01}: the new workbook cannot be put in the outbox: the file there is open in Excel or another "
        f"program, or you may not change it ({BUSY}). Close it and run the command again: the new workbook is "
        "recorded, and waits to be moved into the outbox then. Until then the file there is the earlier one; do "
        "not send it."]
    assert "Wrote 1 reviewer workbooks" in result.stdout and "  BV review R02 Bob Stone.xlsx  (" in result.stdout
    assert {path: path.read_bytes() for path in (r01, r03)} == before
    assert half_written(assessment.folder) == []
    latest = {issue.reviewer_id: issue.issue_id for issue in open_assessment(assessment.folder).records.issues()}
    assert issue_in(r01) != latest["R01"]  # recorded, waiting for Excel to let go
    assert issue_in(generation.files["R02"]) == latest["R02"]

    still = run("ingest", assessment.folder)  # the next command tries again, and says so while it is open
    assert still.exit_code == 1
    assert still.stderr.startswith(f"error: {r01}: the new workbook cannot be put in the outbox")

    excel_has_open.clear()
    closed = run("generate", assessment.folder)
    assert closed.exit_code == 0, closed.output
    assert closed.stdout.startswith("  note: finished an interrupted bva generate: moved 1 recorded workbooks into "
                                    "the outbox\n")
    assert issue_in(r01) == latest["R01"]
    assert list(assessment.records_dir.glob("staging-*")) == []


def test_an_earlier_demo_open_in_excel_is_left_whole(tmp_path, framework_file, excel_has_open):
    folder = tmp_path / "demo"
    create_assessment(folder, framework_file, demo=True)
    before = sorted(folder.rglob("*"))
    excel_has_open.add(folder)
    result = run("demo", folder)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {folder}: the earlier demo cannot be replaced: a file in it is open in Excel or another program, "
        f"or you may not change it ({BUSY}). Close the demo's workbooks and run the command again, or give another "
        "folder.\n")
    assert sorted(folder.rglob("*")) == before
    assert sorted(tmp_path.iterdir()) == [tmp_path / "demo", tmp_path / "framework.xlsx"]
