"""Property: whatever text a reviewer types in an input cell reaches report.xlsx exactly, as text."""

import tempfile
from pathlib import Path

import openpyxl
from conftest import answer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from bva_excel.app.ingest import ingest
from bva_excel.app.issue import generate
from bva_excel.app.new import create_assessment
from bva_excel.app.report import write_report
from bva_excel.model.consolidation import lists_gaps

# What a person can put in a cell: any character but most control characters (which XML cannot
# hold) and surrogates; with the escapes Excel itself writes ("_xHHHH_", "\r") in the mix.
TYPED = st.lists(st.one_of(st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t\r"),
                           st.sampled_from(["_x0041_", "_x000D_", "_x005F_", "=", "+", "-", "@"])),
                 min_size=1, max_size=100).map("".join).filter(lambda t: t.strip())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commentary=TYPED, gaps=TYPED)
def test_random_text_round_trips_exactly(framework_file, commentary, gaps):
    with tempfile.TemporaryDirectory() as folder:  # a fresh assessment for every example
        assessment = create_assessment(Path(folder) / "a", framework_file)
        check_round_trip(assessment, generate(assessment), commentary, gaps)


def check_round_trip(assessment, generation, commentary, gaps):
    ref = next(ref for ref, ids in generation.allocation.items() if ids == ("R02",))
    answer(generation.files["R02"], assessment.inbox / "typed.xlsx", {ref: ("Amber", commentary, gaps)})
    assert ingest(assessment).valid
    path = write_report(assessment).path
    scores = read_table(path, "Scores")
    assert scores[ref]["Commentary 1"] == commentary
    assert scores[ref]["Gaps 1"] == gaps
    gap = f"R02: {gaps}" if lists_gaps(gaps) else "Scored Amber; no gaps were listed by the reviewers."
    assert read_table(path, "Action plan", key="Ref")[ref]["Gap identified"] == gap
    sheet = openpyxl.load_workbook(path, read_only=True)["Scores"]
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row[7:] if cell.value)


def read_table(path, name, key="Ref"):
    """A report sheet as {key: {header: value}}, read with calamine (exact text, escapes decoded)."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    return {row[rows[0].index(key)]: dict(zip(rows[0], row)) for row in rows[1:]}
