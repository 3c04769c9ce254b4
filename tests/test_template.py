"""The committed template is exactly what scripts/build_template.py makes from templates/source/."""

import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

from bva_excel.excel.read.framework import load_framework

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "assessment_template.xlsx"


def parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()}


def test_committed_template_is_what_the_script_builds(tmp_path):
    built = tmp_path / "built.xlsx"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_template.py"), "--out", str(built)],
                   check=True, capture_output=True)
    committed, rebuilt = parts(TEMPLATE), parts(built)
    assert sorted(committed) == sorted(rebuilt)
    for name in committed:
        assert committed[name] == rebuilt[name], (
            f"{name} differs: run python scripts/build_template.py and commit the template")


def test_default_template_holds_the_seven_themes_and_73_characteristics():
    framework = load_framework(TEMPLATE)
    counts = Counter(c.theme.prefix for c in framework.characteristics)
    assert counts == {"CI": 12, "L": 12, "G": 10, "C": 10, "R": 12, "SD": 10, "PCE": 7}
    assert [r.name for r in framework.scale.ratings] == [
        "Dark green", "Light green", "Yellow", "Amber", "Red", "Grey"]
    assert [r.value for r in framework.scale.ratings] == [5, 4, 3, 2, 1, None]
    assert all(c.text for c in framework.characteristics)


def test_template_has_the_contract_sheets_and_headers():
    import openpyxl

    workbook = openpyxl.load_workbook(TEMPLATE)
    assert set(workbook.sheetnames) == {"Scale", "Characteristics", "Reviewers", "Guide", "Service areas"}
    header = {name: [c.value for c in workbook[name][1]]
              for name in ("Scale", "Characteristics", "Reviewers", "Service areas")}
    assert header["Scale"] == ["Rating", "Colour", "Value", "Meaning"]
    assert header["Characteristics"] == ["Ref", "Theme", "Characteristic", "Position statement", "Evidence",
                                         "Drafted by", "Reviewers"]
    assert header["Reviewers"] == ["Reviewer ID", "Name", "Email", "Service area"]
    assert header["Service areas"] == ["Service area", "Head of service", "Email"]
