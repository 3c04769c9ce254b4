"""An assessment folder: the PMO's workbook, the inbox and outbox, and the tool's records.

    DIR/assessment.xlsx     the framework as the PMO fills it in (from the template)
    DIR/outbox/             reviewer workbooks to email
    DIR/inbox/              returned workbooks, saved under any name
    DIR/report.xlsx         the consolidated report
    DIR/.bva/               the tool's records: the database, the secret, the archive of returns
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.errors import (
    AssessmentBusy,
    AssessmentError,
    BvaError,
    Code,
    LockUnavailable,
    Problem,
    problem,
)
from bva_excel.layout import ASSESSMENT_FILE, REPORT_FILE
from bva_excel.store.files import (
    LOCK_HOLDER,
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
        raise AssessmentError(problem(Code.NOT_AN_ASSESSMENT, str(folder), missing=ASSESSMENT_FILE, folder=str(folder)))
    if not database.exists():
        if not (records_dir / LEGACY_META).exists():
            raise AssessmentError(problem(Code.NOT_AN_ASSESSMENT, str(folder), missing=f"{RECORDS}/{DATABASE}",
                                          folder=str(folder)))
        with holding_lock(records_dir, "migrate the records", folder):
            if not database.exists():  # another command may have done it while we waited
                notes.append(migrate_json_records(records_dir, database))
    notes += set_aside_a_journal_from_elsewhere(records_dir, folder)
    records = Records.open(database)
    meta = records.meta()
    return Assessment(folder, meta.assessment_id, meta.title, meta.created, records, meta.demo, notes)


MERGED_FOLDER = "merged"  # in the records folder: copies from a sync client, once merged or set aside


def set_aside_a_journal_from_elsewhere(records_dir: Path, folder: Path) -> list[Problem]:
    """Move aside a rollback journal beside the records that no command of this computer left, before SQLite
    rolls the records back with it.

    SQLite keeps `records.sqlite-journal` while it writes, and deletes it at the end; one left behind is "hot":
    the next open rolls the database back with its pages, which is right after a crash on this computer. A sync
    client copies files one at a time, so a journal can arrive from another computer without the database it
    belongs to, and rolling this database back with it would damage it. A command that dies here leaves the
    lock's holder file naming this computer; a journal with no such file, or one naming another computer, is
    not this computer's, and is moved to .bva/merged/ unused (and said).
    """
    journal = records_dir / f"{DATABASE}-journal"
    try:
        if not journal.is_file() or journal.stat().st_size == 0:
            return []
        try:  # read before taking the lock, which writes this command's own name there
            holder = json.loads((records_dir / LOCK_HOLDER).read_text(encoding="utf-8")).get("host", "")
        except (OSError, ValueError, AttributeError):
            holder = ""
        with holding_lock(records_dir, "check the records' journal", folder):  # no command is writing now
            if not journal.is_file():
                return []
            if holder == socket.gethostname():
                return []  # this computer's own, left by a command that died: SQLite rolls back with it
            aside = records_dir / MERGED_FOLDER
            aside.mkdir(exist_ok=True)
            target = aside / f"{journal.name} from {holder or 'another computer'} {dt.datetime.now():%Y-%m-%d %H%M%S}"
            os.replace(journal, target)
            return [problem(Code.RECORDS_JOURNAL_SET_ASIDE, journal, holder=holder or "another computer",
                            target=f"{RECORDS}/{MERGED_FOLDER}/{target.name}")]
    except (AssessmentBusy, LockUnavailable, OSError):
        return []  # a command is writing (its journal is its own), or the folder may only be read


def needs_report(assessment, command: str) -> None:
    """Refuse, saying what to do, when no report was ever written: the action plan lives in it. (A report
    written and since gone missing is not refused: what was typed in it is kept in the records.)"""
    if not assessment.report.exists() and not assessment.records.setting("report_written"):
        raise BvaError(problem(Code.ACTION_PLAN_NO_REPORT, assessment.report.name, command=command,
                               folder=assessment.folder.name))


