"""A full disk, or a file or folder one may not change, at every place a command writes: one message naming the
file, what happened and what to do (never a traceback), and the records and every file as they were before the
command or as after it; the next run, with room to write, finishes the work.

The faults are made through one seam (tests/faults.py): each write point of each command is made to fail in
turn, alternately as a full disk (ENOSPC) and as no permission (EACCES)."""

from __future__ import annotations

import datetime as dt
import errno
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FOLDER, answer, refs_of, shared
from faults import FailingWrites
from progress_helpers import list_service_areas, type_plan
from terminal import through_a_pipe

from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.cli import cli
from bva_excel.store.folder import open_assessment

COMMANDS = [
    ["ingest"], ["report"], ["check", "--spread", "3"], ["signoff", "--by", "Jane Smith, Chief Executive", "--accept-open"],
    ["follow-up"], ["generate", "--reallocate"], ["generate", "--moderation", "--moderators", "R02"],
    ["generate", "--progress"], ["detail", "CI001"], ["actions"], ["picture"],
]
VOLATILE = ("lock", "lock-holder.json")  # the lock's own files, rewritten by every command that takes it
SAID = ("nothing was half-written", "left as it was", "cannot be put in the outbox", "could not be put in the outbox")
# What finishes a command's work after it failed, when it did not leave everything as it was: the command itself,
# run again; for a round of workbooks, any later command (it moves those recorded into the outbox).
FINISHED_BY = {"generate": ["ingest"]}
# Commands whose work is one change, made whole or not at all: stopped by a fault, everything is as before. (Ingest
# keeps each return it finished; a round of workbooks is recorded before they are moved into the outbox.)
ONE_CHANGE = {"report", "check", "signoff", "follow-up", "detail", "actions", "picture"}


@pytest.fixture(scope=shared("module"))
def base(tmp_path_factory, _made_once):
    """Returns ingested, a report with an action for Finance typed in, and two new returns waiting in the inbox."""
    made, generation = _made_once
    folder = tmp_path_factory.mktemp("faults") / FOLDER
    shutil.copytree(made / "generated" / FOLDER, folder)
    assessment = open_assessment(folder)
    for reviewer_id, path in generation.files.items():
        answer(assessment.outbox / path.name, assessment.inbox / f"{reviewer_id}.xlsx",  # CI001 for moderation
               {ref: ("Red", "", "") if ref == "CI001" else ("Amber", "Weak.", "A gap.")
                for ref in refs_of(generation, reviewer_id)})
    ingest(assessment)
    write_report(assessment)
    list_service_areas(assessment, [("Finance", "Fay Green", "fay@example.gov.uk")])
    type_plan(assessment.report, {"ACT-CI001": {"Action": "Write the plan", "Owner": "Jo", "Service area": "Finance",
                                                "Target date": dt.datetime(2027, 3, 31)}})
    write_report(assessment)
    for reviewer_id in ("R01", "R02"):
        answer(assessment.outbox / generation.files[reviewer_id].name, assessment.inbox / f"{reviewer_id} again.xlsx",
               {ref: ("Yellow", "Better.", "") for ref in refs_of(generation, reviewer_id)},
               saved=dt.datetime(2026, 12, 20, 9, 0))
    assessment.records.close()
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file a person or the tool keeps, and its bytes (not the lock's files or a run's temporary files)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in VOLATILE and not {"tmp", "matplotlib"} & set(p.relative_to(folder).parts)}


def counts(folder: Path) -> tuple:
    """The records' rows per table and the names of the files kept: what a finished command leaves behind."""
    with sqlite3.connect(folder / ".bva" / "records.sqlite") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
    connection.close()
    return rows, sorted(name for name in snapshot(folder) if not name.startswith(".bva/staging"))


def run(folder: Path, command: list[str], faults: FailingWrites | None, monkeypatch):
    arguments = [command[0], str(folder), *command[1:]]
    if faults is None:
        return CliRunner().invoke(cli, arguments)
    with faults.installed(monkeypatch):
        return CliRunner().invoke(cli, arguments)


@pytest.fixture(scope=shared("module"))
def shared_sites(base, tmp_path_factory):
    """The write points every command has (the lock, a run's temporary folder): tried once, with report."""
    folder = tmp_path_factory.mktemp("shared") / FOLDER
    shutil.copytree(base, folder)
    faults = FailingWrites(folder)
    with pytest.MonkeyPatch.context() as monkeypatch:
        run(folder, ["check"], faults, monkeypatch)
    return set(faults.sites)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_write_that_fails_anywhere_is_said_and_leaves_before_or_after(base, shared_sites, tmp_path, monkeypatch,
                                                                         command):
    clean_folder = tmp_path / "clean" / FOLDER
    shutil.copytree(base, clean_folder)
    faults = FailingWrites(clean_folder)
    clean = run(clean_folder, command, faults, monkeypatch)
    assert clean.exception is None or isinstance(clean.exception, SystemExit), clean.output
    finisher = FINISHED_BY.get(command[0], command)
    if finisher != command:
        run(clean_folder, finisher, None, monkeypatch)
    finished = counts(clean_folder)
    sites = [site for site in faults.sites if command == ["report"] or site not in shared_sites]
    assert sites, ("the command wrote nothing", clean.output)

    for number, site in enumerate(sites):
        error = (errno.ENOSPC, errno.EACCES)[number % 2]
        folder = tmp_path / f"fault {number}" / FOLDER
        shutil.copytree(base, folder)
        before = snapshot(folder)

        result = run(folder, command, FailingWrites(folder, error, fail_at=site), monkeypatch)

        where = (site, errno.errorcode[error], result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), where
        assert "Traceback" not in result.output and "Exception ignored" not in result.output, where
        said = [line for line in result.output.splitlines() if any(words in line for words in SAID)]
        if said:  # stopped by the fault: one message, naming the file
            assert result.exit_code == 1, where
            assert len(said) == 1 and said[0].startswith("error: "), where
            assert str(folder) in said[0] or ".bva" in said[0], where
            if command[0] in ONE_CHANGE:
                assert snapshot(folder) == before, where
        else:  # a write it could do without (its temporary folder): the work is done all the same
            assert result.exit_code == clean.exit_code, where
        if not said or snapshot(folder) != before:  # as after, once the next command has finished the work
            if said or finisher != command:
                again = run(folder, finisher, None, monkeypatch)
                assert again.exception is None or isinstance(again.exception, SystemExit), (where, again.output)
            assert counts(folder) == finished, where
        shutil.rmtree(folder.parent)


# A real full disk: a small in-memory drive (tmpfs), where the test machine lets the tests mount one.

@pytest.fixture
def small_drive(tmp_path):
    """A 6 MB tmpfs mounted for the test (skipped where mounting is not allowed)."""
    import subprocess

    mount = tmp_path / "drive"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode:
        pytest.skip(f"cannot mount a small drive here: {made.stderr.decode(errors='replace').strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(drive: Path, leave: int) -> Path:
    """Fill the drive but for about `leave` bytes."""
    filler = drive / "filler"
    free = shutil.disk_usage(drive).free
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


@pytest.mark.subprocess
@pytest.mark.parametrize("command", [["ingest"], ["report"], ["detail", "all"]], ids=" ".join)
def test_a_drive_that_fills_up_is_said_and_nothing_is_half_written(base, small_drive, command):
    folder = small_drive / FOLDER
    shutil.copytree(base, folder)
    outcomes = set()
    for leave in (0, 20_000, 150_000):
        before = snapshot(folder)
        filler = fill(small_drive, leave)

        result = through_a_pipe(command[0], folder, *command[1:])

        filler.unlink()
        assert "Traceback" not in result.output and "Exception ignored" not in result.output, (leave, result.output)
        full = "the disk is full, so it could not be written; nothing was half-written" in result.output
        outcomes.add(full)
        if full:
            assert result.exit_code == 1
            if command[0] != "ingest":
                assert snapshot(folder) == before, leave
        counts(folder)  # the records whole
    assert True in outcomes  # the drive did fill up
    assert through_a_pipe(command[0], folder, *command[1:]).exit_code == 0


@pytest.fixture
def read_only_records(base, tmp_path):
    """A copy of the assessment whose records folder is mounted read-only, as on a share one may only read."""
    import subprocess

    folder = tmp_path / FOLDER
    shutil.copytree(base, folder)
    records = folder / ".bva"
    bound = subprocess.run(["mount", "--bind", str(records), str(records)], capture_output=True)
    if bound.returncode:
        pytest.skip(f"cannot mount a read-only folder here: {bound.stderr.decode(errors='replace').strip()}")
    subprocess.run(["mount", "-o", "remount,ro,bind", str(records)], check=True, capture_output=True)
    yield folder
    subprocess.run(["umount", "-l", str(records)], capture_output=True)


@pytest.mark.subprocess
@pytest.mark.parametrize("command", [["report"], ["follow-up"], ["signoff", "--by", "Jane Smith, Chief Executive",
                                                                  "--accept-open"], ["ingest"]], ids=" ".join)
def test_read_only_records_are_said_and_nothing_is_written_beside_them(read_only_records, command):
    folder = read_only_records
    before = snapshot(folder)

    result = through_a_pipe(command[0], folder, *command[1:])

    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "it may not be written (Read-only file system); nothing was half-written" in result.output
    assert "Ask for permission to change files in its folder" in result.output
    assert snapshot(folder) == before  # no report or follow-up written without its record
