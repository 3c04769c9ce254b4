"""The moderation round as the report and a moderator's return show it: the cases the mutation run found
untested (see docs/testing.md)."""

from __future__ import annotations

import datetime as dt
import os

import openpyxl
from test_moderation_round import moderate, run, scored  # noqa: F401 (scored is a fixture)
from test_returns import with_formulas


def scores_of(path) -> dict[str, dict]:
    sheet = openpyxl.load_workbook(path)["Scores"]
    headers = [c.value for c in sheet[1]]
    return {r[0]: dict(zip(headers, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}


def test_a_moderator_who_reviews_nothing_is_not_listed_as_a_reviewer_awaited(scored):
    assert run("generate", scored.folder, "--moderation", "--moderators", "R04,R05").exit_code == 0
    assert run("report", scored.folder).exit_code == 0
    summary = {row[0]: row[1:4] for row in openpyxl.load_workbook(scored.report)["Summary"].iter_rows(values_only=True)
               if row[0]}
    assert [name for name in summary if name.startswith("R0")] == ["R01 Ann Lee", "R02 Bob Stone", "R03 Cai Wyn"]


def test_of_two_moderation_returns_saved_at_one_moment_the_one_preferred_counts(scored):
    run("generate", scored.folder, "--moderation", "--moderators", "R04,R05")
    moment = dt.datetime(2026, 12, 10, 9, 0)
    chosen = moderate(scored.outbox / "BV moderation R05 Eve Marsh.xlsx", scored.inbox / "first.xlsx",
                      {"CI001": ("Yellow", "First view.")}, saved=moment)
    moderate(scored.outbox / "BV moderation R05 Eve Marsh.xlsx", scored.inbox / "second.xlsx",
             {"CI001": ("Red", "Second view.")}, saved=moment)
    assert run("ingest", scored.folder).exit_code == 0
    run("report", scored.folder)
    assert scores_of(scored.report)["CI001"]["Moderated score"] == "Red"  # received later, unless chosen
    later = scored.report.stat().st_mtime + 5  # the report written a few seconds after the returns came
    os.utime(scored.report, (later, later))
    assert run("ingest", scored.folder, "--prefer", chosen).exit_code == 0
    assert run("report", scored.folder).exit_code == 0
    row = scores_of(scored.report)["CI001"]
    assert (row["Moderated score"], row["Moderation note"]) == ("Yellow", "First view.")


def test_a_formula_in_a_moderation_return_is_kept_as_text_and_named(scored, tmp_path):
    run("generate", scored.folder, "--moderation", "--moderators", "R04,R05")
    path = moderate(scored.outbox / "BV moderation R05 Eve Marsh.xlsx", tmp_path / "moderation R05.xlsx",
                    {"CI001": ("Yellow", "")})
    workbook = openpyxl.load_workbook(path)
    headers = {cell.value: cell.column_letter for cell in workbook["Moderation"][1]}
    note = f"{headers['Moderation note']}2"
    with_formulas(path, {note: ('=CONCAT("Partly ","in place")', "Partly in place")}, sheet="Moderation")
    path.rename(scored.inbox / path.name)
    ingested = run("ingest", scored.folder)
    assert ingested.exit_code == 0, ingested.output
    assert (f"moderation R05.xlsx, sheet 'Moderation', cell {note}: the cell holds a formula "
            "(=CONCAT(\"Partly \",\"in place\")); it was not run, and its shown value 'Partly in place' was kept as "
            "text.") in " ".join(ingested.output.split())
    run("report", scored.folder)
    assert scores_of(scored.report)["CI001"]["Moderation note"] == "Partly in place"
    returns = {r[0]: r for r in openpyxl.load_workbook(scored.report)["Returns"].iter_rows(min_row=2, values_only=True)}
    status, counted, problems = returns["moderation R05.xlsx"][4:7]
    assert status == "accepted" and counted == 1 and problems.startswith(f"moderation R05.xlsx, sheet 'Moderation', cell {note}: the "
                                                        "cell holds a formula")


def test_a_moderation_workbook_sent_back_unfilled_is_said_to_answer_nothing(scored):
    run("generate", scored.folder, "--moderation", "--moderators", "R04,R05")
    moderate(scored.outbox / "BV moderation R05 Eve Marsh.xlsx", scored.inbox / "moderation R05.xlsx", {})
    ingested = run("ingest", scored.folder)
    assert ingested.exit_code == 1
    assert ("moderation R05.xlsx: no score, commentary or gaps are filled in for any of its"
            in " ".join(ingested.output.split()))
