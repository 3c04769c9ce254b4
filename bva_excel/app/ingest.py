"""Ingesting returned workbooks: every file gets an answer, every accepted return is archived.

Returned files are only ever read. An accepted return is copied into the assessment's archive under
its SHA-256, and the records (`records.py`) keep every file seen, so deleting the inbox loses nothing
and ingesting the same file twice changes nothing. A file already seen under the same name, size and
modification time is not read again, so a re-ingest costs in proportion to what is new.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import multiprocessing
import os
import signal
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bva_excel.app.issue import finish_interrupted_generation
from bva_excel.errors import ERROR, BvaError, Code, Problem, problem
from bva_excel.excel.read.emails import (
    SEPARATOR,
    Envelope,
    is_email,
    read_email,
    refused_by_size,
    starts_like_a_workbook,
)
from bva_excel.excel.read.framework import load_framework
from bva_excel.excel.read.returns import ReturnReading, read_return
from bva_excel.excel.read.screening import MAX_FILE_BYTES, WORKBOOK_SUFFIXES
from bva_excel.model.consolidation import current_answers, in_order, placed_by, unclear_order
from bva_excel.model.framework import Framework, Reviewer, ServiceArea
from bva_excel.model.identity import IssueIdentity
from bva_excel.model.kinds import IssueKind, Outcome, ReturnStatus
from bva_excel.model.recorded import IssueRecord, Response, ReturnRecord
from bva_excel.store.files import sha256_of, write_bytes
from bva_excel.store.folder import Assessment
from bva_excel.store.records import InboxFile
from bva_excel.tracking import QUIET, Tracker

if TYPE_CHECKING:  # (loaded only when reading is shared among processes)
    from concurrent.futures import Future

PARALLEL_FROM = 24  # new files from which reading is shared among processes (starting them costs)
CHUNK_FILES = 8  # files handed to a reading process at a time
READER_GC_THRESHOLD = 10_000  # objects made (less those freed) before a reading process looks for garbage in cycles


@dataclass
class FileOutcome:
    """What happened to one file in this run."""

    name: str
    status: Outcome
    sha256: str = ""
    reviewer_id: str = ""
    answered: int = 0
    issued: int = 0
    problems: list[Problem] = field(default_factory=list)
    kind: IssueKind | None = None  # of the workbook it was made on (None if not known)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


@dataclass
class IngestReport:
    outcomes: list[FileOutcome]
    framework: Framework  # as read for this ingest, to name reviewers
    preferred: Problem | None = None  # what --prefer did

    @property
    def valid(self) -> bool:
        return not any(o.has_errors for o in self.outcomes)

    def count(self, status: Outcome) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def skip_reason(path: Path) -> str:
    """Why a file in the inbox is not a return at all, or '' if it should be read."""
    if path.name.startswith("~$") or (path.name.startswith(".~lock.") and path.name.endswith("#")):
        return "an Excel or LibreOffice lock file, not a return"
    if path.name.startswith("."):
        return "a hidden file"
    if path.suffix.lower() not in WORKBOOK_SUFFIXES and not is_email(path) and not starts_like_a_workbook(path):
        return f"not a workbook ({path.suffix or 'no extension'})"
    return ""


def inbox_files(assessment: Assessment) -> list[Path]:
    """The inbox's files, oldest first, so a later save supersedes an earlier one."""
    if not assessment.inbox.is_dir():
        return []
    files = [p for p in assessment.inbox.iterdir() if p.is_file()]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def ingest(assessment: Assessment, paths: list[Path] | None = None, tracker: Tracker = QUIET,
           prefer: Path | None = None) -> IngestReport:
    """Read every file in the inbox (or `paths`), archive and record the accepted returns.

    `tracker` is told of each file as it is dealt with. `prefer` names a return whose answers are to count
    over its reviewer's other returns (when their order is unclear).
    """
    with assessment.locked("ingest"):
        finish_interrupted_generation(assessment)
        if not assessment.inbox.is_dir():
            assessment.inbox.mkdir()  # deleted by someone tidying up: the next returns need it
        return _ingest(assessment, paths, tracker, prefer)


def _unchanged(name: str, seen: ReturnRecord, answers: "_Answers") -> FileOutcome:
    """A file whose content was ingested before: nothing changes; its earlier problems are repeated, unless
    it was rejected and its sender has since had a return of the same kind accepted (then it is moot)."""
    notes = [problem(Code.ALREADY_INGESTED, name, other=seen.name)]
    later = []
    if seen.status == ReturnStatus.REJECTED and seen.reviewer_id and seen.issue_id in answers.kinds:
        later = [r for r in answers.returns.get(answers.who(seen), []) if r.return_id > seen.return_id]
    if later:
        notes.append(problem(Code.REJECTED_SINCE_REPLACED, name, reviewer=seen.reviewer_id, later=later[-1].name))
    else:
        notes += seen.problems
    return FileOutcome(name, Outcome.UNCHANGED, seen.sha256, seen.reviewer_id, seen.answered, seen.issued, notes)


@dataclass
class _Context:
    """What reading a return needs, handed once to each reading process."""

    framework: Framework
    assessment_id: str
    secret: bytes
    issues: dict[str, IssueRecord]
    archive: Path  # where accepted returns are kept
    known: frozenset[str]  # hashes already recorded: such a file is not read again


@dataclass
class _Read:
    path: Path
    size: int
    mtime_ns: int
    key: str  # how the file is known in the inbox between runs
    sha256: str = ""
    copy: Path | None = None
    reading: ReturnReading | None = None
    problems: list[Problem] = field(default_factory=list)  # the file could not even be copied
    saved: str = ""  # when the workbook says it was saved
    name: str = ""  # what the return is known by: the file's name, or where it was in an email
    source: str = ""  # where it was read from
    envelope: Envelope | None = None  # of the email it came attached to

    def __post_init__(self) -> None:
        self.name = self.name or self.path.name
        self.source = self.source or str(self.path)


_context: _Context | None = None


def _start_reader(context: _Context) -> None:
    global _context
    _context = context
    parent = multiprocessing.parent_process()
    if parent is not None:  # a reading process: end with the command, even if it is killed
        # Ctrl-C reaches every process of the command; the command itself answers it and stops its readers.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(target=_end_with, args=(parent,), daemon=True).start()
        # What it was given (the framework, every issue) lives as long as it does: the garbage collector need not
        # look through it again after every few thousand objects a return makes (about 5 % of reading a return).
        gc.freeze()
        gc.set_threshold(READER_GC_THRESHOLD)


def _end_with(parent) -> None:
    """Wait for the command that started this reading process to end, then end too: a command killed
    mid-ingest must not leave idle processes behind on the officer's computer."""
    parent.join()
    os._exit(1)


def _reader_context() -> _Context:
    """What reading a return needs, as this process was given it (`_start_reader`)."""
    if _context is None:
        raise RuntimeError("a return read before its reader was started")
    return _context


def _read_one(item: tuple[Path, int, int, str]) -> _Read:
    """Read, hash and check one file. Its bytes are read once, so what is hashed, checked and archived is
    one and the same content even if the file in the inbox is changed meanwhile (a mail client still
    saving it). An accepted return's bytes are written beside the archive, for the caller to name."""
    path, size, mtime_ns, key = item
    result = _Read(path, size, mtime_ns, key)
    context = _reader_context()
    if size > MAX_FILE_BYTES:  # refused by its size alone, unread
        result.sha256 = sha256_of(path)
        if result.sha256 not in context.known:
            result.reading = read_return(path, context.framework, context.assessment_id, context.secret,
                                         context.issues, path.name)
        return result
    try:
        content = path.read_bytes()
    except OSError as exc:
        result.problems.append(problem(Code.FILE_UNREADABLE, path, reason=exc.strerror or str(exc)))
        return result
    return _read_content(result, content)


def _read_content(result: _Read, content: bytes) -> _Read:
    """Hash and check a return's bytes (a file's, or an email attachment's: `result.path` then gives only its
    extension) and copy an accepted one beside the archive."""
    path = result.path
    context = _reader_context()
    result.sha256 = hashlib.sha256(content).hexdigest()
    if result.sha256 in context.known:
        return result  # touched or renamed, but the same content: no need to read it
    reading = result.reading = read_return(path, context.framework, context.assessment_id, context.secret,
                                           context.issues, result.name, content)
    result.saved = reading.saved
    accepted = reading.identity if reading.accepted else None
    if (accepted is not None and accepted.kind != IssueKind.PROGRESS  # a progress return says so itself
            and not any(r.rating or r.commentary.strip() or r.gaps.strip() for r in reading.responses)):
        reading.problems.append(problem(Code.RETURN_NOTHING_ANSWERED, result.name, issued=len(accepted.refs)))
    if reading.accepted:
        # In place, whole, before it is recorded: a recorded return always has its archive copy.
        result.copy = context.archive / f"{result.sha256}{path.suffix.lower()}"
        if not result.copy.exists():
            write_bytes(result.copy, content)
    return result


def _read_chunk(items: list[tuple[Path, int, int, str]]) -> list[_Read]:
    return [_read_one(item) for item in items]


def _read_all(items: list[tuple[Path, int, int, str]], context: _Context):
    """Read files in order, in several processes when there are many (handed out a few at a time, as
    each hand-over costs), at most a few ahead of the caller, so memory does not grow with the number
    of files."""
    workers = min(os.cpu_count() or 1, 4)
    if len(items) < PARALLEL_FROM or workers < 2:
        _start_reader(context)
        yield from map(_read_one, items)
        return
    from concurrent.futures import ProcessPoolExecutor  # heavy: loaded only when needed

    chunks = [items[start:start + CHUNK_FILES] for start in range(0, len(items), CHUNK_FILES)]
    pool = ProcessPoolExecutor(workers, initializer=_start_reader, initargs=(context,))
    try:
        pending: deque[Future[list[_Read]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_read_chunk, chunk))
            if len(pending) >= workers * 3:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    except BaseException:  # stopped (Ctrl-C, a failed write): the readers stop too, whatever they were doing
        pool.shutdown(wait=False, cancel_futures=True)
        for reader in multiprocessing.active_children():  # even one started a moment before the pool could
            reader.terminate()                             # be told to stop it
        raise
    pool.shutdown(wait=True)


def _inbox_key(inbox: Path, path: Path) -> str:
    """How a file given on the command line is known between runs: by name if it is in the inbox
    (`inbox` resolved), else by its full path."""
    return path.name if path.parent.resolve() == inbox else str(path.resolve())


class _Answers:
    """Each reviewer's accepted returns and their responses, to say what a new return changes."""

    def __init__(self, returns: list[ReturnRecord], records, preferred: dict[int, str], kinds: dict[str, str]):
        self.kinds = kinds  # issue ID -> review or moderation: a reviewer's moderation round is apart from their review
        self.returns: dict[tuple[str, str], list[ReturnRecord]] = {}
        for record in returns:
            if record.status == ReturnStatus.ACCEPTED:
                self.returns.setdefault(self.who(record), []).append(record)
        self.records = records
        self.responses: dict[int, list[Response]] = {}
        self.preferred = preferred

    def who(self, record: ReturnRecord) -> tuple[str, str]:
        return record.reviewer_id, self.kinds.get(record.issue_id, "review")

    def current(self, who: tuple[str, str]) -> dict:
        earlier = self.returns.get(who, [])
        missing = [r.return_id for r in earlier if r.return_id not in self.responses]
        if missing:  # read only for reviewers who sent something new, so a re-ingest costs what is new
            self.responses.update(dict.fromkeys(missing, []) | self.records.responses_by_return(missing))
        return current_answers(in_order(earlier, self.preferred), self.responses)

    def add(self, record: ReturnRecord, responses: list[Response]) -> list[Problem]:
        """Add an accepted return; notes on whose answers it replaces, and which earlier ones still stand."""
        who = self.who(record)
        before = self.current(who)
        self.returns.setdefault(who, []).append(record)
        self.responses[record.return_id] = responses
        after = self.current(who)
        file = record.name
        # Replaced: an answer given before (a blank one replaced is an answer added, not one replaced).
        replaced_keys = [key for key, (answer, other) in before.items() if answer.rating
                         and other.return_id != record.return_id and after[key][1].return_id == record.return_id]
        replaced = sorted({before[key][1].name for key in replaced_keys})
        # An answer of this file that does not count: left blank here (an earlier answer stands), or given here
        # but overruled by a return placed after this one (the one that counts now names it).
        blank: list[tuple[str, str]] = []
        overruled: dict[int, tuple[ReturnRecord, list[str]]] = {}
        for response in responses:
            key = (response.reviewer_id, response.ref)
            counting = after[key][1]
            if counting.return_id == record.return_id or key not in before or not before[key][0].rating:
                continue
            if response.rating:
                overruled.setdefault(counting.return_id, (counting, []))[1].append(response.ref)
            else:
                blank.append((response.ref, counting.name))
        notes = []
        if replaced:
            notes.append(problem(Code.RETURN_REPLACES, file, count=len(replaced_keys), files=", ".join(replaced),
                                 changed=sum(after[key][0].rating != before[key][0].rating for key in replaced_keys)))
        if blank:
            notes.append(problem(Code.RETURN_EARLIER_ANSWERS_STAND, file, refs=", ".join(ref for ref, _ in blank),
                                 files=", ".join(sorted({name for _, name in blank})), count=len(blank)))
        for other, refs in overruled.values():
            if self.preferred.get(other.return_id):
                notes.append(problem(Code.RETURN_OTHER_PREFERRED, file, refs=", ".join(refs), other=other.name))
            elif (other.saved or other.received) != (record.saved or record.received):
                notes.append(problem(Code.RETURN_OLDER, file, refs=", ".join(refs), other=other.name,
                                     this=placed_by(record), that=placed_by(other)))
            # else saved at the same moment: RETURN_ORDER_UNCLEAR below says which is taken as the later
        for first, second in unclear_order(in_order(self.returns[who], self.preferred), self.preferred):
            if record.return_id in (first.return_id, second.return_id):
                other = first if second.return_id == record.return_id else second
                notes.append(problem(Code.RETURN_ORDER_UNCLEAR, file, other=other.name, later=second.name,
                                     saved=record.saved.replace("T", " "), name=record.name))
        return notes


    def add_progress(self, record: ReturnRecord) -> list[Problem]:
        """Add an accepted progress return; a note when another return of the same workbook is placed after it
        (its updates count where both give one) or was saved at the same moment (which counts is a guess)."""
        same = [r for r in self.returns.get(self.who(record), []) if r.issue_id == record.issue_id]
        self.returns.setdefault(self.who(record), []).append(record)
        ordered = in_order(same + [record], self.preferred)
        notes = []
        for other in ordered[ordered.index(record) + 1:]:
            if self.preferred.get(other.return_id):
                notes.append(problem(Code.PROGRESS_OTHER_PREFERRED, record.name, other=other.name))
            elif (other.saved or other.received) != (record.saved or record.received):
                notes.append(problem(Code.PROGRESS_RETURN_OLDER, record.name, other=other.name,
                                     this=placed_by(record), that=placed_by(other)))
        for first, second in unclear_order(ordered, self.preferred):
            if record.return_id in (first.return_id, second.return_id):
                other = first if second.return_id == record.return_id else second
                notes.append(problem(Code.RETURN_ORDER_UNCLEAR, record.name, other=other.name, later=second.name,
                                     saved=record.saved.replace("T", " "), name=record.name))
        return notes


def _ingest(assessment: Assessment, paths: list[Path] | None, tracker: Tracker, prefer: Path | None) -> IngestReport:
    framework = load_framework(assessment.workbook)
    records = assessment.records
    issues = {issue.issue_id: issue for issue in records.issues()}
    returns = records.returns()
    by_hash = {record.sha256: record for record in returns}
    answers = _Answers(returns, records, records.preferences(), {i: issue.kind for i, issue in issues.items()})
    seen_before = records.inbox_files()
    candidates = [Path(p) for p in paths] if paths is not None else inbox_files(assessment)
    inbox_dir = assessment.inbox.resolve()
    # (the file's place among the candidates, the attachment's place in its email) -> what became of it
    outcomes: dict[tuple[int, int], FileOutcome] = {}
    to_read, emails = [], []
    for index, path in enumerate(candidates):
        if not path.is_file():
            outcomes[index, 0] = FileOutcome(path.name, Outcome.REJECTED, problems=[problem(Code.FILE_NOT_FOUND, str(path))])
            continue
        reason = skip_reason(path)
        if reason:
            outcomes[index, 0] = FileOutcome(path.name, Outcome.SKIPPED, problems=[problem(Code.FILE_SKIPPED, path, reason=reason)])
            continue
        if is_email(path):  # opened every time: its attachments, known by their content, are not read twice
            emails.append((index, path))
            continue
        stat = path.stat()
        key = path.name if paths is None else _inbox_key(inbox_dir, path)
        known = seen_before.get(key)
        if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns) and known.sha256 in by_hash:
            outcomes[index, 0] = _unchanged(path.name, by_hash[known.sha256], answers)  # same name, size and time
            continue
        to_read.append((index, path, stat.st_size, stat.st_mtime_ns, key))
    tracker.start(len(candidates), "files", done=len(outcomes))
    context = _Context(framework, assessment.assessment_id, assessment.secret(), issues, assessment.archive,
                       frozenset(by_hash))
    reads = _read_all([item[1:] for item in to_read], context)
    with contextlib.closing(reads), records.batch():  # closed here, stopped or not: its readers end with it
        for (index, path, *_), read in zip(to_read, reads):
            outcomes[index, 0] = _record(assessment, read, by_hash, answers)
            tracker.advance(path.name)
        for _ in reads:  # every file read: let the readers end as they should, not be stopped
            pass
        for index, path in emails:
            for place, outcome in enumerate(_ingest_email(assessment, path, context, by_hash, answers)):
                outcomes[index, place] = outcome
            tracker.advance(path.name)
    for place_of, outcome in outcomes.items():  # a rejected file seen before may be moot since a return read just now
        if outcome.status == Outcome.UNCHANGED and outcome.has_errors and outcome.sha256 in by_hash:
            outcomes[place_of] = _unchanged(outcome.name, by_hash[outcome.sha256], answers)
    report = IngestReport([outcomes[i] for i in sorted(outcomes)], framework)
    if prefer is not None:
        report.preferred = _prefer(assessment, Path(prefer), by_hash)
    return report


def _prefer(assessment: Assessment, path: Path, by_hash: dict[str, ReturnRecord]) -> Problem:
    """Make the answers of the return in `path` count over its reviewer's other returns. A name that is not
    a file from here is looked for in the inbox, where the returns are."""
    if not path.is_file() and (assessment.inbox / path).is_file():
        path = assessment.inbox / path
    if not path.is_file():
        raise BvaError(problem(Code.FILE_NOT_FOUND, str(path)))
    record = by_hash.get(sha256_of(path))
    if record is None or record.status != ReturnStatus.ACCEPTED:
        raise BvaError(problem(Code.PREFER_NOT_ACCEPTED, path, state="was rejected" if record else "has not been ingested"))
    assessment.records.prefer(record.return_id, dt.datetime.now().isoformat(timespec="microseconds"))
    return problem(Code.RETURN_PREFERRED, path, reviewer=record.reviewer_id)


def _ingest_email(assessment: Assessment, path: Path, context: _Context, by_hash: dict[str, ReturnRecord],
                  answers: _Answers) -> list[FileOutcome]:
    """Every workbook attached to a saved email, read and recorded as a return; a line for everything else in it."""
    global _context
    _context = context  # read here, in this process, whether or not the inbox's files were read by others
    stat = path.stat()
    refused = refused_by_size(path.name, stat.st_size)  # unread: its size alone says enough
    if refused:
        return [FileOutcome(path.name, Outcome.REJECTED, problems=[refused])]
    try:
        content = path.read_bytes()
    except OSError as exc:
        return [FileOutcome(path.name, Outcome.REJECTED, problems=[problem(Code.FILE_UNREADABLE, path, reason=exc.strerror or str(exc))])]
    reading = read_email(path, content)
    outcomes = []
    if reading.problems:
        outcomes.append(FileOutcome(path.name, Outcome.REJECTED, problems=reading.problems))
    elif not reading.workbooks:
        held = [f"{where.split(SEPARATOR, 1)[1]} (an email, opened)" for where in reading.emails]
        held += [f"{where.split(SEPARATOR, 1)[1]} ({what})" for where, what in reading.others]
        outcomes.append(FileOutcome(path.name, Outcome.SKIPPED, problems=[
            problem(Code.EMAIL_NO_WORKBOOK, path, holding="; attached: " + ", ".join(held) if held else ", nor anything else")]))
    for attached in reading.workbooks:
        read = _Read(Path(attached.filename), len(attached.content), stat.st_mtime_ns, "", name=attached.name,
                     source=str(path) + attached.name[len(path.name):], envelope=attached.envelope)
        outcomes.append(_record(assessment, _read_content(read, attached.content), by_hash, answers, context.framework))
    for where, what in reading.others:
        outcomes.append(FileOutcome(where, Outcome.SKIPPED, problems=[problem(Code.FILE_SKIPPED, where, reason=f"{what}, not a workbook")]))
    return outcomes


def _not_from(envelope: Envelope, identity: IssueIdentity, framework: Framework) -> list[Problem]:
    """A warning when the email a return came with was sent by someone else than the person it was issued to
    (as 'Reviewers' or 'Service areas' gives their address); nothing when there is no address to compare."""
    person: ServiceArea | Reviewer | None
    if identity.kind == IssueKind.PROGRESS:
        person = area = framework.service_area(identity.reviewer_id)
        name = (area.head or area.name) if area else ""
    else:
        person = framework.reviewer(identity.reviewer_id)
        name = person.name if person else ""
    if person is None or not person.email.strip():
        return []
    if envelope.address:
        if envelope.address == person.email.strip().lower():
            return []
    elif name and name.casefold() in envelope.sender.casefold():  # an Exchange sender gives a name, no address
        return []
    return [problem(Code.EMAIL_SENDER_NOT_ISSUED, "", sender=envelope.sender or "an unnamed sender",
                    issued=name or identity.reviewer_id, address=person.email.strip())]


def _record(assessment: Assessment, read: _Read, by_hash: dict[str, ReturnRecord], answers: _Answers,
            framework: Framework | None = None) -> FileOutcome:
    """Archive and record one file just read; one transaction, after the archive copy is in place."""
    records = assessment.records
    if not read.sha256:
        return FileOutcome(read.name, Outcome.REJECTED, problems=read.problems)
    inbox = InboxFile(read.key, read.size, read.mtime_ns, read.sha256) if read.key else None
    if read.sha256 in by_hash:  # the same content under another name, or a file touched but not changed
        if inbox:
            records.remember_inbox_file(inbox)
        return _unchanged(read.name, by_hash[read.sha256], answers)
    reading = read.reading
    if reading is None:  # read, but not checked: only a file already recorded is (and it returned above)
        raise RuntimeError(f"{read.name} was not checked")
    identity = reading.identity
    accepted = identity if reading.accepted else None  # the identity of a return accepted
    if accepted is not None and accepted.kind == IssueKind.PROGRESS:
        from bva_excel.model.progress import replaced_workbook

        reading.problems += replaced_workbook(read.name, accepted, records.issues())
    envelope = read.envelope or Envelope("", "", "", "")
    if accepted is not None and read.envelope and framework is not None:
        reading.problems += [replace(found, file=read.name) for found in _not_from(read.envelope, accepted, framework)]
    archive = read.copy.relative_to(assessment.folder).as_posix() if accepted is not None and read.copy else ""
    record = ReturnRecord(
        sha256=read.sha256, name=read.name, source=read.source,
        received=dt.datetime.now().replace(microsecond=0).isoformat(),
        modified=dt.datetime.fromtimestamp(read.mtime_ns / 1e9).replace(microsecond=0).isoformat(),
        status=ReturnStatus.ACCEPTED if reading.accepted else ReturnStatus.REJECTED,
        reviewer_id=identity.reviewer_id if identity else "", issue_id=identity.issue_id if identity else "",
        issued=len(identity.refs) if identity else 0, answered=reading.answered, archive=archive,
        problems=tuple(reading.problems), saved=read.saved, saved_by=reading.saved_by,
        email_from=envelope.sender, email_date=envelope.date, email_subject=envelope.subject)
    # What was typed where bva reads nothing is kept even from a rejected return: it is in no other record.
    stored = records.record_return(record, reading.responses if reading.accepted else [], inbox,
                                   reading.updates if reading.accepted else [], reading.notes)
    by_hash[stored.sha256] = stored
    outcome = FileOutcome(read.name, Outcome(stored.status), stored.sha256, stored.reviewer_id, stored.answered,
                          stored.issued, list(reading.problems), identity.kind if identity else None)
    if accepted is not None and accepted.kind != IssueKind.PROGRESS:  # progress counts per update, whatever came before
        outcome.problems += answers.add(stored, reading.responses)
    elif accepted is not None:
        outcome.problems += answers.add_progress(stored)
    return outcome
