"""An export written with -o, --csv or --xlsx never replaces or lands among what the tool keeps."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from progress_helpers import _flagged_once, flagged  # noqa: F401  (fixtures)

from bva_excel.cli import cli

KEPT = [".bva/records.sqlite", ".bva/secret", ".bva/new.csv", "assessment.xlsx", "report.xlsx", "REPORT.xlsx",
        "inbox/R01.xlsx", "outbox/anything.xlsx", "history/a.xlsx", "inbox/../.bva/records.sqlite"]
EXPORTS = [("actions", "--csv"), ("actions", "--xlsx"), ("detail", "-o"), ("follow-up", "-o")]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def arguments(command: str, option: str, folder, target) -> list:
    return [command, folder, *(["CI001"] if command == "detail" else []), option, target]


def snapshot(folder) -> dict:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name not in ("lock", "lock-holder.json")}


@pytest.mark.parametrize("command,option", EXPORTS)
def test_an_export_over_the_tools_own_files_is_refused_and_nothing_changes(flagged, command, option):  # noqa: F811
    assessment, _ = flagged
    folder = assessment.folder
    before = snapshot(folder)

    for kept in KEPT:
        result = run(*arguments(command, option, folder, folder / kept))

        assert result.exit_code == 2, kept
        assert "which bva keeps; nothing was written. Write it somewhere else, such as" in result.output
    assert snapshot(folder) == before


@pytest.mark.parametrize("command,option", EXPORTS)
def test_an_export_beside_them_is_written(flagged, command, option):  # noqa: F811
    assessment, _ = flagged
    for beside in ["outboxes/report copy.xlsx"]:
        target = assessment.folder / beside
        target.parent.mkdir(exist_ok=True)
        if option != "--csv":
            target = target.with_suffix(".xlsx")

        result = run(*arguments(command, option, assessment.folder, target))

        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0


def test_pictures_are_never_drawn_into_the_tools_folders(flagged):  # noqa: F811
    assessment, _ = flagged
    before = snapshot(assessment.folder)

    for out in [".bva", ".bva/pictures", "Inbox", "outbox/pictures", "history"]:
        result = run("picture", assessment.folder, "-o", assessment.folder / out)

        assert result.exit_code == 2 and "which bva keeps" in result.output, out
    assert snapshot(assessment.folder) == before
    assert run("picture", assessment.folder, "-o", assessment.folder / "for committee").exit_code == 0
    assert (assessment.folder / "for committee" / "heat map.png").exists()
