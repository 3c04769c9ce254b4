"""Every command on a stream that cannot encode a name: Windows' code page cp1252, as when output is redirected.

Each command runs as a user runs it (`python -m bva_excel`, PYTHONIOENCODING=cp1252) and again in
this process on UTF-8; both must do the same work, exit alike and say the same, with the characters
cp1252 lacks written as escapes, never as a traceback.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from conftest import answer, make_framework

from bva_excel.cli import cli
from bva_excel.store.folder import open_assessment

ROOT = Path(__file__).resolve().parents[1]
REVIEWERS = [["R01", "王 Wei", "wei@example.gov.uk", "财务"],
             ["R02", "Siân Roberts", "sian@example.gov.uk", "Tai"],
             ["R03", "Ольга Петрова", "olga@example.gov.uk", "Юридический отдел"],
             ["R04", "محمد علي", "m.ali@example.gov.uk", "الإسكان"],
             ["R05", "Zoë 🙂 Smith", "zoe@example.gov.uk", "Housing"],
             ["R06", "Γιώργος Παππάς", "g.pappas@example.gov.uk", "Οικονομικά"]]
# Every row lists its reviewers, so that what each reviewer is sent does not depend on the allocation.
CHARACTERISTICS = [
    ["CI001", "Continuous improvement", "Services improve", "我们在改进。", "План А", "Ольга Петрова", "R01"],
    ["L001", "Leadership", "Clear vision", "Μια σαφής όραση.", "خطة", "王 Wei", "R02, R03"],
    ["G001", "Governance", "Robust scrutiny", "Scrutiny is robust 🙂.", "Cofnodion", "Γιώργος Παππάς", "R05"],
    ["R001", "Use of resources", "Internal control", "Контроль работает.", "Audit", "", "R04, R06"],
    ["SD001", "Service delivery", "Customer focus", "We listen.", "Survey", "محمد علي", "R01"],
]
COMMENTARY = {"R01": "理由充分", "R02": "Da iawn", "R03": "Хорошо", "R04": "جيد", "R05": "Great 🙂", "R06": "Καλό"}
FOLDER = "Оценка 2026 — 王"
ESCAPE = re.compile(r"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))")


def unescape(text: str) -> str:
    """Text as it was before the stream escaped what it could not encode."""
    return ESCAPE.sub(lambda m: chr(int(next(g for g in m.groups() if g), 16)), text)


def masked(text: str) -> str:
    """Without what each run makes afresh: the assessment ID, the sheets' password and the time."""
    text = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "TIME", text)
    return re.sub(r"locked with: \S+", "locked with: PASSWORD", re.sub(r"BV-\d{4}-[0-9A-F]{6}", "BV-ID", text))


def on_cp1252(cwd: Path, *args: str) -> tuple[int, str, str]:
    """Run the command as `python -m bva_excel` with cp1252 output; the output must decode as cp1252."""
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bva_excel", *args], cwd=cwd, env=env, capture_output=True)
    stdout, stderr = done.stdout.decode("cp1252"), done.stderr.decode("cp1252")
    assert "Traceback" not in stderr, stderr
    return done.returncode, stdout, stderr


def on_utf8(cwd: Path, monkeypatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(cli, list(args), prog_name="bva", catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def fill_returns(folder: Path) -> None:
    """A return from every reviewer under a name in their own script, and one with a typo in a score."""
    for number, path in enumerate(sorted((folder / "outbox").iterdir())):
        reviewer_id = path.name.split()[2]
        refs = [c[0] for c in CHARACTERISTICS]
        score = "Ambr" if reviewer_id == "R06" else "Light green"
        answer(path, folder / "inbox" / f"Ответ {number} {COMMENTARY[reviewer_id]}.xlsx",
               {ref: (score, COMMENTARY[reviewer_id], "Нет") for ref in refs})


MODERATED = "Зелёный 🙂"


def moderate(report: Path) -> None:
    """Type a moderated score that is not on the scale: `check` warns about it, quoting it."""
    workbook = openpyxl.load_workbook(report)
    sheet = workbook["Scores"]
    column = next(cell.column for cell in sheet[1] if cell.value == "Moderated score")
    sheet.cell(2, column, MODERATED)
    workbook.save(report)


STEPS = [("new", FOLDER, "--template", "../framework.xlsx", "--title", "Самооценка 2026 🙂"),
         ("generate", FOLDER, "--deadline", "2026-12-18", "--return-to", "王@example.gov.uk"),
         ("ingest", FOLDER), ("ingest", FOLDER, "--json"), ("report", FOLDER), ("check", FOLDER),
         ("check", FOLDER, "--json"), ("generate", FOLDER, "--moderation", "--moderators", "R02,R06", "--all"),
         ("signoff", FOLDER, "--by", "Ольга Петрова, Директор", "--accept-open"),
         ("generate", FOLDER, "--show-password"),
         ("report", "Ничего 王"), ("generate", "Ω", "folder")]


def test_every_command_on_cp1252_does_and_says_what_it_does_on_utf8(tmp_path, monkeypatch):
    make_framework(tmp_path / "framework.xlsx", characteristics=CHARACTERISTICS, reviewers=REVIEWERS)
    places = {"cp1252": tmp_path / "cp1252", "utf8": tmp_path / "utf8"}
    for place in places.values():
        (place / "Ω folder").mkdir(parents=True)  # typed without quotes: a usage error that says how to quote
        (place / "Ничего 王").mkdir()  # not an assessment
    exits, said = {"cp1252": [], "utf8": []}, []
    for step in STEPS:
        for place in places.values():
            if step == ("ingest", FOLDER):
                fill_returns(place / FOLDER)
            if step == ("check", FOLDER):
                moderate(place / FOLDER / "report.xlsx")
        code, cp_out, cp_err = on_cp1252(places["cp1252"], *step)
        utf_code, utf_out, utf_err = on_utf8(places["utf8"], monkeypatch, *step)
        exits["cp1252"].append(code)
        exits["utf8"].append(utf_code)
        said.append(cp_out)
        if "--json" in step:
            assert cp_out.isascii()
            assert strip_hashes(json.loads(cp_out)) == strip_hashes(json.loads(utf_out))
        else:
            assert masked(unescape(cp_out)) == masked(utf_out), step
        assert unescape(cp_err) == utf_err, step
    assert exits["cp1252"] == exits["utf8"] == [0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 2]
    assert same_work(places["cp1252"] / FOLDER) == same_work(places["utf8"] / FOLDER)
    assert "  BV review R01 \\u738b Wei.xlsx  (2 characteristics)" in said[1].splitlines()
    assert "  BV review R05 Zo\u00eb \\U0001f642 Smith.xlsx  (1 characteristic)" in said[1].splitlines()
    files = {f["file"]: f for f in json.loads(said[3])["files"]}
    assert files["Ответ 0 理由充分.xlsx"]["reviewer"] == "R01"
    assert {(p["code"], p["file"]) for p in files["Ответ 5 Καλό.xlsx"]["problems"]} >= {
        ("SCORE_INVALID", "Ответ 5 Καλό.xlsx")}
    warnings = json.loads(said[6])["warnings"]
    assert [w["message"] for w in warnings] == [
        f"the moderated score '{MODERATED}' for CI001 is not a rating on the scale"]


def strip_hashes(data: dict) -> dict:
    """The JSON without the files' SHA-256 (each run issues its own workbooks, so its returns differ)."""
    for entry in data.get("files", []):
        entry.pop("sha256")
    return data


def same_work(folder: Path) -> tuple:
    """What a run did: workbooks issued, returns and answers recorded, scores in the report."""
    records = open_assessment(folder).records
    returns = [(r.name, r.status, r.reviewer_id, r.answered) for r in records.returns()]
    answers = sorted((r.ref, r.reviewer_id, r.rating, r.commentary, r.gaps, r.file)
                     for answers in records.responses_by_return(r.return_id for r in records.returns()).values()
                     for r in answers)
    scores = [row[:7] for row in openpyxl.load_workbook(folder / "report.xlsx")["Scores"].iter_rows(values_only=True)]
    return sorted(p.name for p in (folder / "outbox").iterdir()), returns, answers, scores


def test_demo_on_cp1252_in_a_folder_named_in_another_script(tmp_path):
    code, out, err = on_cp1252(tmp_path, "demo", "Демо 王")
    assert (code, err) == (0, "")
    assert "Demo assessment BV-" in out and "in \\u0414\\u0435\\u043c\\u043e \\u738b" in out
    assert (tmp_path / "Демо 王" / "report.xlsx").is_file()
