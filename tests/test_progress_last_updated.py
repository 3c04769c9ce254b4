"""'Last updated' after two progress rounds returned on different days: the action plan, the export (CSV and
workbook) and the follow-up each show when the latest return came for each action, not the first."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pytest
from click.testing import CliRunner
from progress_helpers import (  # noqa: F401  (fixtures)
    _flagged_once,
    clock_at,
    fill_progress,
    flagged,
    plan,
    planned,
)

import bva_excel.app.ingest
from bva_excel.app.follow_up import write_follow_up
from bva_excel.app.ingest import ingest
from bva_excel.app.progress import generate_progress
from bva_excel.app.report import write_report
from bva_excel.cli import cli

LATER = dt.timedelta(days=9)  # the second round is received this long after the first


@pytest.fixture
def two_rounds(planned, monkeypatch):  # noqa: F811
    """Finance returns round 1 today (ACT-CI001 and ACT-G001 in progress) and round 2 nine days later (ACT-CI001
    only); the report is written after each. Returns the assessment, its report and the days the two rounds
    were received."""
    assessment, report = planned
    today = dt.date.today()
    second_round = dt.datetime.combine(today + LATER, dt.time(10, 30))
    round_1 = generate_progress(assessment)
    fill_progress(round_1.files["Finance"], assessment.inbox / "RE Finance 1.xlsx",
                  {"ACT-CI001": ("In progress", "Drafting", None), "ACT-G001": ("In progress", "Booked", None)})
    ingest(assessment)
    write_report(assessment)
    round_2 = generate_progress(assessment)
    fill_progress(round_2.files["Finance"], assessment.inbox / "RE Finance 2.xlsx",
                  {"ACT-CI001": ("In progress", "Draft to Cabinet", None)})
    with monkeypatch.context() as later:
        later.setattr(bva_excel.app.ingest, "dt", clock_at(second_round))
        ingest(assessment)
    received = {r.name: r.received for r in assessment.records.returns()}
    assert received["RE Finance 1.xlsx"][:10] == today.isoformat()
    assert received["RE Finance 2.xlsx"] == second_round.isoformat()
    write_report(assessment)
    return assessment, report, today, second_round.date()


def test_the_action_plan_shows_the_day_of_each_action_s_latest_return(two_rounds):
    _, report, first, second = two_rounds
    actions = plan(report)
    assert (actions["ACT-CI001"]["Progress update"], actions["ACT-CI001"]["Last updated"]) == (
        "Draft to Cabinet", dt.datetime.combine(second, dt.time()))
    assert (actions["ACT-G001"]["Progress update"], actions["ACT-G001"]["Last updated"]) == (
        "Booked", dt.datetime.combine(first, dt.time()))  # not in the second return: still the first's day
    assert actions["ACT-CI001-2"]["Last updated"] is None  # Legal services has returned nothing


def export(assessment, *options):
    return CliRunner().invoke(cli, ["actions", str(assessment.folder), *map(str, options)])


def test_the_export_as_csv_and_as_a_workbook_shows_the_day_of_the_latest_return(two_rounds, tmp_path):
    assessment, _, first, second = two_rounds
    assert export(assessment, "--csv", tmp_path / "plan.csv").exit_code == 0
    with open(tmp_path / "plan.csv", encoding="utf-8-sig", newline="") as handle:
        exported = {row["Action ID"]: row["Last updated"] for row in csv.DictReader(handle)}
    assert exported == {"ACT-CI001": second.isoformat(), "ACT-CI001-2": "",
                        "ACT-G001": first.isoformat()}
    assert export(assessment, "--xlsx", tmp_path / "plan.xlsx").exit_code == 0
    rows = list(openpyxl.load_workbook(tmp_path / "plan.xlsx")["Actions"].iter_rows(values_only=True))
    column = rows[0].index("Last updated")
    assert {row[0]: row[column] for row in rows[1:]} == {
        "ACT-CI001": dt.datetime.combine(second, dt.time()), "ACT-CI001-2": "",
        "ACT-G001": dt.datetime.combine(first, dt.time())}


def test_the_follow_up_shows_the_day_of_the_latest_return(two_rounds, tmp_path):
    assessment, _, first, second = two_rounds
    path = write_follow_up(assessment, tmp_path / "follow-up.xlsx", second).path
    rows = list(openpyxl.load_workbook(path)["All actions"].iter_rows(values_only=True))
    column = rows[0].index("Last updated")
    assert {row[0]: row[column] for row in rows[1:]} == {
        "ACT-CI001": dt.datetime.combine(second, dt.time()), "ACT-CI001-2": None,
        "ACT-G001": dt.datetime.combine(first, dt.time())}
