"""Read without colour: in black and white, by a reader who cannot tell the scale's colours apart, or by a screen
reader. Every heat-map tile says its rating in text as well as colour (on the sheet and in the picture), the key
says which text means which rating, text on every fill meets WCAG's 4.5:1 contrast, a tile whose score changed
since sign-off says so, and the pictures come with their text alternative.

Contrast is computed here from WCAG 2's definition of relative luminance, apart from the tool's own helper.
"""

from __future__ import annotations

import re
from datetime import date
from xml.etree import ElementTree

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer, make_framework, refs_of
from PIL import Image
from spreadsheet import Spreadsheet
from test_signoff import scored, type_into_scores  # noqa: F401  (a fixture)

from bva_excel.app.ingest import ingest
from bva_excel.app.issue import generate
from bva_excel.app.new import create_assessment
from bva_excel.app.picture import subtitle
from bva_excel.app.report import write_report
from bva_excel.app.state import load_state
from bva_excel.cli import cli
from bva_excel.render.picture import DPI, _key_entries, lay_out_heat_map
from bva_excel.store.folder import open_assessment

DEMO_SCALE = [["Dark green", "#00703C", 5, "Strong"], ["Light green", "#92D050", 4, "Broad alignment"],
              ["Yellow", "#FFD966", 3, "Work to do"], ["Amber", "#F4A300", 2, "Significant gaps"],
              ["Red", "#C00000", 1, "Not in place"], ["Grey", "#BFBFBF", "", "Outside officers' control"]]
# Red, amber and green as Excel offers them: a council's RAG scale, with pure red and Excel's green.
RAG_SCALE = [["Green", "#00B050", 3, "On track"], ["Amber", "#FFC000", 2, "Some concerns"],
             ["Red", "#FF0000", 1, "Off track"], ["Grey", "#808080", "", "Not scored"]]
NUMBERED_SCALE = [["5", "#1A9850", 5, "Excellent"], ["4", "#91CF60", 4, "Good"], ["3", "#FEE08B", 3, "Adequate"],
                  ["2", "#FC8D59", 2, "Weak"], ["1", "#D73027", 1, "Poor"]]
LEAST = 4.5  # WCAG 2.2 AA, 1.4.3: normal text
# Ref, Theme, Characteristic, Position statement, Evidence, Drafted by, Reviewers: every theme, R001 left blank.
CHARACTERISTICS = [[ref, theme, f"Characteristic {ref}", "Statement.", "Evidence.", "", ""] for ref, theme in [
    ("CI001", "Continuous improvement"), ("CI002", "Continuous improvement"), ("L001", "Leadership"),
    ("G001", "Governance"), ("C001", "Culture"), ("R001", "Use of resources"), ("R002", "Use of resources"),
    ("SD001", "Service delivery"), ("PCE001", "Partnerships and community engagement")]]


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    red, green, blue = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def scored_on(tmp_path, scale) -> object:
    """An assessment on `scale` whose reviewers gave the characteristics the scale's ratings in turn (CI001 the
    first, CI002 the second, ...; R001 left blank), so that every rating is some tile's; reported."""
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", scale=scale,
                                                                  characteristics=CHARACTERISTICS))
    generation = generate(assessment)
    names = [row[0] for row in scale]
    refs = [row[0] for row in CHARACTERISTICS if row[0] != "R001"]
    for reviewer_id, path in generation.files.items():
        given = {ref: (names[refs.index(ref) % len(names)] if ref in refs else "", "Seen.", "")
                 for ref in refs_of(generation, reviewer_id)}
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx", given)
    ingest(assessment)
    write_report(assessment)
    return assessment


def tile_texts(path) -> dict[str, str]:
    """Each tile of the Heat map sheet as a reader sees it (formulas evaluated), by its ref."""
    workbook = openpyxl.load_workbook(path)
    sheet, spreadsheet = workbook["Heat map"], Spreadsheet(workbook)
    texts = {}
    for row in range(5, sheet.max_row + 1):
        if sheet.cell(row, 1).value == "Key":
            break
        for col in range(2, sheet.max_column + 1):
            if sheet.cell(row, col).value:
                text = spreadsheet.value("Heat map", row, col)
                texts[re.match(r"[A-Z]+\d+", text).group(0)] = text
    return texts


def key(path) -> dict[str, str]:
    """The Heat map's key: what each swatch says -> its meaning."""
    sheet = openpyxl.load_workbook(path)["Heat map"]
    start = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "Key")
    return {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(start + 1, sheet.max_row + 1)
            if sheet.cell(r, 2).value}


@pytest.mark.parametrize("scale, labels", [
    (DEMO_SCALE, {"Dark green": "DG", "Light green": "LG", "Yellow": "Y", "Amber": "A", "Red": "R", "Grey": "G"}),
    (RAG_SCALE, {"Green": "Green", "Amber": "A", "Red": "R", "Grey": "Grey"}),  # G would be both: said whole
    (NUMBERED_SCALE, {"5": "5", "4": "4", "3": "3", "2": "2", "1": "1"})])
def test_each_tile_on_the_sheet_says_its_rating_in_words_the_key_explains(tmp_path, scale, labels):
    assessment = scored_on(tmp_path, scale)
    finals = {ref: d.final for ref, d in load_state(assessment).decisions.items()}
    tiles = tile_texts(assessment.report)
    assert set(tiles) == set(finals)
    for ref, text in tiles.items():
        first, second = text.split("\n")
        assert first.rstrip("*!Δ") == ref
        assert second == (labels[finals[ref]] if finals[ref] else "–"), ref
    said = key(assessment.report)
    for row in scale:
        name = row[0] if row[2] != "" else f"{row[0]} (not scored)"
        entry = name if labels[row[0]] == row[0] else f"{labels[row[0]]}  {name}"
        assert said[entry] == row[3]
    assert said["–  No colour"] == "Not answered yet."
    cached = openpyxl.load_workbook(assessment.report, data_only=True)["Heat map"]  # what a viewer shows unrecalculated
    assert sorted(v for row in cached.iter_rows(min_row=5, max_row=11, min_col=2, values_only=True) for v in row if v) \
        == sorted(tiles.values())


def test_a_label_typed_into_the_report_follows_the_moderated_score(tmp_path):
    assessment = scored_on(tmp_path, DEMO_SCALE)
    type_into_scores(assessment, "CI002", moderated_score="Red", moderation_note="No evidence.")
    assert tile_texts(assessment.report)["CI002"] == "CI002\nR"  # before the report is written again


@pytest.mark.parametrize("scale", [DEMO_SCALE, RAG_SCALE, NUMBERED_SCALE])
def test_text_on_every_fill_of_the_heat_map_meets_4_5_to_1(tmp_path, scale):
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", scale=scale))
    sheet = openpyxl.load_workbook(write_report(assessment).path)["Heat map"]
    pairs = []  # (text colour, fill)
    for formatting in sheet.conditional_formatting:  # the tiles' colours, one rule per rating
        for rule in formatting.rules:
            pairs.append((rule.dxf.font.color.rgb[-6:], rule.dxf.fill.bgColor.rgb[-6:]))
    for row in sheet.iter_rows():  # the tiles with no score, the key's swatches
        for cell in row:
            if cell.value and cell.fill.fill_type == "solid":
                pairs.append(((cell.font.color.rgb if cell.font.color else "FF000000")[-6:], cell.fill.fgColor.rgb[-6:]))
    fills = {fill.upper() for _, fill in pairs}
    assert {row[1].lstrip("#").upper() for row in scale} <= fills
    weakest = min(pairs, key=lambda pair: contrast(*pair))
    assert contrast(*weakest) >= LEAST, weakest
    # The picture's key draws every rating as its tiles are drawn.
    assert min(contrast(text, fill) for _, fill, text, _ in _key_entries(load_state(assessment))) >= LEAST


def test_the_picture_printed_in_greyscale_still_tells_every_rating_apart_by_its_text(tmp_path):
    assessment = scored_on(tmp_path, DEMO_SCALE)
    assert run("picture", assessment.folder).exit_code == 0
    gathered = load_state(open_assessment(assessment.folder))
    layout = lay_out_heat_map(gathered, assessment.title, subtitle("Heat map of final scores", gathered, date.today()))
    by_rating: dict[str, set[str]] = {}
    for tile in layout.tiles:
        by_rating.setdefault(tile.final, set()).add(tile.label.split("\n")[1])
    assert len(by_rating) == 7  # six ratings and not answered
    assert all(len(labels) == 1 for labels in by_rating.values())  # one label to a rating ...
    assert len({next(iter(labels)) for labels in by_rating.values()}) == len(by_rating)  # ... and none shared
    with Image.open(assessment.folder / "pictures" / "heat map.png") as png:
        grey = png.convert("L")
    for tile in layout.tiles:  # the label's text stands out from its tile in grey as in colour
        box = [round(v * DPI) for v in (tile.x, tile.y, tile.x + tile.width, tile.y + tile.height)]
        region = grey.crop(box)
        background = region.getpixel((3, 3))
        darkest, lightest = region.getextrema()
        text = lightest if background < 128 else darkest
        as_colour = [f"#{v:02X}{v:02X}{v:02X}" for v in (background, text)]
        assert contrast(*as_colour) >= LEAST, (tile.ref, tile.final, background, text)


def test_a_tile_changed_since_sign_off_is_marked_on_the_sheet_and_in_the_picture(scored):  # noqa: F811
    assert run("signoff", scored.folder, "--by", "Jane Smith, ACE", "--accept-open").exit_code == 0
    assert run("report", scored.folder).exit_code == 0
    assert not any("Δ" in text for text in tile_texts(scored.report).values())
    type_into_scores(scored, "CI001", final_score="Dark green", moderation_note="New complaints process seen.")
    assert run("report", scored.folder).exit_code == 0
    tiles = tile_texts(scored.report)
    assert tiles["CI001"] == "CI001*Δ\nDG"
    assert [ref for ref, text in tiles.items() if "Δ" in text] == ["CI001"]
    assert key(scored.report)["CI001Δ"] == "final score changed since sign-off (as when this report was written)"
    gathered = load_state(open_assessment(scored.folder))
    labels = {tile.ref: tile.label for tile in lay_out_heat_map(gathered).tiles}
    assert labels["CI001"] == "CI001*Δ\nDG" and labels["CI002"] == "CI002\nLG"
    assert run("picture", scored.folder).exit_code == 0
    said = (scored.folder / "pictures" / "heat map.txt").read_text(encoding="utf-8")
    assert "Continuous improvement (2): Dark green 1 (CI001*Δ); Light green 1 (CI002)." in said
    assert "Δ final score changed since sign-off" in said


def test_each_picture_comes_with_its_text_alternative(tmp_path):
    assessment = scored_on(tmp_path, DEMO_SCALE)
    done = run("picture", assessment.folder)
    assert done.exit_code == 0, done.output
    folder = assessment.folder / "pictures"
    assert f"  {folder / 'heat map.txt'}" in done.output.splitlines()
    gathered = load_state(assessment)
    finals = {ref: d.final for ref, d in gathered.decisions.items()}
    heat_map = (folder / "heat map.txt").read_text(encoding="utf-8").splitlines()
    assert heat_map[0] == f"{assessment.title}: heat map"
    themes = {line.split(" (")[0]: line for line in heat_map if re.match(r"^[A-Z][a-z ]+ \(\d+\): ", line)}
    assert list(themes) == [t.name for t in gathered.framework.themes]
    for characteristic in gathered.framework.characteristics:  # each ref once, under its rating and theme
        line = themes[characteristic.theme.name]
        groups = dict(re.findall(r"([A-Z][a-z ]+?) \d+ \(([^)]*)\)", line))
        holding = [name for name, refs in groups.items() if characteristic.ref in refs.split(", ")]
        assert holding == [finals[characteristic.ref] or "Not answered"], characteristic.ref
    ratings = (folder / "ratings by theme.txt").read_text(encoding="utf-8")
    assert "\nContinuous improvement: 2 characteristics: 1 dark green, 1 light green.\n" in ratings
    for name in ("heat map", "ratings by theme"):
        root = ElementTree.parse(folder / f"{name}.svg").getroot()
        title, desc = list(root)[:2]
        assert (title.tag, desc.tag, root.get("role")) == ("{http://www.w3.org/2000/svg}title",
                                                           "{http://www.w3.org/2000/svg}desc", "img")
        assert title.text == f"{assessment.title}: {name}"
        assert desc.text == (folder / f"{name}.txt").read_text(encoding="utf-8").strip()
