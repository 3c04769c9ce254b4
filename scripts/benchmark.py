"""How bva copes at size: ingest, report and check over N returns, against baselines measured in the same run.

    python scripts/benchmark.py                      # --returns 400,2000 --allocation 100,400, and every command
    python scripts/benchmark.py --returns 3 --allocation 10,20 --no-commands    # a quick try (the tests run it)

For each N it makes an assessment whose reviewers each return one filled workbook of about 20
characteristics (as many reviewers per characteristic as that takes), then measures, on the same files:

- a bare python-calamine read (open each file, read every sheet, nothing else): the parser's floor;
- a pandas.read_excel(engine="openpyxl") loop over the same files (every sheet): what a script would do;
- bva ingest of all N new returns, then a re-ingest with one new file;
- bva report and bva check;
- XlsxWriter alone writing the same cells as the report (read back from it): the writer's floor.

Each bva step runs in its own process (so peak memory is its own, reading processes included) and
times its library call, not the interpreter's start; CPU time counts its reading processes too. Also:
allocation alone at the numbers of reviewers given (--allocation), and every command run as a person runs it
on an exercise of realistic size (73 characteristics, 20 reviewers, two to a characteristic). Prints figures,
ratios, the targets and the machine's load average.
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
from dataclasses import replace
from pathlib import Path

from bva_excel.excel.read.framework import load_framework

CHARACTERISTICS_PER_RETURN = 20
RATINGS = ["Dark green", "Light green", "Light green", "Light green", "Yellow", "Amber", "Grey"]
STEP = r"""
import json, resource, sys, time
from pathlib import Path
from bva_excel.store.folder import open_assessment
step, folder = sys.argv[1], Path(sys.argv[2])
from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.app.state import load_state
assessment = open_assessment(folder)
before = resource.getrusage(resource.RUSAGE_SELF)
started = time.perf_counter()  # the call, not the interpreter's start or the imports (timed apart, as start-up)
if step == "ingest":
    result = ingest(assessment)
    detail = {"accepted": result.count("accepted"), "unchanged": result.count("unchanged"), "valid": result.valid}
elif step == "report":
    class Seen:  # when the progress bar would first be drawn, and each step after it
        def __init__(self): self.times = []
        def start(self, total, unit, done=0): self.times.append(time.perf_counter() - started)
        def advance(self, finished=""): self.times.append(time.perf_counter() - started)
    seen = Seen()
    result = write_report(assessment, tracker=seen)
    detail = {"actions": result.actions, "bar_at": seen.times[0], "longest_step": max(
        b - a for a, b in zip(seen.times, seen.times[1:]))}
else:
    result = load_state(assessment)
    detail = {"findings": len(result.consistency.findings)}
seconds = time.perf_counter() - started
used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
peak = max(u.ru_maxrss for u in used)
cpu = sum(u.ru_utime + u.ru_stime for u in used) - before.ru_utime - before.ru_stime  # this call's, and its reading processes'
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak / 1024, **detail}))
"""


def _fill(job: tuple[str, str, dict]) -> None:
    from bva_excel.app.demo import fill_return

    source, target, answers = job
    fill_return(Path(source), Path(target), answers)


def make_exercise(folder: Path, returns: int, seed: int = 1,
                  per_characteristic: int | None = None) -> tuple[Path, list[Path]]:
    """An assessment with `returns` reviewers, each returning a filled workbook (about 20 characteristics each,
    unless `per_characteristic` is given); the returns are in its inbox."""
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
    per_characteristic = per_characteristic or max(1, round(returns * CHARACTERISTICS_PER_RETURN / characteristics))
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


def allocation_times(numbers: list[int]) -> dict[int, float]:
    """Seconds `allocate` takes for each number of reviewers, in the benchmark's shape (the template's
    characteristics, about 20 each), from a first allocation."""
    from bva_excel.model.allocation import allocate
    from bva_excel.model.framework import Reviewer

    with tempfile.TemporaryDirectory() as work:
        from bva_excel.app.new import create_assessment

        assessment = create_assessment(Path(work) / "allocation", title="Allocation benchmark")
        framework = load_framework(assessment.workbook)
        assessment.records.close()
    times = {}
    for number in numbers:
        reviewers = tuple(Reviewer(f"R{n:04d}", f"Reviewer {n}", "", "") for n in range(1, number + 1))
        shaped = replace(framework, reviewers=reviewers)
        per = max(1, min(number, round(number * CHARACTERISTICS_PER_RETURN / len(framework.characteristics))))
        started = time.perf_counter()
        allocate(shaped, per)
        times[number] = time.perf_counter() - started
    return times


COMMANDS = [["--help"], ["ingest", "{folder}"], ["report", "{folder}"], ["check", "{folder}"],
            ["signoff", "{folder}", "--by", "Jane Smith, Chief Executive", "--accept-open"],
            ["detail", "{folder}", "SD001"], ["actions", "{folder}"], ["follow-up", "{folder}"],
            ["picture", "{folder}"], ["changes", "{folder}"]]


def command_times(work: Path) -> list[tuple[str, float]]:
    """Each command as a person runs it (its own process, the interpreter's start included) on an exercise of
    realistic size: 73 characteristics, 20 reviewers, two to a characteristic, every return in."""
    folder, _ = make_exercise(work / "realistic", 20, per_characteristic=2)
    subprocess.run([sys.executable, "-m", "bva_excel", "ingest", str(folder)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "bva_excel", "report", str(folder)], check=True, capture_output=True)
    times = []
    for command in COMMANDS:
        arguments = [part.format(folder=folder) for part in command]
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bva_excel", *arguments], capture_output=True)
        times.append((" ".join(command).replace("{folder}", "").strip(), time.perf_counter() - started))
    return times


def load() -> str:
    try:
        return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "load average not known"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", default="400,2000", help="comma-separated numbers of returns")
    parser.add_argument("--allocation", default="100,400", help="comma-separated numbers of reviewers to allocate")
    parser.add_argument("--no-commands", action="store_true", help="skip timing every command at a realistic size")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.returns.split(",")]
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, {load()}")
    print(f"versions: {versions()}")
    reviewers = [int(n) for n in args.allocation.split(",")]
    allocated = allocation_times(reviewers)
    print("\nallocation (a first one, about 20 characteristics per reviewer)")
    for number, seconds in allocated.items():
        verdict = f" (target at 400 < 2 s: {met(seconds < 2)})" if number == 400 else ""
        print(f"  {number:5d} reviewers            {seconds:7.2f} s{verdict}")
    if len(reviewers) >= 2:
        small, large = reviewers[0], reviewers[-1]
        ratio = allocated[large] / max(allocated[small], 1e-9)
        print(f"  {large / small:.0f}x the reviewers: {ratio:.2f}x the time (target for 4x: <= 6x: "
              f"{met(ratio <= 6 * (large / small) / 4)})")
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
            ratio, cpu_ratio = ingested["seconds"] / floor, ingested["cpu"] / floor
            print(f"\n{size} returns ({len(paths)} files made in {made:.0f} s; {load()})")
            print(f"  calamine read, bare        {floor:7.2f} s")
            print(f"  pandas.read_excel loop     {pandas:7.2f} s")
            print(f"  bva ingest                 {ingested['seconds']:7.2f} s  CPU {ingested['cpu']:6.2f} s  "
                  f"peak {ingested['peak_mb']:6.0f} MB")
            print(f"      {ratio:5.2f}x calamine on the clock, {cpu_ratio:5.2f}x in CPU (target <= 3: "
                  f"{met(ratio <= 3)}, {met(cpu_ratio <= 3)}); {pandas / ingested['seconds']:5.1f}x faster than "
                  f"pandas (target >= 10: {met(pandas / ingested['seconds'] >= 10)})")
            print(f"  bva ingest, one new file   {again['seconds']:7.2f} s  ({again['unchanged']} unchanged)")
            print(f"  bva report                 {reported['seconds']:7.2f} s  peak {reported['peak_mb']:6.0f} MB  "
                  f"{reported['seconds'] / writer:5.2f}x XlsxWriter alone ({writer:.2f} s; target <= 2.5: "
                  f"{met(reported['seconds'] / writer <= 2.5)})")
            print(f"      its progress bar drawn after {reported['bar_at']:.2f} s (target: within the first second: "
                  f"{met(reported['bar_at'] < 1)}), the longest wait between two of its steps {reported['longest_step']:.2f} s")
            print(f"  bva check                  {checked['seconds']:7.2f} s  peak {checked['peak_mb']:6.0f} MB")
        if not args.no_commands:
            print(f"\nevery command at a realistic size (73 characteristics, 20 reviewers, two to a characteristic; "
                  f"its own process; {load()})")
            for name, seconds in command_times(Path(work)):
                target = 0.2 if name == "--help" else 2.0 if name == "picture" else 1.0
                print(f"  bva {name:<22} {seconds:6.2f} s  (target < {target:g} s: {met(seconds < target)})")
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
    print(f"\ndone; {load()}")


if __name__ == "__main__":
    main()
