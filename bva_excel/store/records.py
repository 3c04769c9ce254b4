"""The tool's records of one assessment, in one SQLite database: `DIR/.bva/records.sqlite`.

What was issued to whom, every return file seen (with its hash, status and problems) and every
response read from it, with the file, sheet and cell it came from. Everything is read and written
here, through typed records; no other module touches the database.

Why it is built the way it is:
- Assessment folders often live on a network drive or a synced folder, where SQLite's write-ahead
  log is unsafe: the rollback journal is used, and one writer at a time is kept by the assessment's
  OS-level lock (`assessment.py`).
- Each ingested file is one transaction, so a command killed at any moment leaves every file either
  wholly recorded or not at all.
- What happened stays as it happened: issues, returns, problems and responses are append-only
  (triggers refuse an UPDATE or DELETE); what counts now is derived from them.
- The schema is versioned with `PRAGMA user_version` and numbered migrations; a database from a newer
  version of the tool, or a damaged one, is refused with a message, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import json
import os
import re
import secrets
import socket
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from bva_excel import __version__
from bva_excel.errors import AssessmentBusy, AssessmentError, BvaError, Code, Problem, problem
from bva_excel.model.kinds import IssueKind, ReturnStatus
from bva_excel.model.recorded import (
    FollowUp,
    IssueRecord,
    ProgressUpdate,
    Reminder,
    Response,
    ReturnNote,
    ReturnRecord,
    SeenValue,
    SignOff,
)
from bva_excel.store.files import (
    FilesPlaced,
    holding_lock,
    new_file_mode,
    write_problem,
)
from bva_excel.words import Text

DATABASE = "records.sqlite"
UPGRADE_WAIT = 60  # seconds to wait for another command holding the lock while records need upgrading
BATCH_SECONDS = 0.25  # within a batch, how often what is recorded is written to disk

_APPEND_ONLY = ("issue", "issued_ref", "return_file", "return_problem", "response")

W = TypeVar("W", bound=Text)  # a word of model/kinds.py


def _kept_as_written(*tables: str) -> str:
    """Triggers that refuse any UPDATE or DELETE on `tables`: what was recorded stays as it was written."""
    return "".join(f"""
    CREATE TRIGGER {table}_kept_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, 'the records of {table} are kept as they were written'); END;
    CREATE TRIGGER {table}_kept_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, 'the records of {table} are kept as they were written'); END;
    """ for table in tables)


# Migration N takes a database at user_version N-1 to N. Never edit one that has been released: add one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE assessment (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        assessment_id TEXT NOT NULL,
        title TEXT NOT NULL,
        created TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        demo INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE issue (
        issue_id TEXT PRIMARY KEY,
        reviewer_id TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        file TEXT NOT NULL,
        deadline TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE issued_ref (
        issue_id TEXT NOT NULL REFERENCES issue(issue_id),
        position INTEGER NOT NULL,
        ref TEXT NOT NULL,
        texts TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (issue_id, position)
    );
    CREATE TABLE return_file (
        return_id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        received TEXT NOT NULL,
        modified TEXT NOT NULL,
        saved TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        reviewer_id TEXT NOT NULL DEFAULT '',
        issue_id TEXT REFERENCES issue(issue_id),
        issued INTEGER NOT NULL DEFAULT 0,
        answered INTEGER NOT NULL DEFAULT 0,
        archive TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE return_problem (
        return_id INTEGER NOT NULL REFERENCES return_file(return_id),
        position INTEGER NOT NULL,
        code TEXT NOT NULL,
        file TEXT NOT NULL,
        sheet TEXT NOT NULL,
        cell TEXT NOT NULL,
        fields TEXT NOT NULL,
        PRIMARY KEY (return_id, position)
    );
    CREATE TABLE response (
        return_id INTEGER NOT NULL REFERENCES return_file(return_id),
        ref TEXT NOT NULL,
        reviewer_id TEXT NOT NULL,
        rating TEXT NOT NULL,
        commentary TEXT NOT NULL,
        gaps TEXT NOT NULL,
        file TEXT NOT NULL,
        sheet TEXT NOT NULL,
        cell TEXT NOT NULL,
        PRIMARY KEY (return_id, ref)
    );
    CREATE INDEX return_file_by_reviewer ON return_file(reviewer_id, status);
    -- What was in the inbox under a name, so an unchanged file is known without reading it again.
    CREATE TABLE inbox_file (
        name TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL
    );
    """ + _kept_as_written(*_APPEND_ONLY),
    # 2: the PMO's choice of which return counts when the order of two is unclear (bva ingest --prefer).
    """
    CREATE TABLE preference (
        return_id INTEGER NOT NULL REFERENCES return_file(return_id),
        chosen_at TEXT NOT NULL
    );
    """ + _kept_as_written("preference"),
    # 3: sign-off of the final scores by senior officers (bva signoff); each one kept.
    """
    CREATE TABLE signoff (
        signoff_id INTEGER PRIMARY KEY,
        signed_by TEXT NOT NULL,
        signed_at TEXT NOT NULL,
        open_high INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE signoff_score (
        signoff_id INTEGER NOT NULL REFERENCES signoff(signoff_id),
        ref TEXT NOT NULL,
        final TEXT NOT NULL,
        PRIMARY KEY (signoff_id, ref)
    );
    """ + _kept_as_written("signoff", "signoff_score"),
    # 4: workbooks of the moderation round, issued and returned like reviewers' own.
    """
    ALTER TABLE issue ADD COLUMN kind TEXT NOT NULL DEFAULT 'review';
    """,
    # 5: the change trail: what each report run found in the fields people change (moderated and final
    # scores, notes, action-plan inputs), a row whenever a value differs from the one seen before.
    """
    CREATE TABLE seen_value (
        seen_at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('characteristic', 'action')),
        key TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX seen_value_by_key ON seen_value(kind, key, field);
    """ + _kept_as_written("seen_value"),
    # 6: progress on actions returned by the service areas in progress workbooks; every update kept.
    """
    CREATE TABLE progress_update (
        return_id INTEGER NOT NULL REFERENCES return_file(return_id),
        action_id TEXT NOT NULL,
        service_area TEXT NOT NULL,
        status TEXT NOT NULL,
        progress TEXT NOT NULL,
        revised_target TEXT NOT NULL,
        file TEXT NOT NULL,
        sheet TEXT NOT NULL,
        cell TEXT NOT NULL,
        PRIMARY KEY (return_id, action_id)
    );
    """ + _kept_as_written("progress_update"),
    # 7: each follow-up report for committee, with the actions as they stood, to say what changed since.
    """
    CREATE TABLE follow_up (
        follow_up_id INTEGER PRIMARY KEY,
        written_at TEXT NOT NULL,
        file TEXT NOT NULL,
        actions TEXT NOT NULL
    );
    """ + _kept_as_written("follow_up"),
    # 8: who a return says last saved it; what people typed in a return where bva reads nothing (rows they
    # inserted, columns they added, comments on cells), kept so that it is never lost.
    """
    ALTER TABLE return_file ADD COLUMN saved_by TEXT NOT NULL DEFAULT '';
    CREATE TABLE return_note (
        return_id INTEGER NOT NULL REFERENCES return_file(return_id),
        position INTEGER NOT NULL,
        sheet TEXT NOT NULL,
        cell TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (return_id, position)
    );
    """ + _kept_as_written("return_note"),
    # 9: what was missing when the scores were signed off: reviewers who returned nothing, characteristics scored
    # by fewer reviewers than were issued them (JSON).
    """
    ALTER TABLE signoff ADD COLUMN missing TEXT NOT NULL DEFAULT '{}';
    """,
    # 10: who recorded each issue, return, choice of return, sign-off, value seen and follow-up, on which computer
    # ("jane on LAPTOP-12"), so that copies of the records merged from two computers still say whose each was.
    """
    ALTER TABLE issue ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE return_file ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE preference ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE signoff ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE seen_value ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE follow_up ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
    """,
    # 11: the email a return came attached to, when it was read from a saved email: its sender, date and subject.
    """
    ALTER TABLE return_file ADD COLUMN email_from TEXT NOT NULL DEFAULT '';
    ALTER TABLE return_file ADD COLUMN email_date TEXT NOT NULL DEFAULT '';
    ALTER TABLE return_file ADD COLUMN email_subject TEXT NOT NULL DEFAULT '';
    """,
    # 12: each reminder drafted by `bva chase`, so that the next one says it is the second.
    """
    CREATE TABLE reminder (
        reminder_id INTEGER PRIMARY KEY,
        issue_id TEXT NOT NULL,
        recipient TEXT NOT NULL,
        kind TEXT NOT NULL,
        written_at TEXT NOT NULL,
        outstanding TEXT NOT NULL,
        file TEXT NOT NULL,
        written_by TEXT NOT NULL DEFAULT ''
    );
    """ + _kept_as_written("reminder"),
]
SCHEMA_VERSION = len(MIGRATIONS)


def _writer() -> str:
    """Who records, on which computer ('jane on LAPTOP-12'): kept with each record, for merged copies."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name on this system: the computer still names it
        user = ""
    host = socket.gethostname()
    return f"{user} on {host}" if user else host


WRITER = _writer()


@dataclass(frozen=True)
class AssessmentMeta:
    assessment_id: str
    title: str
    created: str
    tool_version: str
    demo: bool = False


@dataclass(frozen=True)
class InboxFile:
    name: str
    size: int
    mtime_ns: int
    sha256: str


def _not_recorded(path: Path, exc: sqlite3.OperationalError) -> Problem:
    """A write SQLite could not make, said as the failed write of a file is."""
    text = str(exc)
    if "full" in text:
        return write_problem(OSError(errno.ENOSPC, text), path)
    if "readonly" in text or "read-only" in text or "permission" in text.lower():
        return write_problem(OSError(errno.EACCES, "the records are read-only"), path)
    return write_problem(OSError(errno.EIO, text), path)


def _damaged(path: Path, exc: Exception) -> AssessmentError:
    reason = str(exc) or type(exc).__name__
    undecodable = re.match(r"Could not decode to UTF-8 column '([^']*)'", reason)
    if undecodable:  # the damaged bytes themselves would follow: unreadable, and no help
        reason = f"the text in its column '{undecodable.group(1)}' is damaged"
    return AssessmentError(problem(Code.RECORDS_DAMAGED, path, reason=reason,
                                   folder=str(path.parent.parent)))  # the assessment folder, above .bva


def _word(kind: type[W], value: str, path: Path) -> W:
    """`value` as read from the records, as one of the words it must be (an issue's kind, a return's status)."""
    try:
        return kind(value)  # (raises ValueError for any other)
    except ValueError:
        raise _damaged(path, ValueError(f"it holds {value!r} where no version of the tool writes it")) from None


class _TextsAsStored(Mapping[str, dict[str, str]]):
    """An issue's locked text by ref, each ref's decoded from the records when first asked for: an ingest needs
    the text of the few issues whose returns are new, not of every workbook ever issued."""

    def __init__(self, stored: dict[str, str]) -> None:
        self._stored = stored
        self._decoded: dict[str, dict[str, str]] = {}

    def __getitem__(self, ref: str) -> dict[str, str]:
        if ref not in self._decoded:
            self._decoded[ref] = json.loads(self._stored[ref])
        return self._decoded[ref]

    def __iter__(self) -> Iterator[str]:
        return iter(self._stored)

    def __len__(self) -> int:
        return len(self._stored)


class Records:
    """An open records database. Use `Records.open` or `Records.create`; close it with `close()`."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._db = connection
        self._outer: str | None = None  # inside batch() or together(): their transaction holds the others
        self._batch_started: float | None = None  # inside batch(): when it was last written to disk

    # Opening and creating.

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun and committed here, explicitly.
        connection = sqlite3.connect(str(path), isolation_level=None, timeout=10)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA journal_mode = DELETE")  # a rollback journal: safe on network drives
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    @classmethod
    def open(cls, path: Path) -> "Records":
        """Open existing records, bringing an older schema up to date (under the assessment's lock); refuse
        newer, damaged or empty ones."""
        path = Path(path)
        if path.is_file() and path.stat().st_size == 0:  # SQLite would take it for a new database and fill it
            raise AssessmentError(problem(Code.RECORDS_EMPTY, path, folder=str(path.parent.parent)))
        try:
            connection = cls._connect(path)
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                writer = connection.execute("SELECT value FROM setting WHERE key = 'tool_version'").fetchone()
                connection.close()
                raise AssessmentError(problem(Code.RECORDS_TOO_NEW, path, version=version, supported=SCHEMA_VERSION,
                                              writer=f"bva-excel {writer[0]}" if writer else "a newer bva-excel"))
            records = cls(path, connection)
            if version < SCHEMA_VERSION:
                records._upgrade()
            connection.execute("SELECT count(*) FROM assessment").fetchone()
            return records
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, exc) from exc

    @classmethod
    def create(cls, path: Path, meta: AssessmentMeta, fill=None) -> "Records":
        """Create new records at `path` (built under a temporary name and renamed, so never half-made).

        `fill(records)` may add more before the database takes its name (a migration from JSON).
        """
        path = Path(path)
        handle, temp_name = tempfile.mkstemp(prefix=".records-", suffix=".sqlite.tmp", dir=path.parent)
        os.close(handle)
        temp = Path(temp_name)
        try:
            connection = cls._connect(temp)
            records = cls(temp, connection)
            records._migrate(0)
            with records._transaction():
                connection.execute("INSERT INTO assessment VALUES (1, ?, ?, ?, ?, ?)",
                                   (meta.assessment_id, meta.title, meta.created, meta.tool_version, int(meta.demo)))
            if fill:
                fill(records)
            connection.close()
            os.chmod(temp, new_file_mode())
            os.replace(temp, path)
        finally:
            if temp.exists():
                temp.unlink()
            Path(f"{temp}-journal").unlink(missing_ok=True)
        return cls.open(path)

    def close(self) -> None:
        self._db.close()

    def _version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _upgrade(self) -> None:
        """Bring an older schema up to date, holding the assessment's lock, so that two commands opening old
        records at once never both upgrade them; the one that waits finds the work done."""
        deadline = time.monotonic() + UPGRADE_WAIT
        while True:
            try:
                with holding_lock(self.path.parent, "upgrade the records", self.path.parent.parent, wait=0.2):
                    version = self._version()
                    if version < SCHEMA_VERSION:
                        self._migrate(version)
                return
            except AssessmentBusy:
                if self._version() >= SCHEMA_VERSION:
                    return  # upgraded by the command holding the lock
                if time.monotonic() > deadline:
                    raise

    def check_whole(self) -> None:
        """Refuse records that SQLite finds damaged (PRAGMA quick_check), before anything is written into them."""
        try:
            verdict = self._db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from exc
        if verdict != [("ok",)]:
            raise _damaged(self.path, ValueError(f"SQLite's check finds it damaged: {verdict[0][0]}"))

    def _migrate(self, version: int) -> None:
        for number in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                for statement in _statements(MIGRATIONS[number - 1]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO setting VALUES ('tool_version', ?)", (__version__,))

    @contextlib.contextmanager
    def _transaction(self):
        """One transaction: all of it is recorded, or none. Inside `batch()` or `together()`, a savepoint
        (SQLite's nested transaction), made durable with theirs. A write SQLite cannot make (a full disk, a
        read-only file) is said as a problem naming the records."""
        if self._outer is not None:
            self._db.execute("SAVEPOINT one")
            try:
                yield
            except BaseException:
                self._quietly("ROLLBACK TO one")
                self._quietly("RELEASE one")
                raise
            self._db.execute("RELEASE one")
            if self._outer == "batch" and time.monotonic() - self._batch_started >= BATCH_SECONDS:
                self._commit()
                self._db.execute("BEGIN IMMEDIATE")
                self._batch_started = time.monotonic()
            return
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._quietly("ROLLBACK")
                raise
            self._commit()

    def _commit(self) -> None:
        try:
            self._db.execute("COMMIT")
        except sqlite3.OperationalError:
            self._quietly("ROLLBACK")  # the commit failed (a full disk): nothing of this transaction is kept
            raise

    def _quietly(self, statement: str) -> None:
        """A rollback after a failure, which SQLite may already have made itself ('no transaction is active')."""
        try:
            self._db.execute(statement)
        except sqlite3.OperationalError:
            pass

    @contextlib.contextmanager
    def _writing(self):
        """Say a write to the records that failed (a full disk, a read-only file or folder) as a problem naming
        them, never a traceback; a damaged database as such."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise BvaError(_not_recorded(self.path, exc)) from None
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from exc

    @contextlib.contextmanager
    def batch(self):
        """Many transactions (one per ingested file), written to disk together at least every
        BATCH_SECONDS: each is still all-or-nothing, and a kill loses at most the last moment's, which
        the next run reads again. Waiting for the disk once per file would cost more than reading it.
        When the run stops on an error, what was done before it is kept if it can be written."""
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            self._outer, self._batch_started = "batch", time.monotonic()
            try:
                yield
            except BaseException:
                self._outer = self._batch_started = None
                try:
                    self._commit()  # the files finished before the error are kept ...
                except sqlite3.OperationalError:
                    pass  # ... unless that fails too (a full disk): then the next run reads them again
                raise
            self._outer = self._batch_started = None
            self._commit()

    @contextlib.contextmanager
    def together(self):
        """One change to the assessment, made whole or not at all: what is recorded here and the files put in place
        through the `FilesPlaced` yielded (a report and its history copy, say). If anything fails before the
        records are committed, or the commit itself, the files are put back as they were."""
        placed = FilesPlaced()
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            self._outer = "together"
            try:
                yield placed
                self._outer = None
                self._commit()
            except BaseException:
                self._outer = None
                self._quietly("ROLLBACK")
                placed.undo()
                raise
        placed.done()

    @contextlib.contextmanager
    def _reading(self):
        """Turn a damaged database met while reading into a message."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from exc

    # Merging another copy of the records (a synced folder's conflict copy).

    # How each table's rows are told apart across copies, for a merge by union: its rows are all kept as written,
    # so a row is in both copies or in one. A table keyed by return_id is matched through its return's SHA-256;
    # one not named here is refused by a test, so that a new table is never left out of a merge.
    MERGED = {"issue": "issue_id", "issued_ref": "issue_id", "return_file": "sha256", "signoff": "signed_by, signed_at, written_by",
              "signoff_score": "signoff", "seen_value": "every column", "follow_up": "written_at, file",
              "setting": "key (a value already here stays)", "assessment": "the same assessment, or refused",
              "inbox_file": "not merged (what this machine's inbox held, to skip reading it again)",
              "reminder": "recipient, kind, written_at, written_by"}

    def merge(self, other: Path) -> dict[str, int]:
        """Bring in, in one transaction, every row the records at `other` (of this schema and assessment) hold
        and these do not; say how many of each kind. Merging the same copy again brings in nothing."""
        self._db.execute("ATTACH DATABASE ? AS other", (str(other),))
        try:
            mine = self._db.execute("SELECT assessment_id FROM main.assessment").fetchone()
            theirs = self._db.execute("SELECT assessment_id FROM other.assessment").fetchone()
            if mine != theirs:
                raise AssessmentError(problem(Code.RECORDS_OTHER_ASSESSMENT, other, other=theirs[0] if theirs else "none",
                                              assessment=mine[0]))
            with self._transaction():
                return self._merge_rows()
        finally:
            self._db.execute("DETACH DATABASE other")

    def _merge_rows(self) -> dict[str, int]:
        run = self._db.execute
        counts = {}

        def columns(table: str, without: tuple[str, ...] = ()) -> list[str]:
            return [row[1] for row in run(f"PRAGMA main.table_info({table})") if row[1] not in without]

        def same(table: str, alias: str, values: dict[str, str]) -> str:
            """Rows alike: by the table's key where it has one (the same file ingested under two names on two
            computers gives the same answers, read from cells of another file name), else by every column."""
            info = list(run(f"PRAGMA main.table_info({table})"))
            key = [row[1] for row in info if row[5]] or [row[1] for row in info]
            return " AND ".join(f"{alias}.{c} IS {values.get(c, f'o.{c}')}" for c in key)

        counts["issue"] = run("INSERT INTO main.issue SELECT * FROM other.issue "
                              "WHERE issue_id NOT IN (SELECT issue_id FROM main.issue)").rowcount
        run("INSERT INTO main.issued_ref SELECT o.* FROM other.issued_ref o "
            "WHERE NOT EXISTS (SELECT 1 FROM main.issued_ref m WHERE m.issue_id = o.issue_id AND m.position = o.position)")
        kept = ", ".join(columns("return_file", ("return_id",)))
        counts["return_file"] = run(f"INSERT INTO main.return_file ({kept}) SELECT {kept} FROM other.return_file "
                                    "WHERE sha256 NOT IN (SELECT sha256 FROM main.return_file) ORDER BY return_id").rowcount
        mapped = "(SELECT m.return_id FROM main.return_file m JOIN other.return_file r ON r.sha256 = m.sha256 " \
                 "WHERE r.return_id = o.return_id)"
        tables = [row[0] for row in run("SELECT name FROM main.sqlite_master WHERE type = 'table'")]
        for table in tables:
            names = columns(table)
            if table == "return_file" or "return_id" not in names:
                continue
            listed = ", ".join(names)
            chosen = ", ".join(mapped if c == "return_id" else f"o.{c}" for c in names)
            counts[table] = run(f"INSERT INTO main.{table} ({listed}) SELECT {chosen} FROM other.{table} o "
                                f"WHERE NOT EXISTS (SELECT 1 FROM main.{table} m WHERE "
                                f"{same(table, 'm', {'return_id': mapped})})").rowcount
        counts["signoff"] = run("INSERT INTO main.signoff (signed_by, signed_at, open_high, missing, written_by) "
                                "SELECT signed_by, signed_at, open_high, missing, written_by FROM other.signoff o "
                                "WHERE NOT EXISTS "
                                "(SELECT 1 FROM main.signoff m WHERE m.signed_by = o.signed_by "
                                "AND m.signed_at = o.signed_at AND m.written_by = o.written_by) "
                                "ORDER BY signoff_id").rowcount
        same_signoff = "t.signed_by = {0}.signed_by AND t.signed_at = {0}.signed_at AND t.written_by = {0}.written_by"
        run("INSERT INTO main.signoff_score SELECT (SELECT m.signoff_id FROM main.signoff m JOIN other.signoff t "
            f"ON {same_signoff.format('m')} WHERE t.signoff_id = o.signoff_id), o.ref, "
            "o.final FROM other.signoff_score o WHERE NOT EXISTS (SELECT 1 FROM main.signoff_score m JOIN main.signoff "
            f"a ON a.signoff_id = m.signoff_id JOIN other.signoff t ON {same_signoff.format('a')} "
            "WHERE t.signoff_id = o.signoff_id AND m.ref = o.ref)")
        # Where the two copies parted: the last value this one's report runs saw that the other's saw too. A value
        # seen here after it was typed here after they parted, so one typed there on the same cell is a clash.
        alike = " AND ".join(f"o.{c} IS m.{c}" for c in columns("seen_value"))
        parted = run(f"SELECT max(m.rowid) FROM main.seen_value m WHERE EXISTS "
                     f"(SELECT 1 FROM other.seen_value o WHERE {alike})").fetchone()[0]
        counts["seen_value"] = run("INSERT INTO main.seen_value SELECT o.* FROM other.seen_value o WHERE NOT EXISTS "
                                   f"(SELECT 1 FROM main.seen_value m WHERE {same('seen_value', 'm', {})})").rowcount
        if counts["seen_value"]:
            run("INSERT OR REPLACE INTO main.setting VALUES ('parted_at', ?)", (str(parted or 0),))
        counts["follow_up"] = run("INSERT INTO main.follow_up (written_at, file, actions, written_by) SELECT "
                                  "written_at, file, actions, written_by FROM other.follow_up o WHERE NOT EXISTS "
                                  "(SELECT 1 FROM main.follow_up m "
                                  "WHERE m.written_at = o.written_at AND m.file = o.file) "
                                  "ORDER BY follow_up_id").rowcount
        counts["reminder"] = run("INSERT INTO main.reminder (issue_id, recipient, kind, written_at, outstanding, file, "
                                 "written_by) SELECT issue_id, recipient, kind, written_at, outstanding, file, "
                                 "written_by FROM other.reminder o WHERE NOT EXISTS (SELECT 1 FROM main.reminder m "
                                 "WHERE m.recipient = o.recipient AND m.kind = o.kind AND m.written_at = o.written_at "
                                 "AND m.written_by = o.written_by) ORDER BY reminder_id").rowcount
        counts["setting"] = run("INSERT OR IGNORE INTO main.setting SELECT * FROM other.setting").rowcount
        return {table: count for table, count in counts.items() if count > 0}

    # The assessment.

    def meta(self) -> AssessmentMeta:
        with self._reading():
            row = self._db.execute(
                "SELECT assessment_id, title, created, tool_version, demo FROM assessment").fetchone()
        if row is None:
            raise _damaged(self.path, ValueError("it holds no assessment"))
        assessment_id, title, created, tool_version, demo = row
        return AssessmentMeta(assessment_id, title, created, tool_version, demo=bool(demo))

    def setting(self, key: str) -> str | None:
        """A choice kept for the assessment (e.g. the spread the PMO chose), or None if never made."""
        with self._reading():
            row = self._db.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def keep_setting(self, key: str, value: str) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO setting VALUES (?, ?)", (key, value))

    def sheet_password(self) -> str:
        """The password that locks the sheets of workbooks sent out, made once and kept here."""
        with self._reading():
            row = self._db.execute("SELECT value FROM setting WHERE key = 'sheet_password'").fetchone()
        if row:
            return row[0]

        password = secrets.token_urlsafe(9)
        with self._transaction():
            self._db.execute("INSERT OR IGNORE INTO setting VALUES ('sheet_password', ?)", (password,))
        return self.sheet_password()

    # What was issued.

    def record_issues(self, issues: list[IssueRecord]) -> None:
        """Record workbooks about to be issued, all or none (before any is written)."""
        with self._transaction():
            for issue in issues:
                self._db.execute("INSERT INTO issue (issue_id, reviewer_id, issued_at, file, deadline, kind, "
                                 "written_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 (issue.issue_id, issue.reviewer_id, issue.issued_at, issue.file, issue.deadline,
                                  issue.kind, WRITER))
                self._db.executemany("INSERT INTO issued_ref VALUES (?, ?, ?, ?)",
                                     [(issue.issue_id, position, ref,
                                       json.dumps(issue.texts.get(ref, {}), ensure_ascii=False))
                                      for position, ref in enumerate(issue.refs)])

    def issues(self) -> list[IssueRecord]:
        """Every workbook ever issued, oldest first."""
        with self._reading():
            rows = self._db.execute("SELECT issue_id, reviewer_id, issued_at, file, deadline, kind, written_by "
                                    "FROM issue ORDER BY issued_at, rowid").fetchall()
            refs: dict[str, list] = {}
            for issue_id, ref, texts in self._db.execute(
                    "SELECT issue_id, ref, texts FROM issued_ref ORDER BY issue_id, position"):
                refs.setdefault(issue_id, []).append((ref, texts))
        return [IssueRecord(issue_id, reviewer_id, issued_at, file, deadline,
                            refs=tuple(ref for ref, _ in refs.get(issue_id, [])),
                            texts=_TextsAsStored(dict(refs.get(issue_id, []))),
                            kind=_word(IssueKind, kind, self.path),
                            written_by=written_by)
                for issue_id, reviewer_id, issued_at, file, deadline, kind, written_by in rows]

    # Returns.

    def record_return(self, record: ReturnRecord, responses: list[Response],
                      inbox: InboxFile | None = None, updates: Sequence[ProgressUpdate] = (),
                      notes: Sequence[ReturnNote] = ()) -> ReturnRecord:
        """Record one file seen, its problems, responses, progress updates and what was typed in it where bva
        reads nothing, in one transaction; returns it with its ID."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO return_file (sha256, name, source, received, modified, saved, status, reviewer_id, "
                "issue_id, issued, answered, archive, saved_by, written_by, email_from, email_date, email_subject) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.sha256, record.name, record.source, record.received, record.modified, record.saved,
                 record.status, record.reviewer_id, record.issue_id or None, record.issued, record.answered,
                 record.archive, record.saved_by, WRITER, record.email_from, record.email_date,
                 record.email_subject))
            return_id = cursor.lastrowid
            assert return_id is not None  # an INSERT that succeeded gives its row's ID
            self._db.executemany("INSERT INTO return_problem VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 [(return_id, position, p.code, p.file, p.sheet, p.cell,
                                   json.dumps(p.fields, ensure_ascii=False, default=str))
                                  for position, p in enumerate(record.problems)])
            self._db.executemany("INSERT INTO response VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 [(return_id, r.ref, r.reviewer_id, r.rating, r.commentary, r.gaps, r.file,
                                   r.sheet, r.cell) for r in responses])
            self._db.executemany("INSERT INTO progress_update VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 [(return_id, u.action_id, u.service_area, u.status, u.progress, u.revised_target,
                                   u.file, u.sheet, u.cell) for u in updates])
            self._db.executemany("INSERT INTO return_note VALUES (?, ?, ?, ?, ?, ?)",
                                 [(return_id, position, n.sheet, n.cell, n.kind, n.text)
                                  for position, n in enumerate(notes)])
            if inbox:
                self._remember(inbox)
        return replace(record, return_id=return_id)

    def remember_inbox_file(self, inbox: InboxFile) -> None:
        """Note that a file in the inbox under this name has this content (already recorded)."""
        with self._transaction():
            self._remember(inbox)

    def _remember(self, inbox: InboxFile) -> None:
        self._db.execute("INSERT OR REPLACE INTO inbox_file VALUES (?, ?, ?, ?)",
                         (inbox.name, inbox.size, inbox.mtime_ns, inbox.sha256))

    def inbox_files(self) -> dict[str, InboxFile]:
        with self._reading():
            return {row[0]: InboxFile(*row) for row in self._db.execute("SELECT * FROM inbox_file")}

    def archived(self) -> list[tuple[str, str, str]]:
        """(name, sha256, archive path in the folder) of every accepted return, in the order they were ingested."""
        with self._reading():
            return self._db.execute("SELECT name, sha256, archive FROM return_file WHERE status = 'accepted' "
                                    "AND archive != '' ORDER BY return_id").fetchall()

    def returns(self) -> list[ReturnRecord]:
        """Every file ever seen, in the order it was ingested."""
        with self._reading():
            problems: dict[int, list[Problem]] = {}
            for return_id, code, file, sheet, cell, fields in self._db.execute(
                    "SELECT return_id, code, file, sheet, cell, fields FROM return_problem "
                    "ORDER BY return_id, position"):
                problems.setdefault(return_id, []).append(Problem(code, file, sheet, cell, json.loads(fields)))
            rows = self._db.execute(
                "SELECT return_id, sha256, name, source, received, modified, saved, status, reviewer_id, "
                "issue_id, issued, answered, archive, saved_by, email_from, email_date, email_subject "
                "FROM return_file ORDER BY return_id").fetchall()
        return [ReturnRecord(sha256=sha, name=name, source=source, received=received, modified=modified,
                             status=_word(ReturnStatus, status, self.path), reviewer_id=reviewer_id,
                             issue_id=issue_id or "", issued=issued,
                             answered=answered, archive=archive, problems=tuple(problems.get(return_id, ())),
                             saved=saved, return_id=return_id, saved_by=saved_by, email_from=email_from,
                             email_date=email_date, email_subject=email_subject)
                for (return_id, sha, name, source, received, modified, saved, status, reviewer_id, issue_id,
                     issued, answered, archive, saved_by, email_from, email_date, email_subject) in rows]

    def return_notes(self) -> list[ReturnNote]:
        """What people typed in returns where bva reads nothing, oldest return first, in sheet and cell order."""
        with self._reading():
            rows = self._db.execute(
                "SELECT n.sheet, n.cell, n.kind, n.text, r.name, r.reviewer_id, r.received FROM return_note n "
                "JOIN return_file r ON r.return_id = n.return_id ORDER BY n.return_id, n.position").fetchall()
        return [ReturnNote(*row) for row in rows]

    def responses_by_return(self, return_ids) -> dict[int, list[Response]]:
        """return ID -> the responses read from it, in row order."""
        wanted = sorted(set(return_ids))
        found: dict[int, list[Response]] = {}
        with self._reading():
            for start in range(0, len(wanted), 500):  # SQLite limits the parameters of one statement
                chunk = wanted[start:start + 500]
                for row in self._db.execute(
                        "SELECT return_id, ref, reviewer_id, rating, commentary, gaps, file, sheet, cell FROM response "
                        f"WHERE return_id IN ({','.join('?' * len(chunk))}) ORDER BY return_id, rowid", chunk):
                    found.setdefault(row[0], []).append(Response(*row[1:]))
        return found

    def progress_updates(self) -> list[ProgressUpdate]:
        """Every progress update from an accepted return, the return saved first first (a preferred one last), with
        when it was received."""
        with self._reading():
            rows = self._db.execute(
                "SELECT p.action_id, p.service_area, p.status, p.progress, p.revised_target, p.file, p.sheet, p.cell, "
                "r.received, r.sha256, coalesce(r.issue_id, ''), "
                "coalesce(json_extract(q.fields, '$.newer'), n.file, ''), "
                "coalesce(json_extract(q.fields, '$.newer_at'), n.issued_at, '') "
                "FROM progress_update p JOIN return_file r ON r.return_id = p.return_id "
                # Found when it was received: a newer workbook had been issued to the same service area.
                "LEFT JOIN return_problem q ON q.return_id = r.return_id AND q.code = 'PROGRESS_WORKBOOK_REPLACED' "
                # A return ingested before that was looked for: a newer workbook issued strictly before it came.
                "LEFT JOIN issue o ON o.issue_id = r.issue_id AND q.return_id IS NULL "
                "LEFT JOIN issue n ON n.rowid = (SELECT x.rowid FROM issue x WHERE x.kind = 'progress' "
                "AND lower(trim(x.reviewer_id)) = lower(trim(o.reviewer_id)) "
                "AND (x.issued_at, x.rowid) > (o.issued_at, o.rowid) AND x.issued_at < r.received "
                "ORDER BY x.issued_at, x.rowid LIMIT 1) "
                # In the order the returns were saved (the time inside the workbook), as answers are: an older copy
                # ingested later does not undo a newer one; one the PMO preferred comes last.
                "WHERE r.status = 'accepted' ORDER BY "
                "coalesce((SELECT max(chosen_at) FROM preference f WHERE f.return_id = r.return_id), ''), "
                "coalesce(nullif(r.saved, ''), r.received), r.received, r.return_id, p.rowid").fetchall()
        return [ProgressUpdate(*row) for row in rows]

    def record_reminders(self, reminders: list[Reminder]) -> None:
        """Record reminders drafted, in one transaction."""
        with self._transaction():
            self._db.executemany("INSERT INTO reminder (issue_id, recipient, kind, written_at, outstanding, file, "
                                 "written_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 [(r.issue_id, r.recipient, r.kind, r.written_at, r.outstanding, r.file, WRITER)
                                  for r in reminders])

    def reminders(self) -> list[Reminder]:
        """Every reminder drafted, oldest first."""
        with self._reading():
            rows = self._db.execute("SELECT issue_id, recipient, kind, written_at, outstanding, file FROM reminder "
                                    "ORDER BY written_at, reminder_id").fetchall()
        return [Reminder(issue_id, recipient, _word(IssueKind, kind, self.path), written_at, outstanding, file)
                for issue_id, recipient, kind, written_at, outstanding, file in rows]

    def record_follow_up(self, follow_up: FollowUp) -> None:
        """Record a follow-up report written; earlier ones are kept."""
        with self._transaction():
            self._db.execute("INSERT INTO follow_up (written_at, file, actions, written_by) VALUES (?, ?, ?, ?)",
                             (follow_up.written_at, follow_up.file,
                              json.dumps(follow_up.actions, ensure_ascii=False, default=str), WRITER))

    def follow_ups(self) -> list[FollowUp]:
        """Every follow-up report written, oldest first."""
        with self._reading():
            rows = self._db.execute("SELECT written_at, file, actions FROM follow_up "
                                    "ORDER BY written_at, follow_up_id").fetchall()
        return [FollowUp(written_at, file, json.loads(actions)) for written_at, file, actions in rows]

    def prefer(self, return_id: int, chosen_at: str) -> None:
        """Record that the PMO chose this return's answers to count over its reviewer's others."""
        with self._transaction():
            self._db.execute("INSERT INTO preference (return_id, chosen_at, written_by) VALUES (?, ?, ?)",
                             (return_id, chosen_at, WRITER))

    def preferences(self) -> dict[int, str]:
        """return ID -> when it was last preferred."""
        with self._reading():
            return dict(self._db.execute("SELECT return_id, max(chosen_at) FROM preference GROUP BY return_id"))

    def record_signoff(self, signoff: SignOff) -> None:
        """Record a sign-off; earlier ones are kept."""
        with self._transaction():
            missing = json.dumps({"not_returned": list(signoff.not_returned),
                                  "short": {ref: list(counts) for ref, counts in signoff.short.items()}})
            cursor = self._db.execute("INSERT INTO signoff (signed_by, signed_at, open_high, missing, written_by) "
                                      "VALUES (?, ?, ?, ?, ?)",
                                      (signoff.signed_by, signoff.signed_at, signoff.open_high, missing, WRITER))
            self._db.executemany("INSERT INTO signoff_score VALUES (?, ?, ?)",
                                 [(cursor.lastrowid, ref, final) for ref, final in signoff.finals.items()])

    def signoffs(self) -> list[SignOff]:
        """Every sign-off, oldest first."""
        with self._reading():
            rows = self._db.execute("SELECT signoff_id, signed_by, signed_at, open_high, missing, written_by "
                                    "FROM signoff ORDER BY signed_at, signoff_id").fetchall()
            finals: dict[int, dict[str, str]] = {}
            for signoff_id, ref, final in self._db.execute("SELECT signoff_id, ref, final FROM signoff_score"):
                finals.setdefault(signoff_id, {})[ref] = final
        signoffs = []
        for signoff_id, by, at, open_high, missing, writer in rows:
            gaps = json.loads(missing or "{}")
            signoffs.append(SignOff(by, at, open_high, finals.get(signoff_id, {}), tuple(gaps.get("not_returned", ())),
                                    {ref: tuple(counts) for ref, counts in gaps.get("short", {}).items()}, writer))
        return signoffs

    # The change trail.

    def record_seen_values(self, values: list[SeenValue]) -> None:
        """Record values a report run found that differ from those seen before (all or none)."""
        with self._transaction():
            self._db.executemany("INSERT INTO seen_value (seen_at, kind, key, field, value, source, written_by) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 [(v.seen_at, v.kind, v.key, v.field, v.value, v.source, WRITER) for v in values])

    def last_seen_number(self) -> int:
        """The number of the last value recorded by a report run, here or merged in (0 if none)."""
        with self._reading():
            return self._db.execute("SELECT coalesce(max(rowid), 0) FROM seen_value").fetchone()[0]

    def seen_values(self) -> list[SeenValue]:
        """Every value recorded by report runs, oldest first."""
        with self._reading():
            rows = self._db.execute("SELECT seen_at, kind, key, field, value, source, written_by, rowid "
                                    "FROM seen_value ORDER BY seen_at, rowid").fetchall()
        return [SeenValue(*row) for row in rows]

    def integrity(self) -> str:
        """SQLite's own check of the database: 'ok' when sound."""
        with self._reading():
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]


def _statements(script: str) -> list[str]:
    """Split a migration into statements (triggers hold semicolons inside BEGIN ... END)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
