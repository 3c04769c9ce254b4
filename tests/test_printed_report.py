"""What committee prints. Every sheet of every workbook bva writes is set up to print: the assessment's title, the
sheet's name and "Page x of y" in its footer, one A4 page wide, a table's header row frozen, filtered and repeated
on every page, landscape where it is wide. The report of a full-sized exercise (the demo: 73 characteristics, eight
reviewers, two to a characteristic), printed through LibreOffice as a person printing it would, fits in 30 A4
pages, and every page of a table shows all its columns under their headers, Ref among them.

The year's workbooks are made once, and the report converted to PDF once, for every test worker.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer
from filelock import FileLock

from bva_excel.app import demo as demo_module
from bva_excel.cli import cli
from bva_excel.render.office import convert_to_pdf, find_soffice

TITLE = "Demo Borough Council: Best Value self-assessment, Audit & Standards"  # '&' starts a code in a footer
WORKBOOKS = ["report.xlsx", "outbox/*.xlsx", "follow-up *.xlsx", "detail/*.xlsx", "actions.xlsx"]
MOST_PAGES = 30
A4_LANDSCAPE = (841.89, 595.28)  # points
HEADER_FILL = "1F3864"  # the tool's header row


def run(*args) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output


def make_year(folder: Path) -> None:
    """The demo under a title holding '&', a late return of R01's with a typo in a score (so R01 has a received
    return and a rejected file), then the rest of the year: progress round, follow-up, export and detail."""
    made = demo_module.create_assessment
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_module, "create_assessment",
                      lambda where, title, **options: made(where, title=TITLE, **options))
        run("demo", folder)
    refs = [row[0] for row in openpyxl.load_workbook(folder / "report.xlsx")["Scores"].iter_rows(min_row=2,
                                                                                                 values_only=True)]
    answer(folder / "outbox" / "BV review R01 Aisha Khan.xlsx", folder / "inbox" / "R01 late.xlsx",
           dict.fromkeys(refs, ("Ambr", "Late thoughts.", "")))
    for command in (["ingest", folder], ["report", folder], ["generate", folder, "--progress", "--deadline", "2027-01-15"],
                    ["follow-up", folder], ["actions", folder, "--xlsx", folder / "actions.xlsx"],
                    ["detail", folder, "SD006"]):
        run(*command)


@pytest.fixture(scope="module")
def made(tmp_path_factory, worker_id) -> Path:
    """The year's workbooks, and report.xlsx as LibreOffice prints it to PDF (through the tool's own conversion):
    made once however many test workers run this module's tests (the first makes them, the others wait), so that
    LibreOffice converts once. Tests only read them."""
    soffice = find_soffice()
    if not soffice or not shutil.which("pdftotext"):
        pytest.fail("LibreOffice and poppler-utils are needed (apt-get install libreoffice-calc-nogui poppler-utils)")
    root = tmp_path_factory.getbasetemp()
    root = root if worker_id == "master" else root.parent  # the folder the workers share
    place = root / "printed-report"
    with FileLock(str(root / "printed-report.lock")):
        if not (place / "done").is_file():
            shutil.rmtree(place, ignore_errors=True)
            make_year(place / "demo")
            convert_to_pdf(place / "demo" / "report.xlsx", place / "report.pdf", soffice)
            (place / "done").touch()
    return place


@pytest.fixture(scope="module")
def year(made) -> Path:
    return made / "demo"


@pytest.fixture(scope="module")
def printed(made) -> Path:
    return made / "report.pdf"


def pdf_info(pdf: Path) -> str:
    return subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout


def pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]  # each page ends with a form feed


FOOTER = re.compile(r"^\s*(?P<title>\S.*?)\s{2,}(?P<sheet>\S.*?)\s{2,}Page (?P<page>\d+) of (?P<of>\d+)\s*$")


def footer_of(page: str) -> dict:
    last = [line for line in page.splitlines() if line.strip()][-1]
    found = FOOTER.match(last)
    assert found, f"no footer on the page: {last!r}"
    return found.groupdict()


def words(text: str) -> set[str]:
    return set(re.findall(r"[^\s]+", text))


def test_the_demo_is_the_exercise_the_target_names(year):
    workbook = openpyxl.load_workbook(year / "report.xlsx")
    assert workbook["Scores"].max_row - 1 == 73
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(summary) if row[0] == "Reviewer")
    reviewers = [row for row in summary[start + 1:] if row[0]]
    assert len(reviewers) == 8 and sum(row[1] for row in reviewers) == 2 * 73  # issued: two to a characteristic


def test_the_report_prints_in_at_most_30_a4_pages_each_naming_the_assessment_the_sheet_and_the_page(year, printed):
    said = pages(printed)
    info = pdf_info(printed)
    assert int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)) == len(said) <= MOST_PAGES
    width, height = (float(v) for v in re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", info, re.M).groups())
    assert (round(width), round(height)) == tuple(round(v) for v in A4_LANDSCAPE)
    footers = [footer_of(page) for page in said]
    assert {f["title"] for f in footers} == {TITLE}  # the '&' printed as itself
    assert [(int(f["page"]), int(f["of"])) for f in footers] == [(n, len(said)) for n in range(1, len(said) + 1)]
    sheets = openpyxl.load_workbook(year / "report.xlsx").sheetnames
    assert list(dict.fromkeys(f["sheet"] for f in footers)) == sheets  # every sheet, in order
    printed_sheets = [f["sheet"] for f in footers]
    assert (printed_sheets.count("Summary"), printed_sheets.count("Heat map")) == (1, 1)  # a page each


def test_every_printed_page_of_a_table_shows_every_column_under_its_header_ref_included(year, printed):
    workbook = openpyxl.load_workbook(year / "report.xlsx")
    tables = {sheet.title: [str(c.value) for c in sheet[1] if c.value] for sheet in workbook.worksheets
              if _is_table(sheet)}
    assert {"Scores", "Action plan", "Consistency", "Responses", "Returns", "Scale"} <= set(tables)
    checked = 0
    for page in pages(printed):
        sheet = footer_of(page)["sheet"]
        if sheet not in tables:
            continue
        seen = words(page)
        missing = [header for header in tables[sheet] if not words(header) <= seen]
        assert not missing, (sheet, missing)
        checked += 1
    assert checked > len(tables)  # tables longer than a page were among them
    scores = [page for page in pages(printed) if footer_of(page)["sheet"] == "Scores"]
    refs = re.compile(r"^\s*(CI|L|G|C|R|SD|PCE)\d{3}\b", re.M)
    assert all(refs.search(page) for page in scores)  # each row's ref printed at its start, beside its scores


def cut_off(sheet, row: int) -> list[str]:
    """The texts of `row` that a printed page would cut short: longer than their column, not wrapped, with a
    value in the cell to their right."""
    cut = []
    for cell in sheet[row]:
        text = str(cell.value or "")
        width = sheet.column_dimensions[cell.column_letter].width or 8.43
        beside = sheet.cell(row, cell.column + 1).value
        if len(text) > width and not cell.alignment.wrap_text and beside not in (None, ""):
            cut.append(text)
    return cut


def test_summary_s_status_of_each_reviewer_s_returns_is_printed_whole(year, printed):
    sheet = openpyxl.load_workbook(year / "report.xlsx")["Summary"]
    start = next(cell.row for cell in sheet["A"] if cell.value == "Reviewer")
    rows = range(start + 1, sheet.max_row + 1)
    statuses = {sheet.cell(row, 1).value: sheet.cell(row, 4).value for row in rows if sheet.cell(row, 1).value}
    assert statuses["R01 Aisha Khan"] == "Received (1 file rejected)"  # and its date beside it
    assert [text for row in rows for text in cut_off(sheet, row)] == []
    summary = next(page for page in pages(printed) if footer_of(page)["sheet"] == "Summary")
    assert {"Received", "(1", "file", "rejected)"} <= words(summary)


def test_the_report_s_pdf_is_tagged_for_screen_readers_and_no_note_covers_a_tile(printed):
    assert re.search(r"^Tagged:\s+yes$", pdf_info(printed), re.M)
    assert b"/Annots" not in printed.read_bytes()  # the heat map's notes are for Excel, not icons on the page


def _is_table(sheet) -> bool:
    """A sheet whose first row is the tool's header row."""
    fill = sheet["A1"].fill
    return fill.fill_type == "solid" and (fill.fgColor.rgb or "")[-6:].upper() == HEADER_FILL


def _footers(sheet) -> str:
    parts = [sheet.HeaderFooter.oddHeader, sheet.HeaderFooter.oddFooter]
    return "".join(side.text or "" for part in parts for side in (part.left, part.center, part.right) if side)


def test_every_sheet_of_every_workbook_bva_writes_is_set_up_to_print(year):
    found = [path for pattern in WORKBOOKS for path in sorted(year.glob(pattern))]
    names = [path.name for path in found]
    assert {"BV review R01 Aisha Khan.xlsx", "BV moderation R06 David Mensah.xlsx", "BV progress Finance.xlsx",
            "actions.xlsx", "report.xlsx", "detail SD006.xlsx"} <= set(names)
    assert any(name.startswith("follow-up ") for name in names)
    checked = 0
    for path in found:
        for sheet in openpyxl.load_workbook(path).worksheets:
            if sheet.sheet_state != "visible":
                continue
            where = (path.name, sheet.title)
            setup, fit = sheet.page_setup, sheet.sheet_properties.pageSetUpPr
            assert (setup.paperSize, bool(fit and fit.fitToPage), setup.fitToWidth in (None, 1)) == (9, True, True), where
            said = _footers(sheet)
            assert TITLE.replace("&", "&&") in said, where  # '&&' prints '&'
            assert ("&A" in said or sheet.title in said) and "Page &P of &N" in said, where
            widths = sum(sheet.column_dimensions[openpyxl.utils.get_column_letter(col)].width or 8.43
                         for col in range(1, sheet.max_column + 1))
            if widths > 100:  # wider than a portrait page takes at a readable size
                assert setup.orientation == "landscape", where
            if _is_table(sheet):
                assert (sheet.freeze_panes or "A1")[-1] == "2", where  # the header row stays in view
                assert sheet.print_title_rows == "$1:$1", where  # and is printed on every page
                if sheet.max_row > 2:  # a table of rows can be filtered
                    assert sheet.auto_filter.ref, where
                checked += 1
    assert checked >= 20
