"""The bva command end to end: exit codes, messages and the next step, as an officer sees them."""

import json

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer, refs_of

from bva_excel import __version__
from bva_excel.cli import cli
from bva_excel.cli.base import COMMANDS


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_version():
    result = run("--version")
    assert (result.exit_code, result.output) == (0, f"bva, version {__version__}\n")


EVERY_COMMAND = [[name] for name in COMMANDS if name != "issue"] + [["issue", kind] for kind in
                                                                     ("review", "moderation", "progress")]


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Example: bva " + " ".join(command) in result.output


def test_help_lists_every_command_once_on_one_line_in_the_order_of_the_exercise():
    listed = run("--help").output.split("Commands:\n")[1].splitlines()
    assert [line.split()[0] for line in listed] == list(COMMANDS)
    assert all(len(line) <= 79 for line in listed)
    assert [line.split(None, 1)[1] for line in listed] == [short for _, short in COMMANDS.values()]


def test_issue_review_writes_what_generate_writes(tmp_path, framework_file, monkeypatch):
    from conftest import issued_alike

    assert run("new", tmp_path / "BV", "--template", framework_file).exit_code == 0
    by_issue, by_generate = issued_alike(tmp_path / "BV", ["issue", "review", "FOLDER", "--per-characteristic", "2"],
                                         ["generate", "FOLDER", "--per-characteristic", "2"], monkeypatch)
    assert by_issue == by_generate
    assert by_issue[0] == 0 and "Wrote 3 reviewer workbooks" in by_issue[1]
    assert "  CI001   R02, R03  (allocated)" in by_issue[1]  # two reviewers each, as asked


def test_the_whole_loop_through_the_cli(tmp_path, framework_file):
    folder = tmp_path / "BV 2026 — Süd"
    created = run("new", folder, "--template", framework_file, "--title", "Test exercise")
    assert created.exit_code == 0, created.output
    assert "6 characteristics in 5 themes" in created.output
    assert f'Next: fill in {folder / "assessment.xlsx"}' in created.output

    generated = run("generate", folder, "--deadline", "18/12/2026")
    assert generated.exit_code == 0, generated.output
    assert "issued before" not in generated.output
    assert "  L001    R01, R03  (listed)" in generated.output
    assert "Wrote 3 reviewer workbooks" in generated.output
    outbox = sorted((folder / "outbox").iterdir())
    assert [p.name for p in outbox] == ["BV review R01 Ann Lee.xlsx", "BV review R02 Bob Stone.xlsx",
                                        "BV review R03 Cai Wyn.xlsx"]

    answer(outbox[0], folder / "inbox" / "RE_ BV return (2).xlsx", {"L001": ("Dark green", "Yes")})
    bobs_first = openpyxl.load_workbook(outbox[1])["Review"]["A2"].value
    answer(outbox[1], folder / "inbox" / "Bob.xlsx", {bobs_first: ("Ambr", "No")})
    ingested = run("ingest", folder)
    assert ingested.exit_code == 1
    lines = ingested.output.splitlines()
    assert "accepted   RE_ BV return (2).xlsx  (R01 Ann Lee, answered 1/" in ingested.output
    assert "rejected   Bob.xlsx  (R02 Bob Stone, answered 0/" in ingested.output
    assert ("  error: Bob.xlsx, sheet 'Review', cell F2: 'Ambr' is not a rating on the scale (did you mean "
            "'Amber'?). Choose one of: Dark green, Light green, Yellow, Amber, Red, Grey.") in lines
    assert "1 accepted, 1 rejected, 0 already ingested, 0 skipped." in lines

    reported = run("report", folder)
    assert reported.exit_code == 0, reported.output
    outbox = {p.name: p.stat().st_mtime_ns for p in (folder / "outbox").iterdir()}
    again = run("generate", folder)
    assert again.output.splitlines() == ["No changes to the allocation: every reviewer keeps the workbook they have.",
                                         "Wrote no workbooks: nothing to send."]
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "outbox").iterdir()} == outbox
    assert f"Wrote {folder / 'report.xlsx'}: 1 of 6 characteristics scored" in reported.output
    scores = openpyxl.load_workbook(folder / "report.xlsx")["Scores"]
    assert [c.value for c in scores[4]][:4] == ["L001", "Leadership", "Clear vision", "Dark green"]


def test_ingest_json_reports_every_file(tmp_path, generated):
    assessment, generation = generated
    answer(generation.files["R01"], assessment.inbox / "a.xlsx", {"L001": ("Amber", "Weak.", "No plan.")})
    (assessment.inbox / "b.xlsx").write_bytes(b"")
    result = run("ingest", assessment.folder, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["valid"] is False
    by_name = {f["file"]: f for f in data["files"]}
    assert by_name["a.xlsx"]["status"] == "accepted"
    assert by_name["b.xlsx"]["problems"][0]["code"] == "RETURN_EMPTY"
    assert data["counts"] == {"accepted": 1, "rejected": 1, "unchanged": 0, "skipped": 0}
    again = json.loads(run("ingest", assessment.folder, "--json").output)
    assert again["counts"] == {"accepted": 0, "rejected": 0, "unchanged": 2, "skipped": 0}
    assert {f["file"]: (f["status"], f["rejected"]) for f in again["files"]} == {
        "a.xlsx": ("unchanged", False), "b.xlsx": ("unchanged", True)}  # still rejected, and said so


def test_ingest_json_says_again_what_it_found_in_a_file_it_has_seen_before(generated):
    assessment, generation = generated
    answer(generation.files["R01"], assessment.inbox / "a.xlsx", {"L001": ("Amber", "Weak.", "No plan.")})
    typo = refs_of(generation, "R02")[0]
    answer(generation.files["R02"], assessment.inbox / "typo.xlsx", {typo: ("Ambr", "Weak.", "")})
    first = {f["file"]: f for f in json.loads(run("ingest", assessment.folder, "--json").output)["files"]}
    again = {f["file"]: f for f in json.loads(run("ingest", assessment.folder, "--json").output)["files"]}
    issued = len(refs_of(generation, "R01"))
    assert (first["a.xlsx"]["answered"], first["a.xlsx"]["issued"]) == (1, issued)
    assert (again["a.xlsx"]["answered"], again["a.xlsx"]["issued"]) == (1, issued)  # as when it was new
    found = first["typo.xlsx"]["problems"]
    assert [(p["code"], p["file"], p["sheet"]) for p in found] == [("SCORE_INVALID", "typo.xlsx", "Review")]
    assert found[0]["cell"]
    assert [p["code"] for p in again["typo.xlsx"]["problems"]] == ["ALREADY_INGESTED", "SCORE_INVALID"]
    assert again["typo.xlsx"]["problems"][1] == found[0]  # the same file, sheet and cell, as it was said


def test_new_never_overwrites_an_assessment(assessment):
    before = assessment.workbook.read_bytes()
    result = run("new", assessment.folder)
    assert result.exit_code == 1
    assert result.output == (f"error: {assessment.folder}: an assessment already exists here. Choose another "
                             "folder; an assessment is never overwritten.\n")
    assert assessment.workbook.read_bytes() == before


def test_a_folder_that_is_not_an_assessment(tmp_path):
    result = run("report", tmp_path)
    assert result.exit_code == 1
    assert result.output == (f"error: {tmp_path}: this folder is not an assessment (no assessment.xlsx). "
                             f"Create one with: bva new {tmp_path}\n")


def test_generate_reports_a_broken_framework_with_every_cell(assessment):
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Characteristics"]
    sheet["A3"] = "CI001"
    sheet["B4"] = "Nonsense"
    workbook.save(assessment.workbook)
    result = run("generate", assessment.folder)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: assessment.xlsx, sheet 'Characteristics', cell A3: ref CI001 is listed twice (also at A2). "
        "Give each characteristic its own ref.",
        "error: assessment.xlsx, sheet 'Characteristics', cell B4: theme 'Nonsense' is not one of the seven "
        "Best Value themes. Use one of: Continuous improvement, Leadership, Governance, Culture, Use of "
        "resources, Service delivery, Partnerships and community engagement."]


def test_usage_errors_exit_2(assessment):
    assert run("generate", assessment.folder, "--per-characteristic", "0").exit_code == 2
    assert run("generate", assessment.folder, "--deadline", "next week").exit_code == 2


def test_report_before_generate_is_still_a_report(assessment):
    result = run("report", assessment.folder)
    assert result.exit_code == 0
    assert "0 of 6 characteristics scored" in result.output


def test_demo_runs_the_whole_loop_and_exits_0(tmp_path):
    folder = tmp_path / "demo assessment"
    result = run("demo", folder)
    assert result.exit_code == 0, result.output
    assert "    rejected   " in result.output
    assert "'Ambr' is not a rating on the scale (did you mean 'Amber'?)" in result.output
    workbook = openpyxl.load_workbook(folder / "report.xlsx")
    returns = {row[0]: row[4] for row in workbook["Returns"].iter_rows(min_row=2, values_only=True)}
    # Six reviewers' returns and R01's resend (which answers everything again), two moderators'.
    assert sorted(returns.values()) == ["accepted"] * 8 + ["rejected", "superseded"]
    assert "findings need a moderator's look" in result.output
    assert "moderation round: 2 moderation workbooks" in result.output
    assert "signed off by Alex Morgan, Chief Executive" in result.output
    checked = run("check", folder).output
    assert "R02 scores 1.4 scale steps above colleagues [R02]" in checked  # the kind reviewer is named
    assert "R05 scores 1.1 scale steps below colleagues [R05]" in checked
    assert "SD006   Reviewers are 3 scale steps apart" in checked and "resolved: moderated to Yellow" in checked
    assert "signed off by Alex Morgan, Chief Executive" in workbook["Heat map"]["A2"].value
    kinds = {row[2] for row in workbook["Consistency"].iter_rows(min_row=2, values_only=True)}
    assert {"Reviewers are 3 scale steps apart", "Dark green although the reviewer lists gaps",
            "Amber with no commentary to justify it", "Grey (not scored) with no reason given"} <= kinds
    summary = [row for row in workbook["Summary"].iter_rows(values_only=True) if row[0]]
    assert any(row[0] == "R08 Mark Ellis" and row[3] == "Outstanding" for row in summary)
    assert any(row[0] == "R06 David Mensah" and row[3] == "Outstanding (1 file rejected)" for row in summary)
    scores = openpyxl.load_workbook(folder / "report.xlsx", data_only=True)["Scores"]
    finals = [row[6] for row in scores.iter_rows(min_row=2, values_only=True)]
    assert len(finals) == 73
    scored = [f for f in finals if f]
    assert max(set(scored), key=scored.count) == "Light green"  # the usual majority colour
    assert "Grey" in finals


def test_demo_can_run_again_but_never_over_a_real_assessment(tmp_path, assessment):
    folder = tmp_path / "demo"
    assert run("demo", folder).exit_code == 0
    again = run("demo", folder)
    assert again.exit_code == 0
    assert again.output.startswith(f"Replaced the earlier demo in {folder}\n")
    before = assessment.workbook.read_bytes()
    refused = run("demo", assessment.folder)
    assert refused.exit_code == 1
    assert "an assessment already exists here" in refused.output
    assert assessment.workbook.read_bytes() == before


def test_check_lists_findings_by_severity_and_exits_1_while_any_is_open(generated):
    assessment, generation = generated
    for reviewer_id, path in generation.files.items():
        refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
        answers = {ref: ("Light green", "Fine.", "None") for ref in refs}
        if "L001" in answers:
            answers["L001"] = ("Dark green", "Strong.", "") if reviewer_id == "R01" else ("Amber", "Weak.", "No plan")
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx", answers)
    run("ingest", assessment.folder)
    result = run("check", assessment.folder)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:3] == ["High (1)", "  L001    Reviewers are 3 scale steps apart [R01, R03]",
                         "      R01 Dark green, R03 Amber"]
    assert lines[-2] == "1 findings need a moderator's look (1 high, 0 medium); 0 low to note; 0 resolved by moderation."
    assert json.loads(run("check", assessment.folder, "--json").output)["must_look"] == 1
    assert run("check", assessment.folder, "--spread", "4").exit_code == 0
    refused = run("check", assessment.folder, "--action-threshold", "yelow")
    assert refused.exit_code == 2  # a mistake in the command line
    assert refused.output == ("error: 'yelow' is not a scored rating on the scale (did you mean 'Yellow'?). "
                              "Choose one of: Dark green, Light green, Yellow, Amber, Red.\n")
    assert "'Grey' is not a scored rating" in run("report", assessment.folder, "--action-threshold", "Grey").output


@pytest.mark.subprocess
def test_each_command_s_help_loads_none_of_the_heavy_libraries():
    """`bva report --help` loads that command, but not the libraries its work needs (numpy, pandas, the workbook
    libraries, matplotlib): they load when the work starts."""
    import subprocess
    import sys

    code = ("import sys; from bva_excel.cli import cli; from bva_excel.cli.base import COMMANDS\n"
            "for name in COMMANDS:\n"
            "    try: cli.main([name, '--help'], standalone_mode=False)\n"
            "    except SystemExit: pass\n"
            "print(sorted(m for m in ('pandas', 'numpy', 'openpyxl', 'xlsxwriter', 'matplotlib') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip().splitlines()[-1] == "[]"


@pytest.mark.subprocess
def test_help_loads_none_of_the_heavy_libraries():
    """`bva --help` answers at once: reading and writing libraries load only when a command needs them."""
    import subprocess
    import sys

    code = ("import sys; from bva_excel.cli import cli; cli.main(['--help'], standalone_mode=False); "
            "print(sorted(m for m in ('pandas', 'numpy', 'openpyxl', 'xlsxwriter', 'python_calamine', 'sqlite3', "
            "'bva_excel.cli.issuing', 'bva_excel.app.report') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip().splitlines()[-1] == "[]"


def test_ingest_names_the_reviewers_still_to_return_until_all_have(generated):
    from conftest import refs_of

    assessment, generation = generated
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx",
           {ref: ("Yellow", "Seen.", "") for ref in refs_of(generation, "R01")})
    said = run("ingest", assessment.folder)
    assert "Still to return their review: R02 Bob Stone, R03 Cai Wyn." in said.output
    for reviewer_id in ("R02", "R03"):
        answer(generation.files[reviewer_id], assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: ("Yellow", "Seen.", "") for ref in refs_of(generation, reviewer_id)})
    said = run("ingest", assessment.folder)
    assert said.exit_code == 0 and "Still to return" not in said.output


def test_every_problem_the_tool_can_report_has_a_severity_a_message_a_fix_and_named_placeholders():
    """The catalogue as the type checker sees it: each code an Enum member with its severity, what is wrong and
    how to fix it; each placeholder names a field given where the problem is made."""
    import re

    from bva_excel.errors import CATALOGUE, ERROR, NOTE, WARNING, Code

    assert set(CATALOGUE) == {code.name for code in Code}
    for code in Code:
        severity, what, fix = code.value
        assert severity in (ERROR, WARNING, NOTE), code
        assert what.strip() and fix.strip(), code
        assert all(re.fullmatch(r"[a-z_]+(:[^{}]*)?", name) for name in re.findall(r"{([^{}]*)}", what + fix)), code


def test_every_problem_made_in_the_code_is_given_every_field_its_words_need():
    """Read from the source, so that a path no other test takes is checked too: a problem made without a field
    its message needs would fail where it is made."""
    import ast
    from pathlib import Path

    import bva_excel
    from bva_excel.errors import Code

    missing = []
    for path in Path(bva_excel.__file__).parent.rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "problem" and call.args
                    and isinstance(call.args[0], ast.Attribute) and getattr(call.args[0].value, "id", "") == "Code"):
                continue
            if any(keyword.arg is None for keyword in call.keywords):  # **fields: given as a whole, checked on use
                continue
            needed = Code[call.args[0].attr].value.fields - {keyword.arg for keyword in call.keywords}
            if needed:
                missing.append(f"{path.name}:{call.lineno} {call.args[0].attr} lacks {sorted(needed)}")
    assert missing == []


def test_a_framework_error_is_said_once_and_a_json_reader_gets_it_as_json(generated):
    assessment, _ = generated
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Characteristics"]
    sheet.append([sheet.cell(2, column).value for column in range(1, sheet.max_column + 1)])  # a ref listed twice
    workbook.save(assessment.workbook)
    checked = CliRunner().invoke(cli, ["check", str(assessment.folder)])
    assert checked.exit_code == 1
    assert checked.output.count("is listed twice") == 1, checked.output
    as_json = CliRunner().invoke(cli, ["check", str(assessment.folder), "--json"])
    assert as_json.exit_code == 1
    [error] = json.loads(as_json.stdout)["errors"]
    assert error["code"] == "REF_DUPLICATE" and error["sheet"] == "Characteristics"
