"""Several actions under one characteristic on the 'Action plan': added by inserting a row, with or without
an ID, kept in the order typed on every re-run; an overdue action shaded as the plan is opened."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from progress_helpers import _flagged_once, flagged  # noqa: F401  (fixtures)
from spreadsheet import Spreadsheet

from bva_excel.app.report import write_report
from bva_excel.excel.read.framework import load_framework

HEADERS = ["Action ID", "Ref", "Theme", "Characteristic", "Score", "Gap identified", "Action", "Owner",
           "Service area", "Target date", "Status", "Progress update", "Last updated", "Update from"]
OVERDUE = "F8CBAD"


@pytest.fixture
def planned(flagged):
    """CI001 Amber and G001 Red are on the plan; the rest Light green with no gaps."""
    return flagged


def rows_of(path) -> list[dict]:
    sheet = openpyxl.load_workbook(path)["Action plan"]
    return [dict(zip(HEADERS, row)) for row in sheet.iter_rows(min_row=2, values_only=True)]


def insert(path, after_id: str, cells: dict) -> None:
    """Insert a row below the action `after_id` and type `cells` into it, as a person would."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Action plan"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == after_id) + 1
    sheet.insert_rows(row)
    for header, value in cells.items():
        sheet.cell(row, HEADERS.index(header) + 1, value)
    workbook.save(path)


def test_actions_added_under_a_characteristic_are_kept_in_order_with_ids_on_every_run(planned):
    assessment, path = planned
    insert(path, "ACT-CI001", {"Action": "Second action, no ID"})
    insert(path, "ACT-CI001", {"Action ID": "ACT-CI001-7", "Action": "Typed with an ID", "Owner": "Jo"})
    insert(path, "ACT-G001", {"Action": "Only an action; no ref, no ID", "Status": "In progress"})
    write_report(assessment)
    first = [(r["Action ID"], r["Ref"], r["Action"]) for r in rows_of(path)]
    assert first == [("ACT-CI001", "CI001", None), ("ACT-CI001-7", "CI001", "Typed with an ID"),
                     ("ACT-CI001-2", "CI001", "Second action, no ID"), ("ACT-G001", "G001", None),
                     ("ACT-G001-2", "G001", "Only an action; no ref, no ID")]
    assert rows_of(path)[2]["Gap identified"] == "Scored Amber; no gaps were listed by the reviewers."
    write_report(assessment)
    assert [(r["Action ID"], r["Ref"], r["Action"]) for r in rows_of(path)] == first


def test_a_copied_row_keeps_both_actions_the_copy_under_a_new_id(planned):
    assessment, path = planned
    insert(path, "ACT-G001", {"Action ID": "ACT-G001", "Action": "Copied row, changed"})
    workbook = openpyxl.load_workbook(path)
    workbook["Action plan"].cell(3, HEADERS.index("Action") + 1, "The original")  # ACT-G001's own row
    workbook.save(path)
    write_report(assessment)
    assert [(r["Action ID"], r["Action"]) for r in rows_of(path)] == [
        ("ACT-CI001", None), ("ACT-G001", "The original"), ("ACT-G001-2", "Copied row, changed")]


def test_an_action_no_longer_flagged_is_marked_and_kept(planned):
    assessment, path = planned
    insert(path, "ACT-CI001", {"Action": "Extra"})
    workbook = openpyxl.load_workbook(path)
    scores = workbook["Scores"]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == "CI001")
    scores.cell(row, 5, "Dark green")
    scores.cell(row, 6, "Improved.")
    workbook.save(path)
    write_report(assessment)
    ci001 = [(r["Action ID"], r["Gap identified"]) for r in rows_of(path) if r["Ref"] == "CI001"]
    assert ci001 == [("ACT-CI001-2", "No longer flagged by the scores; kept because actions were recorded "
                                     "against it.")]


def test_an_action_past_its_target_date_and_not_complete_is_shaded(planned):
    assessment, path = planned
    past, future = dt.datetime(2020, 1, 31), dt.datetime.combine(dt.date.today() + dt.timedelta(days=30), dt.time())
    insert(path, "ACT-CI001", {"Action": "Late", "Target date": past, "Status": "In progress"})
    insert(path, "ACT-G001", {"Action": "Late but done", "Target date": past, "Status": "Complete"})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Action plan"]
    sheet.cell(2, HEADERS.index("Target date") + 1, future)  # ACT-CI001: not due yet
    sheet.cell(4, HEADERS.index("Target date") + 1, past)  # ACT-G001: no status: overdue
    workbook.save(path)
    write_report(assessment)
    workbook = openpyxl.load_workbook(path)
    spreadsheet = Spreadsheet(workbook)
    ids = [r["Action ID"] for r in rows_of(path)]
    shade = {action: spreadsheet.seen_colour("Action plan", row, HEADERS.index("Action") + 1)
             for row, action in enumerate(ids, start=2)}
    assert shade == {"ACT-CI001": "FFFFFF", "ACT-CI001-2": OVERDUE, "ACT-G001": OVERDUE, "ACT-G001-2": "FFFFFF"}
    red = next(r.colour for r in load_framework(assessment.workbook).scale.ratings if r.name == "Red").lstrip("#").upper()
    assert spreadsheet.seen_colour("Action plan", 4, HEADERS.index("Score") + 1) == red  # the score keeps its colour
    across = [spreadsheet.seen_colour("Action plan", 3, col) for col in range(1, len(HEADERS) + 2)]
    amber = next(r.colour for r in load_framework(assessment.workbook).scale.ratings if r.name == "Amber").lstrip("#").upper()
    expected = [amber if h == "Score" else OVERDUE for h in HEADERS] + ["FFFFFF"]
    assert across == expected  # the whole row, from its ID to Update from (its score in its colour), and no further
    below = 2 + len(ids) + 150  # a row typed into well below the plan is shaded when it falls overdue
    sheet = workbook["Action plan"]
    sheet.cell(below, HEADERS.index("Target date") + 1, past)
    assert Spreadsheet(workbook).seen_colour("Action plan", below, 1) == OVERDUE


def test_an_inserted_row_with_only_an_id_belongs_to_the_characteristic_its_id_names(planned):
    assessment, path = planned
    # Typed under CI001's action, but the ID names G001 and no Ref was typed: it is G001's second action.
    insert(path, "ACT-CI001", {"Action ID": "ACT-G001-3", "Action": "Moved here by mistake"})
    write_report(assessment)
    assert [(r["Action ID"], r["Ref"]) for r in rows_of(path)] == [
        ("ACT-CI001", "CI001"), ("ACT-G001", "G001"), ("ACT-G001-3", "G001")]


def test_an_action_id_of_no_characteristic_typed_in_lower_case_is_not_made_a_characteristic(planned):
    assessment, path = planned
    insert(path, "ACT-CI001", {"Action ID": "act-new-4", "Action": "Belongs to no characteristic yet"})
    write_report(assessment)
    [typed] = [r for r in rows_of(path) if r["Action"] == "Belongs to no characteristic yet"]
    assert typed["Action ID"].casefold() == "act-new-4" and typed["Ref"] in (None, "")


def test_a_new_action_takes_the_next_number_free_after_those_typed(planned):
    assessment, path = planned
    insert(path, "ACT-CI001", {"Action": "No ID yet"})
    insert(path, "ACT-CI001", {"Action ID": "ACT-CI001-2", "Action": "Typed as the second"})
    write_report(assessment)
    assert [(r["Action ID"], r["Action"]) for r in rows_of(path) if r["Ref"] == "CI001"] == [
        ("ACT-CI001", None), ("ACT-CI001-2", "Typed as the second"), ("ACT-CI001-3", "No ID yet")]


def test_a_row_where_only_an_action_id_was_typed_is_kept_and_a_blank_row_is_not_an_action(planned):
    assessment, path = planned
    insert(path, "ACT-CI001", {})
    insert(path, "ACT-G001", {"Action ID": "ACT-G001-4"})  # the rest to be filled in later
    write_report(assessment)
    assert [r["Action ID"] for r in rows_of(path)] == ["ACT-CI001", "ACT-G001", "ACT-G001-4"]


def test_several_actions_typed_without_ids_each_get_their_own(planned):
    assessment, path = planned
    insert(path, "ACT-CI001", {"Action": "Second"})
    insert(path, "ACT-CI001", {"Action": "Third"})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Action plan"]
    sheet.insert_rows(2, 2)  # two typed above the first row: under no characteristic yet
    sheet.cell(2, HEADERS.index("Action") + 1, "Unplaced one")
    sheet.cell(3, HEADERS.index("Action") + 1, "Unplaced two")
    workbook.save(path)
    write_report(assessment)
    ids = {r["Action"]: r["Action ID"] for r in rows_of(path) if r["Action"]}
    assert ids == {"Unplaced one": "ACT-NEW-2", "Unplaced two": "ACT-NEW-3", "Third": "ACT-CI001-2",
                   "Second": "ACT-CI001-3"}


def test_the_plan_reads_as_opened_text_wraps_in_every_column_and_a_long_action_makes_its_row_taller(planned):
    assessment, path = planned
    long_action = "Commission an external review of the scrutiny arrangements and report to Cabinet. " * 6
    insert(path, "ACT-CI001", {"Action": long_action, "Owner": 42.0, "Progress update": 2.5})
    write_report(assessment)
    sheet = openpyxl.load_workbook(path)["Action plan"]
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    typed, plain = rows["ACT-CI001-2"], rows["ACT-G001"]
    assert (sheet.cell(typed, 8).value, sheet.cell(typed, 12).value) == (42, 2.5)  # numbers stay numbers
    not_dates = [i + 1 for i, h in enumerate(HEADERS) if h not in ("Target date", "Last updated")]
    assert all(sheet.cell(r, col).alignment.wrap_text for r in (typed, plain) for col in not_dates)
    columns = {col: d for d in sheet.column_dimensions.values() for col in range(d.min, d.max + 1)}
    assert all(columns[col].alignment.wrap_text for col in not_dates)  # so do the rows people add
    assert columns[HEADERS.index("Action") + 1].width >= 25
    assert sheet.row_dimensions[typed].height > 3 * sheet.row_dimensions[plain].height


def test_actions_of_a_characteristic_taken_off_the_framework_are_kept_and_say_why(planned):
    assessment, path = planned
    insert(path, "ACT-G001", {"Action": "Scrutiny training", "Owner": "Jo"})
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Characteristics"]
    sheet.delete_rows(next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "G001"), 1)
    workbook.save(assessment.workbook)
    write_report(assessment)
    rows = rows_of(path)
    assert [(r["Action ID"], r["Ref"]) for r in rows] == [("ACT-CI001", "CI001"), ("ACT-G001-2", "G001")]
    kept = rows[1]
    assert (kept["Theme"], kept["Characteristic"], kept["Score"], kept["Action"], kept["Owner"]) == (
        "", "", "", "Scrutiny training", "Jo")
    assert kept["Gap identified"] == "G001 is no longer in the framework; kept because actions were recorded against it."
