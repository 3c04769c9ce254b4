"""Damaged, empty and old records: nothing is ever written into a damaged database, an empty one is named and
left alone, and an old one is upgraded once, by whoever holds the assessment's lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from conftest import answer, refs_of

from bva_excel.cli import cli
from bva_excel.store.files import holding_lock
from bva_excel.store.records import MIGRATIONS, SCHEMA_VERSION

WRITING = [["ingest"], ["report"], ["generate"], ["signoff", "--by", "Jane Smith, Chief Executive", "--accept-open"],
           ["check", "--spread", "3"]]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def damage_a_page_ingest_never_reads(database) -> None:
    """Overwrite the page of a table that ingest does not read (the change trail) as a bad sector or a torn
    copy would: SQLite's own check fails, while ingest alone would not notice."""
    with sqlite3.connect(database) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'seen_value'").fetchone()[0]
    connection.close()
    data = bytearray(database.read_bytes())
    start = (root - 1) * page_size
    data[start:start + 16] = b"\x0d\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    database.write_bytes(bytes(data))


def test_a_return_is_never_written_into_damaged_records(generated):
    assessment, generation = generated
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx",
           {ref: ("Yellow", "Fair.", "") for ref in refs_of(generation, "R01")})
    database = assessment.records_dir / "records.sqlite"
    assessment.records.close()
    damage_a_page_ingest_never_reads(database)
    damaged = database.read_bytes()

    for command in WRITING:
        result = run(command[0], assessment.folder, *command[1:])

        assert result.exit_code == 1, (command, result.output)
        assert "records.sqlite: the assessment's records cannot be read (" in result.output, command
        assert "Nothing was changed. Restore the folder's .bva/records.sqlite from a backup" in result.output
        assert database.read_bytes() == damaged, command
    assert not (assessment.folder / "report.xlsx").exists()


def test_healthy_records_pass_the_check_and_take_the_return(generated):
    assessment, generation = generated
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx",
           {ref: ("Yellow", "Fair.", "") for ref in refs_of(generation, "R01")})

    result = run("ingest", assessment.folder)

    assert result.exit_code == 0 and "1 accepted" in result.output


@pytest.mark.parametrize("command", [["report"], ["check"], ["ingest"], ["changes"], ["generate"]])
def test_empty_records_are_named_and_left_empty(generated, command):
    assessment, _ = generated
    database = assessment.records_dir / "records.sqlite"
    assessment.records.close()
    database.write_bytes(b"")

    result = run(command[0], assessment.folder, *command[1:])

    assert result.exit_code == 1
    assert ("records.sqlite: the assessment's records are an empty file (0 bytes): a copy or a sync that did not "
            "finish, or a full disk. It was left as it is. Restore .bva/records.sqlite from a backup of") in \
        " ".join(result.output.split())
    assert database.stat().st_size == 0


def _make_old(assessment) -> None:
    """Records as the version with one migration left them."""
    meta = assessment.records.meta()
    assessment.records.close()
    database = assessment.records_dir / "records.sqlite"
    database.unlink()
    with sqlite3.connect(database) as connection:
        connection.executescript(MIGRATIONS[0])
        connection.execute("INSERT INTO assessment VALUES (1, ?, ?, ?, '0.2.0', 0)",
                           (meta.assessment_id, meta.title, meta.created))
        connection.execute("PRAGMA user_version = 1")
    connection.close()


def _version(assessment) -> int:
    with sqlite3.connect(assessment.records_dir / "records.sqlite") as connection:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    connection.close()
    return version


OPEN = "import sys; from bva_excel.store.folder import open_assessment; open_assessment(sys.argv[1]).records.close()"


@pytest.mark.subprocess
def test_old_records_are_upgraded_only_under_the_lock(generated):
    assessment, _ = generated
    _make_old(assessment)

    with holding_lock(assessment.records_dir, "ingest", assessment.folder):  # another command, mid-way
        opener = subprocess.Popen([sys.executable, "-c", OPEN, str(assessment.folder)], stderr=subprocess.PIPE,
                                  text=True)
        time.sleep(1.5)
        assert _version(assessment) == 1  # not upgraded under another command's lock
        assert opener.poll() is None  # it waits

    assert opener.wait(60) == 0, opener.stderr.read()
    assert _version(assessment) == SCHEMA_VERSION


@pytest.mark.subprocess
def test_many_commands_opening_old_records_at_once_all_succeed(generated):
    assessment, _ = generated
    _make_old(assessment)

    openers = [subprocess.Popen([sys.executable, "-c", OPEN, str(assessment.folder)], stderr=subprocess.PIPE, text=True)
               for _ in range(6)]

    for opener in openers:
        assert opener.wait(60) == 0, opener.stderr.read()
    assert _version(assessment) == SCHEMA_VERSION
