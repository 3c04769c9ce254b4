"""How bva copes at size: ingest, report and check over N returns, against baselines measured in the same run.

    python scripts/benchmark.py --returns 200,400,2000

For each N it makes an assessment whose reviewers each return one filled workbook of about 20
characteristics (as many reviewers per characteristic as that takes), then measures, on the same files:

- a bare python-calamine read (open each file, read every sheet, nothing else): the parser's floor;
- a pandas.read_excel(engine="openpyxl") loop over the same files (every sheet): what a script would do;
- bva ingest of all N new returns, then a re-ingest with one new file;
- bva report and bva check;
- XlsxWriter alone writing the same cells as the report (read back from it): the writer's floor.

Each bva step runs in its own process (so peak memory is its own, reading processes included) and
times its library call, not the interpreter's start. Prints figures, ratios and the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bva_excel.excel.read.framework import load_framework

CHARACTERISTICS_PER_RETURN = 20
RATINGS = ["Dark green", "Light green", "Light green", "Light green", "Yellow", "Amber", "Grey"]
STEP = r"""
import json, resource, sys, time
from pathlib import Path
from bva_excel.store.folder import open_assessment
step, folder = sys.argv[1], Path(sys.argv[2])
assessment = open_assessment(folder)
started = time.perf_counter()
if step == "ingest":
    from bva_excel.app.ingest import ingest
    result = ingest(assessment)
    detail = {"accepted": result.count("accepted"), "unchanged": result.count("unchanged"), "valid": result.valid}
elif step == "report":
    from bva_excel.app.report import write_report
    result = write_report(assessment)
    detail = {"actions": result.actions}
else:
    from bva_excel.app.state import gather
    result = gather(assessment)
    detail = {"findings": len(result.consistency.findings)}
seconds = time.perf_counter() - started
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, **detail}))
"""


def _fill(job: tuple[str, str, dict]) -> None:
    from bva_excel.app.demo import fill_return

    source, target, answers = job
    fill_return(Path(source), Path(target), answers)


def make_exercise(folder: Path, returns: int, seed: int = 1) -> tuple[Path, list[Path]]:
    """An assessment with `returns` reviewers, each returning a filled workbook; the returns are in its inbox."""
    import openpyxl

    from bva_excel.app.issue import generate
    from bva_excel.app.new import create_assessment

    assessment = create_assessment(folder, title=f"Benchmark, {returns} returns")
    workbook = openpyxl.load_workbook(assessment.workbook)
    sheet = workbook["Reviewers"]
    for number in range(1, returns + 1):
        sheet.append([f"R{number:04d}", f"Reviewer {number}", f"r{number}@example.gov.uk", "Service"])
    workbook.save(assessment.workbook)
    characteristics = len(load_framework(assessment.workbook).characteristics)
    per_characteristic = max(1, round(returns * CHARACTERISTICS_PER_RETURN / characteristics))
    generation = generate(assessment, per_characteristic)
    rng = random.Random(seed)
    jobs = []
    for reviewer_id, path in generation.files.items():
        refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
        answers = {}
        for ref in refs:
            rating = rng.choice(RATINGS)
            answers[ref] = (rating, f"Evidence seen for {ref}: " + "minutes and reports. " * rng.randint(2, 8),
                            "" if rating in ("Dark green", "Grey") else "Owners and dates are needed. " * rng.randint(1, 4))
        jobs.append((str(path), str(assessment.inbox / f"RE_ BV return {reviewer_id}.xlsx"), answers))
    with ProcessPoolExecutor() as pool:
        list(pool.map(_fill, jobs, chunksize=16))
    return assessment.folder, sorted(assessment.inbox.iterdir())


def calamine_read(paths: list[Path]) -> float:
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    for path in paths:
        workbook = CalamineWorkbook.from_path(str(path))
        for name in workbook.sheet_names:
            workbook.get_sheet_by_name(name).to_python()
    return time.perf_counter() - started


def pandas_read(paths: list[Path]) -> float:
    import pandas as pd

    started = time.perf_counter()
    for path in paths:
        pd.read_excel(path, sheet_name=None, engine="openpyxl")
    return time.perf_counter() - started


def xlsxwriter_floor(report: Path, target: Path) -> float:
    """XlsxWriter alone writing the cells of `report` (values only), timed."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    source = CalamineWorkbook.from_path(str(report))
    sheets = {name: source.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in source.sheet_names}
    started = time.perf_counter()
    workbook = xlsxwriter.Workbook(str(target), {"strings_to_formulas": False, "strings_to_urls": False})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value == "":
                    continue
                if isinstance(value, (int, float)):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, str(value))
    workbook.close()
    return time.perf_counter() - started


def met(ok: bool) -> str:
    return "met" if ok else "missed"


def step(name: str, folder: Path) -> dict:
    output = subprocess.run([sys.executable, "-c", STEP, name, str(folder)], check=True, capture_output=True,
                            text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def versions() -> str:
    from importlib.metadata import version

    packages = ["bva-excel", "openpyxl", "xlsxwriter", "python-calamine", "pandas", "numpy", "filelock"]
    return ", ".join(f"{p} {version(p)}" for p in packages) + f", SQLite {sqlite3.sqlite_version}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", default="200,400,2000", help="comma-separated numbers of returns")
    args = parser.parse_args()
    sizes = [int(n) for n in args.returns.split(",")]
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"versions: {versions()}")
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for size in sizes:
            started = time.perf_counter()
            folder, paths = make_exercise(Path(work) / f"bench {size}", size)
            made = time.perf_counter() - started
            floor = calamine_read(paths)
            pandas = pandas_read(paths)
            ingested = step("ingest", folder)
            assert ingested["valid"] and ingested["accepted"] == size, ingested
            extra = Path(work) / f"bench {size}" / "inbox" / "RE_ one more.xlsx"
            shutil.copyfile(paths[0], extra)
            with open(extra, "ab") as handle:
                handle.write(b"\0")  # new content, so it is read (and rejected as damaged) like any new file
            again = step("ingest", folder)
            reported = step("report", folder)
            checked = step("check", folder)
            writer = xlsxwriter_floor(folder / "report.xlsx", Path(work) / f"floor {size}.xlsx")
            results[size] = {"floor": floor, "pandas": pandas, "ingest": ingested, "again": again,
                             "report": reported, "check": checked, "writer": writer}
            print(f"\n{size} returns ({len(paths)} files made in {made:.0f} s)")
            print(f"  calamine read, bare        {floor:7.2f} s")
            print(f"  pandas.read_excel loop     {pandas:7.2f} s")
            print(f"  bva ingest                 {ingested['seconds']:7.2f} s  peak {ingested['peak_mb']:6.0f} MB  "
                  f"{ingested['seconds'] / floor:5.2f}x calamine (target <= 2: {met(ingested['seconds'] / floor <= 2)}), "
                  f"{pandas / ingested['seconds']:5.1f}x faster than pandas (target >= 8: "
                  f"{met(pandas / ingested['seconds'] >= 8)})")
            print(f"  bva ingest, one new file   {again['seconds']:7.2f} s  ({again['unchanged']} unchanged)")
            print(f"  bva report                 {reported['seconds']:7.2f} s  peak {reported['peak_mb']:6.0f} MB  "
                  f"{reported['seconds'] / writer:5.2f}x XlsxWriter alone ({writer:.2f} s; target <= 3: "
                  f"{met(reported['seconds'] / writer <= 3)})")
            print(f"  bva check                  {checked['seconds']:7.2f} s  peak {checked['peak_mb']:6.0f} MB")
    if len(sizes) >= 2:
        large = sizes[-1]
        small = 400 if 400 in sizes[:-1] else sizes[0]
        factor = large / small
        print(f"\ngrowth from {small} to {large} returns ({factor:.0f}x the data; target from 400 to 2,000: report "
              "and check within 5x):")
        for name in ("ingest", "report", "check"):
            ratio = results[large][name]["seconds"] / results[small][name]["seconds"]
            verdict = f" ({met(ratio <= 5)})" if name != "ingest" and (small, large) == (400, 2000) else ""
            print(f"  {name:<7} {ratio:5.2f}x time{verdict}, peak memory {results[small][name]['peak_mb']:.0f} -> "
                  f"{results[large][name]['peak_mb']:.0f} MB")
    if min(sizes) < 200:
        print("\nnote: below a few hundred returns, fixed costs (starting processes, reading the framework, "
              "writing the report's formats) dominate, so the ratios say little; the targets are set at 2,000.")


if __name__ == "__main__":
    main()
