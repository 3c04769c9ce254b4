"""How long the PMO waits: ingest N returned workbooks and write the report, with a baseline.

    python scripts/benchmark_ingest.py            # 40 reviewers, 2 per characteristic
    python scripts/benchmark_ingest.py --reviewers 80

Prints seconds and peak Python memory (traced in a second run) for each step, and the ratio of our ingest against a
baseline measured in the same run: opening the same returns with openpyxl (read-only, values),
which is what a hand-written script would do, doing no checks at all.
"""

import argparse
import random
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import openpyxl

from bva_excel.assessment import create_assessment, open_assessment
from bva_excel.demo import fill_return
from bva_excel.inbox import ingest
from bva_excel.report import write_report
from bva_excel.reviewer_workbook import generate


def measure(step):
    """Seconds without tracing, then peak traced memory from a second run of `step` on a copy."""
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def peak_megabytes(step) -> float:
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / (1024 * 1024)


def add_reviewers(workbook_path: Path, count: int) -> None:
    workbook = openpyxl.load_workbook(workbook_path)
    sheet = workbook["Reviewers"]
    for number in range(1, count + 1):
        sheet.append([f"R{number:02d}", f"Reviewer {number}", f"r{number}@example.gov.uk", "Service"])
    workbook.save(workbook_path)


def baseline(paths: list[Path]) -> int:
    cells = 0
    for path in paths:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        cells += sum(1 for row in workbook["Review"].iter_rows(values_only=True) for _ in row)
        workbook.close()
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewers", type=int, default=40)
    parser.add_argument("--per-characteristic", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as folder:
        assessment = create_assessment(Path(folder) / "bench", title="Benchmark")
        add_reviewers(assessment.workbook, args.reviewers)
        generation, gen_seconds = measure(lambda: generate(assessment, args.per_characteristic))
        ratings = ["Dark green", "Light green", "Light green", "Yellow", "Amber"]
        for reviewer_id, path in generation.files.items():
            refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
            fill_return(path, assessment.inbox / f"RE_ return {reviewer_id}.xlsx",
                        {ref: (rng.choice(ratings), "Commentary " * 20, "Gaps " * 10) for ref in refs})
        returns = sorted(assessment.inbox.iterdir())
        shutil.copytree(assessment.folder, Path(folder) / "copy")
        twin = open_assessment(Path(folder) / "copy")
        _, base_seconds = measure(lambda: baseline(returns))
        report, ingest_seconds = measure(lambda: ingest(assessment))
        _, report_seconds = measure(lambda: write_report(assessment))
        assert report.valid, "the benchmark's returns should all be accepted"
        base_mb = peak_megabytes(lambda: baseline(returns))
        ingest_mb = peak_megabytes(lambda: ingest(twin))
        report_mb = peak_megabytes(lambda: write_report(twin))
        print(f"returns: {len(returns)} from {args.reviewers} reviewers, "
              f"{len(generation.allocation)} characteristics x {args.per_characteristic}")
        print(f"generate : {gen_seconds:6.2f} s")
        print(f"baseline : {base_seconds:6.2f} s  peak {base_mb:6.1f} MB  (openpyxl read-only, no checks)")
        print(f"ingest   : {ingest_seconds:6.2f} s  peak {ingest_mb:6.1f} MB  "
              f"({ingest_seconds / base_seconds:.2f}x the baseline, with screening, identity and every check)")
        print(f"report   : {report_seconds:6.2f} s  peak {report_mb:6.1f} MB")


if __name__ == "__main__":
    main()
