"""Crashes and kills where the writing happens: inside XlsxWriter's close(), between the temporary file
and the rename, inside a records transaction, and a kill of `bva report` at several moments. Each
leaves the last good report and records, and the next run succeeds.

(A kill of `bva ingest` is in test_records.py, of `bva generate` in test_nothing_lost.py.)
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter.workbook
from click.testing import CliRunner
from conftest import answer, current

from bva_excel.app.ingest import ingest
from bva_excel.app.issue import generate
from bva_excel.app.report import write_report
from bva_excel.cli import cli
from bva_excel.errors import BvaError
from bva_excel.store.folder import open_assessment

ROOT = Path(__file__).resolve().parents[1]
SHEETS = ["Summary", "Scores", "Heat map", "Action plan", "Consistency", "Changes", "Responses", "Returns", "Scale"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def refs_of(generation, reviewer_id):
    return [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


@pytest.fixture
def reported(generated):
    """Every reviewer has returned and a report has been written: the last good state."""
    assessment, generation = generated
    for reviewer_id, path in generation.files.items():
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: ("Amber", f"{reviewer_id} on {ref}", "A gap.") for ref in refs_of(generation, reviewer_id)})
    ingest(assessment)
    write_report(assessment)
    return assessment, generation


def folder_state(folder: Path) -> dict[str, bytes]:
    """Every file in the assessment's folder (not the records) and its bytes."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def assert_the_next_report_is_written(assessment, expected_final: str = "Amber") -> None:
    result = run("report", assessment.folder)
    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(assessment.report, data_only=True)
    assert workbook.sheetnames == SHEETS
    finals = {row[0]: row[6] for row in workbook["Scores"].iter_rows(min_row=2, values_only=True)}
    assert set(finals.values()) == {expected_final}
    assert [p.name for p in assessment.folder.iterdir() if p.name.endswith(".tmp")] == []


class _ZipThatFails(zipfile.ZipFile):
    """A zip whose writing fails after a few parts, as a full disk or a dropped network drive does.
    It records how many bytes had reached the temporary file by then."""

    after_parts = 4
    error: BaseException = OSError(28, "No space left on device")
    written: list[int] = []

    def write(self, *args, **kwargs):
        if len(self.filelist) >= self.after_parts:
            self.fp.flush()
            _ZipThatFails.written.append(os.path.getsize(self.filename))
            raise self.error
        return super().write(*args, **kwargs)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), RuntimeError("killed half way")])
def test_a_failure_inside_close_half_way_through_the_zip_leaves_the_last_report(reported, monkeypatch, error):
    assessment, _ = reported
    before = folder_state(assessment.folder)
    monkeypatch.setattr(_ZipThatFails, "error", error)
    monkeypatch.setattr(_ZipThatFails, "written", [])
    monkeypatch.setattr(xlsxwriter.workbook, "ZipFile", _ZipThatFails)
    result = run("report", assessment.folder)
    assert _ZipThatFails.written and _ZipThatFails.written[0] > 0  # it failed with part of the zip written
    assert result.exit_code == 1
    if isinstance(error, OSError):  # said as a message, never a traceback
        assert result.output == (f"error: {assessment.report}: the disk is full, so it could not be written; nothing "
                                 "was half-written: what this command had finished is kept and the rest is as it "
                                 "was. Free some space on the drive that holds it (or ask IT for more), then run the "
                                 "command again.\n")
    else:
        assert result.exception is error
    assert folder_state(assessment.folder) == before  # the report byte for byte, and no temporary file
    assert not (assessment.records_dir / "lock-holder.json").exists()
    monkeypatch.undo()
    assert_the_next_report_is_written(assessment)


def test_a_failure_between_the_temporary_file_and_the_rename_leaves_the_last_report(reported, monkeypatch):
    assessment, _ = reported
    before = folder_state(assessment.folder)
    real_replace = os.replace
    renamed = []

    def replace_fails(source, target):
        if Path(target).name == "report.xlsx":
            renamed.append(Path(source))
            assert zipfile.ZipFile(source).testzip() is None  # the new report is whole, waiting to be renamed
            raise OSError(5, "Input/output error", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_fails)
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert result.output == (f"error: {assessment.report}: Input/output error. Check the path and its "
                             "permissions.\n")
    assert renamed and not renamed[0].exists()
    assert folder_state(assessment.folder) == before
    monkeypatch.undo()
    assert_the_next_report_is_written(assessment)


def test_a_report_open_in_excel_on_windows_is_said_to_be_busy(reported, monkeypatch):
    """On Windows the rename over a file open in Excel fails with a permission error."""
    assessment, _ = reported
    before = folder_state(assessment.folder)
    real_replace = os.replace

    def replace_refused(source, target):
        if Path(target).name == "report.xlsx":
            raise PermissionError(13, "Access is denied", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_refused)
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert (f"{assessment.report}: cannot be replaced, so it was left as it was: it is open in Excel or another "
            "program") in result.output
    assert folder_state(assessment.folder) == before


# A kill, as when a laptop's lid is shut or the task is ended: no chance to tidy up.

def _report_changed(folder: Path, before: tuple[int, int]) -> bool:
    try:
        stat = (folder / "report.xlsx").stat()
    except FileNotFoundError:
        return True
    return (stat.st_size, stat.st_mtime_ns) != before


def _temporary(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def _written(folder: Path) -> bool:
    for temp in _temporary(folder):
        try:
            if temp.stat().st_size:
                return True
        except FileNotFoundError:  # renamed meanwhile
            return True
    return False


MOMENTS = {
    "once it holds the lock": lambda folder, before: (folder / ".bva" / "lock-holder.json").exists(),
    "once it has begun the report": lambda folder, before: bool(_temporary(folder)) or _report_changed(folder, before),
    "once the report's bytes are being written": lambda folder, before: (
        _written(folder) or _report_changed(folder, before)),
    "once the new report is in place": _report_changed,
}


@pytest.mark.subprocess
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_report_killed_at_any_moment_leaves_the_last_report_or_the_new_one_whole(reported, moment):
    assessment, generation = reported
    before = assessment.report.read_bytes()
    stat = assessment.report.stat()
    # New answers, so the new report differs from the old.
    answer(generation.files["R01"], assessment.inbox / "R01 resend.xlsx",
           {ref: ("Red", "Worse.", "A gap.") for ref in refs_of(generation, "R01")})
    ingest(assessment)
    assessment.records.close()
    process = subprocess.Popen([sys.executable, "-m", "bva_excel", "report", str(assessment.folder)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reached = MOMENTS[moment]
    deadline = time.monotonic() + 60
    while process.poll() is None and not reached(assessment.folder, (stat.st_size, stat.st_mtime_ns)):
        if time.monotonic() > deadline:
            break
        time.sleep(0.0005)
    process.kill()
    process.wait()
    after = assessment.report.read_bytes()
    if after != before:  # the rename happened: the new report must be whole
        workbook = openpyxl.load_workbook(assessment.report)
        assert workbook.sheetnames == SHEETS
    records = open_assessment(assessment.folder).records
    assert records.integrity() == "ok"
    assert len(records.returns()) == 4
    records.close()
    # The next run is not blocked by the dead command's lock and writes the report whole.
    reopened = open_assessment(assessment.folder)
    result = run("report", reopened.folder)
    assert result.exit_code == 0, result.output
    assert _temporary(reopened.folder) == []  # what the killed run left half-written is gone
    scores = {row[0]: row for row in openpyxl.load_workbook(reopened.report, data_only=True)["Scores"].iter_rows(
        min_row=2, values_only=True)}
    assert {scores[ref][6] for ref in refs_of(generation, "R01") if ref != "L001"} == {"Red"}


# The records: each file is recorded in one transaction, all of it or nothing.

class _FailingResponses:
    """The records' connection, failing to insert the responses of the n-th file recorded."""

    def __init__(self, connection: sqlite3.Connection, fail_at: int):
        self._connection, self._fail_at, self._seen = connection, fail_at, 0

    def executemany(self, sql, rows):
        if sql.startswith("INSERT INTO response"):
            self._seen += 1
            if self._seen == self._fail_at:
                raise sqlite3.OperationalError("disk I/O error")
        return self._connection.executemany(sql, rows)

    def __getattr__(self, name):
        return getattr(self._connection, name)


def test_a_failure_inside_a_return_s_transaction_records_nothing_of_it(generated):
    assessment, generation = generated
    first = answer(generation.files["R01"], assessment.inbox / "R01.xlsx",
                   {ref: ("Yellow", "Seen.", "Gap.") for ref in refs_of(generation, "R01")})
    answer(generation.files["R02"], assessment.inbox / "R02.xlsx",
                    {ref: ("Red", "Seen.", "Gap.") for ref in refs_of(generation, "R02")})
    os.utime(first, (1_700_000_000, 1_700_000_000))  # read first
    records = assessment.records
    records._db = _FailingResponses(records._db, fail_at=2)
    with pytest.raises(BvaError, match=r"records.sqlite: it could not be written \(disk I/O error\)"):
        ingest(assessment)
    records.close()
    reopened = open_assessment(assessment.folder)
    recorded = reopened.records.returns()
    assert [r.name for r in recorded] == ["R01.xlsx"]  # the file before it is kept ...
    assert list(reopened.records.inbox_files()) == ["R01.xlsx"]  # ... and nothing of R02.xlsx
    with sqlite3.connect(reopened.records_dir / "records.sqlite") as connection:
        assert connection.execute("SELECT count(*) FROM response WHERE reviewer_id = 'R02'").fetchone() == (0,)
    assert reopened.records.integrity() == "ok"
    assert not (reopened.records_dir / "lock-holder.json").exists()
    # The next ingest records it whole.
    again = ingest(reopened)
    assert {o.name: o.status for o in again.outcomes} == {"R01.xlsx": "unchanged", "R02.xlsx": "accepted"}
    answers = current(open_assessment(assessment.folder))
    assert {r.rating for r in answers["R02"][1]} == {"Red"} and {r.rating for r in answers["R01"][1]} == {"Yellow"}


def test_a_failure_while_recording_what_was_issued_issues_nothing(assessment, monkeypatch):
    real = assessment.records._db

    class FailingSecondIssue(_FailingResponses):
        def executemany(self, sql, rows):
            if sql.startswith("INSERT INTO issued_ref"):
                self._seen += 1
                if self._seen == 2:
                    raise sqlite3.OperationalError("disk I/O error")
            return self._connection.executemany(sql, rows)

    assessment.records._db = FailingSecondIssue(real, 0)
    with pytest.raises(BvaError, match=r"records.sqlite: it could not be written \(disk I/O error\)"):
        generate(assessment)
    assessment.records._db = real
    assert assessment.records.issues() == []
    assert list(assessment.outbox.iterdir()) == []
    assert [p.name for p in assessment.records_dir.iterdir() if p.name.startswith("staging-")] == []
    result = run("generate", assessment.folder)
    assert result.exit_code == 0, result.output
    assert len(list(assessment.outbox.iterdir())) == 3
    assert len(open_assessment(assessment.folder).records.issues()) == 3
