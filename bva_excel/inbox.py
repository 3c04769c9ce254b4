"""Ingesting returned workbooks: every file gets an answer, every accepted return is archived.

Returned files are only ever read. An accepted return is copied into the assessment's archive under
its SHA-256, and the records (`records.py`) keep every file seen, so deleting the inbox loses nothing
and ingesting the same file twice changes nothing. A file already seen under the same name, size and
modification time is not read again, so a re-ingest costs in proportion to what is new.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.assessment import Assessment
from bva_excel.consolidation import current_returns
from bva_excel.errors import ERROR, Problem, problem
from bva_excel.framework import Framework
from bva_excel.records import InboxFile, IssueRecord, ReturnRecord
from bva_excel.returns import ReturnReading, read_return
from bva_excel.storage import sha256_of

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv"}
PARALLEL_FROM = 24  # new files from which reading is shared among processes (starting them costs)


@dataclass
class FileOutcome:
    """What happened to one file in this run."""

    name: str
    status: str  # accepted, rejected, unchanged, skipped
    sha256: str = ""
    reviewer_id: str = ""
    answered: int = 0
    issued: int = 0
    problems: list[Problem] = field(default_factory=list)
    supersedes: str = ""

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


@dataclass
class IngestReport:
    outcomes: list[FileOutcome]
    framework: Framework  # as read for this ingest, to name reviewers

    @property
    def valid(self) -> bool:
        return not any(o.has_errors for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def skip_reason(path: Path) -> str:
    """Why a file in the inbox is not a return at all, or '' if it should be read."""
    if path.name.startswith("~$") or (path.name.startswith(".~lock.") and path.name.endswith("#")):
        return "an Excel or LibreOffice lock file, not a return"
    if path.name.startswith("."):
        return "a hidden file"
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return f"not a workbook ({path.suffix or 'no extension'})"
    return ""


def inbox_files(assessment: Assessment) -> list[Path]:
    """The inbox's files, oldest first, so a later save supersedes an earlier one."""
    if not assessment.inbox.is_dir():
        return []
    files = [p for p in assessment.inbox.iterdir() if p.is_file()]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def ingest(assessment: Assessment, paths: list[Path] | None = None, progress=None) -> IngestReport:
    """Read every file in the inbox (or `paths`), archive and record the accepted returns.

    `progress(done, total)`, if given, is called as each file is dealt with.
    """
    with assessment.locked("ingest"):
        return _ingest(assessment, paths, progress or (lambda done, total: None))


def _unchanged(path: Path, seen: ReturnRecord) -> FileOutcome:
    """A file whose content was ingested before: nothing changes; its earlier problems are repeated."""
    notes = [problem("ALREADY_INGESTED", path, other=seen.name), *seen.problems]
    return FileOutcome(path.name, "unchanged", seen.sha256, seen.reviewer_id, seen.answered, seen.issued, notes)


@dataclass
class _Context:
    """What reading a return needs, handed once to each reading process."""

    framework: Framework
    assessment_id: str
    secret: bytes
    issues: dict[str, IssueRecord]
    incoming: Path  # where private copies are made
    known: frozenset[str]  # hashes already recorded: such a file is not read again


@dataclass
class _Read:
    path: Path
    size: int
    mtime_ns: int
    sha256: str = ""
    copy: Path | None = None
    reading: ReturnReading | None = None
    problems: list[Problem] = field(default_factory=list)  # the file could not even be copied


_context: _Context | None = None


def _start_reader(context: _Context) -> None:
    global _context
    _context = context


def _read_one(item: tuple[Path, int, int]) -> _Read:
    """Copy, hash and read one file. The copy is private, so what is hashed, read and archived is one and
    the same content even if the file in the inbox is changed meanwhile (a mail client still saving it)."""
    path, size, mtime_ns = item
    result = _Read(path, size, mtime_ns)
    copy = _context.incoming / f"{secrets.token_hex(8)}{path.suffix.lower()}"
    try:
        shutil.copyfile(path, copy)
    except OSError as exc:
        result.problems.append(problem("FILE_UNREADABLE", path, reason=exc.strerror or str(exc)))
        copy.unlink(missing_ok=True)
        return result
    result.copy = copy
    result.sha256 = sha256_of(copy)
    if result.sha256 in _context.known:
        return result  # touched or renamed, but the same content: no need to read it
    result.reading = read_return(copy, _context.framework, _context.assessment_id, _context.secret,
                                 _context.issues, path.name)
    return result


def _read_all(items: list[tuple[Path, int, int]], context: _Context):
    """Read files in order, in several processes when there are many; at most a few ahead of the caller,
    so memory does not grow with the number of files."""
    workers = min(os.cpu_count() or 1, 4)
    if len(items) < PARALLEL_FROM or workers < 2:
        _start_reader(context)
        yield from map(_read_one, items)
        return
    from concurrent.futures import ProcessPoolExecutor

    ahead = workers * 8
    with ProcessPoolExecutor(workers, initializer=_start_reader, initargs=(context,)) as pool:
        pending = deque()
        for item in items:
            pending.append(pool.submit(_read_one, item))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _inbox_key(assessment: Assessment, path: Path) -> str:
    """How a file is known between runs: by name in the inbox, else by its full path."""
    return path.name if path.parent.resolve() == assessment.inbox.resolve() else str(path.resolve())


def _ingest(assessment: Assessment, paths: list[Path] | None, progress) -> IngestReport:
    framework = assessment.framework()
    records = assessment.records
    issues = {issue.issue_id: issue for issue in records.issues()}
    returns = records.returns()
    by_hash = {record.sha256: record for record in returns}
    current = current_returns(returns)
    seen_before = records.inbox_files()
    candidates = [Path(p) for p in paths] if paths is not None else inbox_files(assessment)
    outcomes: dict[int, FileOutcome] = {}
    to_read = []
    for index, path in enumerate(candidates):
        if not path.is_file():
            outcomes[index] = FileOutcome(path.name, "rejected", problems=[problem("FILE_NOT_FOUND", str(path))])
            continue
        reason = skip_reason(path)
        if reason:
            outcomes[index] = FileOutcome(path.name, "skipped", problems=[problem("FILE_SKIPPED", path, reason=reason)])
            continue
        stat = path.stat()
        known = seen_before.get(_inbox_key(assessment, path))
        if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns) and known.sha256 in by_hash:
            outcomes[index] = _unchanged(path, by_hash[known.sha256])  # same name, size and time: not read again
            continue
        to_read.append((index, path, stat.st_size, stat.st_mtime_ns))
    done = len(outcomes)
    progress(done, len(candidates))
    incoming = assessment.records_dir / "incoming"
    if incoming.exists():
        shutil.rmtree(incoming)  # private copies left by a command that was killed
    incoming.mkdir()
    context = _Context(framework, assessment.assessment_id, assessment.secret(), issues, incoming,
                       frozenset(by_hash))
    try:
        reads = _read_all([(path, size, mtime_ns) for _, path, size, mtime_ns in to_read], context)
        for (index, path, _, _), read in zip(to_read, reads):
            outcomes[index] = _record(assessment, read, by_hash, current)
            done += 1
            progress(done, len(candidates))
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return IngestReport([outcomes[i] for i in sorted(outcomes)], framework)


def _record(assessment: Assessment, read: _Read, by_hash: dict[str, ReturnRecord],
            current: dict[str, ReturnRecord]) -> FileOutcome:
    """Archive and record one file just read; one transaction, after the archive copy is in place."""
    records = assessment.records
    path = read.path
    if read.copy is None:
        return FileOutcome(path.name, "rejected", problems=read.problems)
    inbox = InboxFile(_inbox_key(assessment, path), read.size, read.mtime_ns, read.sha256)
    if read.sha256 in by_hash:  # the same content under another name, or a file touched but not changed
        read.copy.unlink(missing_ok=True)
        records.remember_inbox_file(inbox)
        return _unchanged(path, by_hash[read.sha256])
    reading = read.reading
    identity = reading.identity
    archive = ""
    if reading.accepted:
        archived = assessment.archive / f"{read.sha256}{path.suffix.lower()}"
        os.replace(read.copy, archived)
        archive = archived.relative_to(assessment.folder).as_posix()
    else:
        read.copy.unlink(missing_ok=True)
    record = ReturnRecord(
        read.sha256, path.name, str(path), dt.datetime.now().replace(microsecond=0).isoformat(),
        dt.datetime.fromtimestamp(read.mtime_ns / 1e9).replace(microsecond=0).isoformat(),
        "accepted" if reading.accepted else "rejected",
        identity.reviewer_id if identity else "", identity.issue_id if identity else "",
        len(identity.refs) if identity else 0, reading.answered, archive, tuple(reading.problems))
    stored = records.record_return(record, reading.responses if reading.accepted else [], inbox)
    by_hash[stored.sha256] = stored
    outcome = FileOutcome(path.name, stored.status, stored.sha256, stored.reviewer_id, stored.answered,
                          stored.issued, list(reading.problems))
    if reading.accepted:
        previous = current.get(stored.reviewer_id)
        if previous:
            outcome.supersedes = previous.name
        current[stored.reviewer_id] = stored
    return outcome
