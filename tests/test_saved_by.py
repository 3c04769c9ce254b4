"""A workbook filled in by someone else than the reviewer it was issued to is still credited to that reviewer,
but ingest says who else its 'last saved by', author or file name names, and 'Returns' shows who saved it."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer, refs_of, set_saved_time

from bva_excel.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def returned_by(assessment, generation, reviewer_id: str, name: str, saved_by: str = "", author: str = ""):
    """`reviewer_id`'s workbook, answered and saved as `name` by whoever `saved_by` and `author` say."""
    path = answer(generation.files[reviewer_id], assessment.inbox / name,
                  {ref: ("Yellow", "Fair.", "Some.") for ref in refs_of(generation, reviewer_id)})
    workbook = openpyxl.load_workbook(path)
    workbook.properties.lastModifiedBy = saved_by or None
    workbook.properties.creator = author or "bva-excel"
    workbook.save(path)
    set_saved_time(path, dt.datetime(2026, 12, 3, 9, 0))
    return path


def ingested(assessment) -> dict[str, dict]:
    result = run("ingest", assessment.folder, "--json")
    assert result.exit_code == 0, result.output
    return {f["file"]: f for f in json.loads(result.output)["files"]}


def saved_by_column(assessment) -> dict[str, str]:
    assert run("report", assessment.folder).exit_code == 0
    sheet = openpyxl.load_workbook(assessment.report)["Returns"]
    headers = [c.value for c in sheet[1]]
    return {row[0]: row[headers.index("Saved by")] for row in sheet.iter_rows(min_row=2, values_only=True)}


@pytest.mark.parametrize("saved_by", ["Ann Lee", "ann lee", "ÁNN LÉE", "Lee, Ann", "ann@example.gov.uk"])
def test_a_workbook_last_saved_by_another_reviewer_is_credited_to_its_own_with_a_warning(generated, saved_by):
    assessment, generation = generated
    returned_by(assessment, generation, "R02", "R02 return.xlsx", saved_by=saved_by)
    outcome = ingested(assessment)["R02 return.xlsx"]
    assert (outcome["status"], outcome["reviewer"]) == ("accepted", "R02")
    warnings = [p for p in outcome["problems"] if p["code"] == "RETURN_SAVED_BY_OTHER"]
    assert [(p["severity"], p["message"]) for p in warnings] == [
        ("warning", "this workbook was issued to R02 Bob Stone, but its 'last saved by' names R01 Ann Lee; its "
                    "answers are credited to R02 Bob Stone")]
    assert warnings[0]["fix"].startswith("If R01 Ann Lee filled it in for R02 Bob Stone, nothing to do")
    assert saved_by_column(assessment)["R02 return.xlsx"] == saved_by


def test_a_file_named_for_another_reviewer_or_made_by_one_is_said(generated):
    """Ann Lee filled Bob Stone's workbook and saved it as 'Ann Lee return.xlsx'; Cai Wyn's was made from a copy
    whose author is Bob Stone."""
    assessment, generation = generated
    returned_by(assessment, generation, "R02", "Ann Lee return.xlsx")
    returned_by(assessment, generation, "R03", "R03.xlsx", author="Bob Stone")
    outcomes = ingested(assessment)
    said = {name: [p["message"] for p in o["problems"] if p["code"] == "RETURN_SAVED_BY_OTHER"]
            for name, o in outcomes.items()}
    assert said == {
        "Ann Lee return.xlsx": ["this workbook was issued to R02 Bob Stone, but its file name names R01 Ann Lee; its "
                                "answers are credited to R02 Bob Stone"],
        "R03.xlsx": ["this workbook was issued to R03 Cai Wyn, but its author names R02 Bob Stone; its answers are "
                     "credited to R03 Cai Wyn"]}
    assert {o["reviewer"] for o in outcomes.values()} == {"R02", "R03"}


@pytest.mark.parametrize("name, saved_by, author", [
    ("R02 return.xlsx", "Bob Stone", "Bob Stone"),  # the reviewer it was issued to
    ("Bob Stone return.xlsx", "bob@example.gov.uk", ""),
    ("R02 return.xlsx", "PMO Office", "Jane Smith"),  # nobody on Reviewers
    ("Lee return.xlsx", "", ""),  # one word of a name is not the name
    ("R02 return.xlsx", "", ""),  # nothing said at all, as LibreOffice with no user name saves
])
def test_no_warning_for_the_reviewer_themselves_or_a_name_not_on_reviewers(generated, name, saved_by, author):
    assessment, generation = generated
    returned_by(assessment, generation, "R02", name, saved_by=saved_by, author=author)
    outcome = ingested(assessment)[name]
    assert outcome["status"] == "accepted"
    assert not [p for p in outcome["problems"] if p["code"] == "RETURN_SAVED_BY_OTHER"]
    assert saved_by_column(assessment)[name] == saved_by


def test_who_else_a_workbook_names_is_found_in_a_copy_of_the_framework_as_reading_processes_get_one():
    """Reading processes are given the framework (copied, where processes are spawned, as on Windows): the
    reviewers' index made before the copy must still find them in it."""
    import pickle

    from bva_excel.model.framework import Framework, Reviewer, Scale
    from bva_excel.model.people import others_named

    framework = Framework(Scale(()), (), (Reviewer("R01", "Ann Lee", "ann@example.gov.uk", ""),
                                          Reviewer("R02", "Siân Roberts", "sian@example.gov.uk", "")))
    assert framework.reviewer_names  # made before the copy
    copied = pickle.loads(pickle.dumps(framework))
    sources = [("'last saved by'", "Roberts, Sian"), ("file name", "BV return Ann Lee")]
    assert [(how, person.reviewer_id) for how, person in others_named(sources, copied.reviewer_names, "R03")] == [
        ("'last saved by'", "R02"), ("file name", "R01")]
