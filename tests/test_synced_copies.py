"""Two officers work on two synced copies of one folder; the sync client keeps both records files, renaming one.
Every command merges the conflict copy: nothing either officer did is lost, each merge is said, and merging twice
changes nothing."""

from __future__ import annotations

import shutil
import sqlite3

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer, return_all

from bva_excel.app.merge import conflict_copies
from bva_excel.cli import cli
from bva_excel.store.folder import open_assessment


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def said(result) -> str:
    return result.output  # stdout and stderr, as a person sees them


def _two_copies(generated, tmp_path):
    """One folder with every return in and a report, copied to two laptops: (A, B, the generation)."""
    assessment, generation = generated
    return_all(assessment, generation, {}, ("Light green", "Seen.", ""))
    assert run("ingest", assessment.folder).exit_code == 0
    assert run("report", assessment.folder).exit_code == 0
    assessment.records.close()
    return (shutil.copytree(assessment.folder, tmp_path / "laptop A" / assessment.folder.name),
            shutil.copytree(assessment.folder, tmp_path / "laptop B" / assessment.folder.name), generation)


@pytest.fixture
def apart(generated, tmp_path):
    """Two copies (`_two_copies`); on A the scores are signed off and a late corrected return is ingested; on B a
    moderated score and note are typed into report.xlsx and reported."""
    a, b, generation = _two_copies(generated, tmp_path)
    assert run("signoff", a, "--by", "Alex Morgan, Chief Executive", "--accept-open").exit_code == 0
    answer(b / "outbox" / generation.files["R02"].name, a / "inbox" / "R02 corrected.xlsx",
           {ref: ("Yellow", "On reflection.", "A gap") for ref, ids in generation.allocation.items() if "R02" in ids})
    assert run("ingest", a).exit_code == 0
    workbook = openpyxl.load_workbook(b / "report.xlsx")
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == "G001")
    scores.cell(row, headers.index("Moderated score") + 1, "Amber")
    scores.cell(row, headers.index("Moderation note") + 1, "Panel agreed")
    workbook.save(b / "report.xlsx")
    assert run("report", b).exit_code == 0
    return a, b, generation


def sync(a, b, name: str) -> None:
    """What the sync client does on B: A's records arrive beside B's under `name`, A's new archived returns too."""
    shutil.copyfile(a / ".bva" / "records.sqlite", b / ".bva" / name)
    for path in (a / ".bva" / "archive").iterdir():
        if not (b / ".bva" / "archive" / path.name).exists():
            shutil.copyfile(path, b / ".bva" / "archive" / path.name)


# Every client's naming is told apart by test_only_the_sync_clients_copies_are_taken_for_conflict_copies; here, end
# to end, OneDrive's (the computer's name) and Dropbox's (whose conflicted copy).
@pytest.mark.parametrize("name", ["records-LAPTOP-12.sqlite", "records (Jane Smith's conflicted copy 2026-12-07).sqlite"])
def test_a_conflict_copy_of_the_records_is_merged_by_the_next_command_and_nothing_is_lost(apart, name):
    a, b, generation = apart
    sync(a, b, name)
    result = run("report", b)
    assert result.exit_code == 0, said(result)
    assert f"note: merged {name}: 1 return, 1 sign-off" in said(result)
    assert not (b / ".bva" / name).exists() and (b / ".bva" / "merged" / name).exists()
    summary = openpyxl.load_workbook(b / "report.xlsx")["Summary"]["A2"].value
    assert "signed off by Alex Morgan, Chief Executive" in summary  # A's sign-off
    scores = {row[0]: row for row in openpyxl.load_workbook(b / "report.xlsx")["Scores"].iter_rows(values_only=True)}
    headers = scores["Ref"]
    r02 = [ref for ref, ids in generation.allocation.items() if ids == ["R02"] or ids == ("R02",)]
    assert r02 and all(scores[ref][headers.index("Consolidated score")] == "Yellow" for ref in r02)  # A's return
    assert scores["G001"][headers.index("Moderated score")] == "Amber"  # B's typing stays
    again = run("check", b)
    assert "merged" not in said(again)


def test_merging_the_same_copy_again_changes_nothing_and_either_way_round_gives_the_same(apart, tmp_path):
    a, b, _ = apart
    first = run("merge", b, a)
    assert first.exit_code == 0, said(first)
    assert f"merged the records of {a}: 1 return, 1 sign-off" in said(first)  # the folder, as it was given
    assert "1 returned file into the archive" in said(first)
    assert ".bva/archive/" not in said(run("check", b))  # A's archived return came with it
    second = run("merge", b, a)
    assert f"merged the records of {a}: nothing new" in said(second)
    assert run("merge", a, b).exit_code == 0
    assert _contents(a) == _contents(b)


def _contents(folder) -> dict[str, list]:
    """Every table's rows as written, without the numbers each copy gives its rows, in order."""
    with sqlite3.connect(folder / ".bva" / "records.sqlite") as db:
        db.row_factory = sqlite3.Row
        found = {}
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            if table in ("inbox_file", "setting"):
                continue
            rows = db.execute(f"SELECT * FROM {table}").fetchall()
            if table in ("return_file", "signoff", "follow_up"):
                key = {"return_file": "return_id", "signoff": "signoff_id", "follow_up": "follow_up_id"}[table]
                rows = [{k: r[k] for k in r.keys() if k != key} for r in rows]
            elif "return_id" in rows[0].keys() if rows else False:
                sha = dict(db.execute("SELECT return_id, sha256 FROM return_file"))
                rows = [{**dict(r), "return_id": sha[r["return_id"]]} for r in rows]
            elif table == "signoff_score":
                by = {i: (s, t) for i, s, t in db.execute("SELECT signoff_id, signed_by, signed_at FROM signoff")}
                rows = [{**dict(r), "signoff_id": by[r["signoff_id"]]} for r in rows]
            else:
                rows = [dict(r) for r in rows]
            found[table] = sorted(repr(sorted(r.items())) for r in rows)
    return found


def test_records_of_another_assessment_are_not_merged_and_left_where_they_are(apart, tmp_path, framework_file):
    from bva_excel.app.new import create_assessment

    _, b, _ = apart
    other = create_assessment(tmp_path / "other", framework_file, "Another")
    other.records.close()
    shutil.copyfile(other.records_dir / "records.sqlite", b / ".bva" / "records-LAPTOP-12.sqlite")
    result = run("check", b)
    assert "these records belong to another assessment" in said(result)
    assert "records-LAPTOP-12.sqlite was not merged and is left where it is" in said(result)
    assert (b / ".bva" / "records-LAPTOP-12.sqlite").exists()


def test_every_table_of_the_records_is_merged_or_said_not_to_be(apart):
    _, b, _ = apart
    records = open_assessment(b).records
    with sqlite3.connect(b / ".bva" / "records.sqlite") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        keyed_by_return = {t for t in tables if "return_id" in {c[1] for c in db.execute(f"PRAGMA table_info({t})")}}
    assert tables - keyed_by_return - set(records.MERGED) == set()


def test_only_the_sync_clients_copies_are_taken_for_conflict_copies(tmp_path):
    copies = ["records-LAPTOP-12.sqlite", "records (1).sqlite", "records(1).sqlite",
              "records (Jane Smith's conflicted copy 2026-12-07).sqlite",
              "records (conflicted copy 2026-12-07 183807).sqlite", "Copy of records.sqlite"]
    for name in ["records.sqlite", ".records-abc.sqlite.tmp", "records.sqlite-journal", "secret", "other.sqlite",
                 "records-old.sqlite", "records (spare).sqlite", *copies]:
        (tmp_path / name).write_bytes(b"x")
    assert sorted(p.name for p in conflict_copies(tmp_path)) == sorted(copies)


def test_a_conflict_copy_of_assessment_xlsx_that_differs_stops_every_command_naming_the_cells(assessment):
    copy = assessment.folder / "assessment-DESKTOP-4F2.xlsx"
    shutil.copyfile(assessment.workbook, copy)
    workbook = openpyxl.load_workbook(copy)
    reviewers = workbook["Reviewers"]
    reviewers.append(["R04", "Kim Poole", "kim@example.gov.uk", "Finance"])
    workbook.save(copy)
    for command in ("generate", "check"):
        result = run(command, assessment.folder)
        assert result.exit_code == 1, command
        assert ("error: assessment-DESKTOP-4F2.xlsx: a second copy of assessment.xlsx (a sync client keeps both when "
                "the workbook was changed on two computers), which differs from it: sheet 'Reviewers' A5 ('' / 'R04'); "
                "sheet 'Reviewers' B5 ('' / 'Kim Poole')") in result.output
        assert "then move the copy out of the assessment folder" in result.output
    assert not list(assessment.outbox.glob("*.xlsx"))
    shutil.move(copy, assessment.folder.parent / copy.name)  # the advice, followed
    assert run("generate", assessment.folder).exit_code == 0


def test_a_conflict_copy_of_assessment_xlsx_holding_the_same_is_moved_aside_with_a_note(assessment):
    copy = assessment.folder / "assessment (1).xlsx"
    shutil.copyfile(assessment.workbook, copy)
    result = run("generate", assessment.folder)
    assert result.exit_code == 0, result.output
    assert "note: assessment (1).xlsx held the same as assessment.xlsx; moved to .bva/merged/" in result.output
    assert not copy.exists() and (assessment.records_dir / "merged" / copy.name).exists()


def _type_scores(path, typed: dict[str, dict]) -> None:
    workbook = openpyxl.load_workbook(path)
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    rows = {scores.cell(r, 1).value: r for r in range(2, scores.max_row + 1)}
    for ref, cells in typed.items():
        for header, value in cells.items():
            scores.cell(rows[ref], headers.index(header) + 1, value)
    workbook.save(path)


def _scores(path) -> dict[str, dict]:
    rows = list(openpyxl.load_workbook(path)["Scores"].iter_rows(values_only=True))
    return {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}


def test_what_was_typed_in_a_conflict_copy_of_the_report_counts_and_a_clash_is_said_with_both_values(generated):
    import os

    assessment, generation = generated
    return_all(assessment, generation, {}, ("Light green", "Seen.", ""))
    assert run("ingest", assessment.folder).exit_code == 0
    assert run("report", assessment.folder).exit_code == 0
    report, copy = assessment.report, assessment.folder / "report-DESKTOP-4F2.xlsx"
    shutil.copyfile(report, copy)
    _type_scores(report, {"G001": {"Moderation note": "Typed on laptop A"},
                          "L001": {"Moderated score": "Yellow", "Moderation note": "A thinks Yellow"}})
    _type_scores(copy, {"CI001": {"Moderated score": "Amber", "Moderation note": "Typed on laptop B"},
                        "L001": {"Moderated score": "Red", "Moderation note": "A thinks Yellow"}})
    stat = report.stat()
    os.utime(copy, (stat.st_atime + 60, stat.st_mtime + 60))  # B saved a minute after A
    result = run("report", assessment.folder)
    assert result.exit_code == 0, result.output
    assert "report-DESKTOP-4F2.xlsx: a second copy of the report" in result.output
    assert ("typed in this copy and not changed in report.xlsx, so it counts: CI001 Moderated score, CI001 "
            "Moderation note") in result.output
    assert ("report-DESKTOP-4F2.xlsx: L001 'Moderated score' was typed differently in this copy ('Red', saved "
            in result.output)
    assert "and in report.xlsx ('Yellow', saved " in result.output
    assert "the value typed in this copy counts, being saved later" in result.output
    now = _scores(report)
    assert (now["CI001"]["Moderated score"], now["CI001"]["Moderation note"]) == ("Amber", "Typed on laptop B")
    assert now["G001"]["Moderation note"] == "Typed on laptop A"
    assert now["L001"]["Moderated score"] == "Red"
    assert not copy.exists()
    assert [p.name for p in (assessment.folder / "history").iterdir() if p.name.startswith("report-DESKTOP-4F2")]
    trail = [line for line in run("changes", assessment.folder).output.splitlines() if line.lstrip().startswith(
        ("CI001", "L001")) or "CI001" in line or "L001" in line]
    assert any("CI001" in line and "typed in report-DESKTOP-4F2.xlsx (saved" in line for line in trail), trail
    assert any("L001" in line and "typed in report-DESKTOP-4F2.xlsx (saved" in line for line in trail), trail
    again = run("report", assessment.folder)
    assert "second copy" not in again.output
    assert _scores(report)["L001"]["Moderated score"] == "Red"


def test_a_conflict_copy_of_the_report_saved_earlier_loses_a_clash_but_gives_what_only_it_holds(generated):
    import os

    assessment, generation = generated
    return_all(assessment, generation, {}, ("Light green", "Seen.", ""))
    assert run("ingest", assessment.folder).exit_code == 0
    assert run("report", assessment.folder).exit_code == 0
    report, copy = assessment.report, assessment.folder / "report (1).xlsx"
    shutil.copyfile(report, copy)
    _type_scores(copy, {"CI001": {"Moderation note": "From the copy"}, "L001": {"Moderated score": "Red"}})
    _type_scores(report, {"L001": {"Moderated score": "Yellow"}})
    stat = copy.stat()
    os.utime(report, (stat.st_atime + 60, stat.st_mtime + 60))
    result = run("check", assessment.folder)  # a command that only reads: counts it, moves nothing
    assert "the value in report.xlsx counts, being saved later" in result.output
    assert copy.exists()
    assert run("report", assessment.folder).exit_code == 0
    now = _scores(report)
    assert now["L001"]["Moderated score"] == "Yellow" and now["CI001"]["Moderation note"] == "From the copy"


def test_two_sign_offs_made_apart_are_both_kept_the_later_stands_and_check_names_the_other(apart, monkeypatch):
    import time

    import bva_excel.store.records as records_module

    a, b, _ = apart  # A signed off as the fixture made it, on this computer; B signs off later on another
    time.sleep(1.1)  # sign-offs are recorded to the second
    monkeypatch.setattr(records_module, "WRITER", "jane on DESKTOP-4F2")
    assert run("signoff", b, "--by", "Jane Smith, Deputy Chief Executive", "--accept-open").exit_code == 0
    monkeypatch.setattr(records_module, "WRITER", "alex on LAPTOP-12")
    sync(a, b, "records-LAPTOP-12.sqlite")
    result = run("check", b)
    assert "note: merged records-LAPTOP-12.sqlite: 1 return, 1 sign-off" in result.output
    assert "note: 2 sign-offs were recorded on different computers: Alex Morgan, Chief Executive on " in result.output
    assert "Jane Smith, Deputy Chief Executive on " in result.output and "(jane on DESKTOP-4F2)" in result.output
    assert "The later stands" in result.output
    signoffs = open_assessment(b).records.signoffs()
    assert [s.signed_by for s in signoffs] == ["Alex Morgan, Chief Executive", "Jane Smith, Deputy Chief Executive"]
    assert run("report", b).exit_code == 0
    summary = openpyxl.load_workbook(b / "report.xlsx")["Summary"]["A2"].value
    assert "signed off by Jane Smith, Deputy Chief Executive" in summary


def _journal_of_unfinished_changes(database) -> bytes:
    """The rollback journal SQLite keeps while it writes `database`, copied mid-write (as a sync client copies
    it), the writing then abandoned: a journal of pages that belong to that database as it was."""
    copy = database.with_name("writing.sqlite")
    shutil.copyfile(database, copy)
    db = sqlite3.connect(copy, isolation_level=None)
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA cache_size = 1")  # so that changed pages reach the file before the end, as a big write's do
    db.execute("BEGIN IMMEDIATE")
    for number in range(300):
        db.execute("INSERT INTO setting VALUES (?, ?)", (f"filler {number}", "x" * 500))
    data = copy.with_name("writing.sqlite-journal").read_bytes()
    db.execute("ROLLBACK")
    db.close()
    copy.unlink()
    return data


def test_a_journal_from_another_computer_is_set_aside_and_never_rolls_these_records_back(apart):
    a, b, _ = apart
    journal = _journal_of_unfinished_changes(a / ".bva" / "records.sqlite")  # A's, mid-write, synced alone
    returns_before = len(open_assessment(b).records.returns())
    (b / ".bva" / "records.sqlite-journal").write_bytes(journal)
    result = run("check", b)
    assert "a journal of unfinished changes to the records, left by another computer" in result.output
    assert "was moved to .bva/merged/records.sqlite-journal from another computer" in result.output
    assert not (b / ".bva" / "records.sqlite-journal").exists()
    records = open_assessment(b).records
    assert records.integrity() == "ok" and len(records.returns()) == returns_before
    assert "journal of unfinished changes" not in run("check", b).output  # said once


def test_this_computer_s_own_journal_after_a_crash_is_left_for_sqlite_to_roll_back(apart):
    import json
    import socket

    _, b, _ = apart
    journal = _journal_of_unfinished_changes(b / ".bva" / "records.sqlite")
    (b / ".bva" / "records.sqlite-journal").write_bytes(journal)
    (b / ".bva" / "lock-holder.json").write_text(json.dumps({"command": "bva ingest", "host": socket.gethostname()}))
    result = run("check", b)
    assert "journal of unfinished changes" not in result.output
    assert not list((b / ".bva").glob("merged/*journal*"))
    assert open_assessment(b).records.integrity() == "ok"


@pytest.fixture
def typed_apart(generated, tmp_path, monkeypatch, request):
    """One folder after ingest and report, copied twice; in copy A (on another computer, or on this one: a copy of
    the folder kept elsewhere) CI001 is moderated to Amber with a note and reported; in copy B (this computer) G001
    is moderated to Red and reported."""
    import bva_excel.store.records as records_module

    a, b, _ = _two_copies(generated, tmp_path)
    here = records_module.WRITER
    if getattr(request, "param", "another computer") == "another computer":
        monkeypatch.setattr(records_module, "WRITER", "alex on LAPTOP-12")
    _type_scores(a / "report.xlsx", {"CI001": {"Moderated score": "Amber", "Moderation note": "A: panel said Amber"}})
    assert run("report", a).exit_code == 0
    monkeypatch.setattr(records_module, "WRITER", here)
    _type_scores(b / "report.xlsx", {"G001": {"Moderated score": "Red", "Moderation note": "B: no scrutiny"}})
    assert run("report", b).exit_code == 0
    return a, b


def _moderated(folder) -> dict[str, tuple]:
    return {ref: (row["Moderated score"], row["Moderation note"]) for ref, row in _scores(folder / "report.xlsx").items()
            if row["Moderated score"] or row["Moderation note"]}


@pytest.mark.parametrize("typed_apart", ["another computer", "this computer"], indirect=True)
def test_what_each_officer_typed_is_kept_when_only_the_records_are_synced(typed_apart):
    a, b = typed_apart
    shutil.copyfile(a / ".bva" / "records.sqlite", b / ".bva" / "records-LAPTOP-12.sqlite")
    result = run("report", b)
    assert result.exit_code == 0, result.output
    assert "typed in another copy of the folder (" in result.output
    assert ") and not changed in report.xlsx, so it counts: CI001 Moderated score, CI001 Moderation note" \
        in result.output
    assert _moderated(b) == {"CI001": ("Amber", "A: panel said Amber"), "G001": ("Red", "B: no scrutiny")}
    trail = run("changes", b).output
    assert "(blank)" not in trail.split("CI001")[-1].split("\n")[0]  # CI001 was never cleared
    again = run("report", b)
    assert "another copy of the folder" not in again.output
    assert _moderated(b) == {"CI001": ("Amber", "A: panel said Amber"), "G001": ("Red", "B: no scrutiny")}


def test_what_each_officer_typed_is_kept_when_the_records_and_the_report_come_as_copies(typed_apart):
    a, b = typed_apart
    shutil.copyfile(a / ".bva" / "records.sqlite", b / ".bva" / "records-LAPTOP-12.sqlite")
    shutil.copyfile(a / "report.xlsx", b / "report-LAPTOP-12.xlsx")
    result = run("report", b)
    assert result.exit_code == 0, result.output
    assert _moderated(b) == {"CI001": ("Amber", "A: panel said Amber"), "G001": ("Red", "B: no scrutiny")}
    assert "G001" not in "\n".join(line for line in result.output.splitlines() if "in this copy" in line)


def test_what_each_officer_typed_is_kept_after_bva_merge_of_a_colleague_s_folder(typed_apart):
    a, b = typed_apart
    assert run("merge", b, a).exit_code == 0
    assert run("report", b).exit_code == 0
    assert _moderated(b) == {"CI001": ("Amber", "A: panel said Amber"), "G001": ("Red", "B: no scrutiny")}
    assert run("merge", a, b).exit_code == 0  # and the other way round, on A's own computer
    import bva_excel.store.records as records_module

    here = records_module.WRITER
    try:
        records_module.WRITER = "alex on LAPTOP-12"
        assert run("report", a).exit_code == 0
    finally:
        records_module.WRITER = here
    assert _moderated(a) == _moderated(b)


def test_a_value_typed_on_both_computers_is_said_with_both_and_never_replaced_by_a_blank(typed_apart, monkeypatch):
    import os

    a, b = typed_apart
    _type_scores(b / "report.xlsx", {"CI001": {"Moderated score": "Yellow"}})  # B, after A's Amber, unaware of it
    stat = (a / "report.xlsx").stat()
    os.utime(b / "report.xlsx", (stat.st_atime + 120, stat.st_mtime + 120))
    shutil.copyfile(a / ".bva" / "records.sqlite", b / ".bva" / "records-LAPTOP-12.sqlite")
    result = run("report", b)
    assert "CI001 'Moderated score' was typed differently in another copy of the folder (" in result.output
    assert "('Amber', saved when its report ran)" in result.output
    assert "and in report.xlsx ('Yellow', saved " in result.output
    assert "the value in report.xlsx counts, being saved later" in result.output
    assert _moderated(b)["CI001"] == ("Yellow", "A: panel said Amber")  # B's later score; A's note, B typed none


@pytest.mark.parametrize("typed_apart", ["another computer", "this computer"], indirect=True)
def test_a_value_typed_on_both_and_reported_on_both_before_they_met_is_said_with_both(typed_apart):
    """B typed its own CI001 note and ran the report before A's records came: B's report.xlsx holds what B's last
    run saw, yet B changed it after the copies parted, so A's value does not simply replace it."""
    a, b = typed_apart
    _type_scores(b / "report.xlsx", {"CI001": {"Moderation note": "B: evidence is thin"}})
    assert run("report", b).exit_code == 0  # seen and recorded on B, after A's note was typed on A
    shutil.copyfile(a / ".bva" / "records.sqlite", b / ".bva" / "records-LAPTOP-12.sqlite")
    result = run("report", b)
    assert result.exit_code == 0, result.output
    assert "CI001 'Moderation note' was typed differently in another copy of the folder (" in result.output
    assert "('A: panel said Amber', saved when its report ran)" in result.output
    assert "and in report.xlsx ('B: evidence is thin', saved " in result.output
    assert _moderated(b)["CI001"] == ("Amber", "B: evidence is thin")  # B's, the later; A's score, B typed none
    assert "A: panel said Amber" in run("changes", b).output  # and A's is in the change trail, named


def test_a_value_typed_and_reported_on_both_is_said_with_both_when_the_report_comes_as_a_copy_too(typed_apart):
    a, b = typed_apart
    _type_scores(b / "report.xlsx", {"CI001": {"Moderation note": "B: evidence is thin"}})
    assert run("report", b).exit_code == 0
    shutil.copyfile(a / ".bva" / "records.sqlite", b / ".bva" / "records-LAPTOP-12.sqlite")
    shutil.copy2(a / "report.xlsx", b / "report-LAPTOP-12.xlsx")  # as a sync client leaves it: saved when A saved it
    result = run("report", b)
    assert result.exit_code == 0, result.output
    assert "CI001 'Moderation note' was typed differently" in result.output
    assert "'A: panel said Amber'" in result.output and "'B: evidence is thin'" in result.output
    assert _moderated(b)["CI001"] == ("Amber", "B: evidence is thin")
