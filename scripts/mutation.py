"""Mutation testing of the modules that decide what a committee sees, with mutmut 3 (not run in CI).

    pip install "mutmut>=3,<4"
    python scripts/mutation.py                  # run (resumes where it stopped), then report
    python scripts/mutation.py --report         # report the last run only
    python scripts/mutation.py --show           # ... and print the diff of every unexplained survivor
    python scripts/mutation.py --report --markdown   # the table for docs/testing.md
    python scripts/mutation.py --fresh          # delete mutants/ first: every mutant tested again
    python scripts/mutation.py --retry          # test the unexplained survivors again (after adding tests)
    python scripts/mutation.py --retry --all    # ... and those explained as equivalent
    python scripts/mutation.py --modules consolidation identity   # only the untested mutants of these modules

What is mutated and which tests run is configured in setup.cfg, [mutmut]. mutmut copies the code and
the tests into mutants/ (git ignores it) and keeps its results there, so a stopped run resumes.
Survivors that no test can kill (equivalent mutants) are listed with their reason in
scripts/mutation-equivalents.txt; the report counts them apart. See docs/testing.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = ROOT / "scripts" / "mutation-equivalents.txt"
# mutmut's exit codes of a mutant's test run -> what became of the mutant (mutmut/stats.py).
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "type check", None: "not checked"}


def equivalents() -> dict[str, str]:
    """mutant name -> why no test can tell it from the original."""
    found = {}
    if EQUIVALENTS.exists():
        for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                found[name] = reason.strip()
    return found


def results() -> dict[str, dict[str, str]]:
    """module -> mutant name -> status, from mutmut's files in mutants/."""
    by_module = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        module = meta.relative_to(ROOT / "mutants").as_posix()[:-len(".meta")]
        by_module[module] = {name: STATUS.get(code, "suspicious") for name, code in data["exit_code_by_key"].items()}
    return by_module


def report(show: bool, markdown: bool = False) -> int:
    """Per module: mutants, killed (a timeout counts), explained as equivalent, survived (neither), not yet run;
    the score is killed of the mutants not explained as equivalent, the usual mutation score, with those not yet
    run counting against it; then again over those run; then killed of all mutants, equivalents included."""
    by_module = results()
    if not by_module:
        print("No results yet: run python scripts/mutation.py first.")
        return 1
    explained = equivalents()
    columns = ["module", "mutants", "killed", "equivalent", "survived", "not run", "score", "score of those run",
               "killed of all"]
    if markdown:
        print("| " + " | ".join(columns) + " |")
        print("|---" * len(columns) + "|")
    else:
        print(f"{columns[0]:<40}" + "".join(f"{c:>11}" for c in columns[1:6]) + f"{columns[6]:>8}{columns[7]:>20}"
              f"{columns[8]:>15}")
    totals: Counter = Counter()
    unexplained = []
    for module, statuses in by_module.items():
        count = Counter(statuses.values())
        survivors = [name for name, status in statuses.items() if status in ("survived", "no tests", "suspicious")]
        equivalent = sum(1 for name in survivors if name in explained)
        unexplained += [(name, statuses[name]) for name in survivors if name not in explained]
        row = Counter(mutants=len(statuses) - count["skipped"], killed=count["killed"] + count["timeout"],
                      equivalent=equivalent, survived=len(survivors) - equivalent, not_run=count["not checked"])
        totals.update(row)
        print(_line(module, row, markdown))
    print(_line("all", totals, markdown))
    stale = sorted(set(explained) - {name for statuses in by_module.values() for name, status in statuses.items()
                                     if status in ("survived", "no tests", "suspicious")})
    if stale:
        print(f"\n{len(stale)} listed as equivalent are no longer survivors (killed now, not yet run again, or "
              f"renumbered): {', '.join(stale)}")
    if unexplained:
        print(f"\n{len(unexplained)} survivors neither killed nor explained:")
        for name, status in unexplained:
            print(f"  {name}  ({status})")
            if show:
                shown = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=ROOT,
                                       capture_output=True, text=True)
                print("\n".join("      " + line for line in shown.stdout.splitlines() if line.startswith(("+", "-"))
                                and not line.startswith(("+++", "---"))))
    return 0


def _line(module: str, row: Counter, markdown: bool) -> str:
    counted = row["mutants"] - row["equivalent"]
    score = 100 * row["killed"] / counted if counted else 0.0
    run = counted - row["not_run"]
    of_run = 100 * row["killed"] / run if run else 0.0
    of_all = 100 * row["killed"] / row["mutants"] if row["mutants"] else 0.0
    cells = [row["mutants"], row["killed"], row["equivalent"], row["survived"], row["not_run"]]
    if markdown:
        name = module if module == "all" else module.rsplit("/", 1)[-1]
        return "| " + " | ".join([name, *(f"{c:,}" for c in cells), f"{score:.1f} %", f"{of_run:.1f} %",
                                  f"{of_all:.1f} %"]) + " |"
    return f"{module:<40}" + "".join(f"{c:>11}" for c in cells) + f"{score:>7.1f}%{of_run:>19.1f}%{of_all:>14.1f}%"


def _refresh_unmutated_copies() -> None:
    """mutmut copies the modules it does not mutate once and never again: drop copies that are out of date."""
    for copied in (ROOT / "mutants" / "bva_excel").rglob("*.py"):
        source = ROOT / copied.relative_to(ROOT / "mutants")
        if (not copied.with_name(f"{copied.name}.meta").exists()
                and source.exists() and source.read_bytes() != copied.read_bytes()):
            copied.unlink()


def _generate_mutants(env: dict[str, str]) -> None:
    """Write mutants/ for the current code as mutmut run does first, without testing any mutant.

    mutmut keeps the result of every mutant of a function whose code has not changed, and forgets the others.
    """
    code = ("import os, sys; from mutmut import __main__ as m; from mutmut.utils import file_utils as f; "
            "os.makedirs('mutants', exist_ok=True); f.copy_src_dir(); f.copy_also_copy_files(); "
            "m.create_mutants(int(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", code, "2"], cwd=ROOT, env=env, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", action="store_true", help="report the last run; run nothing")
    parser.add_argument("--show", action="store_true", help="print the diff of each unexplained survivor")
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown (for docs/testing.md)")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first and test every mutant again")
    parser.add_argument("--retry", action="store_true",
                        help="test the survivors not explained as equivalent again (after adding tests)")
    parser.add_argument("--all", action="store_true", help="with --retry: the survivors explained as equivalent too")
    parser.add_argument("--processes", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--modules", nargs="+", metavar="MODULE",
                        help="test only the mutants of these modules (e.g. consolidation) not tested yet")
    parser.add_argument("mutants", nargs="*", help="only these mutants (mutmut's names; * allowed)")
    args = parser.parse_args()
    if not args.report:
        try:
            import mutmut  # noqa: F401
        except ImportError:
            print('mutmut is not installed: pip install "mutmut>=3,<4"', file=sys.stderr)
            return 2
        if args.fresh:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        _refresh_unmutated_copies()
        # The tests write files under the system's temporary folder; nothing else outside mutants/.
        env = {**os.environ, "BVA_REQUIRE_LIBREOFFICE": ""}
        names = list(args.mutants)
        if args.modules:  # a named mutant is tested even if it has a result: name only those without one
            _generate_mutants(env)
            # a module is named by its file's name, or by more of its path: service_areas, write/service_areas
            wanted = {module.removesuffix(".py") for module in args.modules}
            chosen = {module for module in results()
                      if any(module.removesuffix(".py").endswith(f"/{name}") for name in wanted)}
            unknown = sorted(name for name in wanted
                             if not any(module.removesuffix(".py").endswith(f"/{name}") for module in chosen))
            if unknown:
                print(f"No module mutated is called {', '.join(unknown)} (setup.cfg, [mutmut] only_mutate).",
                      file=sys.stderr)
                return 2
            pending = [name for module in sorted(chosen) for name, status in results()[module].items()
                       if status == "not checked"]
            if not pending:
                print(f"Every mutant of {', '.join(sorted(chosen))} has a result.")
                return report(args.show, args.markdown)
            names += pending
        notes = ROOT / "mutants" / "mutmut-stats.json"
        if notes.exists() and any(changed.stat().st_mtime > notes.stat().st_mtime
                                  for changed in [*(ROOT / "bva_excel").rglob("*.py"), ROOT / "setup.cfg"]):
            # mutmut notes which tests reach each function once, and afterwards only for tests it has not seen:
            # a test that reaches a function only since the code (or the tests chosen in setup.cfg) changed would
            # not be run against its mutants.
            # Forgetting the notes (not the results) makes mutmut note them all again first (a few minutes).
            notes.unlink()
        if args.retry:  # mutmut keeps a result until the function changes: name the survivors to test them again
            explained = set() if args.all else set(equivalents())
            names += [name for statuses in results().values() for name, status in statuses.items()
                      if status in ("survived", "no tests", "suspicious") and name not in explained]
        done = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.processes),
                               *names], cwd=ROOT, env=env)
        if done.returncode:
            print(f"mutmut stopped with exit code {done.returncode}", file=sys.stderr)
    return report(args.show, args.markdown)


if __name__ == "__main__":
    sys.exit(main())
