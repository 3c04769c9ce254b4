"""The counts on Summary follow the final scores on Scores: formulas with their values cached, and a chart
of ratings per theme drawn from them, so that a moderated score typed in Excel moves both at once.

The quick tests read the cached values as a viewer that does not recalculate would, and evaluate the formulas
with tests/spreadsheet.py after a moderator types into the report; the LibreOffice test types in a real
spreadsheet application and reads what it saved.
"""

from __future__ import annotations

import re
import zipfile
from xml.etree import ElementTree

import openpyxl
import pytest
from conftest import return_all
from openpyxl.utils import column_index_from_string
from spreadsheet import Spreadsheet

from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.excel.read.framework import load_framework

GIVEN = {"CI001": ("Amber", "Weak", "No plan"), "CI002": ("Yellow", "Partly", "Embed it"),
         "G001": ("Grey", "Outside our control", ""), "R001": ("", "Cannot judge", ""),
         "SD001": ("Light green", "Fine", "")}
NOT_ANSWERED = "Not answered"
CHART = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
         "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}


@pytest.fixture
def reported(generated):
    """CI001 Amber, CI002 Yellow, G001 Grey, R001 not answered, SD001 Light green; L001 Dark green from R01
    and Amber from R03 (consolidated Amber)."""
    assessment, generation = generated
    return_all(assessment, generation, GIVEN)
    ingest(assessment)
    return assessment, write_report(assessment)


def expected_counts(assessment, finals: dict[str, str]) -> dict[str, dict[str, int]]:
    """What the Summary should say, counted here from the final scores: theme -> column -> count."""
    framework = load_framework(assessment.workbook)
    columns = framework.scale.names + [NOT_ANSWERED]
    counts = {t.name: dict.fromkeys(columns + ["Total"], 0) for t in framework.themes}
    for characteristic in framework.characteristics:
        rating = framework.scale.find(finals.get(characteristic.ref) or "")
        row = counts[characteristic.theme.name]
        row[rating.name if rating else NOT_ANSWERED] += 1
        row["Total"] += 1
    counts["All themes"] = {c: sum(counts[t.name][c] for t in framework.themes) for c in columns + ["Total"]}
    return counts


def table(rows) -> dict[str, dict[str, object]]:
    """The "Final scores by theme" table as a reader sees it: theme -> column header -> value."""
    rows = [list(row) for row in rows]
    start = next(i for i, row in enumerate(rows) if row and row[0] == "Theme")
    headers = [h for h in rows[start] if h]
    found = {}
    for row in rows[start + 1:]:
        found[row[0]] = {h: row[i] for i, h in enumerate(headers) if i}
        if row[0] == "All themes":
            return found
    raise AssertionError("no 'All themes' row")


def summary_seen_by(spreadsheet: Spreadsheet) -> dict[str, dict[str, object]]:
    """The Summary table with every formula evaluated, as Excel would after the workbook changed."""
    sheet = spreadsheet.workbook["Summary"]
    return table([[spreadsheet.value("Summary", r, c) if sheet.cell(r, c).data_type == "f" else sheet.cell(r, c).value
                   for c in range(1, sheet.max_column + 1)] for r in range(1, sheet.max_row + 1)])


def type_on_scores(path, ref: str, header: str, value: str) -> None:
    """Type into the report's Scores sheet, as a moderator does in Excel (openpyxl keeps every formula)."""
    workbook = openpyxl.load_workbook(path)
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == ref)
    scores.cell(row, headers.index(header) + 1, value)
    workbook.save(path)


def test_a_viewer_that_does_not_recalculate_sees_the_counts_the_report_decided(reported):
    from python_calamine import CalamineWorkbook

    assessment, result = reported
    expected = expected_counts(assessment, {ref: d.final for ref, d in result.decisions.items()})
    assert expected["Continuous improvement"]["Amber"] == 1 and expected["Use of resources"][NOT_ANSWERED] == 1
    cached = openpyxl.load_workbook(result.path, data_only=True)["Summary"].iter_rows(values_only=True)
    assert table(cached) == expected
    calamine = CalamineWorkbook.from_path(str(result.path)).get_sheet_by_name("Summary").to_python()
    assert {theme: {k: int(v) for k, v in row.items()} for theme, row in table(calamine).items()} == expected


def test_a_moderated_score_typed_on_scores_moves_the_counts_of_its_theme(reported):
    assessment, result = reported
    finals = {ref: d.final for ref, d in result.decisions.items()}
    type_on_scores(result.path, "CI001", "Moderated score", "Red")  # was Amber
    type_on_scores(result.path, "SD001", "Final score", "amber")  # a senior officer types over, in any case
    seen = summary_seen_by(Spreadsheet(openpyxl.load_workbook(result.path)))
    assert seen == expected_counts(assessment, {**finals, "CI001": "Red", "SD001": "Amber"})
    assert (seen["Continuous improvement"]["Amber"], seen["Continuous improvement"]["Red"]) == (0, 1)
    assert seen["Use of resources"][NOT_ANSWERED] == 1  # a final score that is a formula giving ""


def test_not_answered_is_what_has_no_rating_on_the_scale(reported):
    assessment, result = reported
    type_on_scores(result.path, "SD001", "Final score", "Greenish")  # typed over, not a rating: kept, not counted
    seen = summary_seen_by(Spreadsheet(openpyxl.load_workbook(result.path)))
    assert seen["Service delivery"] == {**dict.fromkeys(seen["Service delivery"], 0), NOT_ANSWERED: 1, "Total": 1}


def chart_series(path) -> list[dict[str, object]]:
    """Each series of the Summary's chart: its name, category and value ranges and fill colour."""
    with zipfile.ZipFile(path) as archive:
        sheets = {n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)}
        assert len(sheets) == 1, sheets
        root = ElementTree.fromstring(archive.read(sheets.pop()))
    assert root.find(".//c:barChart/c:grouping", CHART).get("val") == "stacked"
    assert root.find(".//c:barChart/c:barDir", CHART).get("val") == "bar"
    assert root.find(".//c:title", CHART) is not None and root.find(".//c:legend", CHART) is not None
    found = []
    for series in root.iterfind(".//c:ser", CHART):
        colour = series.find("c:spPr/a:solidFill/a:srgbClr", CHART)
        found.append({"name": series.find("c:tx//c:f", CHART).text, "categories": series.find("c:cat//c:f", CHART).text,
                      "values": series.find("c:val//c:f", CHART).text,
                      "colour": "#" + colour.get("val").upper() if colour is not None else None})
    return found


def cells(workbook, reference: str) -> list:
    """The cached values of a range such as Summary!$B$6:$B$11 (or a single cell)."""
    sheet, _, corners = reference.rpartition("!")
    (first, last) = (corners.replace("$", "").split(":") + [corners.replace("$", "")])[:2]
    top, left = re.fullmatch(r"([A-Z]+)(\d+)", first).groups()[::-1]
    bottom, right = re.fullmatch(r"([A-Z]+)(\d+)", last).groups()[::-1]
    return [workbook[sheet.strip("'")].cell(r, c).value for r in range(int(top), int(bottom) + 1)
            for c in range(column_index_from_string(left), column_index_from_string(right) + 1)]


def test_the_chart_draws_each_ratings_counts_per_theme_in_the_scales_colours(reported):
    assessment, result = reported
    scale = load_framework(assessment.workbook).scale
    expected = expected_counts(assessment, {ref: d.final for ref, d in result.decisions.items()})
    themes = [t.name for t in load_framework(assessment.workbook).themes]
    workbook = openpyxl.load_workbook(result.path, data_only=True)
    series = chart_series(result.path)
    assert [cells(workbook, s["name"])[0] for s in series] == scale.names + [NOT_ANSWERED]
    for drawn in series:
        name = cells(workbook, drawn["name"])[0]
        assert cells(workbook, drawn["categories"]) == themes
        assert cells(workbook, drawn["values"]) == [expected[theme][name] for theme in themes], name
        rating = scale.find(name)
        assert drawn["colour"] == (rating.colour.upper() if rating else "#E7E6E6"), name
    # The ranges are the count cells themselves, which are formulas: the chart redraws as they move.
    formulas = openpyxl.load_workbook(result.path)
    assert all(str(value).startswith("=") for s in series for value in cells(formulas, s["values"]))


@pytest.mark.libreoffice
def test_libreoffice_recounts_and_the_chart_still_draws_the_counts_after_a_moderated_score_is_typed(
        reported, tmp_path):
    from test_libreoffice import Office, missing_parts

    reason = missing_parts()
    if reason:
        pytest.skip(reason)
    assessment, result = reported
    finals = {ref: d.final for ref, d in result.decisions.items()}
    scores = openpyxl.load_workbook(result.path)["Scores"]
    headers = [c.value for c in scores[1]]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == "CI001")
    cell = f"{openpyxl.utils.get_column_letter(headers.index('Moderated score') + 1)}{row}"
    saved = tmp_path / "moderated in LibreOffice.xlsx"
    office = Office(tmp_path / "profile")
    try:
        office.run(op="fill", path=result.path, out=saved, sheet="Scores", cells={cell: "Red"}, via="api")
    finally:
        office.stop()
    seen = table(openpyxl.load_workbook(saved, data_only=True)["Summary"].iter_rows(values_only=True))
    before = expected_counts(assessment, finals)
    assert {t: {k: int(v) for k, v in row.items()} for t, row in seen.items()} == expected_counts(
        assessment, {**finals, "CI001": "Red"})
    ci = seen["Continuous improvement"]
    assert (ci["Amber"], ci["Red"]) == (before["Continuous improvement"]["Amber"] - 1,
                                        before["Continuous improvement"]["Red"] + 1)
    assert seen["Use of resources"][NOT_ANSWERED] == 1
    workbook = openpyxl.load_workbook(saved, data_only=True)
    series = chart_series(saved)
    assert [cells(workbook, s["name"])[0] for s in series][:2] == ["Dark green", "Light green"]
    for drawn in series:
        name = cells(workbook, drawn["name"])[0]
        assert [int(v) for v in cells(workbook, drawn["values"])] == [
            seen[t][name] for t in (t.name for t in load_framework(assessment.workbook).themes)], name
