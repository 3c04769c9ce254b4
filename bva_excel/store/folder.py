"""An assessment folder: the PMO's workbook, the inbox and outbox, and the tool's records.

    DIR/assessment.xlsx     the framework as the PMO fills it in (from the template)
    DIR/outbox/             reviewer workbooks to email
    DIR/inbox/              returned workbooks, saved under any name
    DIR/report.xlsx         the consolidated report
    DIR/.bva/               the tool's records: the database, the secret, the archive of returns
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.errors import (
    AssessmentError,
    BvaError,
    LockUnavailable,
    Problem,
    problem,
)
from bva_excel.layout import ASSESSMENT_FILE, REPORT_FILE
from bva_excel.store.files import (
    NAME_LIMIT,
    PATH_LIMIT,
    check_path_length,
    holding_lock,
)
from bva_excel.store.legacy import LEGACY_META, migrate_json_records
from bva_excel.store.records import DATABASE, Records

RECORDS = ".bva"
ABOUT_SHEET = "Assessment"
# The longest path the tool writes inside an assessment folder, beyond the folder's own path: a workbook
# moved out of the outbox, "/.bva/withdrawn/<name> (withdrawn 2026-12-18 093000).xlsx".
FOLDER_ROOM = len("/.bva/withdrawn/ (withdrawn 2026-12-18 093000)") + NAME_LIMIT


@dataclass
class Assessment:
    folder: Path
    assessment_id: str
    title: str
    created: str
    records: Records
    demo: bool = False
    notes: list[Problem] = field(default_factory=list)  # said once on opening (a migration, say)

    @property
    def workbook(self) -> Path:
        return self.folder / ASSESSMENT_FILE

    @property
    def inbox(self) -> Path:
        return self.folder / "inbox"

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"

    @property
    def report(self) -> Path:
        return self.folder / REPORT_FILE

    @property
    def records_dir(self) -> Path:
        return self.folder / RECORDS

    @property
    def archive(self) -> Path:
        return self.records_dir / "archive"

    def secret(self) -> bytes:
        return bytes.fromhex((self.records_dir / "secret").read_text(encoding="ascii").strip())

    @contextlib.contextmanager
    def locked(self, command: str):
        """Hold the assessment's lock while `command` changes it; refuse if another command holds it, if the
        folder is too deep for what the command may write, or if the records are damaged (nothing is ever
        written into a damaged database)."""
        check_folder_depth(self.folder)
        with holding_lock(self.records_dir, command, self.folder):
            self.records.check_whole()
            yield

    @contextlib.contextmanager
    def reading(self, command: str):
        """Hold the lock while `command` reads the assessment, so that it reads no change half-made; on a share
        that may only be read (where nobody can change it either), read without it."""
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self.locked(command))
            except LockUnavailable:
                pass
            yield


# What an export (-o, --csv, --xlsx) must never write over or into: the tool's records, the returns, the
# workbooks issued, the kept copies, and the two workbooks people edit.
KEPT_FOLDERS = {RECORDS: "the assessment's records", "inbox": "the returns", "outbox": "the workbooks issued",
                "history": "the earlier reports kept"}
KEPT_FILES = {ASSESSMENT_FILE: "the PMO's workbook", REPORT_FILE: "the report"}


def kept_by_the_tool(folder: Path, target: Path) -> str:
    """What writing `target` would do to what the assessment in `folder` keeps ('' if nothing): replace or write into its
    records, inbox, outbox, history, assessment.xlsx or report.xlsx. Compared as Windows and macOS compare names
    (ignoring case), after following links, so that no spelling of the path gets past it."""
    def key(path: Path) -> str:
        return os.path.normcase(os.path.realpath(path)).casefold()

    place = key(target)
    for name, what in KEPT_FILES.items():
        if place == key(Path(folder) / name):
            return f"replace {name} ({what})"
    for name, what in KEPT_FOLDERS.items():
        kept = key(Path(folder) / name)
        if place == kept or place.startswith(kept + os.sep):
            return f"write into {name}{os.sep} ({what})"
    return ""


def check_folder_depth(folder: Path) -> None:
    """Refuse a folder so deep that a file the tool keeps in it would have a path Windows cannot open."""
    check_path_length(folder, FOLDER_ROOM, what="the files kept in this folder would have paths up to",
                      hint=f" (at most {PATH_LIMIT - FOLDER_ROOM} characters)")


def is_demo(folder: Path) -> bool:
    """True for a folder that `bva demo` made (and may therefore make again)."""
    records_dir = Path(folder) / RECORDS
    if (records_dir / DATABASE).exists():
        try:
            records = Records.open(records_dir / DATABASE)
        except AssessmentError:
            return False
        try:
            return records.meta().demo
        finally:
            records.close()
    try:  # an assessment made by an earlier version
        return json.loads((records_dir / "assessment.json").read_text(encoding="utf-8")).get("demo") is True
    except (OSError, ValueError, AttributeError):
        return False


def open_assessment(folder: Path) -> Assessment:
    """The assessment in `folder`, or an error saying how to create one.

    Records kept as JSON files by an earlier version are moved into the database first, once.
    """
    folder = Path(folder)
    records_dir = folder / RECORDS
    database = records_dir / DATABASE
    notes = []
    if not (folder / ASSESSMENT_FILE).exists():
        raise AssessmentError(problem("NOT_AN_ASSESSMENT", str(folder), missing=ASSESSMENT_FILE, folder=str(folder)))
    if not database.exists():
        if not (records_dir / LEGACY_META).exists():
            raise AssessmentError(problem("NOT_AN_ASSESSMENT", str(folder), missing=f"{RECORDS}/{DATABASE}",
                                          folder=str(folder)))
        with holding_lock(records_dir, "migrate the records", folder):
            if not database.exists():  # another command may have done it while we waited
                notes.append(migrate_json_records(records_dir, database))
    records = Records.open(database)
    meta = records.meta()
    return Assessment(folder, meta.assessment_id, meta.title, meta.created, records, meta.demo, notes)


def needs_report(assessment, command: str) -> None:
    """Refuse, saying what to do, when no report was ever written: the action plan lives in it. (A report
    written and since gone missing is not refused: what was typed in it is kept in the records.)"""
    if not assessment.report.exists() and not assessment.records.setting("report_written"):
        raise BvaError(problem("ACTION_PLAN_NO_REPORT", assessment.report.name, command=command,
                               folder=assessment.folder.name))


