"""Small assessments built inside the tests from tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from bva_excel.app.new import create_assessment
from bva_excel.excel.write.template import write_framework_workbook
from bva_excel.store.folder import open_assessment

SCALE = [["Dark green", "#00703C", 5, "Strong"], ["Light green", "#92D050", 4, "Broad alignment"],
         ["Yellow", "#FFD966", 3, "Work to do"], ["Amber", "#F4A300", 2, "Significant gaps"],
         ["Red", "#C00000", 1, "Not in place"], ["Grey", "#BFBFBF", "", "Not scored"]]
REVIEWERS = [["R01", "Ann Lee", "ann@example.gov.uk", "Finance"],
             ["R02", "Bob Stone", "bob@example.gov.uk", "Legal"],
             ["R03", "Cai Wyn", "cai@example.gov.uk", "Housing"]]
# Ref, Theme, Characteristic, Position statement, Evidence, Drafted by, Reviewers
CHARACTERISTICS = [
    ["CI001", "Continuous improvement", "Services improve", "We improve.", "Plan A", "R01", ""],
    ["CI002", "Continuous improvement", "Peer challenge", "We invite it.", "Report B", "Ann Lee", ""],
    ["L001", "Leadership", "Clear vision", "We have one.", "Plan C", "R02", "R01, R03"],
    ["G001", "Governance", "Robust scrutiny", "It is robust.", "Minutes", "", ""],
    ["R001", "Use of resources", "Internal control", "It works.", "Audit", "R03", ""],
    ["SD001", "Service delivery", "Customer focus", "We listen.", "Survey", "", ""],
]


def make_framework(path: Path, scale=None, characteristics=None, reviewers=None) -> Path:
    write_framework_workbook(path, SCALE if scale is None else scale,
                             CHARACTERISTICS if characteristics is None else characteristics,
                             REVIEWERS if reviewers is None else reviewers, ["# Guide", "Test framework."])
    return path


@pytest.fixture
def framework_file(tmp_path) -> Path:
    return make_framework(tmp_path / "framework.xlsx")


FOLDER = "Assessment 2026 (ü)"


def shared(scope: str):
    """The scope of a fixture made once and used by many tests: `scope`, except while mutmut notes which
    test calls which function (then each test makes its own, or the calls would be noted for the first)."""
    def decide(fixture_name, config):
        return "function" if os.environ.get("MUTANT_UNDER_TEST") == "stats" else scope
    return decide


@pytest.fixture(scope=shared("session"))
def _made_once(tmp_path_factory):
    """An assessment as created, and one with its workbooks generated: made once per test session
    (by the code under test) and copied for each test, which is much quicker than making them again."""
    from bva_excel.app.issue import generate

    base = tmp_path_factory.mktemp("made-once")
    framework = make_framework(base / "framework.xlsx")
    created = create_assessment(base / "created" / FOLDER, framework, "Test assessment")
    created.records.close()
    shutil.copytree(created.folder, base / "generated" / FOLDER)
    issued = open_assessment(base / "generated" / FOLDER)
    generation = generate(issued, per_characteristic=1)
    issued.records.close()
    return base, generation


def _copy(base: Path, kind: str, tmp_path: Path):
    return open_assessment(shutil.copytree(base / kind / FOLDER, tmp_path / FOLDER))


@pytest.fixture
def assessment(tmp_path, _made_once):
    """A new assessment of the test framework, nothing generated yet."""
    return _copy(_made_once[0], "created", tmp_path)


@pytest.fixture
def generated(tmp_path, _made_once):
    """An assessment with its reviewer workbooks written to the outbox."""
    base, generation = _made_once
    copied = _copy(base, "generated", tmp_path)
    return copied, dataclasses.replace(generation, files={
        reviewer_id: copied.outbox / path.name for reviewer_id, path in generation.files.items()})


_saves = itertools.count()
FIRST_SAVE = dt.datetime(2026, 12, 1, 9, 0)


def as_excel_stores(text: str) -> str:
    """Text as Excel stores it in the file: a literal '_xHHHH_' and a carriage return escaped."""
    return re.sub(r"_(x[0-9A-Fa-f]{4}_)", r"_x005F_\1", text).replace("\r", "_x000D_")


def set_saved_time(path: Path, saved: dt.datetime) -> None:
    """Set the time a workbook says it was last saved (docProps/core.xml), as Excel writes it (UTC)."""
    stamp = saved.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", data)
            target.writestr(info, data)


def answer(source: Path, target: Path, answers: dict, saved: dt.datetime | None = None) -> Path:
    """Fill a reviewer workbook as a reviewer would (ref -> (score, commentary, gaps)) and save it as
    `target`. Each return is saved a minute after the one before unless `saved` (UTC) says when."""
    workbook = openpyxl.load_workbook(source)
    sheet = workbook["Review"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        ref = sheet.cell(row, headers["Ref"]).value
        if ref not in answers:
            continue
        values = tuple(answers[ref]) + ("",) * (3 - len(answers[ref]))
        for header, text in zip(["Score", "Commentary", "Gaps and areas to address"], values):
            cell = sheet.cell(row, headers[header], as_excel_stores(text) if text else None)
            if text:
                cell.data_type = "s"  # typed text stays text, even '=...'
    workbook.save(target)
    set_saved_time(target, saved or FIRST_SAVE + dt.timedelta(minutes=next(_saves)))
    return target


def copy(path: Path, target: Path) -> Path:
    shutil.copyfile(path, target)
    return target


def current(assessment) -> dict:
    """reviewer ID -> (their latest accepted return, the responses that count now), from the records."""
    from bva_excel.model.consolidation import current_answers, in_order

    records = assessment.records
    ordered = in_order(records.returns(), records.preferences())
    answers = current_answers(ordered, records.responses_by_return(r.return_id for r in ordered))
    latest = {record.reviewer_id: record for record in ordered}
    return {reviewer_id: (record, [response for (rid, _), (response, _) in answers.items() if rid == reviewer_id])
            for reviewer_id, record in latest.items()}


def refs_of(generation, reviewer_id) -> list[str]:
    """The refs issued to `reviewer_id`."""
    return [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


SPLIT_L001 = {"R01": ("Dark green", "Strong", ""), "R03": ("Amber", "Weak", "No plan")}  # two steps apart


def return_all(assessment, generation, given: dict, default: tuple | None = None) -> None:
    """Every reviewer returns their workbook to the inbox: `given` answers by ref, `default` for the refs not
    given (left blank when None); L001, listed for R01 and R03, is scored Dark green by R01 and Amber by R03."""
    for reviewer_id, path in generation.files.items():
        refs = refs_of(generation, reviewer_id)
        answers = {ref: given.get(ref, default) for ref in refs if ref in given or default is not None}
        answers.update({ref: SPLIT_L001[reviewer_id] for ref in refs if ref == "L001" and reviewer_id in SPLIT_L001})
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx", answers)


# The test files that take longest (a terminal, LibreOffice, processes stopped at every moment), run first, so
# that the workers finish together rather than one waiting for the last slow test to end.
SLOW_FIRST = ("test_terminal.py", "test_libreoffice.py", "test_storage_faults.py", "test_interrupts.py",
              "test_output_encoding.py", "test_roundtrip_property.py", "test_nothing_lost.py", "test_printed_report.py",
              "test_synced_copies.py")


def pytest_collection_modifyitems(config, items):
    """The slowest test files first (each file's tests kept together and in order). Under mutation testing
    (scripts/mutation.py; mutmut names the mutant in MUTANT_UNDER_TEST): run first the tests of the mutated
    module's own test files, then the others quickest first. mutmut stops at the first failure, so a mutant is
    killed in seconds instead of after every slower test that cannot see it; which tests run, and what counts as
    killed, is unchanged."""
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if "__mutmut_" not in mutant:
        items.sort(key=lambda item: item.path.name not in SLOW_FIRST)
        return
    module = mutant.split("__mutmut_")[0].rsplit(".", 1)[0].split(".")[-1]  # bva_excel.<layer>.<module>.<function>
    stats = Path("mutmut-stats.json")  # mutmut runs the tests in mutants/, beside its notes
    durations = json.loads(stats.read_text(encoding="utf-8")).get("duration_by_test", {}) if stats.exists() else {}
    items.sort(key=lambda item: (module not in item.path.name, durations.get(item.nodeid, 1.0)))


def issued_alike(folder: Path, issue_args: list[str], generate_args: list[str], monkeypatch) -> tuple:
    """Run `bva issue ...` on `folder` and `bva generate ...` on a copy of it, both named alike from their parent
    folder ("FOLDER" in the arguments): for each, the exit code, what it printed, and each workbook it put in the
    outbox with every cell's value (only the IDs, signatures and times of issue made alike: a deadline, a guide
    line or a row that differs shows)."""
    from click.testing import CliRunner
    from workbook_cells import VOLATILE

    from bva_excel.cli import cli

    def held(path: Path) -> dict:
        workbook = openpyxl.load_workbook(path)
        values = {}
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    value = cell.value
                    for pattern, replacement in VOLATILE[:4]:  # IDs, signatures, times of issue; not dates
                        value = pattern.sub(replacement, value) if isinstance(value, str) else value
                    values[sheet.title, cell.coordinate] = value
        return values

    other = folder.parent / "copy" / folder.name
    shutil.copytree(folder, other)
    results = []
    for place, args in ((folder, issue_args), (other, generate_args)):
        monkeypatch.chdir(place.parent)
        result = CliRunner().invoke(cli, [place.name if a == "FOLDER" else a for a in args])
        results.append((result.exit_code, result.output,
                        {p.name: held(p) for p in sorted((place / "outbox").iterdir()) if p.suffix == ".xlsx"}))
    return results
