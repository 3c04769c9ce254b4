"""A real spreadsheet application as the client: LibreOffice opens, fills and saves our workbooks.

These tests skip only where LibreOffice is truly absent on a developer's machine; CI sets
BVA_REQUIRE_LIBREOFFICE=1, which turns a missing LibreOffice into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from conftest import answer, current

from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.excel.read.framework import load_framework
from bva_excel.layout import REVIEW_HEADERS

pytestmark = pytest.mark.libreoffice

ROOT = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).resolve().parent / "libreoffice" / "uno_driver.py"
SYSTEM_PYTHON = shutil.which("python3", path=os.defpath)
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
RATINGS = ["Dark green", "Light green", "Yellow", "Amber", "Red", "Grey"]


def missing_parts() -> str:
    if not SOFFICE:
        return "soffice is not installed (apt-get install libreoffice-calc-nogui)"
    if not SYSTEM_PYTHON or subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode:
        return "the system python3 cannot import uno (apt-get install python3-uno)"
    return ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LibreOfficeRestarted(UserWarning):
    """LibreOffice died during the session (as it can on a loaded machine) and was started again."""


# What a job's driver says when LibreOffice has gone from under it.
CONNECTION_LOST = ("NoConnectException", "Connection refused", "DisposedException", "Binary URP bridge",
                   "connection refused")


class Office:
    """One headless LibreOffice for the session, with its own profile; started again if it dies."""

    def __init__(self, profile: Path):
        self.profile = profile
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        self.port = free_port()
        # A session of its own, so that stopping it stops every process LibreOffice started.
        self.process = subprocess.Popen(
            [SOFFICE, f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--norestore",
             "--nologo", "--nodefault", f"--accept=socket,host=127.0.0.1,port={self.port};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.listening():
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("LibreOffice did not start listening within 90 s")

    def listening(self) -> bool:
        if self.process.poll() is not None:
            return False
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def restart(self, why: str) -> None:
        """Stop what is left of LibreOffice and start it again, saying so (and how long it took)."""
        started = time.monotonic()
        self.stop()
        self._start()
        self.restarts += 1
        warnings.warn(LibreOfficeRestarted(f"LibreOffice {why}; started it again in "
                                           f"{time.monotonic() - started:.1f} s and ran the job again"), stacklevel=2)

    def _job(self, job: dict) -> dict:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
            json.dump({k: str(v) if isinstance(v, Path) else v for k, v in job.items()}, handle)
        try:
            done = subprocess.run([SYSTEM_PYTHON, str(DRIVER), str(self.port), handle.name],
                                  capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": "the job took over 180 s (LibreOffice hung)", "hung": True}
        finally:
            os.unlink(handle.name)
        return json.loads(done.stdout or '{"ok": false, "error": %s}' % json.dumps(done.stderr))

    def run(self, **job) -> dict:
        """Run one job of the driver; if LibreOffice has died (before or during it), start it again and run the
        job once more: a crash of LibreOffice on a busy machine is not a failure of the code under test."""
        if not self.listening():
            self.restart("was no longer running")
        result = self._job(job)
        if not result["ok"]:
            lost = any(sign in result["error"] for sign in CONNECTION_LOST)
            if result.get("hung") or lost or not self.listening():
                self.restart("hung" if result.get("hung") else "died during a job")
                result = self._job(job)
        assert result["ok"], result["error"]
        return result

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            self.process.poll()
            return
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(20)


def convert(source: Path, to: str, outdir: Path, profile: Path) -> Path:
    """`soffice --convert-to`, as an officer's 'Save as' would do."""
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", to, "--outdir", str(outdir), str(source)],
                   check=True, capture_output=True, timeout=180)
    return outdir / f"{source.stem}.{to.split(':')[0]}"


@pytest.fixture(scope="session")
def office(tmp_path_factory):
    reason = missing_parts()
    if reason:
        if os.environ.get("BVA_REQUIRE_LIBREOFFICE"):
            pytest.fail(f"LibreOffice is required here but {reason}")
        pytest.skip(reason)
    office = Office(tmp_path_factory.mktemp("lo-profile"))
    yield office
    office.stop()


@pytest.fixture
def convert_profile(tmp_path):
    return tmp_path / "convert-profile"


def _kill(office: Office) -> None:
    os.killpg(office.process.pid, signal.SIGKILL)
    office.process.wait(20)


def test_a_libreoffice_that_died_between_tests_is_started_again(office, generated):
    _, generation = generated
    _kill(office)

    with pytest.warns(LibreOfficeRestarted, match="was no longer running"):
        result = office.run(op="inspect", path=generation.files["R01"], sheet="Review")

    assert result["protected"] is True


def test_a_libreoffice_that_dies_during_a_job_is_started_again_and_the_job_run_again(office, generated,
                                                                                    monkeypatch):
    _, generation = generated
    real_job, calls = office._job, []

    def dies_first(job):
        calls.append(job["op"])
        if len(calls) == 1:
            _kill(office)  # as a crash under load does, while the driver is about to talk to it
        return real_job(job)

    monkeypatch.setattr(office, "_job", dies_first)
    with pytest.warns(LibreOfficeRestarted, match="died during a job"):
        result = office.run(op="inspect", path=generation.files["R01"], sheet="Review")

    assert calls == ["inspect", "inspect"] and result["protected"] is True


def column(header: str) -> str:
    return "ABCDEFGH"[REVIEW_HEADERS.index(header)]


def refs_of(generation, reviewer_id):
    return [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


def test_a_reviewer_fills_and_saves_in_libreoffice_and_bva_accepts_it(office, generated, tmp_path):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    commentary = "Strong evidence — Ünïcode ✓, emoji 🙂,\nand a second line"
    cells = {f"{column('Score')}2": "Light green", f"{column('Commentary')}2": commentary,
             f"{column('Gaps and areas to address')}2": "=not a formula, just words",
             f"{column('Score')}3": "Amber"}
    saved = assessment.inbox / "RE_ BV return (LibreOffice).xlsx"
    typed = office.run(op="fill", path=generation.files["R01"], out=saved, sheet="Review", cells=cells, via="api")
    assert typed["typed"][f"{column('Score')}2"] == "Light green"
    report = ingest(assessment)
    assert [o.status for o in report.outcomes] == ["accepted"], [str(p) for o in report.outcomes for p in o.problems]
    record, responses = current(assessment)["R01"]
    answers = {r.ref: r for r in responses}
    assert (answers[refs[0]].rating, answers[refs[0]].commentary, answers[refs[0]].gaps) == (
        "Light green", commentary, "=not a formula, just words")
    assert answers[refs[1]].rating == "Amber"
    assert record.issue_id == next(i.issue_id for i in assessment.records.issues() if i.reviewer_id == "R01")


def test_protection_holds_when_typing_in_the_application(office, generated, tmp_path):
    _, generation = generated
    original = openpyxl.load_workbook(generation.files["R02"])["Review"]
    # Typed through the application's input path (not the API, which ignores protection). One refused
    # cell per opened document: LibreOffice 7.4 headless crashes on a second refusal in a row.
    cells = {"D2": "I rewrote the position statement", f"{column('Score')}2": "Yellow",
             f"{column('Commentary')}2": "Typed through the user interface"}
    typed = office.run(op="fill", path=generation.files["R02"], out=tmp_path / "a.xlsx", sheet="Review",
                       cells=cells)["typed"]
    assert typed["D2"] == original["D2"].value  # locked: the typing was refused
    assert typed[f"{column('Score')}2"] == "Yellow"  # unlocked input cells take the typing
    assert typed[f"{column('Commentary')}2"] == "Typed through the user interface"
    typed = office.run(op="fill", path=generation.files["R02"], out=tmp_path / "b.xlsx", sheet="Review",
                       cells={"A2": "XX999"})["typed"]
    assert typed["A2"] == original["A2"].value


def test_the_application_sees_the_locks_and_a_dropdown_of_exactly_the_scale(office, generated):
    _, generation = generated
    score = f"{column('Score')}2"
    seen = office.run(op="inspect", path=generation.files["R03"], sheet="Review",
                      cells=["A2", "D2", score, f"{column('Commentary')}2"])
    assert seen["protected"] is True
    assert seen["locked"] == {"A2": True, "D2": True, score: False, f"{column('Commentary')}2": False}
    validation = seen["validation"][score]
    assert validation["type"] == "LIST"
    assert [item.strip('"') for item in validation["formula"].split(";")] == RATINGS


@pytest.mark.parametrize("route", ["ods and back", "convert-to xlsx", "ods as it is"])
def test_a_return_converted_by_libreoffice_still_ingests(office, generated, tmp_path, convert_profile, route):
    assessment, generation = generated
    refs = refs_of(generation, "R03")
    filled = tmp_path / "filled.xlsx"
    office.run(op="fill", path=generation.files["R03"], out=filled, sheet="Review", via="api",
               cells={f"{column('Score')}2": "Dark green", f"{column('Commentary')}2": "Converted ✓"})
    if route == "ods and back":
        ods = convert(filled, "ods", tmp_path / "ods", convert_profile)
        result = convert(ods, "xlsx", tmp_path / "back", convert_profile)
    elif route == "convert-to xlsx":
        result = convert(filled, "xlsx", tmp_path / "converted", convert_profile)
    else:
        result = convert(filled, "ods", tmp_path / "ods", convert_profile)
    report = ingest(assessment, [result])
    assert [o.status for o in report.outcomes] == ["accepted"], [str(p) for p in report.outcomes[0].problems]
    answers = {r.ref: r for r in current(assessment)["R03"][1]}
    assert (answers[refs[0]].rating, answers[refs[0]].commentary) == ("Dark green", "Converted ✓")


def text_cells(rows) -> set[tuple[int, int, str]]:
    return {(r, c, v) for r, row in enumerate(rows) for c, v in enumerate(row) if isinstance(v, str) and v}


def assert_opens_clean(office, path: Path) -> dict:
    """No question asked on load, every text cell seen as written, recalculation changes nothing."""
    from python_calamine import CalamineWorkbook

    seen = office.run(op="open_clean", path=path)
    assert seen["opened"], path.name
    assert seen["requests"] == [], f"{path.name}: LibreOffice asked {seen['requests']}"
    assert seen["changed"] == [], f"{path.name}: recalculation changed {seen['changed'][:5]}"
    written = CalamineWorkbook.from_path(str(path))
    assert seen["sheets"] == written.sheet_names
    for name in written.sheet_names:
        expected = text_cells(written.get_sheet_by_name(name).to_python(skip_empty_area=False))
        assert text_cells(seen["values"][name]) == expected, f"{path.name}, sheet {name}: cells differ"
    return seen


def test_every_workbook_the_tool_writes_opens_clean_and_recalculates_to_its_cached_values(office, generated):
    assessment, generation = generated
    write_report(assessment)
    for path in [*generation.files.values(), assessment.workbook, assessment.report,
                 ROOT / "templates" / "assessment_template.xlsx"]:
        assert_opens_clean(office, path)


def test_the_demo_report_recalculates_to_its_cached_values(office, tmp_path):
    from bva_excel.app.demo import run_demo

    result = run_demo(tmp_path / "demo")
    seen = assert_opens_clean(office, result.report.path)
    assert "Heat map" in seen["sheets"]
    scores = seen["values"]["Scores"]
    final = scores[0].index("Final score")
    shown = {row[0]: row[final] for row in scores[1:]}
    unanswered = [ref for ref, decision in result.report.decisions.items() if not decision.final]
    assert unanswered and all(shown[ref] == "" for ref in unanswered)  # blank, never 0
    assert all(shown[ref] == decision.final for ref, decision in result.report.decisions.items())


def test_the_open_clean_check_catches_a_stale_cached_value(office, tmp_path):
    import xlsxwriter

    stale = tmp_path / "stale.xlsx"
    workbook = xlsxwriter.Workbook(str(stale))
    workbook.add_worksheet().write_formula(0, 0, "=1+1", None, 0)
    workbook.close()
    with pytest.raises(AssertionError, match="recalculation changed"):
        assert_opens_clean(office, stale)



def test_render_script_draws_the_heat_map_and_action_plan(office, tmp_path):
    from bva_excel.app.demo import run_demo

    result = run_demo(tmp_path / "demo")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "render.py"), str(result.report.path),
                           "--out", str(tmp_path / "png")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    pictures = [Path(line) for line in done.stdout.splitlines()]
    assert any("heat-map" in p.name for p in pictures) and any("action-plan" in p.name for p in pictures)
    for picture in pictures:
        data = picture.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a page with content, not blank


RECALCULATE_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


class _Cells(HTMLParser):
    """Every table cell of LibreOffice's HTML export: (sheet, text, background colour)."""

    def __init__(self):
        super().__init__()
        self.sheet, self.cells, self.cell, self.in_heading = "", [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "h1":
            self.in_heading, self.sheet = True, ""
        elif tag == "td":
            self.cell = [self.sheet, "", (dict(attrs).get("bgcolor") or "").upper()]
        elif tag == "comment" and self.cell is not None:
            self.cell.append("comment")
        elif tag == "br" and self.cell is not None and self.cell[-1] != "comment":
            self.cell[1] += "\n"  # a line break in the cell

    def handle_endtag(self, tag):
        if tag == "h1":
            self.in_heading = False
        elif tag == "td" and self.cell is not None:
            self.cells.append((self.cell[0], self.cell[1].strip(), self.cell[2]))
            self.cell = None
        elif tag == "comment" and self.cell is not None:
            self.cell.pop()

    def handle_data(self, data):
        if self.in_heading:
            self.sheet += data
        elif self.cell is not None and self.cell[-1] != "comment":
            self.cell[1] += data


def seen_colours(path: Path, sheet: str, workdir: Path) -> dict[str, str]:
    """What a reader sees on `sheet` after LibreOffice recalculates: cell text -> background colour."""
    profile = workdir / "recalc-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALCULATE_ALWAYS, encoding="utf-8")
    html = convert(path, "html", workdir / "html", profile)
    cells = _Cells()
    cells.feed(html.read_text(encoding="utf-8", errors="replace"))
    return {text: colour for name, text, colour in cells.cells if name.endswith(sheet) and text}


def test_each_tile_shows_the_colour_of_its_final_score_after_moderation_in_the_report(office, generated, tmp_path):
    """Grey, blank, consolidated and moderated scores, as LibreOffice paints them after recalculating."""
    assessment, generation = generated
    given = {"CI001": ("Amber", "Weak", "No plan"), "CI002": ("Yellow", "Partly", "Embed it"),
             "G001": ("Grey", "Outside our control", ""), "R001": ("", "", ""),
             "SD001": ("Light green", "Fine", "")}
    for reviewer_id in generation.files:
        answers = {ref: given.get(ref) for ref in refs_of(generation, reviewer_id)}
        if "L001" in answers:  # listed for R01 and R03, who are two steps apart
            answers["L001"] = ("Dark green", "Strong", "") if reviewer_id == "R01" else ("Amber", "Weak", "No plan")
        answer(generation.files[reviewer_id], assessment.inbox / f"{reviewer_id}.xlsx", answers)
    ingest(assessment)
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)  # a moderator types into the report, as in Excel
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    rows = {scores.cell(r, 1).value: r for r in range(2, scores.max_row + 1)}
    scores.cell(rows["CI002"], headers.index("Moderated score") + 1, "Red")
    scores.cell(rows["CI002"], headers.index("Moderation note") + 1, "No evidence at all")
    scores.cell(rows["SD001"], headers.index("Moderated score") + 1, "grey")  # any case, as typed
    workbook.save(path)
    tiles = seen_colours(path, "Heat map", tmp_path)
    seen = {text.split("\n")[0]: colour for text, colour in tiles.items()}
    colour = {r.name: r.colour.upper() for r in load_framework(assessment.workbook).scale.ratings}
    no_colour = "#F2F2F2"
    expected = {"CI001": colour["Amber"], "CI002": colour["Red"], "L001!": colour["Amber"],
                "G001": colour["Grey"], "R001": no_colour, "SD001": colour["Grey"]}
    assert {ref: seen.get(ref) for ref in expected} == expected
    # Each tile's label follows the score typed, as its colour does.
    assert {"CI001\nA", "CI002\nR", "L001!\nA", "G001\nG", "R001\n–", "SD001\nG"} <= set(tiles)


def test_a_regenerate_keeps_what_a_reviewer_returned_from_libreoffice(office, generated):
    """Issue, fill in LibreOffice, add a characteristic, generate again, fill the new workbook: all counts."""
    from bva_excel.app.issue import generate
    from bva_excel.store.folder import open_assessment

    assessment, generation = generated
    refs = refs_of(generation, "R02")
    rows = {ref: row for row, ref in enumerate(refs, start=2)}
    office.run(op="fill", path=generation.files["R02"], out=assessment.inbox / "R02 first.xlsx", sheet="Review",
               cells={f"{column('Score')}{rows[ref]}": "Yellow" for ref in refs}, via="api")
    assert [o.status for o in ingest(assessment).outcomes] == ["accepted"]
    workbook = openpyxl.load_workbook(assessment.workbook)
    workbook["Characteristics"].append(["CI003", "Continuous improvement", "Learning lessons", "We learn.", "Log",
                                        "R01", "R02"])
    workbook.save(assessment.workbook)
    again = generate(open_assessment(assessment.folder))
    assert set(again.files) == {"R02"} and again.changes["R02"].added == ["CI003"]
    new_refs = [i.refs for i in open_assessment(assessment.folder).records.issues() if i.reviewer_id == "R02"][-1]
    assert new_refs == (*refs, "CI003")
    office.run(op="fill", path=again.files["R02"], out=assessment.inbox / "R02 second.xlsx", sheet="Review",
               cells={f"{column('Score')}{len(new_refs) + 1}": "Amber"}, via="api")
    report = ingest(open_assessment(assessment.folder))
    assert [o.status for o in report.outcomes if o.status != "unchanged"] == ["accepted"]
    answers = {r.ref: r.rating for r in current(open_assessment(assessment.folder))["R02"][1]}
    assert answers == {**{ref: "Yellow" for ref in refs}, "CI003": "Amber"}


def test_a_moderation_workbook_filled_in_libreoffice_is_ingested_and_counts(office, tmp_path):
    from click.testing import CliRunner
    from conftest import make_framework
    from test_moderation_round import CHARACTERISTICS, REVIEWERS

    from bva_excel.app.new import create_assessment
    from bva_excel.cli import cli

    def run(*args):
        return CliRunner().invoke(cli, [str(a) for a in args])

    framework = make_framework(tmp_path / "f.xlsx", characteristics=CHARACTERISTICS, reviewers=REVIEWERS)
    assessment = create_assessment(tmp_path / "BV 2026", framework)
    run("generate", assessment.folder)
    given = {"R01": {"CI001": "Dark green", "L001": "Dark green"}, "R02": {"CI001": "Amber", "G001": "Yellow"},
             "R03": {"L001": "Amber", "G001": "Yellow"}}
    for path in assessment.outbox.iterdir():
        reviewer_id = path.name.split()[2]
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: (rating, "Seen.", "A gap.") for ref, rating in given[reviewer_id].items()})
    run("ingest", assessment.folder)
    assert run("generate", assessment.folder, "--moderation", "--moderators", "R04,R05").exit_code == 0
    office.run(op="fill", path=assessment.outbox / "BV moderation R04 Dee Okafor.xlsx",
               out=assessment.inbox / "RE_ moderation (LibreOffice).xlsx", sheet="Moderation",
               cells={"H2": "Light green", "I2": "Vision agreed by cabinet; evidence seen ✓"}, via="api")
    ingested = run("ingest", assessment.folder)
    assert "accepted   RE_ moderation (LibreOffice).xlsx  (R04 Dee Okafor, answered 1/1)" in ingested.output
    run("report", assessment.folder)
    scores = openpyxl.load_workbook(assessment.report)["Scores"]
    row = next(r for r in scores.iter_rows(min_row=2, values_only=True) if r[0] == "L001")
    assert row[4:6] == ("Light green", "Vision agreed by cabinet; evidence seen ✓")


def test_edits_made_in_libreoffice_between_two_report_runs_are_traced_and_kept(office, generated):
    """A moderator works in LibreOffice: moderates, adds a column and a sheet of their own; then again."""
    from click.testing import CliRunner
    from test_report_kept import changes_on_sheet

    from bva_excel.cli import cli

    assessment, generation = generated
    for reviewer_id in generation.files:
        answers = {ref: ("Light green", "Seen.", "") for ref in refs_of(generation, reviewer_id)}
        answer(generation.files[reviewer_id], assessment.inbox / f"{reviewer_id}.xlsx", answers)
    ingest(assessment)
    path = write_report(assessment).path
    scores = openpyxl.load_workbook(path)["Scores"]
    headers = [c.value for c in scores[1]]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == "G001")
    moderated, note = (f"{'ABCDEFGH'[headers.index(h)]}{row}" for h in ("Moderated score", "Moderation note"))
    office.run(op="edit", path=path, out=path, steps=[
        {"sheet": "Scores", "cells": {moderated: "Amber", note: "Scrutiny rarely changes a decision"}},
        {"insert_column": "Scores", "at": 3},  # before 'Consolidated score'
        {"sheet": "Scores", "cells": {"D1": "Panel comment", f"D{row}": "Ask for the call-in record"}},
        {"add_sheet": "Panel notes"},
        {"sheet": "Panel notes", "cells": {"A1": "Met 14 January", "A2": "=COUNTA($Scores.A2:A7)"}}])
    result = CliRunner().invoke(cli, ["report", str(assessment.folder)])
    assert result.exit_code == 0, result.output
    assert changes_on_sheet(path) == [("G001", "Moderated score", "(blank)", "Amber"),
                                      ("G001", "Moderation note", "(blank)", "Scrutiny rarely changes a decision"),
                                      ("G001", "Final score", "Light green", "Amber")]
    kept = openpyxl.load_workbook(path)
    assert kept["Panel notes"]["A1"].value == "Met 14 January"
    assert kept["Panel notes"]["A2"].value == "=COUNTA(Scores!A2:A7)"
    scores = kept["Scores"]
    headers = [c.value for c in scores[1]]
    assert scores.cell(row, headers.index("Panel comment") + 1).value == "Ask for the call-in record"

    # Moderated again in LibreOffice: the trail grows, what was added stays.
    moderated = f"{'ABCDEFGH'[headers.index('Moderated score')]}{row}"
    office.run(op="edit", path=path, out=path, steps=[{"sheet": "Scores", "cells": {moderated: "Red"}}])
    result = CliRunner().invoke(cli, ["report", str(assessment.folder)])
    assert result.exit_code == 0, result.output
    assert changes_on_sheet(path)[3:] == [("G001", "Moderated score", "Amber", "Red"),
                                          ("G001", "Final score", "Amber", "Red")]
    kept = openpyxl.load_workbook(path)
    assert kept["Panel notes"]["A1"].value == "Met 14 January"
    assert len(list((assessment.folder / "history").iterdir())) == 2
