"""`bva picture`: the heat map and the ratings by theme as PNG and SVG for a committee report in Word.

The tiles' places come from the module's own layout, never from hard-coded pixels; their colours are read
from the PNG written, as a reader of the Word document would see them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from xml.etree import ElementTree

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import make_framework, return_all
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from PIL import Image
from test_signoff import scored, type_into_scores  # noqa: F401  (a fixture)

from bva_excel.app.ingest import ingest
from bva_excel.app.new import create_assessment
from bva_excel.app.picture import subtitle
from bva_excel.app.report import write_report
from bva_excel.app.state import load_state
from bva_excel.cli import cli
from bva_excel.excel.read.framework import load_framework
from bva_excel.render.picture import (
    DPI,
    NO_COLOUR,
    draw_heat_map,
    draw_ratings_by_theme,
    lay_out_heat_map,
)
from bva_excel.store.folder import open_assessment

A4_WIDTH = 8.27  # inches
GIVEN = {"CI001": ("Amber", "Weak", "No plan"), "CI002": ("Yellow", "Partly", "Embed it"),
         "G001": ("Grey", "Outside our control", ""), "R001": ("", "Cannot judge", ""),
         "SD001": ("Light green", "Fine", "")}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def moderated(generated):
    """The returns of test_summary_live's fixture, reported; then CI001 moderated from Amber to Red by typing
    into report.xlsx (no report run since): L001 stays Dark green against Amber, an open disagreement."""
    assessment, generation = generated
    return_all(assessment, generation, GIVEN)
    ingest(assessment)
    write_report(assessment)
    workbook = openpyxl.load_workbook(assessment.report)
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == "CI001")
    scores.cell(row, headers.index("Moderated score") + 1, "Red")
    scores.cell(row, headers.index("Moderation note") + 1, "No evidence of a plan")
    workbook.save(assessment.report)
    return assessment


def seen_at(png, point_in_inches) -> str:
    x, y = point_in_inches
    red, green, blue = png.getpixel((int(x * DPI), int(y * DPI)))[:3]
    return f"#{red:02X}{green:02X}{blue:02X}"


def test_each_tile_has_the_colour_of_its_final_score_including_one_typed_into_the_report(moderated):
    assessment = moderated
    done = run("picture", assessment.folder)
    assert done.exit_code == 0, done.output
    folder = assessment.folder / "pictures"
    written = [folder / f"{name}.{kind}" for name in ("heat map", "ratings by theme") for kind in ("png", "svg")]
    assert done.output.splitlines()[1:5] == [f"  {path}" for path in written]
    colour = {r.name: r.colour.upper() for r in load_framework(assessment.workbook).scale.ratings}
    gathered = load_state(open_assessment(assessment.folder))
    layout = lay_out_heat_map(gathered, assessment.title, subtitle("Heat map of final scores", gathered, date.today()))
    tiles = {tile.ref: tile for tile in layout.tiles}
    assert {ref: tiles[ref].label for ref in tiles} == {"CI001": "CI001*\nR", "CI002": "CI002\nY", "L001": "L001!\nA",
                                                        "G001": "G001\nG", "R001": "R001\n–", "SD001": "SD001\nLG"}
    with Image.open(folder / "heat map.png") as png:
        assert png.size == (round(layout.width * DPI), round(layout.height * DPI))
        # Just inside the tile's corner: its middle carries the ref, in black or white.
        seen = {ref: seen_at(png, (tile.x + 0.04, tile.y + 0.04)) for ref, tile in tiles.items()}
    assert seen == {"CI001": colour["Red"], "CI002": colour["Yellow"], "L001": colour["Amber"],
                    "G001": colour["Grey"], "R001": NO_COLOUR, "SD001": colour["Light green"]}
    for name in ("heat map", "ratings by theme"):  # 200 dpi, and no wider than an A4 page's text
        with Image.open(folder / f"{name}.png") as png:
            width, height = png.size
            assert round(png.info["dpi"][0]) == DPI
        assert width / DPI <= A4_WIDTH - 1.9  # inches: Word's 2.54 cm margins, and a little to spare
        assert height / DPI <= 11.69 - 2  # and fits on the page's height


def test_with_no_report_yet_tiles_have_no_colour_and_the_svg_is_xml_with_the_title(generated):
    assessment, _ = generated
    done = run("picture", assessment.folder, "-o", assessment.folder / "committee")
    assert done.exit_code == 0, done.output
    assert not assessment.report.exists() and not (assessment.folder / "pictures").exists()
    gathered = load_state(open_assessment(assessment.folder))
    layout = lay_out_heat_map(gathered, assessment.title, subtitle("Heat map of final scores", gathered, date.today()))
    with Image.open(assessment.folder / "committee" / "heat map.png") as png:
        assert {seen_at(png, (t.x + 0.04, t.y + 0.04)) for t in layout.tiles} == {NO_COLOUR}
    for name in ("heat map", "ratings by theme"):
        root = ElementTree.parse(assessment.folder / "committee" / f"{name}.svg").getroot()
        assert f"Test assessment: {name}" in " ".join(t.strip() for t in root.itertext())


def test_a_folder_that_is_not_an_assessment_is_said_with_exit_code_1(tmp_path):
    done = run("picture", tmp_path)
    assert done.exit_code == 1
    assert done.output == (f"error: {tmp_path}: this folder is not an assessment (no assessment.xlsx). "
                           f"Create one with: bva new {tmp_path}\n")
    assert list(tmp_path.iterdir()) == []


def test_fifteen_characteristics_to_a_theme_fit_legibly(tmp_path):
    """73 characteristics over 7 themes, one of them with 15: every ref fits inside its tile, tiles never overlap,
    and no text is smaller than 7 pt at print size; a framework of one characteristic a theme too."""
    themes = ["Continuous improvement", "Leadership", "Governance", "Culture", "Use of resources",
              "Service delivery", "Partnerships and community engagement"]
    prefixes = ["CI", "L", "G", "C", "R", "SD", "PCE"]
    sizes = [15, 12, 10, 10, 12, 7, 7]
    rows = [[f"{prefix}{n:03d}", theme, f"Item {n}", "", "", "", ""]
            for prefix, theme, size in zip(prefixes, themes, sizes) for n in range(1, size + 1)]
    ten = [r for r in rows if int(r[0].lstrip("CILGRSDPE")) <= 10]  # ten to a line would be too narrow
    for name, characteristics in [("many", rows), ("ten", ten), ("few", [r for r in rows if r[0].endswith("001")])]:
        framework = make_framework(tmp_path / f"{name}.xlsx", characteristics=characteristics)
        gathered = load_state(create_assessment(tmp_path / name, framework, "A title long enough " * 3))
        long_title = "Best Value self-assessment 2026: the council's own view, for the Standards and Audit Committee"
        long_subtitle = subtitle("Heat map of final scores", gathered, date(2026, 12, 31)) + ", and more words" * 6
        figure, layout = draw_heat_map(gathered, long_title, long_subtitle)
        assert len(layout.tiles) == len(characteristics)
        assert layout.width * DPI <= 16 / 2.54 * DPI + 1
        boxes = [(t.x, t.y, t.x + t.width, t.y + t.height) for t in layout.tiles]
        assert all(right <= layout.width for _, _, right, _ in boxes)
        assert not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
                       for i, a in enumerate(boxes) for b in boxes[i + 1:])
        renderer = FigureCanvasAgg(figure).get_renderer()
        labels = {text.get_text(): text for text in figure.axes[0].texts}
        for tile in layout.tiles:
            extent = labels[tile.label].get_window_extent(renderer)  # pixels from the bottom left
            assert tile.x * DPI <= extent.x0 and extent.x1 <= (tile.x + tile.width) * DPI, tile.ref
        ratings = draw_ratings_by_theme(gathered, long_title, long_subtitle)
        for drawn in (figure, ratings):
            canvas = FigureCanvasAgg(drawn)
            canvas.draw()  # tick labels are made as the figure is drawn
            texts = [t for t in drawn.findobj(Text) if t.get_text() and t.get_visible()]
            assert len(texts) > len(layout.themes) and min(t.get_fontsize() for t in texts) >= 7, name
            width, height = drawn.get_size_inches() * DPI
            for text in texts:  # every word inside the picture, none over another
                extent = text.get_window_extent(canvas.get_renderer())
                assert 0 <= extent.x0 and extent.x1 <= width and 0 <= extent.y0 and extent.y1 <= height, text
            heading = [t.get_window_extent(canvas.get_renderer()) for t in texts
                       if t.get_text().replace("\n", " ") in (long_title, long_subtitle)]
            assert len(heading) == 2 and not heading[0].overlaps(heading[1])


def drawn_text(svg) -> str:
    """The words drawn in an SVG, in the order drawn, its lines read on as a person reads them: a word broken at
    its hyphen is read whole. (The text is drawn as outlines; matplotlib writes each line's words in a comment.)"""
    text = ""
    for line in re.findall(r"<!-- (.*?) -->", svg.read_text(encoding="utf-8")):
        text += ("" if text.endswith("-") else " ") + " ".join(line.split())
    return text


def test_the_subtitle_says_signed_off_until_a_final_score_changes_and_then_names_it(scored):
    assert run("signoff", scored.folder, "--by", "Jane Smith, ACE", "--accept-open").exit_code == 0
    [signoff] = open_assessment(scored.folder).records.signoffs()
    signed = f"signed off by Jane Smith, ACE on {datetime.fromisoformat(signoff.signed_at):%d %B %Y %H:%M}"
    folder = scored.folder / "pictures"
    assert run("picture", scored.folder).exit_code == 0
    for name, what in [("heat map", "Heat map of final scores"), ("ratings by theme", "Final scores by theme")]:
        text = drawn_text(folder / f"{name}.svg")
        assert f"{what}, {date.today():%d %B %Y}; {signed} with 1 high-severity finding still open" in text
        assert "not signed off" not in text
    type_into_scores(scored, "CI001", final_score="Dark green", moderation_note="New complaints process seen.")
    assert run("picture", scored.folder).exit_code == 0
    for name, what in [("heat map", "Heat map of final scores"), ("ratings by theme", "Final scores by theme")]:
        assert (f"{what}, {date.today():%d %B %Y}; {signed} with 1 high-severity finding still open; 1 final score "
                "changed since (CI001), not signed off") in drawn_text(folder / f"{name}.svg")


def test_pictures_go_to_a_folder_made_as_deep_as_asked_and_the_same_scores_draw_the_same_svg(moderated):
    target = moderated.folder / "committee papers" / "March"
    first = run("picture", moderated.folder, "-o", target)
    assert first.exit_code == 0, first.output
    drawn = {name: (target / f"{name}.svg").read_bytes() for name in ("heat map", "ratings by theme")}
    assert run("picture", moderated.folder, "-o", target).exit_code == 0
    assert {name: (target / f"{name}.svg").read_bytes() for name in drawn} == drawn  # no change to send again
