"""Filling progress workbooks and the action plan as people would, for the tests of the progress round."""

from __future__ import annotations

import datetime as dt
import shutil
import types
from pathlib import Path

import openpyxl
import pytest
from conftest import FOLDER, answer, set_saved_time, shared

from bva_excel.app.report import write_report
from bva_excel.store.folder import open_assessment

PLAN_HEADERS = ["Action ID", "Ref", "Theme", "Characteristic", "Score", "Gap identified", "Action", "Owner",
                "Service area", "Target date", "Status", "Progress update", "Last updated", "Update from"]


def list_service_areas(assessment, areas: list[tuple[str, str, str]]) -> None:
    """Type service areas (name, head, email) on the assessment's 'Service areas' sheet."""
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Service areas"]
    for row, values in enumerate(areas, start=2):
        for col, value in enumerate(values, start=1):
            sheet.cell(row, col, value)
    workbook.save(assessment.workbook)


def _type(cell, value) -> None:
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # typed text stays text, even '=...'


def type_plan(path: Path, typed: dict[str, dict], inserted: list[tuple[str, dict]] = ()) -> None:
    """Type into the Action plan's rows by action ID, and insert rows (below an action ID) as a person would."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Action plan"]
    for after, cells in inserted:
        row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == after) + 1
        sheet.insert_rows(row)
        for header, value in cells.items():
            _type(sheet.cell(row, PLAN_HEADERS.index(header) + 1), value)
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    for action_id, cells in typed.items():
        for header, value in cells.items():
            _type(sheet.cell(rows[action_id], PLAN_HEADERS.index(header) + 1), value)
    workbook.save(path)


def plan(path: Path) -> dict[str, dict]:
    """action ID -> header -> value, as on the report's Action plan."""
    sheet = openpyxl.load_workbook(path)["Action plan"]
    return {row[0]: dict(zip(PLAN_HEADERS, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}


def clock_at(when: dt.datetime):
    """The `datetime` module as a module of the tool sees it, with the clock stopped at `when` (monkeypatch a
    module's `dt` with it)."""
    class Stopped(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return when

    return types.SimpleNamespace(**{**{name: getattr(dt, name) for name in dir(dt) if not name.startswith("_")},
                                    "datetime": Stopped})


def fill_progress(source: Path, target: Path, updates: dict[str, tuple], saved: dt.datetime | None = None) -> Path:
    """Fill a progress workbook: action ID -> (status, progress update, revised target date), saved as `target`."""
    workbook = openpyxl.load_workbook(source)
    sheet = workbook["Progress"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        action_id = sheet.cell(row, headers["Action ID"]).value
        if action_id not in updates:
            continue
        for header, value in zip(["Status", "Progress update", "Revised target date"], updates[action_id]):
            if value not in (None, ""):
                sheet.cell(row, headers[header], value)
    workbook.save(target)
    set_saved_time(target, saved or dt.datetime(2027, 1, 5, 9, 0))
    return target


FLAGGED = {"CI001": ("Amber", "Weak.", "None identified."), "G001": ("Red", "Poor.", "n/a")}


@pytest.fixture(scope=shared("session"))
def _flagged_once(tmp_path_factory, _made_once):
    """An assessment whose returns are in and reported, CI001 Amber and G001 Red on the action plan, the rest
    Light green with no gaps: made once per session and copied for each test."""
    from bva_excel.app.ingest import ingest
    from bva_excel.app.report import write_report

    base, generation = _made_once
    target = tmp_path_factory.mktemp("flagged") / FOLDER
    shutil.copytree(base / "generated" / FOLDER, target)
    assessment = open_assessment(target)
    for reviewer_id, path in generation.files.items():
        refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
        answer(assessment.outbox / path.name, assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: FLAGGED.get(ref, ("Light green", "Good.", "None")) for ref in refs})
    ingest(assessment)
    write_report(assessment)
    assessment.records.close()
    return target


@pytest.fixture
def flagged(tmp_path, _flagged_once):
    """(assessment, report.xlsx) with CI001 Amber and G001 Red on the action plan, nothing typed into it yet."""
    assessment = open_assessment(shutil.copytree(_flagged_once, tmp_path / FOLDER))
    return assessment, assessment.report


@pytest.fixture
def planned(flagged):
    """Three actions: ACT-CI001 (Finance, due 31/03/2027, In progress), ACT-CI001-2 (Legal services, due
    30/06/2027), ACT-G001 (Finance, due 01/12/2026: overdue on TODAY)."""
    assessment, report = flagged
    list_service_areas(assessment, [("Finance", "Fay Green", "fay@example.gov.uk"),
                                    ("Legal services", "Lee Hunt", "lee@example.gov.uk")])
    type_plan(report, {
        "ACT-CI001": {"Action": "Write the plan", "Owner": "Jo", "Service area": "Finance",
                      "Target date": dt.datetime(2027, 3, 31), "Status": "In progress"},
        "ACT-G001": {"Action": "Scrutiny training", "Owner": "Al", "Service area": "Finance",
                     "Target date": dt.datetime(2026, 12, 1)}},
        [("ACT-CI001", {"Action": "Peer review", "Owner": "Kim", "Service area": "Legal services",
                        "Target date": dt.datetime(2027, 6, 30)})])
    write_report(assessment)
    return assessment, report


def progress_returned(assessment, updates: dict[str, tuple], area: str = "Finance", name: str = "RE Finance.xlsx"):
    """Issue a progress round, return `area`'s workbook filled with `updates` (as `fill_progress`) as `name`, and
    ingest it: the round issued."""
    from bva_excel.app.ingest import ingest
    from bva_excel.app.progress import generate_progress

    round_ = generate_progress(assessment)
    fill_progress(round_.files[area], assessment.inbox / name, updates)
    ingest(assessment)
    return round_
