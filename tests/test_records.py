"""The records database: migration from the JSON of version 0.1, refusals, kills, and cheap re-ingest."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import answer, current

import bva_excel.app.ingest as inbox_module
from bva_excel.app.ingest import ingest
from bva_excel.cli import cli
from bva_excel.store.files import sha256_of
from bva_excel.store.folder import open_assessment
from bva_excel.store.records import SCHEMA_VERSION

LEGACY = Path(__file__).parent / "data" / "legacy-0.1"


@pytest.fixture
def legacy(tmp_path) -> Path:
    folder = tmp_path / "BV 2025"
    shutil.copytree(LEGACY, folder)
    return folder


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_json_records_of_version_0_1_are_moved_into_the_database_once(legacy):
    result = run("report", legacy)
    assert result.exit_code == 0, result.output
    assert result.output.count("were moved from JSON files made by an earlier version") == 1
    backup = legacy / ".bva" / "json-backup"
    assert sorted(p.name for p in backup.iterdir()) == ["assessment.json", "issued.json", "returns.json"]
    assert not (legacy / ".bva" / "returns.json").exists()
    assessment = open_assessment(legacy)
    assert assessment.notes == []  # said once only
    assert assessment.assessment_id == "BV-2026-D1F00B"
    returns = assessment.records.returns()
    assert [(r.name, r.status) for r in returns] == [
        ("R01 first.xlsx", "accepted"), ("R01 resend.xlsx", "accepted"), ("R02.xlsx", "accepted"),
        ("R03 typo.xlsx", "rejected")]
    assert [p.code for p in returns[3].problems] == ["SCORE_INVALID"]
    assert "'Ambr' is not a rating on the scale" in str(returns[3].problems[0])
    answers = current(assessment)
    assert {r.rating for r in answers["R01"][1]} == {"Yellow"}  # the resend still counts
    assert {r.rating for r in answers["R02"][1]} == {"Amber"}
    assert len(assessment.records.issues()) == 3
    assert assessment.records.issues()[0].texts  # the text issued is kept, to spot edited statements
    # The same inbox again: nothing new, nothing lost.
    again = run("ingest", legacy)
    assert again.exit_code == 1  # the typo file is still rejected
    assert again.output.splitlines()[:2] == [
        "Rejected when first read, and not replaced since (see the Returns sheet or --json): R03 typo.xlsx",
        "0 accepted, 0 rejected, 4 already ingested (1 of them rejected then), 0 skipped."]
    assert len(open_assessment(legacy).records.returns()) == 4



def test_json_records_without_the_issued_text_still_take_later_returns(legacy):
    """Records of 0.1 that never kept the text issued (no 'texts'): moved in, and a later return is read,
    with nothing to compare its locked text against."""
    issued = legacy / ".bva" / "issued.json"
    records = json.loads(issued.read_text(encoding="utf-8"))
    for record in records:
        del record["texts"]
    issued.write_text(json.dumps(records), encoding="utf-8")
    answer(legacy / "outbox" / "BV review R02 Bob Stone.xlsx", legacy / "inbox" / "R02 second.xlsx",
           {"CI001": ("Light green", "Better now.", "None.")}, saved=dt.datetime(2027, 1, 4, 9, 0))
    result = run("ingest", legacy)
    assert "accepted   R02 second.xlsx  (R02 Bob Stone, answered 1/2)" in result.output.splitlines()
    assert "1 accepted, 0 rejected, 4 already ingested (1 of them rejected then), 0 skipped." in result.output.splitlines()
    answers = {r.ref: r.rating for r in current(open_assessment(legacy))["R02"][1]}
    assert answers == {"CI001": "Light green", "CI002": "Amber"}

def test_a_damaged_json_record_is_refused_with_a_message_and_nothing_changes(legacy):
    ledger = legacy / ".bva" / "returns.json"
    ledger.write_bytes(ledger.read_bytes()[:700])
    result = run("report", legacy)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "returns.json: the assessment's records cannot be read (returns.json is damaged:" in result.output
    assert ledger.exists() and not (legacy / ".bva" / "records.sqlite").exists()


@pytest.mark.parametrize("damage, expected", [
    (lambda db: db.write_bytes(b"this is not a database at all" * 100), "file is not a database"),
    (lambda db: db.write_bytes(db.read_bytes()[:6000]), "cannot be read"),
])
def test_a_damaged_database_is_refused_with_a_message(generated, damage, expected):
    assessment, _ = generated
    database = assessment.records_dir / "records.sqlite"
    assessment.records.close()
    damage(database)
    for command in ("ingest", "report", "check", "generate"):
        result = run(command, assessment.folder)
        assert result.exit_code == 1, (command, result.output)
        assert "records.sqlite: the assessment's records cannot be read" in result.output
        assert expected in result.output and "Traceback" not in result.output


def test_records_written_by_a_newer_version_are_refused(generated):
    assessment, _ = generated
    database = assessment.records_dir / "records.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA user_version = 99")
        connection.execute("UPDATE setting SET value = '9.0.0' WHERE key = 'tool_version'")
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert ("the assessment's records were written by bva-excel 9.0.0 (records version 99; this version reads up "
            f"to {SCHEMA_VERSION}). Nothing was changed. Upgrade this computer's copy") in result.output
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 99


def test_newer_records_that_do_not_say_which_version_wrote_them_are_refused_by_name(generated):
    assessment, _ = generated
    database = assessment.records_dir / "records.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA user_version = 99")
        connection.execute("DELETE FROM setting WHERE key = 'tool_version'")
    result = run("report", assessment.folder)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (f"records.sqlite: the assessment's records were written by a newer bva-excel (records version 99; this "
            f"version reads up to {SCHEMA_VERSION}). Nothing was changed.") in " ".join(result.output.split())


def test_what_was_recorded_is_kept_as_it_was_written(generated, tmp_path):
    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R01" in ids]
    answer(generation.files["R01"], assessment.inbox / "r01.xlsx", {ref: ("Amber", "Weak.", "Gap.") for ref in refs})
    ingest(assessment)
    with sqlite3.connect(assessment.records_dir / "records.sqlite") as connection:
        for statement in ("UPDATE response SET rating = 'Dark green'", "DELETE FROM return_file",
                          "UPDATE issue SET reviewer_id = 'R02'"):
            with pytest.raises(sqlite3.IntegrityError, match="kept as they were written"):
                connection.execute(statement)
    assert {r.rating for r in current(assessment)["R01"][1]} == {"Amber"}


def test_re_ingest_reads_only_what_is_new(generated, monkeypatch):
    assessment, generation = generated
    refs = {rid: [ref for ref, ids in generation.allocation.items() if rid in ids] for rid in generation.files}
    answer(generation.files["R01"], assessment.inbox / "r01.xlsx", {r: ("Amber", "a", "b") for r in refs["R01"]})
    answer(generation.files["R02"], assessment.inbox / "r02.xlsx", {r: ("Yellow", "a", "b") for r in refs["R02"]})
    ingest(assessment)
    read = []
    real = inbox_module.read_return
    monkeypatch.setattr(inbox_module, "read_return", lambda path, *a: read.append(a[4]) or real(path, *a))
    assert {o.status for o in ingest(assessment).outcomes} == {"unchanged"}
    assert read == []
    os.utime(assessment.inbox / "r01.xlsx", (1_800_000_000, 1_800_000_000))  # touched, not changed
    answer(generation.files["R03"], assessment.inbox / "r03.xlsx", {r: ("Red", "a", "b") for r in refs["R03"]})
    statuses = {o.name: o.status for o in ingest(assessment).outcomes}
    assert statuses == {"r01.xlsx": "unchanged", "r02.xlsx": "unchanged", "r03.xlsx": "accepted"}
    assert read == ["r03.xlsx"]  # the touched file was hashed, not read


def test_many_new_returns_are_read_in_several_processes_in_order(generated, monkeypatch):
    assessment, generation = generated
    monkeypatch.setattr(inbox_module, "PARALLEL_FROM", 2)
    refs = [ref for ref, ids in generation.allocation.items() if "R01" in ids]
    for number in range(6):
        path = answer(generation.files["R01"], assessment.inbox / f"r01 v{number}.xlsx",
                      {ref: ("Amber", f"version {number}", "") for ref in refs})
        os.utime(path, (1_700_000_000 + number, 1_700_000_000 + number))
    outcomes = ingest(assessment).outcomes
    assert [o.name for o in outcomes] == [f"r01 v{n}.xlsx" for n in range(6)]
    assert [[str(p) for p in o.problems] for o in outcomes] == [[]] + [
        [f"r01 v{n + 1}.xlsx: its answers replace {len(refs)} earlier answer(s) from r01 v{n}.xlsx (0 with another "
         "score). Nothing to do; "
         "the earlier files are kept in the archive."] for n in range(5)]
    assert {r.commentary for r in current(assessment)["R01"][1]} == {"version 5"}
    assert not (assessment.records_dir / "incoming").exists()


@pytest.mark.subprocess
def _left_behind(folder: str, within: float = 10.0) -> list[int]:
    """Processes still running `bva ingest` on `folder` after `within` seconds (Linux's /proc; elsewhere [])."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    deadline = time.monotonic() + within
    while True:
        running = []
        for entry in proc.iterdir():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"ingest" in argv and folder.encode() in argv:
                running.append(int(entry.name))
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.1)


@pytest.mark.parametrize("kill_after", [1, 9])
def test_a_kill_during_ingest_leaves_records_and_archive_in_agreement(generated, kill_after):
    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R02" in ids]
    for number in range(60):
        path = answer(generation.files["R02"], assessment.inbox / f"r02 v{number:02d}.xlsx",
                      {ref: ("Yellow", f"draft {number}", "") for ref in refs})
        os.utime(path, (1_700_000_000 + number, 1_700_000_000 + number))
    process = subprocess.Popen([sys.executable, "-m", "bva_excel", "ingest", str(assessment.folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while (len(list(assessment.archive.iterdir())) < kill_after and process.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.002)
    process.kill()  # no chance to tidy up, as when a laptop's lid is shut or the task is ended
    process.wait()
    assert _left_behind(str(assessment.folder)) == []  # its reading processes end with it
    records = open_assessment(assessment.folder).records
    assert records.integrity() == "ok"
    recorded = records.returns()
    assert len(recorded) < 60  # killed part-way, not after the work was done
    for record in recorded:
        archived = assessment.folder / record.archive
        assert archived.is_file() and sha256_of(archived) == record.sha256
    # The next run finishes the work, and every file is accounted for exactly once.
    again = ingest(open_assessment(assessment.folder))
    assert again.valid
    recorded = open_assessment(assessment.folder).records.returns()
    assert sorted(r.name for r in recorded) == sorted(p.name for p in assessment.inbox.iterdir())
    assert {r.commentary for r in current(open_assessment(assessment.folder))["R02"][1]} == {"draft 59"}


def test_damaged_records_are_refused_with_where_to_restore_them_from(generated):
    assessment, _ = generated
    assessment.records.close()
    (assessment.records_dir / "records.sqlite").write_bytes(b"this is not a database at all" * 100)
    result = run("report", assessment.folder)
    assert result.exit_code == 1
    assert result.output == (
        "error: records.sqlite: the assessment's records cannot be read (file is not a database). Nothing was "
        f"changed. Restore the folder's .bva/records.sqlite from a backup of {assessment.folder}, or ask whoever "
        "looks after the tool.\n")


def test_a_database_that_holds_no_assessment_is_damaged(generated):
    assessment, _ = generated
    assessment.records.close()
    with sqlite3.connect(assessment.records_dir / "records.sqlite") as connection:
        connection.execute("CREATE TABLE emptied AS SELECT * FROM assessment WHERE 0")
        connection.execute("ALTER TABLE assessment RENAME TO kept")
        connection.execute("ALTER TABLE emptied RENAME TO assessment")
    result = run("check", assessment.folder)
    assert result.exit_code == 1
    assert result.output.startswith("error: records.sqlite: the assessment's records cannot be read (it holds no "
                                    "assessment). Nothing was changed.")


def test_records_of_an_earlier_schema_are_brought_up_to_date_once(generated):
    """A folder whose records were made before --prefer existed (schema 1) gains what it needs."""
    from bva_excel.store.records import MIGRATIONS, Records

    assessment, generation = generated
    meta = assessment.records.meta()
    assessment.records.close()
    database = assessment.records_dir / "records.sqlite"
    database.unlink()
    with sqlite3.connect(database) as connection:  # as the version with one migration left it
        connection.executescript(MIGRATIONS[0])
        connection.execute("INSERT INTO assessment VALUES (1, ?, ?, ?, '0.2.0', 0)",
                           (meta.assessment_id, meta.title, meta.created))
        connection.execute("PRAGMA user_version = 1")
    Records.open(database).close()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 12
        assert connection.execute("SELECT value FROM setting WHERE key = 'tool_version'").fetchone()[0] != "0.2.0"
        triggers = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"preference_kept_update", "preference_kept_delete", "response_kept_delete",
                "signoff_kept_update", "signoff_score_kept_delete", "progress_update_kept_update",
                "follow_up_kept_delete", "seen_value_kept_update"} <= triggers
        assert "kind" in {row[1] for row in connection.execute("PRAGMA table_info(issue)")}
    records = Records.open(database)  # again: nothing more to do
    assert records.seen_values() == []
    assert records.preferences() == {} and records.meta().assessment_id == meta.assessment_id


def test_a_practice_folder_is_known_from_its_records_and_a_real_assessment_is_not(tmp_path):
    from bva_excel.app.new import create_assessment
    from bva_excel.store.folder import is_demo

    practice = create_assessment(tmp_path / "practice", demo=True)
    real = create_assessment(tmp_path / "BV 2026")
    practice.records.close()
    real.records.close()
    assert (is_demo(practice.folder), is_demo(real.folder)) == (True, False)  # only a practice one is made afresh


def test_the_answers_of_more_than_five_hundred_returns_are_each_read_once(tmp_path):
    from bva_excel.model.recorded import Response, ReturnRecord
    from bva_excel.store.records import AssessmentMeta, Records

    records = Records.create(tmp_path / "records.sqlite", AssessmentMeta("BV-1", "Many returns", "2026-11-29", "1"))
    with records.batch():
        ids = [records.record_return(ReturnRecord(f"{n:064x}", f"R{n}.xlsx", "", "2026-11-29", "", "accepted", "R01"),
                                     [Response("L001", "R01", "Amber", f"Return {n}.", "", f"R{n}.xlsx", "Review", "D2")]
                                     ).return_id for n in range(1002)]
    found = records.responses_by_return(ids)
    records.close()
    assert sorted(found) == sorted(ids)
    assert all([r.commentary for r in found[i]] == [f"Return {n}."] for n, i in enumerate(ids))


def test_new_records_are_made_beside_where_they_go_and_renamed_in(tmp_path, monkeypatch):
    """The rename that puts them in place is within one folder: on a network drive it cannot be half done."""
    from bva_excel.app.new import create_assessment

    renames = []
    real_replace = os.replace

    def replace(source, target):
        renames.append((Path(source), Path(target)))
        return real_replace(source, target)
    monkeypatch.setattr(os, "replace", replace)
    create_assessment(tmp_path / "BV 2026")
    [(source, target)] = [(s, t) for s, t in renames if t.name == "records.sqlite"]
    assert source.parent == target.parent == tmp_path / "BV 2026" / ".bva"
    assert not source.exists() and target.exists()



@pytest.mark.parametrize("table, column, value, said", [
    ("issue", "kind", "reveiw", "it holds 'reveiw' where no version"),  # issued for what no version issues
    ("return_file", "status", "acepted", "CHECK constraint failed"),  # SQLite's own check of the records finds it
])
def test_a_word_the_tool_never_writes_in_the_records_is_damage_named_as_such(generated, table, column, value, said):
    assessment, generation = generated
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx", {})
    assert run("ingest", assessment.folder).exit_code in (0, 1)
    database = assessment.records_dir / "records.sqlite"
    assessment.records.close()
    with sqlite3.connect(database) as connection:  # past the records' own checks, as another program could
        connection.execute("PRAGMA ignore_check_constraints = ON")
        for (trigger,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                             (table,)).fetchall():
            connection.execute(f"DROP TRIGGER {trigger}")
        connection.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = 1", (value,))
    for command in ("report", "check", "ingest"):
        result = run(command, assessment.folder)
        assert result.exit_code == 1, (command, result.output)
        assert "records.sqlite: the assessment's records cannot be read" in result.output
        assert said in result.output and "Traceback" not in result.output


def test_what_the_records_hold_comes_back_as_the_words_the_tool_decides_by(generated):
    from bva_excel.model.kinds import IssueKind, ReturnStatus

    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R01" in ids]
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx", {refs[0]: ("Amber", "Seen", "")})
    ingest(assessment)
    records = open_assessment(assessment.folder).records
    assert {issue.kind for issue in records.issues()} == {IssueKind.REVIEW}
    [returned] = records.returns()
    assert returned.status is ReturnStatus.ACCEPTED and f"{returned.status}" == "accepted"
