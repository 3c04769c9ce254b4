"""The command line on a terminal, where people run it: every command and option group, at 100 and at 40
columns, draws its bars without a traceback and ends with the same exit code and says the same as through a
pipe, where nothing extra is drawn."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil

import pytest
from click.testing import CliRunner
from conftest import answer, make_framework
from progress_helpers import list_service_areas, type_plan
from terminal import BAR, on_terminal

from bva_excel.app.new import create_assessment
from bva_excel.cli import cli

pytestmark = pytest.mark.subprocess

FILL, PLAN = "fill", "plan"  # what people do between commands: return the workbooks, type the action plan
SEQUENCE = [
    ["generate", "BV", "--per-characteristic", "2", "--deadline", "2026-12-18"],
    FILL,
    ["ingest", "BV"],
    ["ingest", "BV", "--json"],
    ["ingest", "BV", "no such return.xlsx"],
    ["report", "BV"],
    ["check", "BV"],
    ["check", "BV", "--json", "--spread", "1"],
    ["changes", "BV"],
    ["generate", "BV", "--moderation", "--moderators", "R02", "--all"],
    ["signoff", "BV", "--by", "Jane Smith, Chief Executive", "--accept-open"],
    ["picture", "BV"],
    ["detail", "BV", "CI001"],
    ["detail", "BV", "all"],
    PLAN,
    ["report", "BV"],
    ["changes", "BV", "--json"],
    ["generate", "BV", "--progress", "--deadline", "2027-01-15"],
    ["actions", "BV"],
    ["actions", "BV", "--xlsx", "plan for planning.xlsx", "--service-area", "Finance"],
    ["follow-up", "BV"],
    ["generate", "BV", "--show-password"],
    ["generate", "BV", "--reallocate"],
    ["new", "BV 2027", "--title", "Next year"],
    ["report"],  # a usage error
    ["demo", "practice"],
]
RETURNED = dt.datetime(2026, 12, 10, 9, 0)


def do_what_people_do(step: str, folder) -> None:
    if step == FILL:  # every reviewer returns, twice for some (a resend), so that ingest has many new files
        for number, path in enumerate(sorted((folder / "outbox").glob("BV review *.xlsx"))):
            for copy in range(1 + number % 2):
                answer(path, folder / "inbox" / f"RE_ return {number}-{copy}.xlsx",
                       {ref: (["Amber", "Light green", "Yellow"][(number + copy) % 3], "Seen.", "A gap.")
                        for ref in ("CI001", "CI002", "L001", "G001", "R001", "SD001")},
                       saved=RETURNED + dt.timedelta(minutes=10 * number + copy))
    else:
        list_service_areas(folder_assessment(folder), [("Finance", "Fay Green", "fay@example.gov.uk")])
        type_plan(folder / "report.xlsx", {"ACT-CI001": {"Action": "Write the plan", "Owner": "Jo",
                                                         "Service area": "Finance",
                                                         "Target date": dt.datetime(2027, 3, 31)}})


def folder_assessment(folder):
    class Workbook:  # what list_service_areas needs of an assessment
        workbook = folder / "assessment.xlsx"
    return Workbook


def facts(output: str) -> list[str]:
    """What was said, in the order of its text, with what differs from one copy of the exercise to another made
    alike: new assessments' IDs, times of day (also in kept files' names), hashes and passwords."""
    alike = [(r"BV-\d{4}-[0-9A-F]{6}", "BV-ID"), (r"(?<!\d)\d\d:\d\d(:\d\d)?(\.\d+)?(?!\d)", "HH:MM"),
             (r"(\d{4}-\d\d-\d\d) \d{6}\b", r"\1 HHMMSS"), (r"\b[0-9a-f]{64}\b", "SHA-256"),
             (r"locked with: \S+", "locked with: PASSWORD")]
    lines = []
    for line in output.split("\n"):
        for pattern, replacement in alike:
            line = re.sub(pattern, replacement, line)
        if line.strip():
            lines.append(line.rstrip())
    return sorted(lines)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One assessment, made once: each run of the sequence works on its own copy (same ID, secret, password)."""
    base = tmp_path_factory.mktemp("made")
    framework = make_framework(base / "framework.xlsx")
    create_assessment(base / "BV", framework, "Terminal test").records.close()
    return base / "BV"


def copy_of(made, where):
    where.mkdir()
    shutil.copytree(made, where / "BV")
    return where


def in_process(step: list[str], work):
    """Run one step through click's test runner in `work` (a pipe, not a terminal)."""
    here = os.getcwd()
    os.chdir(work)
    try:
        return CliRunner().invoke(cli, step, prog_name="bva", catch_exceptions=False)
    finally:
        os.chdir(here)


@pytest.fixture(scope="module")
def through_a_pipe(made, tmp_path_factory):
    """Each step's exit code and what it said, the output piped (as every other test runs it)."""
    work = copy_of(made, tmp_path_factory.mktemp("piped") / "work")
    said = []
    for step in SEQUENCE:
        if isinstance(step, str):
            do_what_people_do(step, work / "BV")
            continue
        result = in_process(step, work)
        assert not BAR.search(result.output), step  # nothing drawn where output is not a terminal
        said.append((result.exit_code, result.output))
    return said


# At 40 columns, the commands that draw a bar (the others print the same at any width).
NARROW = [["generate", "BV", "--per-characteristic", "2", "--deadline", "2026-12-18"], ["ingest", "BV"],
          ["report", "BV"], ["check", "BV"], ["detail", "BV", "all"], ["signoff", "BV", "--by",
          "Jane Smith, Chief Executive", "--accept-open"], ["generate", "BV", "--progress", "--deadline", "2027-01-15"],
          ["actions", "BV"], ["follow-up", "BV"]]


@pytest.mark.parametrize("columns", [100, 40])
def test_every_command_on_a_terminal_says_what_it_says_through_a_pipe(made, through_a_pipe, tmp_path, columns):
    work = copy_of(made, tmp_path / "work")
    bars, ran = {}, -1
    for step in SEQUENCE:
        if isinstance(step, str):
            do_what_people_do(step, work / "BV")
            continue
        ran += 1
        if columns < 100 and step not in NARROW:  # done all the same, so that what follows starts alike
            in_process(step, work)
            continue
        piped_code, piped = through_a_pipe[ran]

        run = on_terminal(*step, columns=columns, cwd=work)

        assert "Traceback" not in run.output, (step, run.output)
        assert run.exit_code == piped_code, (step, run.text)
        assert [line for line in facts(run.text) if not BAR.search(line)] == facts(piped), (step, run.text, piped)
        assert all(len(frame) < columns for frame in run.bars), (step, run.bars)
        bars[" ".join(step)] = bars.get(" ".join(step), []) + run.bars
    for drawing in ("generate BV --per-characteristic 2 --deadline 2026-12-18", "ingest BV", "report BV", "check BV",
                    "detail BV all", "follow-up BV", "generate BV --progress --deadline 2027-01-15"):
        assert bars[drawing], f"{drawing} drew no bar"
        assert re.search(r"\d+/\d+", bars[drawing][-1])
    for quiet in ("ingest BV --json", "check BV --json --spread 1", "changes BV --json", "report"):
        assert not bars.get(quiet), f"{quiet} drew a bar"
