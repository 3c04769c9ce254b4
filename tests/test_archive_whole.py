"""The archive of accepted returns is made whole again from the inbox, or what is missing is named on every
command: a folder copied file by file while ingest ran can hold records of returns whose copy never arrived."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import return_all

from bva_excel.cli import cli
from bva_excel.store.folder import open_assessment


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _returned(generated):
    assessment, generation = generated
    return_all(assessment, generation, {}, ("Light green", "Seen.", ""))
    assert run("ingest", assessment.folder).exit_code == 0
    archived = sorted((assessment.records_dir / "archive").iterdir())
    assert archived
    return assessment, archived


def test_an_archive_copy_that_never_arrived_is_put_back_from_the_inbox(generated):
    assessment, archived = _returned(generated)
    lost = random.Random(7).sample(archived, 2)
    kept = {path.name: path.read_bytes() for path in lost}
    for path in lost:
        path.unlink()
    result = run("check", assessment.folder)
    assert "2 returned files missing from .bva/archive/ were put back from the inbox" in result.output
    assert {path.name: path.read_bytes() for path in lost} == kept
    again = run("report", assessment.folder)
    assert ".bva/archive/" not in again.output  # whole again: nothing more to say


def test_a_return_with_no_copy_anywhere_is_named_by_every_command_until_it_is_back(generated):
    assessment, archived = _returned(generated)
    [record] = [r for r in open_assessment(assessment.folder).records.returns()
                if r.status == "accepted" and r.archive.endswith(archived[0].name)]
    elsewhere = shutil.move(assessment.inbox / record.name, assessment.folder.parent / "kept.xlsx")
    archived[0].unlink()
    for command in ("check", "report", "ingest"):
        result = run(command, assessment.folder)
        assert (f"warning: 1 accepted return has no copy in .bva/archive/ and none in the inbox: {record.name}. "
                "Their answers are in the records and still count") in result.output, command
    shutil.copy(elsewhere, assessment.inbox / "found it again.xlsx")  # the advice, followed: any name will do
    result = run("check", assessment.folder)
    assert "1 returned file missing from .bva/archive/ was put back from the inbox" in result.output
    assert archived[0].exists()
    assert ".bva/archive/" not in run("check", assessment.folder).output


def test_a_file_of_the_same_name_with_other_bytes_is_not_taken_for_the_lost_copy(generated):
    assessment, archived = _returned(generated)
    [record] = [r for r in open_assessment(assessment.folder).records.returns()
                if r.status == "accepted" and r.archive.endswith(archived[0].name)]
    (assessment.inbox / record.name).write_bytes(b"not the file that was returned")
    archived[0].unlink()
    result = run("check", assessment.folder)
    assert f"1 accepted return has no copy in .bva/archive/ and none in the inbox: {record.name}" in result.output
    assert not archived[0].exists()


@pytest.mark.subprocess
@pytest.mark.parametrize("delay", [0.05, 0.15])
def test_a_folder_copied_file_by_file_while_ingest_runs_is_whole_or_says_what_is_missing(generated, tmp_path, delay):
    """As a sync client copies a folder: one file at a time, in its own order, while ingest writes."""
    import os
    import subprocess
    import sys
    import time

    assessment, generation = generated
    for copy in range(3):  # more returns, so that ingest writes for a while
        return_all(assessment, generation, {}, (["Amber", "Yellow", "Light green"][copy], "Seen.", ""))
        for path in list(assessment.inbox.glob("R0?.xlsx")):
            path.rename(path.with_name(f"{path.stem} take {copy}.xlsx"))
    assessment.records.close()
    ingest = subprocess.Popen([sys.executable, "-m", "bva_excel", "ingest", str(assessment.folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    target = tmp_path / "synced" / assessment.folder.name
    files = [Path(root) / name for root, _, names in os.walk(assessment.folder) for name in names]
    random.Random(delay).shuffle(files)
    for path in files:
        (target / path.relative_to(assessment.folder)).parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, target / path.relative_to(assessment.folder))
        except FileNotFoundError:  # gone meanwhile (a temporary file): a sync client skips it too
            pass
    assert ingest.wait(timeout=120) in (0, 1)
    result = run("check", target)
    assert "Traceback" not in result.output
    if result.exit_code == 1 and "records" in result.output.split("\n")[0]:
        return  # the records arrived damaged or unfinished: said as such, nothing written into them
    records = open_assessment(target).records
    archived = records.archived()
    missing = [name for name, _, archive in archived if not (target / archive).exists()]
    assert not missing, (missing, result.output)  # put back from the inbox by the command, or it would be named
    named = [line for line in result.output.splitlines() if ".bva/archive/" in line]
    assert all("put back from the inbox" in line for line in named)

