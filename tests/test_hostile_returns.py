"""Returns from the wild: every broken, doctored or hostile file gets its own code, and the good
return beside it is still ingested. Every file here is made by the test itself."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import answer, current

from bva_excel.app.ingest import ingest
from bva_excel.app.issue import generate
from bva_excel.app.new import create_assessment
from bva_excel.errors import ERROR, AssessmentError
from bva_excel.model.identity import IDENTITY_SHEET

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def refs_of(generation, reviewer_id):
    return [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


def filled(generation, reviewer_id, target: Path, rating="Light green") -> Path:
    return answer(generation.files[reviewer_id], target,
                  {ref: (rating, f"{reviewer_id} on {ref}", "") for ref in refs_of(generation, reviewer_id)})


def edit(path: Path, change) -> Path:
    workbook = openpyxl.load_workbook(path)
    change(workbook)
    workbook.save(path)
    return path


def rezip(source: Path, target: Path, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
          compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", compression) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, (replace or {}).get(item.filename, zin.read(item.filename)))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return target


def _pdf(g, p):
    p.write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\n")


def _png(g, p):
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))


def _empty(g, p):
    p.write_bytes(b"")


def _truncated(g, p):
    data = filled(g, "R02", p.with_name("whole.tmp")).read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _legacy_xls(g, p):
    p.write_bytes(OLE + bytes(504) + "Workbook".encode("utf-16-le") + bytes(1000))


def _csv(g, p):
    p.write_text("Ref,Theme,Characteristic,Score\nCI001,Continuous improvement,Services improve,Amber\n")


def _ods_pretender(g, p):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    p.write_bytes(buffer.getvalue())


def _plain_zip(g, p):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("minutes.txt", "Minutes of the panel")
    p.write_bytes(buffer.getvalue())


def _xlsb(g, p):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    p.write_bytes(buffer.getvalue())


def _encrypted(g, p):
    from msoffcrypto.format.ooxml import OOXMLFile

    source = filled(g, "R02", p.with_name("plain.tmp"))
    with open(source, "rb") as handle, open(p, "wb") as out:
        OOXMLFile(handle).encrypt("Passw0rd!", out)


def _zip_bomb(g, p):
    source = filled(g, "R02", p.with_name("plain.tmp"))
    rezip(source, p, add={"xl/worksheets/sheet9.xml": b"\0" * (20 * 1024 * 1024)})


def _entity_bomb(g, p):
    source = filled(g, "R02", p.with_name("plain.tmp"))
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
              + ']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
                '<si><t>&lol9;</t></si></sst>')
    rezip(source, p, replace={"docProps/core.xml": laughs.encode()})


def _other_assessment(g, p, tmp_path, framework_file):
    other = create_assessment(tmp_path / "other", framework_file)
    shutil.copyfile(generate(other).files["R02"], p)


def _blank_template(g, p, tmp_path, framework_file):
    shutil.copyfile(framework_file, p)


def _identity_edited(g, p):
    def change(workbook):
        for row in workbook[IDENTITY_SHEET].iter_rows():
            if row[0].value == "reviewer_id":
                row[1].value = "R03"
    edit(filled(g, "R02", p), change)


def _identity_borrowed(g, p):
    """R02 pastes R03's (valid, signed) identity into their own workbook to score as R03."""
    donor = openpyxl.load_workbook(g.files["R03"])[IDENTITY_SHEET]
    rows = [[c.value for c in row] for row in donor.iter_rows()]

    def change(workbook):
        sheet = workbook[IDENTITY_SHEET]
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                sheet.cell(r, c, value)
    edit(filled(g, "R02", p), change)


def _ref_added(g, p):
    edit(filled(g, "R02", p), lambda w: w["Review"].append(["L001", "", "", "", "", "Dark green"]))


def _row_duplicated(g, p):
    def change(workbook):
        sheet = workbook["Review"]
        sheet.append([c.value for c in sheet[2]])
    edit(filled(g, "R02", p), change)


def _column_renamed(g, p):
    edit(filled(g, "R02", p), lambda w: w["Review"].cell(1, 7, "Comments"))


def _number_for_rating(g, p):
    edit(filled(g, "R02", p), lambda w: w["Review"].cell(2, 6, 4))


def _typo(g, p):
    edit(filled(g, "R02", p), lambda w: w["Review"].cell(2, 6, "Ambr"))


def _date_for_rating(g, p):
    import datetime as dt

    edit(filled(g, "R02", p), lambda w: w["Review"].cell(2, 6, dt.date(2026, 12, 1)))


def _too_long(g, p):
    path = filled(g, "R02", p.with_name("short.tmp"))
    # Excel cannot type more than 32,767 characters into a cell; a program can write more.
    marker = f"R02 on {refs_of(g, 'R02')[0]}"
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")}
    rezip(path, p, replace={name: data.replace(marker.encode(), b"x" * 40_000, 1) for name, data in parts.items()})


# Each case: (file name, builder, the error code the file must get).
REJECTED = [
    ("scan.xlsx", _pdf, "RETURN_NOT_A_WORKBOOK"),
    ("photo.xlsx", _png, "RETURN_NOT_A_WORKBOOK"),
    ("empty.xlsx", _empty, "RETURN_EMPTY"),
    ("RE_ BV return (3).xlsx", _truncated, "RETURN_TRUNCATED"),
    ("old format.xls", _legacy_xls, "RETURN_LEGACY_XLS"),
    ("export.csv", _csv, "RETURN_CSV"),
    ("not really.xlsx", _ods_pretender, "RETURN_NOT_A_WORKBOOK"),
    ("just a zip.xlsx", _plain_zip, "RETURN_NOT_A_WORKBOOK"),
    ("binary.xlsb", _xlsb, "RETURN_XLSB"),
    ("locked.xlsx", _encrypted, "RETURN_ENCRYPTED"),
    ("tiny.xlsx", _zip_bomb, "RETURN_BOMB"),
    ("laughs.xlsx", _entity_bomb, "RETURN_UNSAFE_XML"),
    ("other exercise.xlsx", _other_assessment, "RETURN_OTHER_ASSESSMENT"),
    ("template.xlsx", _blank_template, "RETURN_NOT_ISSUED"),
    ("posing.xlsx", _identity_edited, "RETURN_TAMPERED"),
    ("borrowed identity.xlsx", _identity_borrowed, "RETURN_REF_NOT_ISSUED"),
    ("extra ref.xlsx", _ref_added, "RETURN_REF_NOT_ISSUED"),
    ("duplicated row.xlsx", _row_duplicated, "RETURN_DUPLICATE_ROW"),
    ("renamed column.xlsx", _column_renamed, "HEADER_MISSING"),
    ("number.xlsx", _number_for_rating, "SCORE_INVALID"),
    ("typo.xlsx", _typo, "SCORE_INVALID"),
    ("date.xlsx", _date_for_rating, "SCORE_INVALID"),
    ("too long.xlsx", _too_long, "RETURN_TEXT_TOO_LONG"),
]


@pytest.mark.parametrize("name, build, code", REJECTED, ids=[case[2] + ":" + case[0] for case in REJECTED])
def test_a_bad_return_gets_its_code_and_the_good_one_beside_it_is_ingested(
        generated, tmp_path, framework_file, name, build, code):
    assessment, generation = generated
    good = filled(generation, "R01", assessment.inbox / "good.xlsx")
    bad = assessment.inbox / name
    if build in (_other_assessment, _blank_template):
        build(generation, bad, tmp_path, framework_file)
    else:
        build(generation, bad)
    for leftover in assessment.inbox.glob("*.tmp"):
        leftover.unlink()
    before = bad.read_bytes()
    report = ingest(assessment)
    outcomes = {o.name: o for o in report.outcomes}
    assert outcomes[good.name].status == "accepted"
    assert code in [p.code for p in outcomes[name].problems if p.severity == ERROR], [
        str(p) for p in outcomes[name].problems]
    assert outcomes[name].has_errors and not report.valid
    assert set(current(assessment)) == {"R01"}
    assert bad.read_bytes() == before  # never written to
    for problem in outcomes[name].problems:
        assert problem.file == name and str(problem).startswith(name)


@pytest.mark.parametrize("build, what", [(_pdf, "a PDF document"), (_ods_pretender, "a Word document"),
                                         (_plain_zip, "a zip archive (of other files)")])
def test_what_a_file_is_instead_of_a_workbook_is_said_once(generated, build, what):
    assessment, generation = generated
    build(generation, assessment.inbox / "sent.xlsx")
    [outcome] = ingest(assessment).outcomes
    said = str(outcome.problems[0])
    assert said.startswith(f"sent.xlsx: this is {what}, not an Excel workbook, whatever its name says.")
    assert len(re.findall(r"\bnot an?\b", said)) == 1  # what it is not, said once


def test_an_edited_position_statement_is_a_warning_and_the_scores_are_kept(generated):
    assessment, generation = generated
    path = filled(generation, "R02", assessment.inbox / "suggested wording.xlsx")
    edit(path, lambda w: w["Review"].cell(2, 4, "Better wording, suggested by the reviewer."))
    [outcome] = ingest(assessment).outcomes
    assert outcome.status == "accepted"
    assert [(p.code, p.cell) for p in outcome.problems] == [("RETURN_CONTENT_CHANGED", "D2")]
    assert (f"the position statement of {refs_of(generation, 'R02')[0]} differs from the text issued; the scores "
            "are kept") in str(outcome.problems[0])
    assert current(assessment)["R02"][0].answered == len(refs_of(generation, "R02"))


def test_rows_deleted_and_reordered_are_read_by_ref(generated):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = filled(generation, "R01", assessment.inbox / "reordered.xlsx", rating="Amber")

    def change(workbook):
        sheet = workbook["Review"]
        rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
        sheet.delete_rows(2, len(rows))
        for row in reversed(rows[1:]):  # first row deleted, the rest reversed
            sheet.append(row)
    edit(path, change)
    [outcome] = ingest(assessment).outcomes
    assert outcome.status == "accepted"
    assert [(p.code, p.fields["ref"]) for p in outcome.problems] == [("RETURN_REF_MISSING", refs[0])]
    responses = current(assessment)["R01"][1]
    assert sorted(r.ref for r in responses) == sorted(refs[1:])
    assert all(r.rating == "Amber" for r in responses)


def test_macros_are_never_run_and_the_scores_are_read(generated):
    assessment, generation = generated
    source = filled(generation, "R03", assessment.inbox.parent / "plain.xlsx", rating="Yellow")
    rezip(source, assessment.inbox / "with macros.xlsm", add={"xl/vbaProject.bin": b"Attribute VB_Name = \"Evil\""})
    [outcome] = ingest(assessment).outcomes
    assert outcome.status == "accepted"
    assert [p.code for p in outcome.problems] == ["RETURN_MACROS"]


def test_a_formula_is_kept_as_the_text_typed_never_evaluated(generated):
    assessment, generation = generated
    path = filled(generation, "R03", assessment.inbox / "formula.xlsx")
    edit(path, lambda w: w["Review"].cell(2, 7, "=HYPERLINK(\"http://evil.example\",\"click\")"))
    [outcome] = ingest(assessment).outcomes
    assert outcome.status == "accepted"
    assert [(p.code, p.cell) for p in outcome.problems] == [("RETURN_FORMULA", "G2")]
    first = current(assessment)["R03"][1][0]
    assert first.commentary == '=HYPERLINK("http://evil.example","click")'


def test_a_return_from_a_reviewer_removed_since(generated):
    assessment, generation = generated
    filled(generation, "R03", assessment.inbox / "r03.xlsx")
    filled(generation, "R01", assessment.inbox / "r01.xlsx")
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Reviewers"]
    sheet.delete_rows(next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "R03"))
    characteristics = workbook["Characteristics"]
    for row in characteristics.iter_rows(min_row=2):
        if row[6].value:
            row[6].value = "R01"
        if row[5].value == "R03":
            row[5].value = None
    workbook.save(assessment.workbook)
    outcomes = {o.name: o for o in ingest(assessment).outcomes}
    assert outcomes["r01.xlsx"].status == "accepted"
    assert [p.code for p in outcomes["r03.xlsx"].problems] == ["RETURN_REVIEWER_REMOVED"]
    assert str(outcomes["r03.xlsx"].problems[0]).startswith("r03.xlsx: ")


def test_a_second_command_on_the_same_folder_is_refused_and_says_who_holds_it(generated):
    assessment, generation = generated
    filled(generation, "R01", assessment.inbox / "r01.xlsx")
    with assessment.locked("report"):
        with pytest.raises(AssessmentError) as caught:
            ingest(assessment)
    message = str(caught.value)
    assert caught.value.problems[0].code == "ASSESSMENT_BUSY"
    assert "another bva command is working on this assessment (bva report, run by" in message
    assert assessment.records.returns() == []
    assert [o.status for o in ingest(assessment).outcomes] == ["accepted"]  # the lock is released


def test_a_lock_left_by_a_command_that_died_does_not_block(generated):
    """The lock is the operating system's: a process that dies releases it, whatever files it left."""
    import json

    assessment, generation = generated
    (assessment.records_dir / "lock").write_text("")
    (assessment.records_dir / "lock-holder.json").write_text(json.dumps(
        {"command": "bva ingest", "pid": 2 ** 22 + 12345, "host": "another-pc", "since": "earlier"}))
    filled(generation, "R01", assessment.inbox / "r01.xlsx")
    assert [o.status for o in ingest(assessment).outcomes] == ["accepted"]


def test_a_date_typed_as_commentary_is_kept_as_the_date_shown(generated):
    import datetime as dt

    assessment, generation = generated
    path = filled(generation, "R03", assessment.inbox / "dated.xlsx")
    edit(path, lambda w: w["Review"].cell(2, 7, dt.datetime(2026, 12, 1)))
    [outcome] = ingest(assessment).outcomes
    assert outcome.status == "accepted"
    first = current(assessment)["R03"][1][0]
    assert first.commentary == "2026-12-01"


def test_a_duplicated_row_and_a_typo_below_it_are_both_said_so_one_resend_fixes_both(generated):
    assessment, generation = generated
    path = filled(generation, "R02", assessment.inbox / "two faults.xlsx")

    def change(workbook):
        sheet = workbook["Review"]
        copied = [c.value for c in sheet[2]]
        sheet.insert_rows(3)
        for column, value in enumerate(copied, start=1):
            sheet.cell(3, column, value)
        sheet.cell(sheet.max_row, 6, "Ambr")

    edit(path, change)
    [outcome] = ingest(assessment).outcomes
    assert outcome.has_errors
    assert [(p.code, p.cell) for p in outcome.problems] == [
        ("RETURN_DUPLICATE_ROW", "A3"), ("SCORE_INVALID", f"F{len(refs_of(generation, 'R02')) + 2}")]


def test_a_return_whose_ref_header_was_renamed_is_refused_naming_the_header(generated):
    assessment, generation = generated
    path = filled(generation, "R02", assessment.inbox / "renamed ref.xlsx")
    edit(path, lambda w: w["Review"].cell(1, 1, "Reference"))
    [outcome] = ingest(assessment).outcomes
    assert outcome.has_errors
    assert [str(p) for p in outcome.problems if p.code == "HEADER_MISSING"][0].startswith(
        "renamed ref.xlsx, sheet 'Review': header 'Ref' is missing from row 1")


def test_a_formula_in_a_return_with_macros_is_kept_as_text_and_named(generated):
    assessment, generation = generated
    source = filled(generation, "R03", assessment.inbox.parent / "plain.xlsx")
    edit(source, lambda w: w["Review"].cell(2, 7, '=CONCAT("Partly ","in place")'))
    rezip(source, assessment.inbox / "with macros.xlsm", add={"xl/vbaProject.bin": b"Attribute VB_Name = \"Evil\""})
    [outcome] = ingest(assessment).outcomes
    assert outcome.status == "accepted"
    assert sorted((p.code, p.cell) for p in outcome.problems) == [("RETURN_FORMULA", "G2"), ("RETURN_MACROS", "")]
    assert current(assessment)["R03"][1][0].commentary == '=CONCAT("Partly ","in place")'
