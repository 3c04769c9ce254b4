"""Reading one return: by header name and ref, every problem with its file, sheet and cell."""

import openpyxl
import pytest
from conftest import answer

from bva_excel.app.issue import generate
from bva_excel.app.new import create_assessment
from bva_excel.excel.read.framework import load_framework
from bva_excel.excel.read.returns import parse_rating, read_return
from bva_excel.model.identity import IDENTITY_SHEET


def read(assessment, path):
    return read_return(path, load_framework(assessment.workbook), assessment.assessment_id, assessment.secret(),
                       {i.issue_id: i for i in assessment.records.issues()})


def refs_of(generation, reviewer_id):
    return [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


@pytest.mark.parametrize("typed, expected", [
    (" light GREEN ", "Light green"), ("AMBER", "Amber"), ("Dark  green", "Dark green"), ("grey", "Grey"),
    ("", ""), (None, ""), ("   ", "")])
def test_ratings_are_accepted_in_any_case_and_spacing(framework_file, typed, expected):
    from bva_excel.excel.read.framework import load_framework

    assert parse_rating(load_framework(framework_file).scale, typed) == (expected, "")


def test_a_filled_return_gives_every_answer_with_its_cell(generated, tmp_path):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = answer(generation.files["R01"], tmp_path / "r.xlsx",
                  {refs[0]: (" light GREEN ", "Good.\nSecond line", "None"), refs[1]: ("", "Cannot judge", "")})
    reading = read(assessment, path)
    assert reading.accepted and reading.problems == []
    assert reading.answered == 1
    by_ref = {r.ref: r for r in reading.responses}
    assert list(by_ref) == refs  # every issued row, answered or not
    first, second = by_ref[refs[0]], by_ref[refs[1]]
    assert (first.ref, first.rating, first.commentary, first.gaps, first.cell) == (
        refs[0], "Light green", "Good.\nSecond line", "None", "F2")
    assert (second.rating, second.commentary) == ("", "Cannot judge")  # blank is not answered, never zero


def test_an_invalid_score_names_file_sheet_cell_and_suggests(generated, tmp_path):
    assessment, generation = generated
    refs = refs_of(generation, "R02")
    path = answer(generation.files["R02"], tmp_path / "RE_ BV return (2).xlsx", {refs[-1]: ("Ambr",)})
    reading = read(assessment, path)
    assert not reading.accepted
    [problem] = reading.problems
    assert problem.code == "SCORE_INVALID"
    assert str(problem) == (f"RE_ BV return (2).xlsx, sheet 'Review', cell F{len(refs) + 1}: 'Ambr' is not a "
                            "rating on the scale (did you mean 'Amber'?). Choose one of: Dark green, Light green, "
                            "Yellow, Amber, Red, Grey.")


@pytest.mark.parametrize("typed, hint", [
    (4, " (a number is not a rating: did you mean 'Light green', whose value is 4?)"),
    (7, ""),  # no rating has the value 7: nothing to suggest
])
def test_a_number_instead_of_a_rating_is_explained(generated, tmp_path, typed, hint):
    assessment, generation = generated
    path = answer(generation.files["R03"], tmp_path / "r.xlsx", {})
    workbook = openpyxl.load_workbook(path)
    workbook["Review"]["F2"] = typed
    workbook.save(path)
    reading = read(assessment, path)
    assert [str(p) for p in reading.problems] == [
        f"r.xlsx, sheet 'Review', cell F2: '{typed}' is not a rating on the scale{hint}. "
        "Choose one of: Dark green, Light green, Yellow, Amber, Red, Grey."]
    assert not reading.accepted


def test_columns_are_matched_by_header_not_position(generated, tmp_path):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = answer(generation.files["R01"], tmp_path / "r.xlsx", {refs[0]: ("Yellow", "Moved", "")})
    workbook = openpyxl.load_workbook(path)
    workbook["Review"].insert_cols(1)
    workbook.save(path)
    reading = read(assessment, path)
    assert reading.accepted
    assert (reading.responses[0].rating, reading.responses[0].cell) == ("Yellow", "G2")
    assert [p.code for p in reading.problems] == []


def test_an_edited_identity_is_refused(generated, tmp_path):
    assessment, generation = generated
    path = answer(generation.files["R01"], tmp_path / "r.xlsx", {})
    workbook = openpyxl.load_workbook(path)
    hidden = workbook[IDENTITY_SHEET]
    for row in hidden.iter_rows():
        if row[0].value == "reviewer_id":
            row[1].value = "R02"
    workbook.save(path)
    reading = read(assessment, path)
    assert [p.code for p in reading.problems] == ["RETURN_TAMPERED"]
    assert not reading.accepted


def test_a_workbook_from_another_assessment_is_refused(generated, tmp_path, framework_file):
    assessment, _ = generated
    other = create_assessment(tmp_path / "other", framework_file)
    other_file = generate(other).files["R01"]
    [problem] = read(assessment, other_file).problems
    assert problem.code == "RETURN_OTHER_ASSESSMENT"
    assert other.assessment_id in str(problem) and assessment.assessment_id in str(problem)


def test_the_template_is_not_a_return(generated, framework_file):
    assessment, _ = generated
    [problem] = read(assessment, framework_file).problems
    assert problem.code == "RETURN_NOT_ISSUED"


def test_a_ref_added_or_duplicated_is_an_error(generated, tmp_path):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = answer(generation.files["R01"], tmp_path / "r.xlsx", {})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Review"]
    sheet.append(["SD001", "", "", "", "", "Amber"])  # not issued to R01 (R01 has no SD001)
    sheet.append([refs[0], "", "", "", "", "Amber"])
    workbook.save(path)
    last = len(refs) + 3
    assert "SD001" not in refs
    assert [str(p) for p in read(assessment, path).problems] == [
        f"r.xlsx, sheet 'Review', cell A{last - 1}: ref SD001 was not issued to this reviewer. Ask the reviewer to "
        "score only the characteristics they were sent.",
        f"r.xlsx, sheet 'Review', cell A{last}: ref {refs[0]} appears twice (also at row 2). Ask the reviewer to keep "
        "one row per characteristic."]


def test_a_note_typed_between_the_rows_is_not_a_characteristic_and_the_rows_after_it_are_read(generated, tmp_path):
    assessment, generation = generated
    reviewer = next(r for r in sorted(generation.files) if len(refs_of(generation, r)) >= 3)
    refs = refs_of(generation, reviewer)
    path = answer(generation.files[reviewer], tmp_path / "r.xlsx", {ref: ("Yellow", "Seen.", "Gap.") for ref in refs})
    workbook = openpyxl.load_workbook(path)
    workbook["Review"].insert_rows(3)
    workbook["Review"]["G3"] = "Note to the PMO: the next two were hard to judge."
    workbook.save(path)
    reading = read(assessment, path)
    assert reading.accepted and [(p.code, p.cell) for p in reading.problems] == [("RETURN_ROW_NOT_READ", "G3")]
    assert [(n.cell, n.text) for n in reading.notes] == [("G3", "Note to the PMO: the next two were hard to judge.")]
    assert [(r.ref, r.rating, r.cell) for r in reading.responses] == [
        (refs[0], "Yellow", "F2"), (refs[1], "Yellow", "F4"), (refs[2], "Yellow", "F5")]


def test_a_row_deleted_from_a_return_is_said_and_counts_as_not_answered(generated, tmp_path):
    assessment, generation = generated
    reviewer = next(r for r in sorted(generation.files) if len(refs_of(generation, r)) >= 3)
    refs = refs_of(generation, reviewer)
    path = answer(generation.files[reviewer], tmp_path / "r.xlsx", {ref: ("Yellow", "Seen.", "Gap.") for ref in refs})
    workbook = openpyxl.load_workbook(path)
    workbook["Review"].delete_rows(3)
    workbook.save(path)
    reading = read(assessment, path)
    assert reading.accepted
    assert [str(p) for p in reading.problems] == [
        f"r.xlsx, sheet 'Review': ref {refs[1]} was issued but its row is missing. It counts as not answered; ask "
        "the reviewer if that was meant."]
    assert [r.ref for r in reading.responses] == [refs[0], refs[2]]


def test_an_unreadable_file_is_a_clear_error(generated, tmp_path):
    assessment, _ = generated
    path = tmp_path / "scan.xlsx"
    path.write_bytes(b"%PDF-1.4 not a workbook")
    [problem] = read(assessment, path).problems
    assert problem.code == "RETURN_NOT_A_WORKBOOK" and problem.file == "scan.xlsx"
    assert str(problem) == ("scan.xlsx: this is a PDF document, not an Excel workbook, whatever its name says. "
                            "Ask the reviewer to send the .xlsx workbook they were issued.")


def with_formulas(path, formulas: dict[str, tuple[str, str]], sheet: str = "Review"):
    """Type formulas into `sheet` (cell -> (formula, the value Excel would show, '' for none)),
    as a reviewer's spreadsheet program saves them: the formula, and its cached value when it has one."""
    import re
    import zipfile
    from xml.sax.saxutils import escape

    workbook = openpyxl.load_workbook(path)
    for cell, (formula, _) in formulas.items():
        workbook[sheet][cell] = formula
    workbook.save(path)
    with zipfile.ZipFile(path) as source:
        parts = [(item, source.read(item)) for item in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item, data in parts:
            for cell, (_, shown) in formulas.items():
                if shown:
                    data = re.sub(rb'(<c r="' + cell.encode() + rb'"[^>]*?)( t="[^"]*")?>(<f>.*?</f>)<v ?/>',
                                  lambda m, shown=shown: m.group(1) + b' t="str">' + m.group(3) + b"<v>"
                                  + escape(shown).encode() + b"</v>", data)
            target.writestr(item, data)
    return path


def test_a_formula_is_kept_as_what_the_reviewer_saw_and_said_where(generated, tmp_path):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = answer(generation.files["R01"], tmp_path / "r.xlsx", {ref: ("Amber", "Weak.", "Gap.") for ref in refs})
    long_formula = '=CONCATENATE("A very long formula that goes on and on, ", "past sixty characters")'
    with_formulas(path, {"G2": ('=CONCAT("Strong ","evidence")', "Strong evidence"),  # shown: that is kept
                         "H2": (long_formula, "A very long formula that goes on and on, past sixty characters"),
                         "F3": ('=IF(TRUE,"Amber")', ""),  # nothing shown (a program wrote it): the formula is kept
                         "I2": ("=1+1", "2")})  # outside the table: not read, but named and kept as shown
    reading = read(assessment, path)
    assert [str(p) for p in reading.problems] == [
        "r.xlsx, sheet 'Review', cell I2: column I is not one the workbook was issued with, so bva does not read it: "
        "I2 '2'; it is kept on the report's 'Notes from returns' sheet. Nothing to do if these are notes; an answer "
        "belongs in the workbook's own columns.",
        "r.xlsx, sheet 'Review', cell G2: the cell holds a formula (=CONCAT(\"Strong \",\"evidence\")); it was not "
        "run, and its shown value 'Strong evidence' was kept as text. Check the text in the report; ask the "
        "reviewer to type plain text next time.",
        "r.xlsx, sheet 'Review', cell H2: the cell holds a formula (=CONCATENATE(\"A very long formula that goes on "
        "and on, \", \"p); it was not run, and its shown value 'A very long formula that goes on and on,' was "
        "kept as text. Check the text in the report; ask the reviewer to type plain text next time.",
        "r.xlsx, sheet 'Review', cell F3: the cell holds a formula (=IF(TRUE,\"Amber\")); it was not run, and the "
        "formula itself was kept as text. Check the text in the report; ask the reviewer to type plain text next "
        "time.",
        "r.xlsx, sheet 'Review', cell F3: '=IF(TRUE,\"Amber\")' is not a rating on the scale. Choose one of: Dark "
        "green, Light green, Yellow, Amber, Red, Grey."]
    assert not reading.accepted


def test_a_formula_in_a_heading_does_not_hide_the_formulas_below_it(generated, tmp_path):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = answer(generation.files["R01"], tmp_path / "r.xlsx", {ref: ("Amber", "Weak.", "Gap.") for ref in refs})
    with_formulas(path, {"G1": ('="Commentary"', "Commentary"), "G2": ('=CONCAT("Strong ","evidence")', "")})
    reading = read(assessment, path)
    assert [str(p) for p in reading.problems] == [
        "r.xlsx, sheet 'Review', cell G2: the cell holds a formula (=CONCAT(\"Strong \",\"evidence\")); it was not "
        "run, and the formula itself was kept as text. Check the text in the report; ask the reviewer to type plain "
        "text next time."]
    assert {r.ref: r.commentary for r in reading.responses}[refs[0]] == '=CONCAT("Strong ","evidence")'


def test_a_formula_that_shows_a_rating_counts_as_that_rating(generated, tmp_path):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = answer(generation.files["R01"], tmp_path / "r.xlsx", {ref: ("Amber", "Weak.", "Gap.") for ref in refs})
    with_formulas(path, {"F2": ('=IF(TRUE,"Yellow")', "Yellow"), "G3": ("=A3", refs[1])})
    reading = read(assessment, path)
    assert reading.accepted
    assert [p.code for p in reading.problems] == ["RETURN_FORMULA", "RETURN_FORMULA"]
    by_ref = {r.ref: (r.rating, r.commentary) for r in reading.responses}
    expected = {ref: ("Amber", "Weak.") for ref in refs} | {refs[0]: ("Yellow", "Weak."), refs[1]: ("Amber", refs[1])}
    assert by_ref == expected


def test_a_workbook_issued_before_its_text_was_kept_is_read_without_comparing_it(generated, tmp_path):
    """Issues recorded by an earlier version (records moved from JSON) may hold no issued text."""
    import dataclasses

    assessment, generation = generated
    refs = refs_of(generation, "R01")
    path = answer(generation.files["R01"], tmp_path / "r.xlsx", {ref: ("Yellow", "Seen.", "Gap.") for ref in refs})
    issues = {i.issue_id: dataclasses.replace(i, texts={}) for i in assessment.records.issues()}
    reading = read_return(path, load_framework(assessment.workbook), assessment.assessment_id, assessment.secret(), issues)
    assert reading.accepted and reading.problems == []
    assert [r.rating for r in reading.responses] == ["Yellow"] * len(refs)


def test_a_return_is_judged_by_the_bytes_read_and_hashed_even_if_the_file_is_emptied_meanwhile(generated, tmp_path):
    assessment, generation = generated
    ref = refs_of(generation, "R01")[0]
    path = answer(generation.files["R01"], tmp_path / "r01.xlsx", {ref: ("Amber", "Weak.", "No plan.")})
    workbook = openpyxl.load_workbook(path)
    workbook["Review"]["G2"] = '=CONCAT("Weak ","in places")'  # a formula too is read from those bytes
    workbook.save(path)
    content = path.read_bytes()
    path.write_bytes(b"")  # saved over by the reviewer while ingest reads it: what was hashed is what counts
    reading = read_return(path, load_framework(assessment.workbook), assessment.assessment_id, assessment.secret(),
                          {i.issue_id: i for i in assessment.records.issues()}, "r01.xlsx", content)
    assert reading.accepted and [(p.code, p.cell) for p in reading.problems] == [("RETURN_FORMULA", "G2")]
    assert [(r.ref, r.rating, r.commentary) for r in reading.responses if r.rating] == [
        (ref, "Amber", '=CONCAT("Weak ","in places")')]


def test_a_workbook_that_passes_screening_but_cannot_be_opened_is_refused_with_why(generated, tmp_path):
    import zipfile

    from bva_excel.excel.read.sheets import open_workbook

    assessment, _ = generated
    path = tmp_path / "half saved.xlsx"
    with zipfile.ZipFile(path, "w") as archive:  # a workbook's parts without the package's own index
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                                            'spreadsheetml/2006/main"><sheets/></workbook>')
    reading = read(assessment, path)
    assert not reading.accepted
    assert [(p.code, p.file) for p in reading.problems] == [("RETURN_UNREADABLE", "half saved.xlsx")]
    with pytest.raises(Exception) as why:  # the spreadsheet reader's own reason is passed on
        open_workbook(path)
    assert str(reading.problems[0]).startswith(f"half saved.xlsx: cannot be read as a workbook ({why.value})")
