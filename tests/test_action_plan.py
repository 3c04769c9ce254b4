"""The Action plan as the service areas use it: what they type is kept with its type (a date stays a
date, a number a number), the dropdowns and checks offer what they should, and each score is shown in
its rating's colour."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from conftest import answer
from spreadsheet import Spreadsheet

from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.excel.read.framework import load_framework

STATUSES = ["Not started", "In progress", "Complete", "Closed"]
HEADERS = ["Action ID", "Ref", "Theme", "Characteristic", "Score", "Gap identified", "Action", "Owner",
           "Service area", "Target date", "Status", "Progress update", "Last updated", "Update from"]


def refs_of(generation, reviewer_id):
    return [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


@pytest.fixture
def planned(generated):
    """CI001 Amber and G001 Red are on the plan, L001 (two reviewers) and SD001 for their gaps; the rest
    Light green, no gaps."""
    assessment, generation = generated
    given = {"CI001": ("Amber", "Weak.", "None identified."), "G001": ("Red", "Poor.", "n/a"),
             "SD001": ("Light green", "Good.", "Survey the harder-to-reach"),
             "L001": ("Light green", "Good.", "Publish the vision")}
    for reviewer_id, path in generation.files.items():
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: given.get(ref, ("Light green", "Good.", "None")) for ref in refs_of(generation, reviewer_id)})
    ingest(assessment)
    return assessment, write_report(assessment).path


def plan_rows(path) -> list[tuple]:
    return list(openpyxl.load_workbook(path)["Action plan"].iter_rows(min_row=2, values_only=True))


def test_the_plan_lists_what_is_flagged_in_framework_order_with_why(planned, generated):
    _, path = planned
    [sd001] = generated[1].allocation["SD001"]  # whoever was given it
    sheet = openpyxl.load_workbook(path)["Action plan"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert {(c.font.b, c.fill.fgColor.rgb[-6:]) for c in sheet[1]} == {(True, "1F3864")}  # the header stands out
    assert [row[:6] for row in plan_rows(path)] == [
        ("ACT-CI001", "CI001", "Continuous improvement", "Services improve", "Amber",
         "Scored Amber; no gaps were listed by the reviewers."),
        ("ACT-L001", "L001", "Leadership", "Clear vision", "Light green",
         "R01: Publish the vision\nR03: Publish the vision"),
        ("ACT-G001", "G001", "Governance", "Robust scrutiny", "Red", "Scored Red; no gaps were listed by the reviewers."),
        ("ACT-SD001", "SD001", "Service delivery", "Customer focus", "Light green", f"{sd001}: Survey the harder-to-reach")]
    assert sheet.auto_filter.ref == "A1:N5"
    assert sheet.freeze_panes == "C2"


def type_actions(path, typed: dict[str, dict[str, object]]) -> None:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Action plan"]
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    for action_id, cells in typed.items():
        for header, value in cells.items():
            sheet.cell(rows[action_id], HEADERS.index(header) + 1, value)
    workbook.save(path)


def test_what_is_typed_is_kept_with_its_type_even_once_no_longer_flagged(planned):
    assessment, path = planned
    type_actions(path, {
        "ACT-CI001": {"Action": "Write the improvement plan", "Owner": "Head of Policy", "Service area": "Policy",
                      "Target date": dt.datetime(2027, 3, 31), "Status": "In progress", "Progress update": 50},
        "ACT-G001": {"Progress update": 2.5, "Owner": 7.0}})
    workbook = openpyxl.load_workbook(path)  # CI001 moderated up: no longer flagged, but its action is kept
    scores = workbook["Scores"]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == "CI001")
    scores.cell(row, 5, "Dark green")
    scores.cell(row, 6, "Plan adopted since the reviews.")
    workbook.save(path)
    write_report(assessment)
    sheet = openpyxl.load_workbook(path)["Action plan"]
    rows = {sheet.cell(r, 1).value: [sheet.cell(r, c) for c in range(1, 13)] for r in range(2, sheet.max_row + 1)}
    ci001 = rows["ACT-CI001"]
    assert [c.value for c in ci001[4:]] == [
        "Dark green", "No longer flagged by the scores; kept because actions were recorded against it.",
        "Write the improvement plan", "Head of Policy", "Policy", dt.datetime(2027, 3, 31), "In progress", 50]
    assert ci001[9].number_format == "dd/mm/yyyy" and ci001[9].is_date
    assert ci001[11].data_type == "n"
    g001 = rows["ACT-G001"]
    assert (g001[7].value, g001[7].data_type, g001[11].value, g001[11].data_type) == (7, "n", 2.5, "n")
    assert g001[9].value is None and g001[9].number_format == "dd/mm/yyyy"  # ready for a date
    assert list(rows) == ["ACT-CI001", "ACT-L001", "ACT-G001", "ACT-SD001"]


def test_status_is_a_dropdown_and_the_target_date_is_checked_on_every_row_and_spare_ones(planned):
    _, path = planned
    sheet = openpyxl.load_workbook(path)["Action plan"]
    checks = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert set(checks) == {"K2:K205", "J2:J205"}  # the four rows and 200 more
    status, date = checks["K2:K205"], checks["J2:J205"]
    assert (status.type, status.formula1, status.errorStyle) == ("list", '"' + ",".join(STATUSES) + '"', "warning")
    assert (date.type, date.operator, date.formula1, date.errorStyle, date.error) == (
        "date", "greaterThan", "36526", "warning", "Type a date such as 31/03/2027.")  # 36526 is 1 January 2000



def test_a_status_that_is_none_of_the_plan_s_is_kept_and_said_by_cell(planned):
    """The dropdown only warns, so Excel keeps a typo: the report says where it is, and what it means."""
    assessment, path = planned
    type_actions(path, {"ACT-CI001": {"Status": "Compelte"}, "ACT-L001": {"Status": "closed"},
                        "ACT-G001": {"Status": "done"}})
    result = write_report(assessment)
    said = [str(w) for w in result.warnings if w.code == "ACTION_STATUS_UNKNOWN"]
    assert said == [
        "report.xlsx, sheet 'Action plan', cell K2: the status 'Compelte' of ACT-CI001 is not one of the plan's "
        "statuses (did you mean 'Complete'?). Choose one of: Not started, In progress, Complete, Closed from the "
        "cell's list; until then the follow-up counts it apart, and as not done.",
        "report.xlsx, sheet 'Action plan', cell K4: the status 'done' of ACT-G001 is not one of the plan's statuses. "
        "Choose one of: Not started, In progress, Complete, Closed from the cell's list; until then the follow-up "
        "counts it apart, and as not done."]
    statuses = {row[0]: row[10] for row in plan_rows(path)}
    assert (statuses["ACT-CI001"], statuses["ACT-L001"], statuses["ACT-G001"]) == ("Compelte", "closed", "done")  # as typed

def test_each_score_on_the_plan_is_shown_in_its_rating_s_colour(planned):
    assessment, path = planned
    colour = {r.name: r.colour.lstrip("#").upper() for r in load_framework(assessment.workbook).scale.ratings}
    workbook = openpyxl.load_workbook(path)
    spreadsheet = Spreadsheet(workbook)
    shown = {workbook["Action plan"].cell(row, 2).value: spreadsheet.seen_colour("Action plan", row, 5)
             for row in range(2, 6)}
    assert shown == {"CI001": colour["Amber"], "L001": colour["Light green"], "G001": colour["Red"],
                     "SD001": colour["Light green"]}
    assert spreadsheet.seen_colour("Action plan", 2, 6) == "FFFFFF"  # only the Score column is coloured


def test_an_empty_plan_is_ready_to_type_into(generated):
    assessment, _ = generated
    sheet = openpyxl.load_workbook(write_report(assessment).path)["Action plan"]
    assert [c.value for c in sheet[1]] == HEADERS and sheet.max_row == 1
    assert sheet.auto_filter.ref == "A1:N2"
    assert {str(v.sqref) for v in sheet.data_validations.dataValidation} == {"K2:K202", "J2:J202"}


def test_every_input_column_of_the_plan_has_its_own_field_and_nothing_else_is_an_input():
    import dataclasses

    from bva_excel.layout import ACTION_INPUT_HEADERS
    from bva_excel.model.action_plan import ActionInputs

    assert list(ActionInputs.HEADERS) == ACTION_INPUT_HEADERS  # the plan's columns, in order
    assert list(ActionInputs.HEADERS.values()) == [f.name for f in dataclasses.fields(ActionInputs)]
    typed = {"Action": "Publish the plan", "Owner": "Ann Lee", "Target date": dt.date(2027, 3, 31),
             "Gap identified": "not an input", "Last updated": "not one either"}
    inputs = ActionInputs.from_columns(typed)
    assert (inputs.action, inputs.owner, inputs.target_date, inputs.status) == (
        "Publish the plan", "Ann Lee", dt.date(2027, 3, 31), None)
    assert inputs.columns() == {"Action": "Publish the plan", "Owner": "Ann Lee", "Target date": dt.date(2027, 3, 31)}
