"""A file open in Excel on Windows cannot be replaced or moved: said by name, nothing half-written left.

Windows' refusal is simulated: os.replace raises PermissionError, as it does there, for the files
Excel "has open".
"""

import errno
import os
import tempfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from bva_excel.app.new import create_assessment
from bva_excel.cli import cli
from bva_excel.model.identity import IDENTITY_SHEET
from bva_excel.store.folder import open_assessment

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


def test_a_report_in_a_folder_that_may_not_be_written_to_is_named(generated, monkeypatch):
    assessment, _ = generated

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Access is denied", str(assessment.folder))

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {assessment.report}: it may not be written (Access is denied); nothing was half-written: what this "
        "command had finished is kept and the rest is as it was. Ask for permission to change files in its folder, "
        "or work on a copy of the assessment folder that you may change; then run the command again.\n")
    assert not assessment.report.exists()


def list_reviewers(assessment, listed: dict[str, str]) -> None:
    """Type who reviews each characteristic on 'Characteristics', as the PMO would (nothing left to allocate)."""
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Characteristics"]
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, 7, listed[sheet.cell(row, 1).value])
    if "R03" not in ",".join(listed.values()):
        workbook["Reviewers"].delete_rows(4, 1)
    workbook.save(assessment.workbook)


def test_outbox_workbooks_open_in_excel_wait_and_the_rest_is_done_and_recorded(assessment, excel_has_open):
    list_reviewers(assessment, {"CI001": "R02", "CI002": "R03", "L001": "R01, R03", "G001": "R01", "R001": "R01",
                                "SD001": "R03"})
    assert run("generate", assessment.folder).exit_code == 0
    r01, r02, r03 = sorted(assessment.outbox.iterdir())
    # R03 leaves (their workbook is withdrawn) and G001 moves from R01 to R02: both get a new workbook.
    list_reviewers(assessment, {"CI001": "R02", "CI002": "R02", "L001": "R01", "G001": "R02", "R001": "R01",
                                "SD001": "R02"})
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
    assert "Wrote 1 reviewer workbook" in result.stdout and f"  {r02.name}  (4 characteristics)" in result.stdout
    assert {path: path.read_bytes() for path in (r01, r03)} == before
    assert half_written(assessment.folder) == []
    latest = {issue.reviewer_id: issue.issue_id for issue in open_assessment(assessment.folder).records.issues()}
    assert issue_in(r01) != latest["R01"]  # recorded, waiting for Excel to let go
    assert issue_in(r02) == latest["R02"]

    still = run("ingest", assessment.folder)  # the next command tries again, and says so while it is open
    assert still.exit_code == 1
    assert still.stderr.startswith(f"error: {r01}: the new workbook cannot be put in the outbox")

    excel_has_open.clear()
    closed = run("generate", assessment.folder)
    assert closed.exit_code == 0, closed.output
    assert ("note: finished an interrupted bva generate: moved 1 recorded workbooks into the outbox\n"
            in closed.output)  # said first, whatever the command
    assert issue_in(r01) == latest["R01"]
    assert list(assessment.records_dir.glob("staging-*")) == []


def test_when_every_new_workbook_waits_for_excel_none_is_said_to_be_written(assessment, excel_has_open):
    list_reviewers(assessment, {"CI001": "R02", "CI002": "R03", "L001": "R01, R03", "G001": "R01", "R001": "R01",
                                "SD001": "R03"})
    assert run("generate", assessment.folder).exit_code == 0
    r01 = sorted(assessment.outbox.iterdir())[0]
    workbook = openpyxl.load_workbook(assessment.workbook)
    workbook["Characteristics"].delete_rows(5, 1)  # G001 goes: only R01's set changes
    workbook.save(assessment.workbook)
    excel_has_open.add(r01)
    result = run("generate", assessment.folder)
    assert result.exit_code == 1
    assert "Wrote" not in result.stdout
    assert result.stderr.startswith(f"error: {r01}: the new workbook cannot be put in the outbox")


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
