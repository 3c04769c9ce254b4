"""File names and paths as Windows treats them: names made from people's names, paths in deep network folders."""

import os
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer
from progress_helpers import _flagged_once, flagged  # noqa: F401  (fixtures)
from test_progress import planned  # noqa: F401  (fixture)

from bva_excel.app.ingest import ingest
from bva_excel.app.issue import generate
from bva_excel.app.new import create_assessment
from bva_excel.app.report import write_report
from bva_excel.cli import cli
from bva_excel.errors import BvaError
from bva_excel.store.files import (
    NAME_LIMIT,
    PATH_LIMIT,
    replacing,
    safe_file_name,
    windows_length,
)
from bva_excel.store.folder import FOLDER_ROOM

DEVICES = ["CON", "PRN", "AUX", "NUL", "COM1", "COM9", "LPT1", "LPT9", "COM\u00b9", "LPT\u00b3", "CONIN$", "CONOUT$"]


def valid_on_windows(name: str) -> bool:
    """Windows' own rules for a file name, written out independently of the code under test."""
    base = name.split(".")[0].rstrip(" ").upper()
    return (bool(name) and not re.search(r'[<>:"/\\|?*\x00-\x1f]', name) and name[-1] not in ". "
            and base not in DEVICES)


@pytest.mark.parametrize("text, expected", [
    ("BV review R01 Ann Lee", "BV review R01 Ann Lee.xlsx"),
    ('a<b>c:d"e/f\\g|h?i*j', "a b c d e f g h i j.xlsx"),
    ("tab\tnew\nline\x00nul\x1fus", "tab new line nul us.xlsx"),
    ("  Ann   Lee  ", "Ann Lee.xlsx"),
    ("Ann Lee.", "Ann Lee.xlsx"),
    ("Ann Lee . . ", "Ann Lee.xlsx"),
    ("...hidden", "hidden.xlsx"),
    ("王 Wei", "王 Wei.xlsx"),
    ("???", "file.xlsx"),
    ("", "file.xlsx"),
])
def test_names_lose_what_windows_refuses(text, expected):
    assert safe_file_name(text, ".xlsx") == expected


@pytest.mark.parametrize("device", DEVICES + [d.lower() for d in DEVICES] + ["Nul", "cOm3"])
@pytest.mark.parametrize("suffix", ["", ".xlsx"])
def test_a_device_name_alone_or_with_an_extension_is_not_a_file_name(device, suffix):
    for text in (device, f"{device}.backup", f"{device} .old"):
        name = safe_file_name(text, suffix)
        assert valid_on_windows(name), name
        assert name.startswith("_")


@pytest.mark.parametrize("text", ["CONSOLE", "COM10", "LPT0x", "Connor", "NULL", "Auxiliary services", "R01 CON"])
def test_names_that_only_look_like_devices_are_kept(text):
    assert safe_file_name(text) == text


def test_long_names_are_cut_to_the_limit_without_a_trailing_space_or_dot():
    name = safe_file_name("BV review R01 " + "a" * 40 + " " + "b" * 100, ".xlsx")
    assert name == "BV review R01 " + "a" * 40 + ".xlsx"  # the cut fell on the space, which is dropped
    assert safe_file_name("x" * 300, ".xlsx") == "x" * (NAME_LIMIT - 5) + ".xlsx"
    assert safe_file_name("R01 " + "a" * 50 + ". Jr", ".xlsx") == "R01 " + "a" * 50 + ".xlsx"  # cut on the dot
    assert safe_file_name("R01 " + "a" * 55 + ". Jr") == "R01 " + "a" * 55  # and with no extension
    assert safe_file_name("R07 MAX", ".xlsx") == "R07 MAX.xlsx"  # only spaces and dots are taken off the end
    emoji = safe_file_name("🙂" * 100, ".xlsx")  # each is two UTF-16 units, as Windows counts
    assert (windows_length(emoji), len(emoji)) == (NAME_LIMIT - 1, 27 + 5)


@pytest.mark.parametrize("text", ["CON.", " NUL ", "a" * 59 + ".", "LPT1" + "x" * 80, "x:" * 40, ". . .", "COM1 .."])
def test_every_name_made_is_valid_on_windows_and_short(text):
    for suffix in ("", ".xlsx"):
        name = safe_file_name(text, suffix)
        assert valid_on_windows(name), name
        assert windows_length(name) <= NAME_LIMIT


def folder_of_length(tmp_path, length: int):
    """A folder (not yet made) whose absolute path is exactly `length` characters as Windows counts them
    (its emoji counts two)."""
    base = os.path.abspath(tmp_path)
    return tmp_path / ("🙂" + "d" * (length - len(base) - 3))


def test_replacing_refuses_a_path_windows_could_not_open_before_writing(tmp_path):
    target = folder_of_length(tmp_path, PATH_LIMIT - len(".-12345678.tmp") + 1)
    with pytest.raises(BvaError) as refused:
        with replacing(target):
            raise AssertionError("nothing may be written")
    assert str(refused.value) == (
        f"{target}: its path would be {PATH_LIMIT + 1} characters long, more than Windows can open ({PATH_LIMIT}). "
        "Put the assessment folder nearer the top of the drive (or map a drive letter to the network folder) so "
        "that its path is shorter, then run the command again.")
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_a_folder_too_deep_for_what_it_will_hold(tmp_path, framework_file, monkeypatch):
    deepest = PATH_LIMIT - FOLDER_ROOM
    folder = folder_of_length(tmp_path, deepest + 1)
    monkeypatch.chdir(tmp_path)  # a folder named from where the command runs is as long as its full path
    result = CliRunner().invoke(cli, ["new", folder.name, "--template", str(framework_file)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {folder}: the files kept in this folder would have paths up to {PATH_LIMIT + 1} characters long, "
        f"more than Windows can open ({PATH_LIMIT}). Put the assessment folder nearer the top of the drive (or map "
        f"a drive letter to the network folder) so that its path is shorter (at most {deepest} characters), then "
        "run the command again.\n")
    assert not folder.exists()


def test_in_the_deepest_folder_allowed_every_path_fits(tmp_path, framework_file):
    folder = folder_of_length(tmp_path, PATH_LIMIT - FOLDER_ROOM)
    workbook = openpyxl.load_workbook(framework_file)
    workbook["Reviewers"]["B3"] = "Bob " + "Stone-Smith " * 20  # a workbook name cut to the limit
    workbook.save(framework_file)
    assessment = create_assessment(folder, framework_file)
    first = generate(assessment)
    answer(first.files["R01"], assessment.inbox / "a.xlsx", {"L001": ("Amber", "Weak.", "No plan.")})
    ingest(assessment)
    workbook = openpyxl.load_workbook(assessment.workbook)
    workbook["Reviewers"].delete_rows(3)  # R02 leaves: their long-named workbook is withdrawn
    workbook.save(assessment.workbook)
    withdrawn = generate(assessment).withdrawn
    assert [p.name.startswith(f"{first.files['R02'].stem} (withdrawn ") for p in withdrawn] == [True]
    assert windows_length(first.files["R02"].name) == NAME_LIMIT
    write_report(assessment)
    lengths = [windows_length(os.path.abspath(os.path.join(root, name)))
               for root, _, names in os.walk(folder) for name in names]
    assert max(lengths) == PATH_LIMIT  # the withdrawn workbook: FOLDER_ROOM is exactly what is needed


def test_an_assessment_moved_too_deep_is_refused_before_any_work(tmp_path, assessment):
    deeper = folder_of_length(tmp_path, PATH_LIMIT - FOLDER_ROOM + 1)
    assessment.folder.rename(deeper)
    result = CliRunner().invoke(cli, ["generate", str(deeper)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {deeper}: the files kept in this folder would have paths up to ")
    assert list((deeper / "outbox").iterdir()) == []


def test_the_readme_gives_the_limits_the_tool_keeps():
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split())
    assert f"no name is longer than {NAME_LIMIT} characters" in readme
    assert f"a path longer than {PATH_LIMIT} characters" in readme
    assert f"{FOLDER_ROOM} characters more than the folder's own" in readme
    assert f"full path is longer than {PATH_LIMIT - FOLDER_ROOM} characters" in readme


# Two recipients whose names make one file name.

NORTH = "Children's Services - Early Help and Prevention (North)"
SOUTH = "Children's Services - Early Help and Prevention (South)"


def _outbox(assessment, kind: str = "review") -> dict[str, str]:
    """file in the outbox -> whom the workbook says it is for: a reviewer's ID (a document property), or the
    service area its Guide names."""
    issued = {}
    for path in sorted(assessment.outbox.glob(f"BV {kind} *.xlsx")):
        workbook = openpyxl.load_workbook(path)
        if kind == "progress":
            issued[path.name] = workbook["Guide"]["A2"].value.split("This workbook is for ")[1].rsplit(" (", 1)[0]
        else:
            issued[path.name] = {p.name: p.value for p in workbook.custom_doc_props}["bva_reviewer_id"]
    return issued


def test_reviewers_whose_ids_share_fifty_characters_each_get_their_own_workbook(tmp_path):
    from conftest import make_framework

    long_id = "R-" + "Directorate-of-Place-and-Economy-" * 2
    reviewers = [[f"{long_id}1", "Ann Lee", "", ""], [f"{long_id}2", "Bob Stone", "", ""], ["R03", "Cai Wyn", "", ""]]
    characteristics = [["CI001", "Continuous improvement", "Services improve", "We improve.", "", "", f"{long_id}1"],
                       ["CI002", "Continuous improvement", "Peer challenge", "We invite it.", "", "", f"{long_id}2"],
                       ["L001", "Leadership", "Clear vision", "We have one.", "", "", "R03"]]
    framework = make_framework(tmp_path / "framework.xlsx", characteristics=characteristics, reviewers=reviewers)
    assessment = create_assessment(tmp_path / "BV", framework)

    result = CliRunner().invoke(cli, ["generate", str(assessment.folder)], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    issued = _outbox(assessment)
    assert sorted(issued.values()) == sorted([f"{long_id}1", f"{long_id}2", "R03"])
    assert all(len(name) <= NAME_LIMIT and valid_on_windows(name) for name in issued)
    assert not list(assessment.records_dir.glob("staging-*"))
    recorded = {issue.file: issue.reviewer_id for issue in assessment.records.issues()}
    assert recorded == issued


def test_service_areas_whose_names_make_one_file_name_each_get_their_own_workbook_round_after_round(planned):
    from progress_helpers import list_service_areas, type_plan

    assessment, report = planned
    list_service_areas(assessment, [(NORTH, "Nia Hart", ""), (SOUTH, "Sam Cole", ""),
                                    ("Planning/Regeneration", "Pat Ode", ""), ("Planning:Regeneration", "Raj Oak", "")])
    type_plan(report, {"ACT-CI001": {"Service area": NORTH}, "ACT-CI001-2": {"Service area": SOUTH},
                       "ACT-G001": {"Service area": "Planning/Regeneration"}},
              [("ACT-G001", {"Action": "Town plan", "Owner": "Raj", "Service area": "Planning:Regeneration"})])
    write_report(assessment)

    first = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"], catch_exceptions=False)

    assert first.exit_code == 0, first.output
    issued = _outbox(assessment, "progress")
    assert sorted(issued.values()) == sorted([NORTH, SOUTH, "Planning/Regeneration", "Planning:Regeneration"])
    named = {area: name for name, area in issued.items()}
    assert named[NORTH].endswith("(North).xlsx") and named[SOUTH].endswith("(South).xlsx")  # told apart at a glance
    assert all(len(name) <= NAME_LIMIT and valid_on_windows(name) for name in issued)
    assert not list(assessment.records_dir.glob("staging-*"))

    again = CliRunner().invoke(cli, ["generate", str(assessment.folder), "--progress"], catch_exceptions=False)

    assert again.exit_code == 0, again.output
    assert _outbox(assessment, "progress") == issued  # everyone keeps their name: nobody's workbook replaces another's
