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
from conftest import answer
from spreadsheet import Spreadsheet

from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.excel.read.framework import load_framework

NO_COLOUR = "F2F2F2"  # the tile's own background: not answered yet


def refs_of(generation, reviewer_id):
    return [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


def tiles(workbook) -> dict[str, tuple[int, int]]:
    """Each tile's first line (its ref and markers) -> its (row, column), found as a reader would: the cells right
    of a theme name."""
    sheet = workbook["Heat map"]
    spreadsheet = Spreadsheet(workbook)
    found = {}
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row, 1).value == "Key":
            break
        if sheet.cell(row, 1).value in (None, "Theme") or row < 4:
            continue
        for col in range(2, sheet.max_column + 1):
            if sheet.cell(row, col).value:
                found[spreadsheet.value("Heat map", row, col).split("\n")[0]] = (row, col)
    return found


def colours(workbook) -> dict[str, str]:
    spreadsheet = Spreadsheet(workbook)
    return {text: spreadsheet.seen_colour("Heat map", row, col) for text, (row, col) in tiles(workbook).items()}


@pytest.fixture
def report(generated):
    """Whoever reviews them: CI001 Amber, CI002 Yellow, G001 Grey, R001 blank, SD001 Light green; L001 (listed
    for R01 and R03) Dark green from R01 and Amber from R03."""
    assessment, generation = generated
    given = {"CI001": ("Amber", "Weak", "No plan"), "CI002": ("Yellow", "Partly", "Embed it"),
             "G001": ("Grey", "Outside our control", ""), "R001": ("", "Cannot judge", ""),
             "SD001": ("Light green", "Fine", "")}
    for reviewer_id in generation.files:
        answers = {ref: given[ref] for ref in refs_of(generation, reviewer_id) if ref in given}
        if "L001" in refs_of(generation, reviewer_id):
            answers["L001"] = ("Dark green", "Strong", "") if reviewer_id == "R01" else ("Amber", "Weak", "No plan")
        answer(generation.files[reviewer_id], assessment.inbox / f"{reviewer_id}.xlsx", answers)
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
    return {r.name: r.colour.lstrip("#").upper() for r in load_framework(assessment.workbook).scale.ratings}


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
    # The line of counts under the key follows too (its cell is the last text on the sheet).
    workbook = openpyxl.load_workbook(path)
    heat = workbook["Heat map"]
    line = max((c for row in heat.iter_rows() for c in row if c.data_type == "f"), key=lambda c: c.row)
    assert Spreadsheet(workbook).evaluate(line.value, "Heat map") == (
        "6 characteristics: 2 light green, 1 yellow, 2 amber, 1 red.")
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
    ratings = load_framework(assessment.workbook).scale.ratings
    labels = {"Dark green": "DG", "Light green": "LG", "Yellow": "Y", "Amber": "A", "Red": "R", "Grey": "G"}
    assert swatches == {**{f"{labels[r.name]}  {r.name if r.scored else f'{r.name} (not scored)'}":
                           (r.colour.lstrip("#").upper(), r.meaning) for r in ratings},
                        "–  No colour": (NO_COLOUR, "Not answered yet.")}
    summary = [sheet.cell(r, 1).value for r in range(key, sheet.max_row + 1) if sheet.cell(r, 1).value]
    assert Spreadsheet(workbook).evaluate(summary[-1], "Heat map") == (
        "6 characteristics: 1 light green, 1 yellow, 2 amber, 1 grey, 1 not answered.")


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
    shown = openpyxl.load_workbook(path, data_only=True)["Heat map"]  # formulas as their cached values
    rows = {number: [v for v in row if v is not None]
            for number, row in enumerate(shown.iter_rows(values_only=True), start=1)}
    assert [number for number, row in rows.items() if not row] == [3, 10, 23]  # blank rows set the parts apart
    text = [row for row in rows.values() if row]
    assert text[0] == ["Test assessment: heat map"]
    assert text[1][0].startswith(f"Assessment {assessment.assessment_id}, report of ")
    assert text[2] == ["Theme", "Characteristics (ref), coloured and labelled by final score"]
    assert text[3:8] == [["Continuous improvement", "CI001\nA", "CI002\nY"], ["Leadership", "L001!\nA"],
                         ["Governance", "G001\nG"], ["Use of resources", "R001\n–"], ["Service delivery", "SD001\nLG"]]
    assert text[8:] == [
        ["Key"], ["DG  Dark green", "Strong"], ["LG  Light green", "Broad alignment"], ["Y  Yellow", "Work to do"],
        ["A  Amber", "Significant gaps"], ["R  Red", "Not in place"], ["G  Grey (not scored)", "Not scored"],
        ["–  No colour", "Not answered yet."],
        ["CI001*", "score moderated, or set by a senior officer (as when this report was written)"],
        ["CI001!", "reviewers disagree and nobody has moderated it yet"],
        ["CI001Δ", "final score changed since sign-off (as when this report was written)"],
        ["Notes", "point at a tile (or its red corner) for the characteristic, each reviewer's score and why"],
        ["6 characteristics: 1 light green, 1 yellow, 2 amber, 1 grey, 1 not answered."]]
    assert (sheet["A1"].font.b, sheet["A1"].font.sz, sheet["A2"].font.i) == (True, 16, True)
    assert [sheet[cell].font.b for cell in ("A4", "B4", "A11")] == [True, True, True]  # headings: Theme, Key
    assert (sheet["A5"].font.b, sheet["A5"].alignment.wrap_text, sheet["A5"].border.bottom.style) == (True, True, "thin")
    assert sheet["C4"].value is None  # the heading of the tiles starts over the first tile
    for example in ("A19", "A20", "A21", "A22"):  # the examples in the key look like tiles
        assert (sheet[example].fill.fgColor.rgb[-6:], sheet[example].font.b) == ("F2F2F2", True)
    # Dark text on light colours, white on dark ones, so every tile's ref can be read.
    rules = [rule for formatting in sheet.conditional_formatting for rule in formatting.rules]
    legible = {rule.formula[0].split(')="')[-1].split('"')[0]: rule.dxf.font.color.rgb[-6:] for rule in rules}
    assert legible == {"Dark green": "FFFFFF", "Light green": "000000", "Yellow": "000000", "Amber": "000000",
                       "Red": "FFFFFF", "Grey": "000000"}
    tile = sheet["B5"]
    assert (tile.font.b, tile.alignment.horizontal, tile.alignment.vertical) == (True, "center", "center")
    assert (tile.border.left.style, tile.border.left.color.rgb[-6:]) == ("medium", "FFFFFF")  # tiles stand apart
    assert sheet.sheet_view.showGridLines is False
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, sheet.sheet_properties.pageSetUpPr.fitToPage) == ("landscape", 9, True)
    assert (setup.fitToWidth, setup.fitToHeight) in [(None, None), (1, 1), (None, 1), (1, None)]  # one page (1 unwritten)
    assert sheet.print_title_rows is None
    note = sheet["C6"].comment if sheet["C6"].value else sheet["B6"].comment
    assert note.text.splitlines()[0] == "L001 Clear vision"


def test_the_tiles_and_notes_are_sized_to_be_read(report):
    """Theme names have room, tiles are square-ish and alike, each meaning in the key sits beside its example,
    and a tile's note opens large enough to read without scrolling."""
    import re
    import zipfile

    _, path = report
    sheet = openpyxl.load_workbook(path)["Heat map"]
    columns = {letter: (d.min, d.max, round(d.width)) for letter, d in sheet.column_dimensions.items()}
    assert columns == {"A": (1, 1, 31), "B": (2, 3, 10)}  # 30 and 9 characters, with Excel's padding
    assert {row: sheet.row_dimensions[row].ht for row in range(5, 10)} == dict.fromkeys(range(5, 10), 32.25)
    assert sheet["A5"].alignment.vertical == "center"  # a theme's name level with its tiles
    swatch = sheet["A12"]  # the key's Dark green, drawn like a tile
    assert (swatch.value, swatch.alignment.horizontal, swatch.alignment.vertical) == ("DG  Dark green", "center",
                                                                                      "center")
    assert (swatch.border.left.style, swatch.border.left.color.rgb[-6:]) == ("medium", "FFFFFF")
    key = {sheet.cell(row, 1).value: sheet.cell(row, 2).value for row in range(12, 23)}
    assert key["CI001*"].startswith("score moderated") and key["Notes"].startswith("point at a tile")
    with zipfile.ZipFile(path) as book:
        shapes = b"".join(book.read(n) for n in book.namelist() if n.endswith(".vml"))
        fonts = b"".join(book.read(n) for n in book.namelist() if re.search(r"comments\d+\.xml$", n))
    assert set(re.findall(rb"width:([\d.]+)pt;height:([\d.]+)pt", shapes)) == {(b"211.5", b"133.5")}  # 2.2 x 2.4
    assert set(re.findall(rb'<sz val="([\d.]+)"', fonts)) == {b"9"}


def notes(path) -> dict[str, list[str]]:
    """Each tile's note by the tile's first line."""
    sheet = openpyxl.load_workbook(path)["Heat map"]
    return {text: sheet.cell(row, col).comment.text.splitlines()
            for text, (row, col) in tiles(openpyxl.load_workbook(path)).items() if sheet.cell(row, col).comment}


def test_a_tile_s_note_says_who_scored_what_and_how_the_final_score_came_about(report, generated):
    _, path = report
    said = notes(path)
    names = {"R01": "R01 Ann Lee", "R02": "R02 Bob Stone", "R03": "R03 Cai Wyn"}
    [r001], [g001] = generated[1].allocation["R001"], generated[1].allocation["G001"]  # whoever was given them
    assert said["R001"] == ["R001 Internal control", "", f"{names[r001]}: not answered", "", "Final score: none yet"]
    assert said["G001"] == ["G001 Robust scrutiny", "", f"{names[g001]}: Grey", "",
                            "Final score: Grey (consolidated from the reviewers' scores)"]
    assert len(said) == 6


def test_before_any_return_each_note_says_nobody_has_scored_it_and_a_long_name_is_cut(tmp_path):
    from conftest import CHARACTERISTICS, make_framework

    from bva_excel.app.new import create_assessment

    long_text = "Services improve " + "and keep improving " * 20
    rows = [[*CHARACTERISTICS[0][:2], long_text, *CHARACTERISTICS[0][3:]], *CHARACTERISTICS[1:]]
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", characteristics=rows))
    said = notes(write_report(assessment).path)
    assert said["CI001"] == [f"CI001 {long_text}"[:300], "", "No reviewer has scored it yet.", "", "Final score: none yet"]
    assert said["SD001"] == ["SD001 Customer focus", "", "No reviewer has scored it yet.", "", "Final score: none yet"]


def test_a_rating_whose_name_holds_quotes_still_colours_its_tiles(tmp_path):
    from conftest import make_framework

    from bva_excel.app.issue import generate
    from bva_excel.app.new import create_assessment

    scale = [["Met", "#00703C", 3, "In place"], ['Nearly "there"', "#FFD966", 2, "Close"],
             ["Not met", "#C00000", 1, "Not in place"], ["N/A", "#BFBFBF", "", "Not scored"]]
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", scale=scale))
    generation = generate(assessment)
    for reviewer_id, path in generation.files.items():
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: ('Nearly "there"' if ref.startswith("CI") else "Met", "Seen.", "Gap.")
                for ref in refs_of(generation, reviewer_id)})
    ingest(assessment)
    seen = colours(openpyxl.load_workbook(write_report(assessment).path))
    assert {ref.rstrip("!*"): colour for ref, colour in seen.items()} == {
        "CI001": "FFD966", "CI002": "FFD966", "L001": "00703C", "G001": "00703C", "R001": "00703C", "SD001": "00703C"}
