"""Every note ingest gives about which of a reviewer's returns came first names the times it compared, and
they say what the note says: a file said to be saved before another was saved (or received) before it."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile

import pytest
from click.testing import CliRunner
from conftest import answer, refs_of

from bva_excel.cli import cli
from bva_excel.store.folder import open_assessment

OLDER = re.compile(r"^it was (saved|received) at (\S+ \S+)(?: \(it does not say when it was saved\))?, before (.+?), "
                   r"(saved|received) at (\S+ \S+)(?: \(it does not say when it was saved\))?, so for (.+) the answers "
                   r"of (.+) still count$")


def ingest(folder) -> list[dict]:
    result = CliRunner().invoke(cli, ["ingest", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    return [dict(p, file=f["file"]) for f in json.loads(result.output)["files"] for p in f["problems"]]


def check_every_order_note(folder, notes: list[dict]) -> int:
    """Assert that each note comparing two returns is true to the times it names (those the records hold for
    each file, compared as the consolidation orders them); return how many there were."""
    records = {r.name: r for r in open_assessment(folder).records.returns()}
    checked = 0
    for note in notes:
        message = note["message"]
        if note["code"] == "ALREADY_INGESTED" or not re.search(r"\b(before|after|later|earlier|same moment)\b",
                                                                message):
            continue
        if note["code"] == "RETURN_OLDER":
            this_how, this_time, other, that_how, that_time, _, other_again = OLDER.match(message).groups()
            this, that = records[note["file"]], records[other]
            assert other_again == other
            assert this_time == getattr(this, this_how).replace("T", " "), message
            assert that_time == getattr(that, that_how).replace("T", " "), message
            assert this_how == ("saved" if this.saved else "received"), message
            assert that_how == ("saved" if that.saved else "received"), message
            assert this_time < that_time, message
        elif note["code"] == "RETURN_ORDER_UNCLEAR":
            other, saved = re.match(r"it was saved at the same moment as (.+) \((.+?)\)", message).groups()
            assert records[note["file"]].saved.replace("T", " ") == saved == records[other].saved.replace("T", " ")
        elif note["code"] == "RETURN_REPLACES":
            this = records[note["file"]]
            for other in re.search(r"earlier answer\(s\) from (.+) \(", message).group(1).split(", "):
                assert (records[other].saved or records[other].received) < (this.saved or this.received), message
        elif note["code"] == "RETURN_EARLIER_ANSWERS_STAND":
            pytest.fail(f"this note should speak of no time: {message}")
        else:
            pytest.fail(f"a note comparing returns that this test does not check: {message}")
        checked += 1
    return checked


def utc(hour: int, minute: int, second: int) -> dt.datetime:
    return dt.datetime(2026, 12, 7, hour, minute, second)


@pytest.mark.parametrize("desktop_first", [False, True])
def test_a_file_is_said_to_be_saved_before_only_the_files_saved_after_it(generated, desktop_first):
    """The issue's case: the corrected file (saved 18:30:57) answered everything; a later one (19:02:10) one
    characteristic; the desktop copy (18:41:23) answers that one and leaves the others blank. Only the later file
    may be said to be saved after the desktop copy; the corrected file's answers stand because the copy is blank."""
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    assert len(refs) >= 2
    source, inbox = generation.files["R01"], assessment.inbox
    first = [("RE_ BV return (corrected).xlsx", {ref: ("Amber", "Corrected.", "Gap.") for ref in refs}, utc(18, 30, 57)),
             ("final.xlsx", {refs[0]: ("Yellow", "Later.", "Gap.")}, utc(19, 2, 10))]
    desktop = ("Siân return-DESKTOP-4F2.xlsx", {refs[0]: ("Red", "Desktop.", "Gap.")}, utc(18, 41, 23))
    steps = [[desktop], first] if desktop_first else [first, [desktop]]
    notes = []
    for step in steps:
        for name, answers, saved in step:
            answer(source, inbox / name, answers, saved=saved)
        notes += ingest(assessment.folder)
    said = {n["file"]: n["message"] for n in notes if n["code"] == "RETURN_OLDER"}
    if not desktop_first:
        assert "RE_ BV return (corrected).xlsx" not in said["Siân return-DESKTOP-4F2.xlsx"]
        assert "before final.xlsx, saved at " in said["Siân return-DESKTOP-4F2.xlsx"]
        stand = [n["message"] for n in notes if n["code"] == "RETURN_EARLIER_ANSWERS_STAND"
                 and n["file"] == "Siân return-DESKTOP-4F2.xlsx"]
        assert stand == [f"it leaves blank the score of {', '.join(refs[1:])} ({len(refs) - 1} in all), which "
                         "RE_ BV return (corrected).xlsx answered: those answers still count"]
    assert check_every_order_note(assessment.folder, notes) >= 1


@pytest.mark.parametrize("undated_first", [False, True])
def test_a_file_that_does_not_say_when_it_was_saved_is_compared_by_when_it_was_received(generated, undated_first):
    """A workbook whose properties give no time of saving is placed by when it was received: a note says so,
    and never sets its receipt against the other's saving as if both were times of saving."""
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    source, inbox = generation.files["R01"], assessment.inbox
    undated = answer(source, inbox / "undated.xlsx", {ref: ("Red", "Undated.", "Gap.") for ref in refs})
    with zipfile.ZipFile(undated) as zipped:
        parts = [(info, zipped.read(info)) for info in zipped.infolist()]
    with zipfile.ZipFile(undated, "w", zipfile.ZIP_DEFLATED) as zipped:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", data)
            zipped.writestr(info, data)
    dated_path = inbox.parent / "dated.xlsx"
    answer(source, dated_path, {ref: ("Amber", "Dated.", "Gap.") for ref in refs}, saved=utc(18, 0, 0))
    notes = []
    if undated_first:
        notes += ingest(assessment.folder)
        dated_path.rename(inbox / "dated.xlsx")
    else:
        undated.rename(inbox.parent / "undated.xlsx")
        dated_path.rename(inbox / "dated.xlsx")
        notes += ingest(assessment.folder)
        (inbox.parent / "undated.xlsx").rename(inbox / "undated.xlsx")
    notes += ingest(assessment.folder)
    records = {r.name: r for r in open_assessment(assessment.folder).records.returns()}
    assert records["undated.xlsx"].saved == "" and records["dated.xlsx"].saved
    older = [n for n in notes if n["code"] == "RETURN_OLDER"]
    assert len(older) == (0 if not undated_first else 1)
    if older:  # the dated file came second, and its saving was before the undated file was received
        assert "(it does not say when it was saved)" in older[0]["message"]
    assert check_every_order_note(assessment.folder, notes) >= 1


def test_a_preferred_return_is_said_to_count_because_it_was_chosen_not_because_of_its_time(generated):
    """After --prefer, a newer file that arrives is told the preferred file counts because it was chosen, not
    that it was saved before it (it was saved after)."""
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    source, inbox = generation.files["R01"], assessment.inbox
    chosen = answer(source, inbox / "chosen.xlsx", {ref: ("Amber", "Chosen.", "Gap.") for ref in refs},
                    saved=utc(9, 0, 0))
    ingest(assessment.folder)
    assert CliRunner().invoke(cli, ["ingest", str(assessment.folder), "--prefer", str(chosen)]).exit_code == 0
    answer(source, inbox / "newer.xlsx", {ref: ("Red", "Newer.", "Gap.") for ref in refs}, saved=utc(10, 0, 0))
    notes = ingest(assessment.folder)
    said = [n["message"] for n in notes if n["file"] == "newer.xlsx"]
    assert said == [f"chosen.xlsx was chosen with --prefer, so for {', '.join(refs)} its answers still count over "
                    "this file's"]
    assert check_every_order_note(assessment.folder, notes) == 0


@pytest.mark.parametrize("newer_first", [False, True])
def test_notes_on_saves_in_either_order_name_true_times(generated, newer_first):
    """Two full returns ingested in either order, and a third saved at the same moment as one of them: whatever
    the order of arrival, each note names the times it compared and they agree with it."""
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    source, inbox = generation.files["R01"], assessment.inbox
    files = [("old.xlsx", "Red", utc(8, 15, 0)), ("new.xlsx", "Amber", utc(17, 45, 30)),
             ("twin.xlsx", "Yellow", utc(8, 15, 0))]
    order = [files[1], files[0], files[2]] if newer_first else files
    notes = []
    for name, rating, saved in order:
        answer(source, inbox / name, {ref: (rating, "Text.", "Gap.") for ref in refs}, saved=saved)
        notes += ingest(assessment.folder)
    codes = {n["code"] for n in notes}
    assert {"RETURN_OLDER", "RETURN_ORDER_UNCLEAR"} <= codes  # the twin is older than new.xlsx
    assert check_every_order_note(assessment.folder, notes) >= 2
