"""Ctrl-C at any moment, as a person presses it on a terminal: one line saying so, exit code 130, never a
traceback; what was finished is kept, nothing is half-written, and the next run finishes the work."""

from __future__ import annotations

import re
import sqlite3

import openpyxl
import pytest
from conftest import answer, refs_of
from terminal import on_terminal

from bva_excel.app.ingest import ingest
from bva_excel.store.folder import open_assessment

pytestmark = pytest.mark.subprocess

STOPPED = ("Stopped; nothing was half-written: what was finished is kept and the rest is as it was. "
           "Run bva {command} again to finish.")
# Seconds after the command has started its work (drawn its bar): reading, writing, saving. Ctrl-C while Python
# itself is still starting, before any of the tool has run, is Python's to answer; from the moment the tool
# starts, it is answered: `test_ctrl_c_while_the_command_line_loads` presses it then.
MOMENTS = [0.0, 0.01, 0.03, 0.06, 0.1, 0.2]


def returned(assessment, generation, copies: int = 9) -> None:
    """Every reviewer returns `copies` workbooks: 27 new files, enough for ingest to read them in several
    processes, every one of which Ctrl-C reaches."""
    for reviewer_id, path in generation.files.items():
        for copy in range(copies):
            answer(path, assessment.inbox / f"{reviewer_id} {copy}.xlsx",
                   {ref: (["Amber", "Yellow", "Red", "Light green"][copy % 4], f"Seen {copy}.", "Gap.")
                    for ref in refs_of(generation, reviewer_id)})


def assert_stopped_cleanly(run, command: str) -> bool:
    """True if the run was stopped (else it had finished first, as it may)."""
    assert "Traceback" not in run.output and "KeyboardInterrupt" not in run.output, run.output
    if run.exit_code != 130:
        assert run.exit_code in (0, 1), run.text
        return False
    assert run.text.strip().splitlines()[-1].lstrip("^C") == STOPPED.format(command=command), run.output
    return True


def integrity(assessment) -> str:
    with sqlite3.connect(assessment.records_dir / "records.sqlite") as connection:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    connection.close()
    return verdict


def test_ingest_stopped_at_any_moment_keeps_what_it_finished_and_the_next_run_reads_the_rest(generated, tmp_path):
    assessment, generation = generated
    returned(assessment, generation)
    assessment.records.close()
    stopped = 0

    for moment in MOMENTS:
        run = on_terminal("ingest", assessment.folder, interrupt_after=moment, once="Reading returns")

        stopped += assert_stopped_cleanly(run, "ingest")
        assert integrity(assessment) == "ok"
        assert not list((assessment.records_dir / "tmp").glob("*/*.xlsx"))

    assert stopped >= 2  # moments fell inside the command (the later ones find less to read)
    finished = on_terminal("ingest", assessment.folder)
    assert finished.exit_code == 0, finished.text
    assert re.search(r"\d+ accepted, 0 rejected, \d+ already ingested", finished.text), finished.text
    assert len(open_assessment(assessment.folder).records.returns()) == 27


def test_report_stopped_at_any_moment_leaves_the_last_report_or_the_new_one_whole(generated):
    assessment, generation = generated
    returned(assessment, generation, copies=1)
    ingest(assessment)
    assessment.records.close()
    first = on_terminal("report", assessment.folder)
    assert first.exit_code == 0, first.text
    stopped = 0

    for moment in MOMENTS:
        run = on_terminal("report", assessment.folder, interrupt_after=moment, once="Writing the report")

        stopped += assert_stopped_cleanly(run, "report")
        assert openpyxl.load_workbook(assessment.report).sheetnames[:4] == ["Summary", "Scores", "Heat map",
                                                                            "Action plan"]
        assert [p.name for p in assessment.folder.iterdir() if p.name.endswith(".tmp")] == []
        assert integrity(assessment) == "ok"

    assert stopped >= 2
    assert on_terminal("report", assessment.folder).exit_code == 0


def test_ctrl_c_while_the_command_line_loads_is_answered_too(generated):
    """Pressed once the tool has begun, while it loads click and the command (a good part of a second on a slow
    laptop): the same one line and exit code. Python says which modules it has loaded when asked to
    (PYTHONPROFILEIMPORTTIME), so Ctrl-C is pressed just as click has loaded."""
    assessment, _ = generated
    assessment.records.close()

    run = on_terminal("check", assessment.folder, interrupt_after=0.0, once=r"\| +click\b",
                      env={"PYTHONPROFILEIMPORTTIME": "1"})

    assert assert_stopped_cleanly(run, "check")
