"""report.xlsx: every score traceable, reviewers' text exact, human edits kept, written whole."""

import datetime as dt
import zipfile

import openpyxl
import pytest
from conftest import answer, return_all

from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.errors import BvaError

TRICKY = ["=SUM(A1:A3)", "+44 20 7946 0000", "-not a formula", "@risk", "=1/0", "Ünïcode ✓ 🙂\nline two",
          "http://example.gov.uk/evidence", "0012", "مراجعة الأداء: جيد", "שלום ‏(RTL)‏ text", "  spaced  "]


def scores_by_ref(path):
    sheet = openpyxl.load_workbook(path)["Scores"]
    headers = [c.value for c in sheet[1]]
    return {row[0]: dict(zip(headers, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}


@pytest.fixture
def returned(generated):
    """Every reviewer has returned: R01 scores L001 Dark green, R03 scores it Amber."""
    assessment, generation = generated
    return_all(assessment, generation, {}, ("Light green", "Seen.", ""))
    ingest(assessment)
    return assessment, generation


def test_report_has_the_contract_sheets(returned):
    assessment, _ = returned
    result = write_report(assessment)
    workbook = openpyxl.load_workbook(result.path)
    assert workbook.sheetnames == ["Summary", "Scores", "Heat map", "Action plan", "Consistency", "Changes", "Responses",
                                   "Returns", "Scale"]
    action_headers = [c.value for c in workbook["Action plan"][1]]
    assert action_headers == ["Action ID", "Ref", "Theme", "Characteristic", "Score", "Gap identified", "Action",
                              "Owner", "Service area", "Target date", "Status", "Progress update", "Last updated", "Update from"]
    returns = [c.value for c in workbook["Returns"][1]]
    assert returns == ["File", "SHA-256", "Reviewer", "Received", "Status", "Answers that count", "Problems", "Saved by",
                       "From email"]



def test_when_each_file_was_received_is_a_date_and_time_that_sorts(returned):
    """Returns and Responses show the time ingest recorded, as one date and time to the second (as the
    Changes sheet words it), which Excel sorts and filters by date rather than as text."""
    assessment, _ = returned
    result = write_report(assessment)
    workbook = openpyxl.load_workbook(result.path)
    recorded = {r.name: dt.datetime.fromisoformat(r.received) for r in assessment.records.returns()}
    returns = workbook["Returns"]
    shown = {row[0].value: row[3] for row in returns.iter_rows(min_row=2)}
    assert {name: cell.value for name, cell in shown.items()} == recorded
    responses = workbook["Responses"]
    headers = [c.value for c in responses[1]]
    cells = [(row[headers.index("File")].value, row[headers.index("Received")]) for row in responses.iter_rows(min_row=2)]
    assert cells and all(cell.value == recorded[name] for name, cell in cells)
    for cell in [*shown.values(), *(cell for _, cell in cells)]:
        assert cell.is_date and cell.number_format == "d mmm yyyy hh:mm:ss"
    counts = [row[5] for row in returns.iter_rows(min_row=2)]  # centred, so a 0 never runs into the Problems text
    assert counts and all(c.data_type == "n" and c.alignment.horizontal == "center" for c in counts)

def test_scores_consolidate_with_the_lower_median_and_trace_each_reviewer(returned):
    assessment, _ = returned
    result = write_report(assessment)
    l001 = scores_by_ref(result.path)["L001"]
    assert l001["Consolidated score"] == "Amber"  # Dark green vs Amber: the lower middle
    assert (l001["Reviewer 1"], l001["Score 1"], l001["Commentary 1"]) == ("R01 Ann Lee", "Dark green", "Strong")
    assert (l001["Reviewer 2"], l001["Score 2"], l001["Gaps 2"]) == ("R03 Cai Wyn", "Amber", "No plan")
    responses = openpyxl.load_workbook(result.path)["Responses"]
    traced = [row for row in responses.iter_rows(min_row=2, values_only=True) if row[0] == "L001"]
    assert [(r[1], r[3], r[6], r[7]) for r in traced] == [("R01", "Dark green", "R01.xlsx", "Review"),
                                                          ("R03", "Amber", "R03.xlsx", "Review")]


def test_final_score_is_a_live_formula_with_the_right_cached_value(returned):
    assessment, _ = returned
    result = write_report(assessment)
    sheet = openpyxl.load_workbook(result.path)["Scores"]
    assert sheet["G2"].data_type == "f"
    assert sheet["G2"].value == '=IF(COUNTIF(Scale!$A$2:$A$7,E2)>0,E2,D2&"")'
    cached = openpyxl.load_workbook(result.path, data_only=True)["Scores"]
    assert cached["G2"].value == cached["D2"].value == "Light green"


def test_heat_map_tiles_are_grouped_by_theme_and_conditionally_coloured(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    sheet = openpyxl.load_workbook(path)["Heat map"]
    shown = openpyxl.load_workbook(path, data_only=True)["Heat map"]  # the tiles' formulas as their cached values
    rows = {row[0]: [v for v in row[1:] if v] for row in shown.iter_rows(min_row=5, max_row=9, values_only=True)}
    assert rows["Continuous improvement"] == ["CI001\nLG", "CI002\nLG"]
    assert rows["Service delivery"] == ["SD001\nLG"]
    leadership = sheet.cell(6, 2)
    assert (sheet.cell(6, 1).value, shown.cell(6, 2).value) == ("Leadership", "L001!\nA")  # 2 steps apart, not moderated
    assert leadership.comment.text.splitlines() == [
        "L001 Clear vision", "", "R01 Ann Lee: Dark green", "R03 Cai Wyn: Amber", "",
        "Final score: Amber (consolidated from the reviewers' scores)",
        "Open: Reviewers are 3 scale steps apart (R01 Dark green, R03 Amber)"]


def test_a_moderated_tile_is_marked_and_its_note_says_why(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == "L001")
    scores.cell(row, headers.index("Moderated score") + 1, "Yellow")
    scores.cell(row, headers.index("Moderation note") + 1, "Plan exists; not yet embedded.")
    workbook.save(path)
    sheet = openpyxl.load_workbook(write_report(assessment).path)["Heat map"]
    shown = openpyxl.load_workbook(path, data_only=True)["Heat map"]
    assert shown.cell(6, 2).value == "L001*\nY"
    assert "Final score: Yellow (moderated from Amber: Plan exists; not yet embedded.)" in sheet.cell(6, 2).comment.text
    assert shown.cell(5, 2).value == "CI001\nLG" and "Final score: Light green" in sheet.cell(5, 2).comment.text


def test_action_plan_lists_low_scores_and_listed_gaps(returned):
    assessment, _ = returned
    sheet = openpyxl.load_workbook(write_report(assessment).path)["Action plan"]
    rows = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[4], r[5]) for r in rows] == [("ACT-L001", "Amber", "R03: No plan")]


def test_reviewers_text_reaches_the_report_exactly_as_text(generated):
    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R01" in ids]
    answers = {ref: ("Yellow", TRICKY[i % len(TRICKY)], TRICKY[(i + 1) % len(TRICKY)]) for i, ref in enumerate(refs)}
    answer(generation.files["R01"], assessment.inbox / "r.xlsx", answers)
    assert ingest(assessment).valid
    path = write_report(assessment).path
    scores = scores_by_ref(path)
    sheet = openpyxl.load_workbook(path)["Scores"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows(min_row=2) for cell in row[7:])
    for ref, (_, commentary, gaps) in answers.items():
        row = scores[ref]
        slot = 1 if row["Reviewer 1"].startswith("R01") else 2
        assert row[f"Commentary {slot}"] == commentary
        assert row[f"Gaps {slot}"] == gaps


def test_moderation_and_actions_typed_into_the_report_are_kept(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    scores = workbook["Scores"]
    row = next(r for r in scores.iter_rows(min_row=2) if r[0].value == "L001")
    row[4].value, row[5].value = " yellow ", "Evidence of a plan seen at moderation"
    ci001 = next(r for r in scores.iter_rows(min_row=2) if r[0].value == "CI001")
    ci001[6].value = "Dark green"  # a senior officer types over the formula
    plan = workbook["Action plan"]
    plan["G2"], plan["H2"], plan["K2"] = "Write the delivery plan", "Head of Policy", "In progress"
    workbook.save(path)
    result = write_report(assessment)
    assert result.decisions["L001"].final == "Yellow"
    assert result.decisions["CI001"].final == "Dark green"
    again = scores_by_ref(result.path)
    assert (again["L001"]["Moderated score"], again["L001"]["Moderation note"]) == (
        "Yellow", "Evidence of a plan seen at moderation")
    assert again["CI001"]["Final score"] == "Dark green"
    plan = openpyxl.load_workbook(result.path)["Action plan"]
    assert [plan["A2"].value, plan["E2"].value, plan["G2"].value, plan["H2"].value, plan["K2"].value] == [
        "ACT-L001", "Yellow", "Write the delivery plan", "Head of Policy", "In progress"]


def test_an_invalid_moderated_score_is_a_warning_and_the_consolidated_score_stands(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    workbook["Scores"]["E2"] = "Greeen"
    workbook.save(path)
    result = write_report(assessment)
    [warning] = result.warnings
    assert str(warning) == ("report.xlsx, sheet 'Scores': the moderated score 'Greeen' for CI001 is not a rating on "
                            "the scale (did you mean 'Dark green' or 'Light green'?). Choose one of: Dark green, Light "
                            "green, Yellow, Amber, Red, Grey; until then the consolidated score is used.")
    assert result.decisions["CI001"].final == "Light green"
    assert scores_by_ref(result.path)["CI001"]["Moderated score"] == "Greeen"  # kept as typed


def test_a_report_open_in_excel_is_not_replaced(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    before = path.read_bytes()
    lock = path.with_name("~$report.xlsx")
    lock.write_bytes(bytes([9]) + b"Jane Kerr" + b" " * 44 + "Jane Kerr".encode("utf-16-le"))
    with pytest.raises(BvaError) as caught:
        write_report(assessment)
    assert str(caught.value) == (
        "report.xlsx: the report is open in Excel by Jane Kerr (its lock file ~$report.xlsx is beside it), so it "
        "cannot be replaced. Close it there and run the command again. If nobody has it open (the program "
        "crashed), delete ~$report.xlsx from the folder.")
    assert path.read_bytes() == before
    lock.unlink()
    libreoffice = path.with_name(".~lock.report.xlsx#")
    libreoffice.write_text(",Tom Ng,FIN-PC-042,29.11.2026 10:15,file:///C:/Users/tng/AppData/Roaming/LibreOffice/4;")
    with pytest.raises(BvaError) as caught:
        write_report(assessment)
    assert "open in LibreOffice by Tom Ng on FIN-PC-042 since 29.11.2026 10:15" in str(caught.value)
    libreoffice.unlink()
    assert write_report(assessment).path == path  # once the lock file is gone, the report is written
    assert sorted(p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_a_moderation_typed_into_the_report_resolves_its_findings_on_the_next_run(returned):
    assessment, _ = returned
    path = write_report(assessment, spread=2).path
    consistency = openpyxl.load_workbook(path)["Consistency"]
    assert [c.value for c in consistency[1]] == ["Ref", "Theme", "Finding", "Severity", "Reviewers", "Evidence",
                                                 "Status"]
    rows = list(consistency.iter_rows(min_row=2, values_only=True))
    disagreement = next(r for r in rows if r[0] == "L001" and "steps apart" in r[2])
    assert (disagreement[3], disagreement[4], disagreement[5], disagreement[6]) == (
        "high", "R01, R03", "R01 Dark green, R03 Amber", "Open")
    assert consistency.auto_filter.ref == f"A1:G{len(rows) + 1}"

    workbook = openpyxl.load_workbook(path)
    row = next(r for r in workbook["Scores"].iter_rows(min_row=2) if r[0].value == "L001")
    row[4].value, row[5].value = "Yellow", "Panel agreed: plan exists but is not yet delivered"
    workbook.save(path)
    result = write_report(assessment)
    rows = list(openpyxl.load_workbook(result.path)["Consistency"].iter_rows(min_row=2, values_only=True))
    disagreement = next(r for r in rows if r[0] == "L001" and "steps apart" in r[2])
    assert disagreement[6] == "Resolved: moderated to Yellow: Panel agreed: plan exists but is not yet delivered"
    assert rows.index(disagreement) > max(i for i, r in enumerate(rows) if r[6] == "Open")


def test_a_moderation_note_with_excel_escapes_survives_repeated_runs(returned):
    from python_calamine import CalamineWorkbook

    from bva_excel.app.demo import excel_escape

    assessment, _ = returned
    path = write_report(assessment).path
    note = "Panel _x0041_ note\r\nwith =SUM(1) and emoji 🙂"
    workbook = openpyxl.load_workbook(path)
    row = next(r for r in workbook["Scores"].iter_rows(min_row=2) if r[0].value == "L001")
    row[4].value = "Yellow"
    row[5].value = excel_escape(note)
    row[5].data_type = "s"
    workbook.save(path)
    for _ in range(2):
        write_report(assessment)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Scores").to_python()
    l001 = dict(zip(rows[0], next(r for r in rows if r[0] == "L001")))
    assert (l001["Moderated score"], l001["Moderation note"]) == ("Yellow", note)


def test_a_failure_half_way_leaves_the_last_good_report_and_no_lock(returned, monkeypatch):
    import bva_excel.excel.write.report as report_module

    assessment, _ = returned
    path = write_report(assessment).path
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise RuntimeError("killed half way")

    monkeypatch.setattr(report_module, "_write_returns", crash)
    with pytest.raises(RuntimeError):
        write_report(assessment)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert not (assessment.records_dir / "lock-holder.json").exists()


def test_an_answer_for_a_characteristic_removed_since_is_reported_not_dropped_silently(returned):
    assessment, _ = returned
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Characteristics"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "G001")
    sheet.delete_rows(row)
    workbook.save(assessment.workbook)
    result = write_report(assessment)
    [warning] = [w for w in result.warnings if w.code == "RESPONSE_ORPHANED"]
    assert warning.file.endswith(".xlsx") and warning.sheet == "Review" and warning.cell.startswith("F")
    assert "answered G001, which is no longer in assessment.xlsx" in str(warning)


def test_reviewers_appear_in_the_order_of_the_reviewers_sheet_not_of_their_ids(tmp_path):
    from conftest import REVIEWERS, make_framework

    from bva_excel.app.issue import generate
    from bva_excel.app.new import create_assessment

    reviewers = [REVIEWERS[2], REVIEWERS[0], REVIEWERS[1]]  # R03, R01, R02
    assessment = create_assessment(tmp_path / "a", make_framework(tmp_path / "f.xlsx", reviewers=reviewers))
    generation = generate(assessment)
    for reviewer_id, path in generation.files.items():
        refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx", {ref: ("Yellow", reviewer_id, "Gap.") for ref in refs})
    ingest(assessment)
    path = write_report(assessment).path
    l001 = scores_by_ref(path)["L001"]
    assert (l001["Reviewer 1"], l001["Reviewer 2"]) == ("R03 Cai Wyn", "R01 Ann Lee")
    summary = [row[0] for row in openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True)]
    start = summary.index("Reviewer")
    assert summary[start + 1:start + 4] == ["R03 Cai Wyn", "R01 Ann Lee", "R02 Bob Stone"]


def test_a_return_with_words_but_no_scores_still_counts(generated):
    assessment, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R02" in ids]
    answer(generation.files["R02"], assessment.inbox / "R02 words.xlsx", {refs[0]: ("", "Cannot judge yet.", "")})
    answer(generation.files["R03"], assessment.inbox / "R03 gaps.xlsx",
           {ref: ("", "", "Needs a plan.") for ref, ids in generation.allocation.items() if "R03" in ids})
    assert ingest(assessment).valid
    workbook = openpyxl.load_workbook(write_report(assessment).path)
    returns = {row[0]: row[4] for row in workbook["Returns"].iter_rows(min_row=2, values_only=True)}
    assert returns == {"R02 words.xlsx": "accepted", "R03 gaps.xlsx": "accepted"}
    summary = {row[0]: row[1:6] for row in workbook["Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["R02 Bob Stone"][1:3] == (0, "Received") and summary["R02 Bob Stone"][4] == "R02 words.xlsx"
    assert summary["R03 Cai Wyn"][4] == "R03 gaps.xlsx"
    assert scores_by_ref(assessment.report)[refs[0]]["Commentary 1"] == "Cannot judge yet."


def test_running_the_report_again_with_nothing_typed_keeps_every_final_score_live(returned):
    """Excel and XlsxWriter store each formula's last value: that is not a score a senior officer typed."""
    assessment, _ = returned
    first = write_report(assessment)
    again = write_report(assessment)
    assert {ref: d.final for ref, d in again.decisions.items()} == {ref: d.final for ref, d in first.decisions.items()}
    assert all(not d.final_typed for d in again.decisions.values())
    sheet = openpyxl.load_workbook(again.path)["Scores"]
    assert {sheet.cell(row, 7).data_type for row in range(2, sheet.max_row + 1)} == {"f"}
    shown = openpyxl.load_workbook(again.path, data_only=True)["Heat map"]
    tiles = [v.split("\n")[0] for row in shown.iter_rows(min_row=5, max_row=9, values_only=True) for v in row[1:] if v]
    assert tiles == ["CI001", "CI002", "L001!", "G001", "R001", "SD001"]  # nothing marked as moderated


def test_columns_and_rows_a_user_adds_to_the_report_lose_nothing_typed(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    scores = workbook["Scores"]
    row = next(r for r in range(2, scores.max_row + 1) if scores.cell(r, 1).value == "SD001")
    scores.cell(row, 5, "Amber")
    scores.cell(row, 6, "Complaints unanswered.")
    scores.insert_rows(3)  # a row for the PMO's own notes, with no ref
    scores.cell(3, 3, "Panel met on 3 March")
    scores.insert_cols(4)  # a column of the PMO's own, left without a header
    plan = workbook["Action plan"]
    plan.insert_cols(7)
    plan.cell(2, 8, "Write the delivery plan")  # Action, now one column to the right
    workbook.save(path)
    result = write_report(assessment)
    assert (result.decisions["SD001"].moderated, result.decisions["SD001"].final) == ("Amber", "Amber")
    assert openpyxl.load_workbook(result.path)["Action plan"]["G2"].value == "Write the delivery plan"


def test_a_previous_report_that_cannot_be_read_is_not_replaced(returned):
    assessment, _ = returned
    assessment.report.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(BvaError) as caught:
        write_report(assessment)
    [problem] = caught.value.problems
    assert problem.code == "REPORT_UNREADABLE" and problem.file == "report.xlsx"
    assert str(problem).startswith("report.xlsx: the previous report cannot be read (")
    assert str(problem).endswith("), so the moderated scores and actions typed into it cannot be kept. Repair it "
                                 "in Excel, or move it out of the folder if nothing typed in it matters.")
    assert assessment.report.read_bytes() == b"PK\x03\x04 not really a workbook"


@pytest.mark.parametrize("part", ["_rels/.rels", "docProps/core.xml"])
def test_a_previous_report_damaged_inside_is_not_replaced(returned, part):
    """Its sheets are all listed, but one part is cut short: the cells, or what tells a typed Final score
    from the tool's formula, cannot be read."""
    assessment, _ = returned
    write_report(assessment)
    with zipfile.ZipFile(assessment.report) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts[part] = parts[part][:40]  # cut short, as a failed copy leaves it
    with zipfile.ZipFile(assessment.report, "w") as damaged:
        for name, data in parts.items():
            damaged.writestr(name, data)
    before = assessment.report.read_bytes()
    with pytest.raises(BvaError) as caught:
        write_report(assessment)
    [problem] = caught.value.problems
    assert problem.code == "REPORT_UNREADABLE" and problem.file == "report.xlsx"
    assert str(problem).startswith("report.xlsx: the previous report cannot be read (")
    reason = str(problem).split(" (", 1)[1].split("), so ", 1)[0]
    assert len(reason.split()) > 2  # the reader's own words on what is wrong, not a bare class name
    assert assessment.report.read_bytes() == before


@pytest.mark.parametrize("reader", ["report_file.open_workbook",  # its cells
                                    "previous_report._typed_final_scores"])  # its typed Final scores
def test_a_read_failure_without_words_is_named_by_its_kind(returned, monkeypatch, reader):
    """A network drive can fail a read with an error that carries no message."""
    assessment, _ = returned
    write_report(assessment)
    before = assessment.report.read_bytes()

    def fail(*args):
        raise OSError()
    monkeypatch.setattr(f"bva_excel.excel.read.{reader}", fail)
    with pytest.raises(BvaError) as caught:
        write_report(assessment)
    [problem] = caught.value.problems
    assert str(problem).startswith("report.xlsx: the previous report cannot be read (OSError), so ")
    assert assessment.report.read_bytes() == before


def test_a_final_score_typed_in_any_case_is_the_scale_s_rating(returned):
    assessment, _ = returned
    path = write_report(assessment).path
    workbook = openpyxl.load_workbook(path)
    workbook["Scores"]["G2"] = "  dark GREEN "  # CI001, typed over the formula
    workbook.save(path)
    result = write_report(assessment)
    assert (result.decisions["CI001"].final, result.decisions["CI001"].final_typed) == ("Dark green", "  dark GREEN ")
    assert scores_by_ref(result.path)["CI001"]["Final score"] == "Dark green"


def test_the_last_report_is_read_from_disk_once_whatever_people_added_to_it(returned, monkeypatch):
    """Every reader of the last report (what was typed, sheets and columns of people's own, their notes, who
    saved it) sees the same bytes, read once: not a file opened again by each of them while someone may be
    saving it."""
    import builtins
    import io

    from openpyxl.comments import Comment
    from python_calamine import CalamineWorkbook

    assessment, _ = returned
    write_report(assessment)
    workbook = openpyxl.load_workbook(assessment.report)
    workbook.create_sheet("Panel notes")["A1"] = "Seen by the panel on 3 March"
    workbook["Scores"]["B2"].comment = Comment("Check the wording", "Ann Lee")
    workbook["Scores"].cell(1, workbook["Scores"].max_column + 1, "Panel comment")
    workbook["Scores"].cell(2, workbook["Scores"].max_column, "Agreed")
    workbook.save(assessment.report)
    opened = []
    real_open = io.open

    def counting_open(file, *args, **kwargs):
        if str(file) == str(assessment.report):
            opened.append(file)
        return real_open(file, *args, **kwargs)

    real_from_path = CalamineWorkbook.from_path

    def by_path(path, *args, **kwargs):
        if str(path) == str(assessment.report):
            opened.append(path)
        return real_from_path(path, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(CalamineWorkbook, "from_path", by_path)
    result = write_report(assessment, threshold_name="Amber")  # a threshold given is checked against it too
    monkeypatch.undo()
    assert len(opened) == 1
    written = openpyxl.load_workbook(assessment.report)
    assert written["Panel notes"]["A1"].value == "Seen by the panel on 3 March"  # everything was still read
    assert written["Scores"]["B2"].comment.text.startswith("Check the wording")
    assert result.actions >= 0


def test_a_final_score_typed_that_is_not_on_the_scale_is_not_counted_as_scored_in_what_report_says(returned):
    from click.testing import CliRunner

    from bva_excel.cli import cli

    assessment, _ = returned
    write_report(assessment)
    workbook = openpyxl.load_workbook(assessment.report)
    scores = workbook["Scores"]
    headers = [c.value for c in scores[1]]
    total = scores.max_row - 1
    scores.cell(2, headers.index("Final score") + 1, "Greenish")
    workbook.save(assessment.report)
    said = CliRunner().invoke(cli, ["report", str(assessment.folder)]).output
    assert f": {total - 1} of {total} characteristics scored," in said  # as the heat map and Summary count it
    assert "the final score 'Greenish'" in said


def test_the_collector_of_reference_cycles_is_on_again_after_a_report_written_or_refused(returned):
    """The report is written with it off (app/collecting.py); whoever called it gets it back as it was."""
    import gc

    assessment, _ = returned
    write_report(assessment)
    assert gc.isenabled()
    (assessment.folder / "~$report.xlsx").write_bytes(b"")  # open in Excel: refused
    with pytest.raises(BvaError):
        write_report(assessment)
    assert gc.isenabled()
    (assessment.folder / "~$report.xlsx").unlink()
    gc.disable()  # a caller that had it off keeps it off
    try:
        write_report(assessment)
        assert not gc.isenabled()
    finally:
        gc.enable()
