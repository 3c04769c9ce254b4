"""What screening costs per return, against a bare python-calamine read of the same files.

    python -m scripts.benchmark_screening                 # 300 returns, one from each of 300 reviewers
    python -m scripts.benchmark_screening --returns 1000 --repeat 5

(Run from the repository folder with -m, so the code measured is this folder's, whatever is installed.)

Screening runs before any reader sees a return, so it must cost well under one read of the file.
Both are measured in the same run over the same files; each figure is the best of --repeat runs.
Returns from one issue share some parts byte for byte (theme, styles), as real ones do; copies are
made only when there are fewer reviewers than returns, and the count of distinct files is printed.
"""

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from bva_excel.app.demo import fill_return
from bva_excel.app.issue import generate
from bva_excel.app.new import create_assessment
from bva_excel.excel.read import screening
from bva_excel.excel.read.screening import screen


def add_reviewers(workbook_path: Path, count: int) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(workbook_path)
    sheet = workbook["Reviewers"]
    for number in range(1, count + 1):
        sheet.append([f"R{number:02d}", f"Reviewer {number}", f"r{number}@example.gov.uk", "Service"])
    workbook.save(workbook_path)


def make_returns(folder: Path, reviewers: int, count: int, per_characteristic: int = 5) -> list[Path]:
    """`count` filled returns: one per reviewer, then copies of them to make up the number."""
    rng = random.Random(1)
    assessment = create_assessment(folder / "bench", title="Benchmark")
    add_reviewers(assessment.workbook, reviewers)
    generation = generate(assessment, min(per_characteristic, reviewers))
    ratings = ["Dark green", "Light green", "Light green", "Yellow", "Amber"]
    made = []
    for reviewer_id, path in generation.files.items():
        refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
        target = assessment.inbox / f"RE_ return {reviewer_id}.xlsx"
        fill_return(path, target, {ref: (rng.choice(ratings), f"Commentary on {ref} " * 20, "Gaps " * 10)
                                   for ref in refs})
        made.append(target)
    returns = list(made)
    while len(returns) < count:
        source = made[len(returns) % len(made)]
        returns.append(Path(shutil.copyfile(source, source.with_name(f"copy {len(returns)} {source.name}"))))
    return returns[:count]


def calamine_read(paths: list[Path]) -> None:
    for path in paths:
        workbook = CalamineWorkbook.from_path(str(path))
        for name in workbook.sheet_names:
            workbook.get_sheet_by_name(name).to_python()


def screen_all(paths: list[Path]) -> None:
    screening._CLEAN_PARTS.clear()  # start as a fresh ingest does, knowing no part yet
    for path in paths:
        assert screen(path).kind == "xlsx", f"{path.name} should pass screening"


def best_of(repeat: int, step) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", type=int, default=300)
    parser.add_argument("--reviewers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = make_returns(Path(folder), args.reviewers, args.returns)
        calamine_read(paths)  # warm the file cache for both
        read_seconds = best_of(args.repeat, lambda: calamine_read(paths))
        screen_seconds = best_of(args.repeat, lambda: screen_all(paths))
        size = sum(p.stat().st_size for p in paths) / len(paths) / 1024
        per_file = 1000 / len(paths)
        distinct = len({p.read_bytes() for p in paths})
        print(f"returns  : {len(paths)}, {distinct} distinct ({size:.0f} KB each on average), best of {args.repeat}")
        print(f"calamine : {read_seconds:6.3f} s  {read_seconds * per_file:6.3f} ms/file  (open, read every sheet)")
        print(f"screen   : {screen_seconds:6.3f} s  {screen_seconds * per_file:6.3f} ms/file  "
              f"({screen_seconds / read_seconds:.2f}x the calamine read)")


if __name__ == "__main__":
    main()
