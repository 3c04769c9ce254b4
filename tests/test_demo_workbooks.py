"""The workbooks of the demo exercise, cell for cell, as the tool wrote them when this test was made: a change
to how the code is laid out must not change what anyone reads (times, dates, IDs and hashes made alike).

After a change that is meant to alter what the workbooks hold, write the expectation again and read its diff:
    BVA_WRITE_EXPECTED=1 python -m pytest tests/test_demo_workbooks_unchanged.py
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sheet_setup import workbook_setup
from workbook_cells import alike, folder_cells

from bva_excel.cli import cli

EXPECTED = Path(__file__).parent / "data" / "demo-workbooks.json.gz"
EXPECTED_SETUP = Path(__file__).parent / "data" / "demo-sheet-setup.json"
WORKBOOKS = ["assessment.xlsx", "report.xlsx", "outbox/*.xlsx", "follow-up *.xlsx", "detail/*.xlsx", "actions.xlsx"]


@pytest.fixture(scope="module")
def demo_year(tmp_path_factory) -> Path:
    """The demo, then the rest of the year's workbooks: progress round, follow-up, export and detail."""
    folder = tmp_path_factory.mktemp("demo") / "demo"
    for command in (["demo", folder], ["generate", folder, "--progress", "--deadline", "2027-01-15"],
                    ["follow-up", folder], ["actions", folder, "--xlsx", folder / "actions.xlsx"],
                    ["detail", folder, "SD006", "CI001"]):
        result = CliRunner().invoke(cli, [str(part) for part in command], catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output
    return folder


@pytest.fixture(scope="module")
def written(demo_year) -> dict:
    return folder_cells(demo_year, WORKBOOKS)


def test_every_workbook_of_the_demo_holds_what_it_held(written):
    written = {name: [[sheet, values] for sheet, values in sheets.items()] for name, sheets in written.items()}
    if os.environ.get("BVA_WRITE_EXPECTED"):
        EXPECTED.write_bytes(gzip.compress(json.dumps(written, indent=1, sort_keys=True).encode(), mtime=0))
    expected = json.loads(gzip.decompress(EXPECTED.read_bytes()))

    assert sorted(written) == sorted(expected)
    for name, sheets in expected.items():
        assert [sheet for sheet, _ in written[name]] == [sheet for sheet, _ in sheets], name  # in their order
        for (sheet, values), (_, now) in zip(sheets, written[name]):
            differ = {cell: (values.get(cell), now.get(cell)) for cell in set(values) | set(now)
                      if values.get(cell) != now.get(cell)}
            assert not differ, (name, sheet, dict(sorted(differ.items())[:10]))


def test_every_sheet_of_the_demo_is_set_up_as_it_was(demo_year):
    found = {alike(path.relative_to(demo_year).as_posix()): workbook_setup(path)
             for pattern in WORKBOOKS for path in sorted(demo_year.glob(pattern))}
    if os.environ.get("BVA_WRITE_EXPECTED"):
        EXPECTED_SETUP.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(EXPECTED_SETUP.read_text(encoding="utf-8"))

    assert sorted(found) == sorted(expected)
    for name, sheets in expected.items():
        assert [sheet for sheet, _ in found[name]] == [sheet for sheet, _ in sheets], name
        for (sheet, setup), (_, now) in zip(sheets, found[name]):
            assert now == setup, (name, sheet)
