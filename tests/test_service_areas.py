"""The 'Service areas' sheet: in the template, read with the framework, and added to an assessment made before it
existed, changing nothing else in that workbook (kept byte for byte, with a dated copy as it was)."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import CHARACTERISTICS, REVIEWERS, SCALE, make_framework
from openpyxl.comments import Comment
from progress_helpers import _flagged_once, flagged  # noqa: F401  (fixtures)

from bva_excel.app.new import create_assessment
from bva_excel.cli import cli
from bva_excel.errors import BvaError, FrameworkError
from bva_excel.excel.read.framework import load_framework
from bva_excel.excel.write.service_areas import ensure_service_areas
from bva_excel.excel.write.template import write_framework_workbook


def parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def older(tmp_path):
    """An assessment made before service areas were kept, whose workbook holds a comment someone typed."""
    framework = tmp_path / "old.xlsx"
    write_framework_workbook(framework, SCALE, CHARACTERISTICS, REVIEWERS, ["# Guide"], None)
    assessment = create_assessment(tmp_path / "BV 2025", framework, "Older")
    workbook = openpyxl.load_workbook(assessment.workbook)
    workbook["Characteristics"]["D2"].comment = Comment("Check with Finance", "PMO")
    workbook.save(assessment.workbook)
    return assessment


def test_the_sheet_is_added_with_the_reviewers_service_areas_and_nothing_else_changes(older):
    before = parts(older.workbook)
    original = older.workbook.read_bytes()
    assert load_framework(older.workbook).service_areas is None
    added = ensure_service_areas(older)
    after = parts(older.workbook)
    assert {name for name in before if before[name] != after[name]} == {
        "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
    [new] = set(after) - set(before)
    assert new.startswith("xl/worksheets/sheet") and set(before) <= set(after)
    assert added.backup.parent == older.records_dir / "backups"
    assert added.backup.name.startswith("assessment (before service areas ") and added.backup.suffix == ".xlsx"
    assert added.backup.read_bytes() == original
    workbook = openpyxl.load_workbook(older.workbook)
    assert workbook.sheetnames[-1] == "Service areas"
    assert [[c.value for c in row] for row in workbook["Service areas"].iter_rows()] == [
        ["Service area", "Head of service", "Email"], ["Finance", None, None], ["Legal", None, None],
        ["Housing", None, None]]
    assert workbook["Characteristics"]["D2"].comment.text == "Check with Finance"
    assert [a.name for a in load_framework(older.workbook).service_areas] == ["Finance", "Legal", "Housing"]
    assert ensure_service_areas(older) is None  # once


def test_a_command_that_needs_it_adds_it_once_and_says_so(older):
    result = CliRunner().invoke(cli, ["check", str(older.folder)])
    assert ("note: assessment.xlsx: this assessment was made before service areas were kept, so a 'Service areas' "
            "sheet was added with the 3 service areas named on 'Reviewers' (Finance, Legal, Housing); nothing else in "
            "the workbook was changed, and a copy of it as it was is in .bva/backups/assessment (before service "
            "areas ") in result.output
    again = CliRunner().invoke(cli, ["check", str(older.folder)])
    assert "Service areas" not in again.output


def test_an_open_workbook_is_left_alone(older):
    lock = older.workbook.with_name("~$assessment.xlsx")
    lock.write_bytes(b"\x05Jo Bo")
    before = older.workbook.read_bytes()
    result = CliRunner().invoke(cli, ["check", str(older.folder)])
    assert ("error: assessment.xlsx: the workbook is open (its lock file ~$assessment.xlsx is beside it), so the "
            "'Service areas' sheet this command needs could not be added. Close it and run the command again.") \
        in result.output
    assert older.workbook.read_bytes() == before


def test_the_sheet_is_read_with_the_framework_and_checked(tmp_path):
    path = tmp_path / "f.xlsx"
    write_framework_workbook(path, SCALE, CHARACTERISTICS, REVIEWERS, ["# Guide"],
                             [["Finance", "Fay Green", "fay@example.gov.uk"], ["", "Nobody", ""],
                              [" finance ", "", ""]])
    with pytest.raises(FrameworkError) as refused:
        load_framework(path)
    assert [str(p) for p in refused.value.problems] == [
        "f.xlsx, sheet 'Service areas', cell A3: this service area row has a head of service or email but no "
        "'Service area'. Type the service area's name, or clear the row.",
        "f.xlsx, sheet 'Service areas', cell A4: service area 'finance' is listed twice (also at A2). List each "
        "service area once."]
    framework = load_framework(make_framework(tmp_path / "g.xlsx"))
    assert framework.service_areas == ()


def test_generate_progress_on_an_older_assessment_says_the_sheet_was_added_and_each_unknown_area_once(flagged):
    from progress_helpers import type_plan

    assessment, report = flagged
    workbook = openpyxl.load_workbook(assessment.workbook)
    del workbook["Service areas"]  # as made before the sheet existed
    workbook.save(assessment.workbook)
    type_plan(report, {"ACT-CI001": {"Action": "Plan", "Service area": "Human Resources"},
                       "ACT-G001": {"Action": "Train", "Service area": "human resources"}},
              [("ACT-CI001", {"Action": "Review", "Service area": "Human Resources"})])
    result = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert sum("a 'Service areas' sheet was added" in line for line in lines) == 1, result.output
    unknown = [line for line in lines if "not on the 'Service areas' sheet" in line]
    assert unknown == [
        "error: report.xlsx, sheet 'Action plan', cells I2, I3, I4: 3 actions (ACT-CI001, ACT-CI001-2 and ACT-G001) "
        "are for service area 'Human Resources', which is not on the 'Service areas' sheet of assessment.xlsx. "
        f"Correct it on the Action plan, or add 'Human Resources' to 'Service areas' (listed now: "
        f"{', '.join(a.name for a in load_framework(assessment.workbook).service_areas)})."]


def test_two_reviewers_in_one_service_area_give_it_one_row_and_later_commands_still_run(tmp_path):
    """An older assessment where reviewers share a service area (typed alike, and in another case and spacing)."""
    sharing = REVIEWERS + [["R04", "Dee Ray", "dee@example.gov.uk", "Finance"],
                           ["R05", "Eve Marsh", "eve@example.gov.uk", "  FINANCE "]]
    framework = tmp_path / "old.xlsx"
    write_framework_workbook(framework, SCALE, CHARACTERISTICS, sharing, ["# Guide"], None)
    assessment = create_assessment(tmp_path / "BV 2025", framework, "Older")
    first = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    assert first.exit_code == 0, first.output
    assert "'Service areas' sheet was added with the 3 service areas named on 'Reviewers' (Finance, Legal, " \
           "Housing)" in first.output
    sheet = openpyxl.load_workbook(assessment.workbook)["Service areas"]
    assert [row for row in sheet.iter_rows(values_only=True)] == [
        ("Service area", "Head of service", "Email"), ("Finance", None, None), ("Legal", None, None),
        ("Housing", None, None)]
    again = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    assert again.exit_code == 0, again.output
    assert "listed twice" not in again.output


def rewritten(path, change) -> None:
    """Rewrite the workbook's parts in place: `change(name, data)` gives a part's new bytes, or None to leave it out."""
    with zipfile.ZipFile(path) as source:
        kept = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in kept:
            data = change(info.filename, data)
            if data is not None:
                target.writestr(info, data)


def as_strict(name: str, data: bytes) -> bytes:
    """A part as Excel writes it when saving as 'Strict Open XML Spreadsheet'."""
    return (data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                         b"http://purl.oclc.org/ooxml/spreadsheetml/main")
            .replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                     b"http://purl.oclc.org/ooxml/officeDocument/relationships"))


@pytest.mark.parametrize("change, reason", [
    (as_strict, "it is saved as Strict Open XML"),
    (lambda name, data: None if name == "[Content_Types].xml" else data, "it has no [Content_Types].xml")])
def test_a_workbook_this_cannot_edit_safely_is_left_alone_and_the_sheet_is_asked_for_by_hand(older, change, reason):
    rewritten(older.workbook, change)
    assert load_framework(older.workbook).service_areas is None  # still read: only editing it is not safe
    before = older.workbook.read_bytes()
    result = CliRunner().invoke(cli, ["check", str(older.folder)])
    assert result.output.splitlines()[:2] == [
        f"error: assessment.xlsx: a 'Service areas' sheet could not be added to it safely: {reason}. Add a sheet "
        "called 'Service areas' by hand, with the headers 'Service area', 'Head of service' and 'Email' in row 1, "
        "and run the command again.",
        "  note: service areas are not checked this time."]
    assert older.workbook.read_bytes() == before
    assert not list(older.records_dir.glob("backups/*"))  # no copy kept: nothing was changed


def test_a_workbook_replaced_while_the_sheet_is_added_by_something_that_is_no_workbook_is_left_alone(older):
    """A synced folder can swap the file between the moment it is read and the moment it is edited."""
    framework = load_framework(older.workbook)
    older.workbook.write_bytes(b"not a workbook any more")
    with pytest.raises(BvaError) as refused:
        ensure_service_areas(older, framework=framework)  # as read a moment before
    assert str(refused.value) == (
        "assessment.xlsx: a 'Service areas' sheet could not be added to it safely: it cannot be opened as a zip "
        "(File is not a zip file). Add a sheet called 'Service areas' by hand, with the headers 'Service area', "
        "'Head of service' and 'Email' in row 1, and run the command again.")
    assert older.workbook.read_bytes() == b"not a workbook any more"


def test_the_added_sheet_is_one_excel_reads_without_repairing_it(older):
    """Sheet IDs unique; cells named in capitals in the order of their row; the columns wide enough to read; the
    header row frozen; nothing but cells in a row and column settings in the columns."""
    from xml.etree import ElementTree

    ensure_service_areas(older)
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    relationship = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(older.workbook) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        sheets = {s.get("name"): (s.get("sheetId"), s.get(relationship)) for s in workbook.iter(f"{main}sheet")}
        ids = [sheet_id for sheet_id, _ in sheets.values()]
        assert len(set(ids)) == len(ids) == 6
        target = next(r.get("Target") for r in rels if r.get("Id") == sheets["Service areas"][1])
        added = ElementTree.fromstring(archive.read(f"xl/{target}"))
    for element in added.iter():
        if element.tag != f"{main}t":
            assert not (element.text or "").strip() and not (element.tail or "").strip(), element.tag
    assert [c.get("r") for c in added.iter(f"{main}c")] == ["A1", "B1", "C1", "A2", "A3", "A4"]
    sheet = openpyxl.load_workbook(older.workbook)["Service areas"]
    assert [sheet.column_dimensions[col].width for col in "ABC"] == [30, 30, 34]
    assert sheet.freeze_panes == "A2"


def test_a_workbook_written_with_other_prefixes_gets_its_sheet_under_the_same_prefixes(older):
    """Some programs name the spreadsheet namespace 'x:' and the relationships namespace otherwise than 'r:'."""
    def prefixed(name: str, data: bytes) -> bytes:
        if name != "xl/workbook.xml":
            return data
        text = data.decode("utf-8").replace('xmlns:r="', 'xmlns:rel="').replace(" r:id=", " rel:id=")
        text = text.replace('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                            'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
        return re.sub(r"<(/?)(?!\?)(\w+)", r"<\1x:\2", text).encode("utf-8")

    rewritten(older.workbook, prefixed)
    assert "<x:sheets>" in zipfile.ZipFile(older.workbook).read("xl/workbook.xml").decode("utf-8")
    ensure_service_areas(older)
    assert [a.name for a in load_framework(older.workbook).service_areas] == ["Finance", "Legal", "Housing"]
    workbook = openpyxl.load_workbook(older.workbook)
    assert workbook.sheetnames[-1] == "Service areas"
    assert workbook["Service areas"]["A2"].value == "Finance"
