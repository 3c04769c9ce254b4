"""What the commands share: the folder argument, the options of the report's rules, the progress bar,
opening the assessment, and how numbers, paths and JSON are printed."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from bva_excel.app.archive import check_archive
from bva_excel.app.issue import STAGING_PREFIX, finish_interrupted_generation
from bva_excel.app.merge import MERGED_FOLDER, merge_conflict_copies, move_aside
from bva_excel.cli.base import listed, show, show_all
from bva_excel.errors import BvaError, Code, FrameworkError, problem
from bva_excel.excel.read.copies import copies_of, differences
from bva_excel.excel.write.service_areas import ensure_service_areas
from bva_excel.store.files import scratch_space
from bva_excel.store.folder import kept_by_the_tool, open_assessment

FOLDER = click.Path(file_okay=False, path_type=Path)
EXISTING_FOLDER = click.Path(file_okay=False, exists=True, path_type=Path)


THRESHOLD = click.option(
    "--action-threshold", default=None, metavar="RATING",
    help="A score at or below this rating needs an action and a justification (default: as last chosen "
         "for this assessment, else the middle of the scale, Yellow on the default scale). Kept for report, "
         "check and signoff alike.")
SPREAD = click.option("--spread", type=click.IntRange(min=1), default=None,
                      help="Flag reviewers this many scale steps apart on one characteristic (default: as last "
                           "chosen for this assessment, else 2). Kept for report, check and signoff alike.")


def service_areas_needed(assessment, command_name: str) -> None:
    """Give an older assessment's workbook its 'Service areas' sheet, saying so; if the workbook is open, say
    that the service areas are not checked this time."""
    try:
        with assessment.locked(command_name):
            say_service_areas_added(ensure_service_areas(assessment))
    except FrameworkError:  # the workbook itself is wrong: said once, by the command that cannot go on without it
        raise
    except BvaError as error:  # busy, open in Excel, or a share that may only be read: checked the next time
        for found in error.problems:
            show(found, indent="", err=True)
        click.echo("  note: service areas are not checked this time.", err=True)


def say_service_areas_added(added) -> None:
    """One line when an older assessment's workbook was given its 'Service areas' sheet."""
    if added is None:
        return

    areas = f" with the {len(added.areas)} service areas named on 'Reviewers' ({', '.join(added.areas)})" \
        if added.areas else ""
    show(problem(Code.SERVICE_AREAS_ADDED, added.workbook, areas=areas,
                 backup=str(added.backup.relative_to(added.workbook.parent))), indent="", err=True)


def early_step(gathered, folder: Path) -> str:
    """The next step while the exercise has not reached moderation yet, else ''."""
    missing = [what for what, done in [("reviewers on 'Reviewers'", gathered.framework.reviewers),
                                       ("position statements on 'Characteristics'",
                                        any(c.position_statement for c in gathered.framework.characteristics))]
               if not done]
    if missing and not gathered.issues:
        return (f"Next: fill in {folder / 'assessment.xlsx'} ({' and '.join(missing)}), then run: "
                f"bva generate {quote(folder)}")
    if not gathered.issues:
        return f"Next: write the reviewer workbooks: bva generate {quote(folder)}"
    if not any(r.status in ("accepted", "superseded") for r in gathered.consolidation.returns):
        return (f"Next: wait for the returns; save them in {folder / 'inbox'} (any file name) and run: "
                f"bva ingest {quote(folder)}")
    return ""


def not_over_the_tools_own(folder: Path, target: Path, option: str, instead: Path) -> None:
    """Refuse (a usage error, exit 2) an output path that would replace or write into what the tool keeps."""
    kept = kept_by_the_tool(folder, target)
    if kept:
        raise click.BadParameter(f"{target}: this would {kept}, which bva keeps; nothing was written. "
                                 f"Write it somewhere else, such as {quote(instead)}.", param_hint=option)


def open_folder(folder: Path):
    """Open the assessment in `folder`; anything said on opening (a one-off migration) goes to stderr,
    so that --json output stays clean."""
    assessment = open_assessment(folder)
    show_all(assessment.notes, indent="", err=True)
    click.get_current_context().with_resource(temporary_files_in(assessment.records_dir))
    finish_an_interrupted_round(assessment)
    refuse_two_frameworks(assessment)
    merge_copies(assessment)
    say_archive(check_archive(assessment))
    return assessment


def refuse_two_frameworks(assessment) -> None:
    """Stop while a conflict copy of assessment.xlsx differs from it (naming the cells); one that holds the same is
    moved to .bva/merged/, saying so."""
    refused = []
    for copy in copies_of(assessment.workbook):
        try:
            differ = differences(assessment.workbook, copy)
        except Exception:  # noqa: BLE001 - a copy that cannot be read as a workbook is said as such, below
            differ = ["it cannot be read as a workbook"]
        if differ:
            refused.append(problem(Code.ASSESSMENT_CONFLICT_COPY, copy, workbook=assessment.workbook.name,
                                   cells="; ".join(differ)))
            continue
        with assessment.locked("move aside a copy of assessment.xlsx"):
            moved = move_aside(copy, assessment.records_dir / MERGED_FOLDER)
        click.echo(f"  note: {copy.name} held the same as {assessment.workbook.name}; moved to "
                   f".bva/{MERGED_FOLDER}/{moved.name}.", err=True)
    if refused:
        raise BvaError(refused)


def merge_copies(assessment) -> None:
    """Merge the conflict copies of the records a sync client left, saying what each brought in (on stderr)."""
    try:
        merged = merge_conflict_copies(assessment)
    except BvaError as busy:  # another command holds the lock, or the folder may only be read: merged next time
        show_all(busy.problems, indent="", err=True)
        return
    say_merged(merged)


def say_merged(merged) -> None:
    for one in merged:
        if one.problems:
            show_all(one.problems, indent="", err=True)
            click.echo(f"  note: {one.name} was not merged and is left where it is.", err=True)
        else:
            where = f"; moved to .bva/merged/{one.moved_to.name}" if one.moved_to else ""
            click.echo(f"  note: merged {one.name}: {one.said()}{where}.", err=True)


def say_archive(checked) -> None:
    """What was put back in the archive of returns, and what could not be (said by every command until it is)."""
    if checked.restored:
        click.echo(f"  note: {counted(len(checked.restored), 'returned file')} missing from .bva/archive/ "
                   f"{'were' if len(checked.restored) != 1 else 'was'} put back from the inbox: "
                   f"{short_names(checked.restored)}.", err=True)
    if checked.missing:
        click.echo(f"  warning: {counted(len(checked.missing), 'accepted return')} "
                   f"{'have' if len(checked.missing) != 1 else 'has'} no copy in .bva/archive/ and none in the "
                   f"inbox: {short_names(checked.missing)}. Their answers are in the records and still count; "
                   "put the files back in the inbox (under any name) and the next command restores the archive. "
                   "If the folder is still being copied or synced, wait until it has finished.", err=True)


def short_names(names: list[str], most: int = 8) -> str:
    return listed(names, most)


def finish_an_interrupted_round(assessment) -> None:
    """Whatever the command, first finish (or undo) a round of workbooks that a generate stopped half-way left
    in the records' staging folder, and say which (on stderr, so that --json stays clean)."""
    if not any(assessment.records_dir.glob(f"{STAGING_PREFIX}*")):
        return
    try:
        with assessment.locked("finish an interrupted generate"):
            said = finish_interrupted_generation(assessment)
    except BvaError as busy:  # another command holds the lock, or the outbox's file is open: the next one will
        show_all(busy.problems, indent="", err=True)
        return
    for line in said:
        click.echo(f"note: {line}", err=True)


@contextlib.contextmanager
def temporary_files_in(records_dir: Path):
    """Keep this run's temporary files (XlsxWriter's, LibreOffice's) inside the assessment's records, cleared at
    the end and, after a kill, by the next run; where that folder cannot be written, the system's is used."""
    previous = tempfile.tempdir
    try:
        scratch = scratch_space(records_dir)
        folder = scratch.__enter__()
    except OSError:
        yield
        return
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = previous
        scratch.__exit__(None, None, None)


def terminal_columns() -> int:
    """How wide the terminal the bar is drawn on (stderr) is, even when the output goes to a file or a program."""
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size().columns


class Bar:
    """The progress bar of one command, drawn by click on a terminal's stderr: the count, the time left and,
    for files or workbooks, the rate (for steps, the step just done). Nothing at all when stderr is not a
    terminal (a pipe, a log file) or with --json. Its line always fits the terminal, a column to spare (a
    line of the terminal's full width wraps on Windows): the rate or step gives way first, then the label
    (to its first word, then altogether), then the bar, down to 6 columns."""

    MIN_BAR = 6

    def __init__(self, label: str, enabled: bool = True):
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None  # click's progress bar, while one is drawn
        self.unit, self.finished, self.first, self.started, self.extra = "", "", 0, 0.0, 0

    def start(self, total: int, unit: str, done: int = 0) -> None:
        if self.bar is not None and unit == self.unit and done == self.bar.pos:  # more of the same work: one bar
            self.bar.length, self.bar.finished = total, False
            return
        self.close()
        if not self.enabled or total - done < 2:
            return
        self.unit, self.finished, self.first, self.started = unit, "", done, time.monotonic()
        room = terminal_columns() - 1
        counts = len(f"  {total}/{total}") + len("  00:00:00")
        self.extra = 28 if room - counts - 4 - 20 >= 28 else 0  # "  1,234 workbooks/s" or the step done
        fits = [label for label in (self.label, self.label.split()[0])  # "Writing the report", else "Writing"
                if len(label) + 4 + self.MIN_BAR + counts + self.extra <= room]
        label = fits[0] if fits else ""
        width = max(self.MIN_BAR, room - len(label) - 4 - counts - self.extra)
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, show_percent=False,
                                     width=width, item_show_func=lambda _: self._info())
        self.bar.__enter__()
        self.bar.update(done)

    def advance(self, finished: str = "") -> None:
        if self.bar is not None:
            self.finished = finished or self.finished
            self.bar.update(1)

    def _info(self) -> str | None:
        if not self.extra:
            return None
        if self.unit == "steps":
            text = self.finished
        else:
            seconds = time.monotonic() - self.started
            text = f"{(self.bar.pos - self.first) / seconds:,.0f} {self.unit}/s" if seconds > 0.5 else ""
        if len(text) > self.extra - 2:  # cut at a word, never in one
            text = text[:self.extra - 5].rsplit(" ", 1)[0] + "..."
        return text or None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def echo_json(data: dict) -> None:
    """Print `data` as JSON in ASCII (escapes for every other character), so that it stays valid JSON on a
    stream that cannot encode a name: a Windows code page such as cp1252, when output is redirected."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=True))


def counted(number: int, thing: str) -> str:
    """'1 characteristic', '2 characteristics'."""
    return f"{number} {thing}" + ("" if number == 1 else "s")


def quote(path: Path) -> str:
    text = str(path)
    return f'"{text}"' if any(c in text for c in " '()&") else text


def said_changed(changed: list[tuple[str, str, str]], most: int = 10) -> str:
    """'CI001 Light green to Yellow, L002 blank to Amber and 3 more' (all with --verbose)."""
    return listed([f"{ref} {signed or 'blank'} to {now or 'blank'}" for ref, signed, now in changed], most)
