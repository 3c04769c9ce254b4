"""The benchmark runs as shipped: at a tiny size, every section of it prints its figures and verdicts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.subprocess
def test_the_benchmark_runs_at_a_tiny_size_and_prints_every_figure(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--returns", "3",
                           "--allocation", "10,40", "--no-commands"], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    said = done.stdout
    assert "load average" in said.splitlines()[0]
    for figure in ("10 reviewers", "40 reviewers", "4x the reviewers", "calamine read, bare",
                   "pandas.read_excel loop", "bva ingest ", "x calamine on the clock", "x in CPU",
                   "bva ingest, one new file", "x XlsxWriter alone", "bva check"):
        assert figure in said, figure
    assert "Traceback" not in done.stderr
