"""The heat map as a reader sees it, without LibreOffice: every tile's colour found by evaluating its
conditional-format rules the way a spreadsheet does (formulas relative to the rule's first cell, text
compared without regard to case, a lookup that fails is an error that IFERROR catches), with the Final
score formulas on 'Scores' evaluated too, after a moderator has typed into the report.

test_libreoffice.py checks the same thing in a real spreadsheet application; this one is quick enough
to run on every change and in the mutation run.
"""

from __future__ import annotations

import openpyxl
import pytest

from bva_excel.inbox import ingest
from bva_excel.report import write_report
from conftest import answer
from spreadsheet import Spreadsheet

NO_COLOUR = "F2F2F2"  # the tile's own background: not answered yet


def refs_of(generation, reviewer_id):
    return [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


def tiles(workbook) -> dict[str, tuple[int, int]]:
    """Each tile's text -> its (row, column), found as a reader would: the cells right of a theme name."""
    sheet = workbook["Heat map"]
    found = {}
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row, 1).value == "Key":
            break
        if sheet.cell(row, 1).value in (None, "Theme") or row < 4:
            continue
        for col in range(2, sheet.max_column + 1):
            if sheet.cell(row, col).value:
                found[sheet.cell(row, col).value] = (row, col)
    return found


def colours(workbook) -> dict[str, str]:
    spreadsheet = Spreadsheet(workbook)
    return {text: spreadsheet.seen_colour("Heat map", row, col) for text, (row, col) in tiles(workbook).items()}


@pytest.fixture
def report(generated):
    """R01: L001 Dark green, G001 Grey, R001 blank; R02: CI001 Amber, CI002 Yellow; R03: L001 Amber,
    SD001 Light green; everything else Light green."""
    assessment, generation = generated
    given = {"R01": {"L001": ("Dark green", "Strong", ""), "G001": ("Grey", "Outside our control", ""),
                     "R001": ("", "Cannot judge", "")},
             "R02": {"CI001": ("Amber", "Weak", "No plan"), "CI002": ("Yellow", "Partly", "Embed it")},
             "R03": {"L001": ("Amber", "Weak", "No plan"), "SD001": ("Light green", "Fine", "")}}
    for reviewer_id, answers in given.items():
        answer(generation.files[reviewer_id], assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: answers.get(ref, ("Light green", "Fine", "")) for ref in refs_of(generation, reviewer_id)})
    ingest(assessment)
    return assessment, write_report(assessment).path


def type_into_scores(path, typed: dict[str, dict[str, str]]) -> None:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Scores"]
    headers = [c.value for c in sheet[1]]
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    for ref, cells in typed.items():
        for header, text in cells.items():
            sheet.cell(rows[ref], headers.index(header) + 1, text)
    workbook.save(path)


def scale_colours(assessment) -> dict[str, str]:
    return {r.name: r.colour.lstrip("#").upper() for r in assessment.framework().scale.ratings}


def shown_final_scores(workbook) -> dict[str, object]:
    """The Final score column as a reader sees it, every formula evaluated."""
    sheet = workbook["Scores"]
    column = [c.value for c in sheet[1]].index("Final score") + 1
    spreadsheet = Spreadsheet(workbook)
    return {sheet.cell(row, 1).value: spreadsheet.value("Scores", row, column) for row in range(2, sheet.max_row + 1)}


def test_each_tile_has_the_colour_of_its_final_score_as_written(report):
    assessment, path = report
    colour = scale_colours(assessment)
    workbook = openpyxl.load_workbook(path)
    assert colours(workbook) == {
        "CI001": colour["Amber"], "CI002": colour["Yellow"], "L001!": colour["Amber"], "G001": colour["Grey"],
        "R001": NO_COLOUR, "SD001": colour["Light green"]}
    assert shown_final_scores(workbook) == {"CI001": "Amber", "CI002": "Yellow", "L001": "Amber", "G001": "Grey",
                                            "R001": "", "SD001": "Light green"}  # blank, never 0
    # The cells of the grid with no tile stay plain: no rule colours them.
    placed = tiles(workbook)
    rows = {row for row, _ in placed.values()}
    spreadsheet = Spreadsheet(workbook)
    empty = [(row, col) for row in rows for col in range(2, max(c for _, c in placed.values()) + 1)
             if (row, col) not in placed.values()]
    assert empty and {spreadsheet.seen_colour("Heat map", row, col) for row, col in empty} == {"FFFFFF"}


def test_each_tile_follows_what_a_moderator_types_before_the_report_is_written_again(report):
    assessment, path = report
    type_into_scores(path, {"CI002": {"Moderated score": "Red", "Moderation note": "No evidence at all"},
                            "SD001": {"Moderated score": " grey "},  # any case and spacing, as typed
                            "CI001": {"Moderated score": "Greeen"},  # not a rating: the consolidated score stands
                            "R001": {"Moderated score": "Dark green", "Final score": "Yellow"},  # the typed Final wins
                            "G001": {"Final score": "light green"}})
    colour = scale_colours(assessment)
    seen = colours(openpyxl.load_workbook(path))
    # Excel's COUNTIF ignores case, but not spaces: ' grey ' is no rating until the report is written again.
    assert seen == {"CI001": colour["Amber"], "CI002": colour["Red"], "L001!": colour["Amber"],
                    "G001": colour["Light green"], "R001": colour["Yellow"], "SD001": colour["Light green"]}
    write_report(assessment)
    again = colours(openpyxl.load_workbook(path))
    assert again == {"CI001": colour["Amber"], "CI002*": colour["Red"], "L001!": colour["Amber"],
                     "G001*": colour["Light green"], "R001*": colour["Yellow"], "SD001*": colour["Grey"]}


def test_the_key_shows_every_rating_in_its_colour_and_the_blank_tile(report):
    assessment, path = report
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Heat map"]
    key = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "Key")
    swatches = {}
    for row in range(key + 1, key + 8):
        cell = sheet.cell(row, 1)
        swatches[cell.value] = (cell.fill.fgColor.rgb[-6:].upper(), sheet.cell(row, 2).value)
    ratings = assessment.framework().scale.ratings
    assert swatches == {**{r.name if r.scored else f"{r.name} (not scored)": (r.colour.lstrip("#").upper(), r.meaning)
                           for r in ratings}, "No colour": (NO_COLOUR, "Not answered yet.")}
    summary = [sheet.cell(r, 1).value for r in range(key, sheet.max_row + 1) if sheet.cell(r, 1).value]
    assert summary[-1] == "6 characteristics: 1 light green, 1 yellow, 2 amber, 1 grey, 1 not answered."


def test_the_spreadsheet_here_behaves_as_excel_does_where_it_matters(report):
    """The evaluator itself: a failed lookup is an error IFERROR catches, text compares without regard to
    case, and a formula whose result is an empty cell shows 0 (the trap a blank score must avoid)."""
    _, path = report
    spreadsheet = Spreadsheet(openpyxl.load_workbook(path))
    assert spreadsheet.evaluate('IFERROR(MATCH("nothing",Scores!$A$2:$A$7,0),"none")', "Scores") == "none"
    assert spreadsheet.evaluate('MATCH("l001",Scores!$A$2:$A$7,0)', "Scores") == 3
    assert spreadsheet.evaluate('COUNTIF(Scale!$A$2:$A$7,"GREY")', "Scores") == 1
    assert spreadsheet.evaluate('"Dark GREEN"="dark green"', "Scores") is True
    assert spreadsheet.evaluate("IF(FALSE,A2,Z2)", "Scores") == 0  # an empty cell, shown as 0 ...
    assert spreadsheet.evaluate('IF(FALSE,A2,Z2&"")', "Scores") == ""  # ... unless made text
    assert spreadsheet.evaluate("SUBSTITUTE(A2,\"CI\",\"X\")", "Scores", (1, 0)) == "X002"  # A3, moved a row


def test_the_sheet_reads_as_a_committee_paper(report):
    """Title, key and notes in the words and order a reader meets them; legible tiles; one printed page."""
    assessment, path = report
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Heat map"]
    text = [[v for v in row if v is not None] for row in sheet.iter_rows(values_only=True)]
    text = [row for row in text if row]
    assert text[0] == ["Test assessment: heat map"]
    assert text[1][0].startswith(f"Assessment {assessment.assessment_id}, report of ")
    assert text[2] == ["Theme", "Characteristics (ref), coloured by final score"]
    assert text[3:8] == [["Continuous improvement", "CI001", "CI002"], ["Leadership", "L001!"], ["Governance", "G001"],
                         ["Use of resources", "R001"], ["Service delivery", "SD001"]]
    assert text[8:] == [
        ["Key"], ["Dark green", "Strong"], ["Light green", "Broad alignment"], ["Yellow", "Work to do"],
        ["Amber", "Significant gaps"], ["Red", "Not in place"], ["Grey (not scored)", "Not scored"],
        ["No colour", "Not answered yet."],
        ["CI001*", "score moderated, or set by a senior officer (as when this report was written)"],
        ["CI001!", "reviewers disagree and nobody has moderated it yet"],
        ["Notes", "point at a tile (or its red corner) for the characteristic, each reviewer's score and why"],
        ["6 characteristics: 1 light green, 1 yellow, 2 amber, 1 grey, 1 not answered."]]
    assert (sheet["A1"].font.b, sheet["A1"].font.sz, sheet["A2"].font.i) == (True, 16, True)
    # Dark text on light colours, white on dark ones, so every tile's ref can be read.
    rules = [rule for formatting in sheet.conditional_formatting for rule in formatting.rules]
    legible = {rule.formula[0].split('="')[-1].split('"')[0]: rule.dxf.font.color.rgb[-6:] for rule in rules}
    assert legible == {"Dark green": "FFFFFF", "Light green": "000000", "Yellow": "000000", "Amber": "000000",
                       "Red": "FFFFFF", "Grey": "000000"}
    tile = sheet["B5"]
    assert (tile.font.b, tile.alignment.horizontal, tile.alignment.vertical) == (True, "center", "center")
    assert (tile.border.left.style, tile.border.left.color.rgb[-6:]) == ("medium", "FFFFFF")  # tiles stand apart
    assert sheet.sheet_view.showGridLines is False
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, sheet.sheet_properties.pageSetUpPr.fitToPage) == ("landscape", 9, True)
    assert (setup.fitToWidth or 1, setup.fitToHeight or 1) == (1, 1)  # one page
    assert sheet.print_title_rows is None
    note = sheet["C6"].comment if sheet["C6"].value else sheet["B6"].comment
    assert note.text.splitlines()[0] == "L001 Clear vision"
