"""bva detail: the background on a characteristic, as a committee member reads it, one sheet per ref."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer
from progress_helpers import _flagged_once, flagged, planned  # noqa: F401  (fixtures)

from bva_excel.app.detail import NO_ACTIONS, NO_GAPS
from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


EARLIER = "Earlier answers that no longer count (kept, so that nothing is hidden)"  # a heading of the detail


@pytest.fixture(scope="module")
def demo_once(tmp_path_factory):
    """The demo, run once for the module (the tests only read it, or copy it first)."""
    from bva_excel.app.demo import run_demo

    result = run_demo(tmp_path_factory.mktemp("detail") / "demo")
    result.assessment.records.close()
    return result.assessment.folder


@pytest.fixture
def demo(demo_once, tmp_path):
    return Path(shutil.copytree(demo_once, tmp_path / "demo"))


def rows(sheet) -> list[list]:
    """Each row's non-blank cells, top to bottom."""
    return [[v for v in row if v not in (None, "")] for row in sheet.iter_rows(values_only=True)]


def after(sheet, label: str, start: str | None = None, column: int = 1):
    """The cell `column` to the right of the first `label` in column A (after the row holding `start`)."""
    begun = start is None
    for row in sheet.iter_rows():
        if not begun:
            begun = any(c.value == start for c in row)
            continue
        if row[0].value == label:
            return row[column]
    raise AssertionError(f"no row '{label}'" + (f" after '{start}'" if start else ""))


def text_of(sheet) -> str:
    return "\n".join(" | ".join(str(v) for v in row) for row in rows(sheet))


def test_sd006_on_the_demo_tells_the_whole_story_in_its_sections(demo):
    result = run("detail", demo, "SD006")
    assert result.exit_code == 0, result.output
    path = demo / "detail" / "detail SD006.xlsx"
    assert result.output.startswith(f"Wrote {path}: 1 characteristic (SD006)")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["SD006"]
    sheet = workbook["SD006"]
    assert sheet["A1"].value == "SD006  Complaints are handled well and learning is shared."
    assert after(sheet, "Theme").value == "Service delivery"
    assert after(sheet, "Position statement").value.startswith("Complaints are handled well and learning is shared.")
    assert after(sheet, "Drafted by").value == "R07  (matched to reviewer R07 Priya Patel)"
    # Each reviewer: score in its colour, commentary, gaps, and the return it came from with the date received.
    kind = after(sheet, "Score", start="R03 Siân Roberts")
    assert kind.value == "Dark green" and kind.fill.fgColor.rgb.endswith("00703C")
    assert kind.font.color.rgb.endswith("FFFFFF")  # white reads better on dark green
    assert after(sheet, "Commentary", start="R03 Siân Roberts").value == (
        "Complaints are answered within target and reported quarterly.")
    assert re.fullmatch(r"BV review R03 Siân Roberts - completed\.xlsx, cell F18, received \d\d \w{3} \d{4} \d\d:\d\d",
                        after(sheet, "Return", start="R03 Siân Roberts").value)
    harsh = after(sheet, "Score", start="R05 Helen O'Connor")
    assert harsh.value == "Amber" and harsh.fill.fgColor.rgb.endswith("F4A300")
    assert after(sheet, "Return", start="R05 Helen O'Connor").value.startswith(
        "BV review R05 Helen O'Connor - completed.xlsx, cell F16, received ")
    # The disagreement, and how moderation settled it.
    assert after(sheet, "High").value == "Reviewers are 3 scale steps apart. R03 Dark green, R05 Amber"
    assert after(sheet, "Settled").value == ("Moderated to Yellow: Complaints are answered on time, but lessons are "
                                             "not yet shared across services.")
    # How the score was reached: consolidated, moderated (by whom, in which return), final, signed off.
    assert after(sheet, "Consolidated score").value == "Amber"
    assert after(sheet, "Consolidated score", column=2).value.startswith("The median of 2 reviewers' scores")
    moderated = after(sheet, "Moderated score")
    assert moderated.value == "Yellow" and moderated.fill.fgColor.rgb.endswith("FFD966")
    assert after(sheet, "Moderated score", column=2).value.startswith(
        "Set by R08 Mark Ellis in the moderation round: return RE_ moderation R08.xlsx, cell H6, received ")
    assert after(sheet, "Moderation note").value.startswith("Complaints are answered on time")
    assert (after(sheet, "Final score").value, after(sheet, "Final score", column=2).value) == (
        "Yellow", "The moderated score.")
    assert after(sheet, "Signed-off score").value == "Yellow"
    assert after(sheet, "Signed-off score", column=2).value.startswith("Signed off by Alex Morgan, Chief Executive on ")
    # R05 listed gaps, so no "no gaps" conclusion.
    text = text_of(sheet)
    assert NO_GAPS not in text
    assert after(sheet, "R05 Helen O'Connor", start="Gaps identified").value == (
        "No corporate lessons-learned log; ombudsman findings not reported to members.")
    # The demo's PMO typed an action for it after committee: it is there with its owner.
    assert after(sheet, "Owner", start="Actions").value not in (None, "", "(blank)")
    assert "ACT-SD006: " in text and NO_ACTIONS not in text
    # Print-ready: A4 portrait, one page wide, the title and page numbers in the header and footer.
    assert (sheet.page_setup.orientation, sheet.page_setup.paperSize) == ("portrait", 9)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage  # one page wide (1 is the default width), any height
    assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0)
    assert "Demo Borough Council: Best Value self-assessment" in sheet.oddHeader.left.text
    assert sheet.oddFooter.right.text == "Page &P of &N"


def test_several_refs_give_a_sheet_each_in_the_order_given(demo):
    assert run("detail", demo, "sd006", "CI001", "l5").exit_code == 0
    assert openpyxl.load_workbook(demo / "detail" / "detail SD006 CI001 L005.xlsx").sheetnames == [
        "SD006", "CI001", "L005"]
    assert run("detail", demo, "L005", "SD006", "CI001", "SD006", "C009").exit_code == 0
    assert openpyxl.load_workbook(demo / "detail" / "detail 4 characteristics.xlsx").sheetnames == [
        "L005", "SD006", "CI001", "C009"]
    assert run("detail", demo, "sd").exit_code == 0
    assert openpyxl.load_workbook(demo / "detail" / "detail Service delivery.xlsx").sheetnames == [
        f"SD{n:03d}" for n in range(1, 11)]
    chosen = demo / "For the Chair.xlsx"
    assert run("detail", demo, "SD006", "-o", chosen).exit_code == 0
    assert openpyxl.load_workbook(chosen).sheetnames == ["SD006"]


def test_an_answer_a_later_return_replaced_is_listed_with_both_files(demo):
    result = run("detail", demo, "L005")
    sheet = openpyxl.load_workbook(demo / "detail" / "detail L005.xlsx")["L005"]
    assert result.exit_code == 0
    assert after(sheet, "Return", start="R01 Aisha Khan").value.startswith("RE_ RE_ BV return - updated.xlsx, cell F5")
    earlier = after(sheet, "R01 Aisha Khan", start="Earlier answers that no longer count (kept, so that nothing is "
                                                    "hidden)").value
    assert earlier.startswith("Light green. Commentary: ")
    assert "From BV review R01 Aisha Khan - completed.xlsx, cell F5, received " in earlier
    assert earlier.endswith("; replaced by the later return RE_ RE_ BV return - updated.xlsx.")


def test_an_unknown_ref_exits_1_with_did_you_mean_and_writes_nothing(demo):
    result = run("detail", demo, "SD006", "SD0066", "XY1")
    assert result.exit_code == 1
    assert result.output == (
        "error: assessment.xlsx, sheet 'Characteristics': there is no characteristic 'SD0066' (did you mean "
        "'SD006'?). Give a ref from 'Characteristics' such as CI001 (in any case), all, or a theme prefix "
        "(CI, L, G, C, R, SD, PCE); nothing was written.\n"
        "error: assessment.xlsx, sheet 'Characteristics': there is no characteristic 'XY1'. Give a ref from "
        "'Characteristics' such as CI001 (in any case), all, or a theme prefix (CI, L, G, C, R, SD, PCE); nothing "
        "was written.\n")
    assert not (demo / "detail").exists()


@pytest.fixture
def answered(generated):
    """R01 answers L001 with a gap; R03 answers L001 with "None identified." and, in a second return, replaces
    its first answer; CI002's reviewer writes "n/a"."""
    assessment, generation = generated
    refs = {reviewer_id: [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
            for reviewer_id in generation.files}
    for reviewer_id, path in generation.files.items():
        answers = {ref: ("Light green", f"{reviewer_id} on {ref}.", "n/a") for ref in refs[reviewer_id]}
        if reviewer_id == "R01":
            answers["L001"] = ("Dark green", "Strong.", "No plan for the new priorities.")
        if reviewer_id == "R03":
            answers["L001"] = ("Amber", "Weak at first sight.", "Everything")
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx", answers)
    ingest(assessment)
    answer(generation.files["R03"], assessment.inbox / "R03 again.xlsx",
           {"L001": ("Yellow", "Better on a second look.", "None identified.")})
    ingest(assessment)
    return assessment, generation


def test_no_gaps_is_said_in_words_with_what_each_reviewer_wrote(answered):
    assessment, generation = answered
    assert run("detail", assessment.folder, "CI002", "L001").exit_code == 0
    workbook = openpyxl.load_workbook(assessment.folder / "detail" / "detail CI002 L001.xlsx")
    ci002 = workbook["CI002"]
    reviewer = next(f"{r} {n}" for r, n in [("R01", "Ann Lee"), ("R02", "Bob Stone"), ("R03", "Cai Wyn")]
                    if r in generation.allocation["CI002"])
    assert NO_GAPS in text_of(ci002)
    assert after(ci002, reviewer, start=NO_GAPS).value == "“n/a”"
    assert after(ci002, "Drafted by").value == "Ann Lee  (matched to reviewer R01 Ann Lee)"
    l001 = workbook["L001"]
    assert NO_GAPS not in text_of(l001)  # R01 listed a gap, though R03's latest answer says none
    assert "On the action plan as ACT-L001, but no action has been typed against it yet." in text_of(l001)
    assert after(l001, "R01 Ann Lee", start="Gaps identified").value == "No plan for the new priorities."
    assert after(l001, "R03 Cai Wyn", start="Gaps identified").value == "No gap listed (“None identified.”)"
    assert after(l001, "Score", start="R03 Cai Wyn").value == "Yellow"
    earlier = after(l001, "R03 Cai Wyn", start=EARLIER).value
    assert earlier.startswith("Amber. Commentary: Weak at first sight. Gaps: Everything\nFrom R03.xlsx, cell ")
    assert earlier.endswith("replaced by the later return R03 again.xlsx.")


def test_the_return_preferred_counts_in_the_detail_and_the_other_is_listed_as_replaced_by_it(answered):
    """R03's two returns; the PMO prefers the first (bva ingest --prefer): the detail shows its answer as the one
    that counts, and the later one among the answers that no longer count, replaced by the one preferred."""
    assessment, _ = answered
    assert run("ingest", assessment.folder, "--prefer", "R03.xlsx").exit_code in (0, 1)
    assert run("detail", assessment.folder, "L001").exit_code == 0
    l001 = openpyxl.load_workbook(assessment.folder / "detail" / "detail L001.xlsx")["L001"]
    assert after(l001, "Score", start="R03 Cai Wyn").value == "Amber"
    earlier = after(l001, "R03 Cai Wyn", start=EARLIER).value
    assert earlier.startswith("Yellow. Commentary: Better on a second look.")
    assert earlier.endswith("replaced by the later return R03.xlsx.")


def test_why_a_characteristic_is_not_on_the_plan_is_told_against_the_threshold_the_pmo_chose(answered):
    assessment, generation = answered
    assert run("report", assessment.folder, "--action-threshold", "Amber").exit_code in (0, 1)  # kept from now on
    ref = next(r for r in generation.allocation if r != "L001")  # Light green, and its reviewers listed no gap
    assert run("detail", assessment.folder, ref).exit_code == 0
    said = text_of(openpyxl.load_workbook(assessment.folder / "detail" / f"detail {ref}.xlsx")[ref])
    assert "Not on the action plan: the final score (Light green) is above Amber and no reviewer listed a gap." in said


def test_a_reviewer_who_did_not_answer_is_not_counted_among_those_who_found_no_gaps(demo):
    """In the demo R01 sent CI004 back blank (twice); R04 scored it and listed no gap."""
    assert run("detail", demo, "CI004").exit_code == 0
    sheet = openpyxl.load_workbook(demo / "detail" / "detail CI004.xlsx")["CI004"]
    assert NO_GAPS in text_of(sheet)
    assert after(sheet, "R04 Grzegorz Nowak", start=NO_GAPS).value == "(left blank)"
    assert after(sheet, "R01 Aisha Khan", start=NO_GAPS).value == "Did not answer, so not counted in this conclusion."


def test_what_is_typed_into_report_xlsx_appears_moderation_final_and_action(answered):
    assessment, _ = answered
    write_report(assessment)
    workbook = openpyxl.load_workbook(assessment.report)
    scores = workbook["Scores"]
    headers = {c.value: c.column for c in scores[1]}
    for row in range(2, scores.max_row + 1):
        if scores.cell(row, 1).value == "L001":
            scores.cell(row, headers["Moderated score"], "light GREEN")
            scores.cell(row, headers["Moderation note"], "The plan is in draft.")
        if scores.cell(row, 1).value == "CI002":
            scores.cell(row, headers["Final score"], "Amber")
    plan = workbook["Action plan"]
    headers = {c.value: c.column for c in plan[1]}
    row = next(r for r in range(2, plan.max_row + 1) if plan.cell(r, 1).value == "ACT-L001")
    for header, value in [("Action", "Agree priorities with members"), ("Owner", "Head of Policy"),
                          ("Service area", "Chief Executive's Office"), ("Target date", dt.datetime(2027, 3, 31)),
                          ("Status", "In progress"), ("Progress update", "Draft agreed by Cabinet")]:
        plan.cell(row, headers[header], value)
    workbook.save(assessment.report)

    assert run("detail", assessment.folder, "L001", "CI002").exit_code == 0
    workbook = openpyxl.load_workbook(assessment.folder / "detail" / "detail L001 CI002.xlsx")
    l001 = workbook["L001"]
    assert after(l001, "Moderated score").value == "Light green"
    assert after(l001, "Moderated score", column=2).value.startswith(
        "Typed into report.xlsx ('Scores', Moderated score); the report was last saved ")
    assert after(l001, "Moderation note").value == "The plan is in draft."
    assert after(l001, "Final score").value == "Light green"
    assert after(l001, "Signed-off score", column=2).value == "Not signed off yet."
    assert after(l001, "ACT-L001: Agree priorities with members", column=0).value == (
        "ACT-L001: Agree priorities with members")
    for label, value in [("Owner", "Head of Policy"), ("Service area", "Chief Executive's Office"),
                         ("Target date", "31 March 2027"), ("Status", "In progress"),
                         ("Latest progress", "Draft agreed by Cabinet")]:
        assert after(l001, label, start="Actions").value == value
    assert NO_ACTIONS not in text_of(l001)
    ci002 = workbook["CI002"]
    assert (after(ci002, "Final score").value, after(ci002, "Final score", column=2).value) == (
        "Amber", "Typed over the formula on 'Scores' by a senior officer: this is their final assessment.")


def test_a_statement_too_long_for_one_row_goes_on_over_several_rows_whole(generated):
    assessment, _ = generated
    statement = " ".join(f"Sentence {n} of a long position statement, with evidence cited." for n in range(120))
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Characteristics"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "G001")
    sheet.cell(row, 4, statement)
    workbook.save(assessment.workbook)
    assert run("detail", assessment.folder, "G001").exit_code == 0
    detail = openpyxl.load_workbook(assessment.folder / "detail" / "detail G001.xlsx")["G001"]
    first = after(detail, "Position statement").row
    pieces = []
    for row in range(first, detail.max_row + 1):
        if row > first and detail.cell(row, 1).value:
            break
        pieces.append(detail.cell(row, 2).value)
        assert detail.row_dimensions[row].height <= 409  # Excel's tallest row: taller would be cut off
    assert len(pieces) > 1
    assert " ".join(pieces) == statement


def test_pdf_without_libreoffice_writes_the_workbook_and_says_how_to_print_it(demo, tmp_path, monkeypatch):
    empty = tmp_path / "no programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for variable in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "LOCALAPPDATA"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    result = run("detail", demo, "SD006", "--pdf")
    assert result.exit_code == 0
    assert "  warning: detail SD006.pdf: not made: a PDF needs LibreOffice, which is not installed. Open detail " \
           "SD006.xlsx in Excel and print it to PDF (File, Print, Microsoft Print to PDF; its pages are set up for " \
           "A4), or install LibreOffice and run the command again.\n" in result.output
    assert (demo / "detail" / "detail SD006.xlsx").is_file()
    assert not (demo / "detail" / "detail SD006.pdf").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="a stand-in soffice is a shell script")
def test_a_libreoffice_that_fails_is_an_error_but_the_workbook_is_written(demo, tmp_path, monkeypatch):
    programs = tmp_path / "programs"
    programs.mkdir()
    fake = programs / "soffice"
    fake.write_text("#!/bin/sh\necho 'source file could not be loaded' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{programs}{os.pathsep}{os.environ['PATH']}")
    result = run("detail", demo, "SD006", "--pdf")
    assert result.exit_code == 1
    assert ("error: detail SD006.pdf: not made: LibreOffice made no PDF (exit code 3: source file could not be "
            "loaded). detail SD006.xlsx is written: open it in Excel and print it to PDF, or run the command "
            "again.\n") in result.output
    assert (demo / "detail" / "detail SD006.xlsx").is_file()
    assert not (demo / "detail" / "detail SD006.pdf").exists()


def pdf_pages(path: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", path.read_bytes()))


@pytest.mark.libreoffice
def test_pdf_through_libreoffice_has_a_page_per_characteristic(demo):
    from bva_excel.render.office import find_soffice

    if not find_soffice() and not os.environ.get("BVA_REQUIRE_LIBREOFFICE"):
        pytest.skip("soffice is not installed (apt-get install libreoffice-calc-nogui)")
    result = run("detail", demo, "SD006", "C009", "--pdf")
    assert result.exit_code == 0, result.output
    pdf = demo / "detail" / "detail SD006 C009.pdf"
    assert f"Wrote {pdf}\n" in result.output
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf_pages(pdf) == 2  # each characteristic fits on one A4 page
    if shutil.which("pdfinfo"):  # tagged, as a PDF a council publishes must be
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Tagged:\s+yes$", info, re.M)


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in soffice is a shell script")
def test_libreoffice_is_found_in_its_install_folder_when_not_on_the_path(tmp_path, monkeypatch):
    from bva_excel.render.office import find_soffice

    monkeypatch.setenv("PATH", str(tmp_path / "nothing here"))
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    program = tmp_path / "Program Files" / "LibreOffice" / "program"
    program.mkdir(parents=True)
    (program / "soffice").write_text("#!/bin/sh\n")
    (program / "soffice").chmod(0o755)
    monkeypatch.setenv("ProgramFiles", str(tmp_path / "Program Files"))
    assert find_soffice() == str(program / "soffice")


def test_every_action_typed_for_a_characteristic_is_shown_with_its_own_owner_area_and_date(planned):  # noqa: F811
    """CI001 has two actions on the plan (the second typed in an inserted row), G001 one."""
    assessment, _ = planned
    assert run("detail", assessment.folder, "CI001").exit_code == 0
    sheet = openpyxl.load_workbook(assessment.folder / "detail" / "detail CI001.xlsx")["CI001"]
    headings = [row[0] for row in rows(sheet) if row and str(row[0]).startswith("ACT-")]
    assert headings == ["ACT-CI001: Write the plan", "ACT-CI001-2: Peer review"]
    for heading, owner, area, target in [("ACT-CI001: Write the plan", "Jo", "Finance", "31 March 2027"),
                                         ("ACT-CI001-2: Peer review", "Kim", "Legal services", "30 June 2027")]:
        assert [after(sheet, label, start=heading).value for label in ("Owner", "Service area", "Target date")] == [
            owner, area, target]
    assert "Scrutiny training" not in text_of(sheet)  # G001's action is on its own page
