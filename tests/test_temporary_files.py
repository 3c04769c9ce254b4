"""Temporary files stay inside the assessment's records, and what a killed run left there is cleared by the next."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import answer, refs_of

from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def parts_being_written(system_temp: Path, scratch: Path) -> bool:
    """XlsxWriter's temporary parts of a workbook exist (wherever they are put)."""
    return any(p.name.startswith("tmp") for p in files_under(system_temp) + files_under(scratch))


@pytest.mark.subprocess
def test_a_report_killed_while_writing_leaves_nothing_in_the_system_temp_folder_and_the_next_run_clears_up(
        generated, tmp_path):
    assessment, generation = generated
    for reviewer_id, path in generation.files.items():
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: ("Amber", "Seen.", "A gap.") for ref in refs_of(generation, reviewer_id)})
    ingest(assessment)
    write_report(assessment)
    assessment.records.close()
    system_temp = tmp_path / "system temp"
    system_temp.mkdir()
    scratch = assessment.records_dir / "tmp"
    environment = {**os.environ, "TMPDIR": str(system_temp), "TEMP": str(system_temp), "TMP": str(system_temp)}

    killed = False
    for _ in range(5):  # a kill at the moment wanted; tried again if the report finished first
        process = subprocess.Popen([sys.executable, "-m", "bva_excel", "report", str(assessment.folder)], cwd=ROOT,
                                   env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if parts_being_written(system_temp, scratch):
                process.kill()
                killed = True
                break
            time.sleep(0.0005)
        process.wait()
        if killed:
            break
    assert killed, "the report never got as far as writing its parts"

    assert files_under(system_temp) == []
    assert files_under(scratch)  # the killed run's parts, in the assessment's own records

    result = CliRunner().invoke(cli, ["report", str(assessment.folder)], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert files_under(scratch) == []


def test_a_run_that_ends_leaves_no_temporary_folder(generated):
    assessment, _ = generated

    CliRunner().invoke(cli, ["report", str(assessment.folder)], catch_exceptions=False)

    assert list((assessment.records_dir / "tmp").iterdir()) == []
