"""One protected workbook per reviewer: only their characteristics, a dropdown per score.

`generate` allocates, writes every workbook to the outbox and records what was issued, so that a
return can later be checked against exactly what its reviewer was sent.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bva_excel.errors import BvaError, Code, Problem, problem
from bva_excel.excel.read.framework import load_framework
from bva_excel.excel.write.drafts import Recipient, compose, write_draft
from bva_excel.excel.write.review import issued_texts, write_reviewer_workbook
from bva_excel.model.allocation import ReviewerChange, allocate, by_reviewer, changes
from bva_excel.model.framework import Framework, present
from bva_excel.model.identity import IssueIdentity
from bva_excel.model.kinds import IssueKind
from bva_excel.model.recorded import IssueRecord
from bva_excel.store.files import (
    file_name_keeping_its_end,
    move_over,
    numbered_file_name,
    safe_file_name,
)
from bva_excel.store.folder import Assessment
from bva_excel.tracking import QUIET, Tracker


@dataclass
class Generation:
    allocation: dict[str, tuple[str, ...]]
    files: dict[str, Path]  # reviewer ID -> workbook written in this run, in the order of 'Reviewers'
    framework: Framework  # as read for this generation
    changes: dict[str, ReviewerChange] = field(default_factory=dict)  # reviewer ID -> what changed for them
    first: bool = True  # nothing had been issued before
    reallocated: bool = False  # the earlier allocation was discarded on purpose
    withdrawn: list[Path] = field(default_factory=list)  # workbooks moved out of the outbox
    recovered: list[str] = field(default_factory=list)  # what an interrupted run left, and what became of it
    refused: list[Problem] = field(default_factory=list)  # files open in Excel, left as they were
    drafts: Drafts | None = None  # the draft emails written, with --emails


@dataclass
class Drafts:
    """A draft email for each workbook issued (`--emails`), and what became of them."""

    framework: Framework  # where the recipients' addresses are
    title: str
    pmo: str  # whom to ask
    written: list[Path] = field(default_factory=list)
    unaddressed: list[str] = field(default_factory=list)  # recipients with no usable address: their draft has no To


def recipient(framework: Framework, kind: str, recipient_id: str) -> tuple[Recipient, str]:
    """Whom a workbook of `kind` issued to `recipient_id` (a reviewer ID, or a service area's name) goes to, and
    how they are named in a list."""
    if kind == IssueKind.PROGRESS:
        area = framework.service_area(recipient_id)
        if area is None:
            return Recipient("", "", recipient_id), recipient_id
        return Recipient(area.head, area.email, area.name), area.name + (f" ({area.head})" if area.head else "")
    reviewer = framework.reviewer(recipient_id)
    if reviewer is None:
        return Recipient("", ""), recipient_id
    return Recipient(reviewer.name, reviewer.email), reviewer.label


def draft_name(workbook: str) -> str:
    """The draft email beside a workbook in the outbox: its name, with .eml."""
    return f"{Path(workbook).stem}.eml"


def _write_drafts(assessment: Assessment, records: list[IssueRecord], placed: dict[str, Path], drafts: Drafts) -> None:
    for record in records:
        if record.issue_id not in placed:
            continue  # left waiting (the outbox's file is open): not issued yet, so no draft to send
        person, label = recipient(drafts.framework, record.kind, record.reviewer_id)
        message = compose(person, record.kind, drafts.title, record.deadline, drafts.pmo, placed[record.issue_id])
        drafts.written.append(write_draft(assessment.outbox / draft_name(record.file), message))
        if not person.usable_address:
            drafts.unaddressed.append(label)


def current_allocation(issues: list[IssueRecord]) -> dict[str, tuple[str, ...]]:
    """reviewer ID -> the refs of the workbook most recently issued to them."""
    return {issue.reviewer_id: issue.refs for issue in issues}


def generate(assessment: Assessment, per_characteristic: int = 1, deadline: dt.date | None = None,
             pmo: str = "the PMO", reallocate: bool = False, tracker: Tracker = QUIET,
             emails: bool = False) -> Generation:
    """Allocate and write the workbooks of reviewers whose set is new or changed; record what was issued.

    An allocation once issued is kept, unless `reallocate`. The workbooks are written to a staging
    folder, recorded, then moved into the outbox, so an interruption leaves all of them or none. With `emails`, a
    draft email to each reviewer sent a workbook is written beside it.
    """
    with assessment.locked("generate"):
        recovered = finish_interrupted_generation(assessment)
        generation = _generate(assessment, per_characteristic, deadline, pmo, reallocate, tracker, emails)
        generation.recovered = recovered
        return generation


STAGING_PREFIX = "staging-"
MANIFEST = "manifest.json"


def finish_interrupted_generation(assessment: Assessment) -> list[str]:
    """Complete or undo a generation that was interrupted: recorded -> move into the outbox; else discard."""
    said = []
    for staging in sorted(assessment.records_dir.glob(f"{STAGING_PREFIX}*")):
        manifest = staging / MANIFEST
        recorded = {i.issue_id for i in assessment.records.issues()}
        try:
            planned = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            planned = {}
        if planned and all(issue_id in recorded for issue_id in planned):
            waiting = [name for name in planned.values() if (staging / name).exists()]
            refused = _into_outbox(assessment, staging, waiting)
            if refused:
                raise BvaError(refused)  # kept in staging, to be moved by the next command
            said.append(f"finished an interrupted bva generate: moved {len(waiting)} recorded workbooks into the "
                        "outbox")
        else:
            said.append("undid an interrupted bva generate: its workbooks had not been recorded, so none was issued")
        shutil.rmtree(staging, ignore_errors=True)
    return said


def _into_outbox(assessment: Assessment, staging: Path, names: list[str]) -> list[Problem]:
    """Move recorded workbooks from `staging` into the outbox; one left where it is (the outbox's file of
    that name is open in Excel) is said, and the staging folder is kept for the next command."""
    refused = [_placed_in_outbox(staging / name, assessment.outbox / name) for name in names]
    if not any(refused):
        shutil.rmtree(staging, ignore_errors=True)
    return [p for p in refused if p]


def _placed_in_outbox(source: Path, target: Path) -> Problem | None:
    """Move one recorded workbook into the outbox; the problem if the file there is open in Excel, or the move
    fails otherwise (a full or failing drive): the workbook then waits, recorded, for the next command."""
    try:
        return move_over(source, target, Code.OUTBOX_BUSY)
    except OSError as exc:
        return problem(Code.OUTBOX_NOT_PLACED, str(target), reason=exc.strerror or type(exc).__name__)


def _withdraw(assessment: Assessment, name: str) -> Path | Problem | None:
    """Move an outbox workbook that is no longer current out of the outbox (kept, never deleted), with the draft
    email beside it: where it went, the problem if it is open in Excel, or None if it is not there."""
    source = assessment.outbox / name
    draft = assessment.outbox / draft_name(name)
    if draft.exists():  # a draft carrying a workbook no longer current must not be sent
        target_dir = assessment.records_dir / "withdrawn"
        target_dir.mkdir(exist_ok=True)
        move_over(draft, target_dir / f"{draft.stem} (withdrawn {dt.datetime.now():%Y-%m-%d %H%M%S}).eml", Code.WITHDRAW_BUSY)
    if not source.exists():
        return None
    target_dir = assessment.records_dir / "withdrawn"
    target_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H%M%S")
    target = target_dir / f"{source.stem} (withdrawn {stamp}){source.suffix}"
    return move_over(source, target, Code.WITHDRAW_BUSY, busy=source) or target


def _generate(assessment: Assessment, per_characteristic: int, deadline: dt.date | None, pmo: str,
              reallocate: bool, tracker: Tracker, emails: bool = False) -> Generation:
    framework = load_framework(assessment.workbook)
    issues = [issue for issue in assessment.records.issues() if issue.kind == IssueKind.REVIEW]
    issued = current_allocation(issues)
    allocation = allocate(framework, per_characteristic, None if reallocate else issued)
    changed = changes(framework, allocation, issued)
    secret = assessment.secret()
    password = assessment.records.sheet_password()
    issued_at = dt.datetime.now().replace(microsecond=0).isoformat()
    order = {r.reviewer_id: i for i, r in enumerate(framework.reviewers)}
    refs_by_reviewer = by_reviewer(allocation)
    planned = []
    for reviewer_id in sorted(refs_by_reviewer, key=lambda rid: order.get(rid, len(order))):
        if issues and reviewer_id not in changed:
            continue  # same set as before: their workbook stands
        refs = refs_by_reviewer[reviewer_id]
        reviewer = present(framework.reviewer(reviewer_id), reviewer_id)
        characteristics = [present(framework.characteristic(ref), ref) for ref in refs]
        identity = IssueIdentity(assessment.assessment_id, reviewer_id, secrets.token_hex(6), issued_at,
                                 tuple(refs))
        name = safe_file_name(f"BV review {reviewer.reviewer_id} {reviewer.name}", ".xlsx")
        record = IssueRecord(identity.issue_id, reviewer_id, issued_at, name,
                             deadline.isoformat() if deadline else "", tuple(refs),
                             {c.ref: issued_texts(c) for c in characteristics})
        planned.append((reviewer, characteristics, identity, record))
    wanted = {record.issue_id: f"BV review {reviewer.reviewer_id} {reviewer.name}"
              for reviewer, _, _, record in planned}
    named = named_apart(assessment, [
        (record, lambda path, r=reviewer, c=characteristics, i=identity: write_reviewer_workbook(
            path, framework, r, c, i, secret, assessment.title, deadline, pmo, password))
        for reviewer, characteristics, identity, record in planned], wanted)
    new_files = {record.reviewer_id: record.file for record, _ in named}
    withdrawn: list[Path] = []

    def withdraw_replaced() -> list[Problem]:  # removed, or renamed: out of the outbox before the new ones go in
        moved = [_withdraw(assessment, old) for reviewer_id, old in {i.reviewer_id: i.file for i in issues}.items()
                 if reviewer_id in changed and new_files.get(reviewer_id) != old]
        withdrawn.extend(m for m in moved if isinstance(m, Path))
        return [m for m in moved if isinstance(m, Problem)]

    drafts = Drafts(framework, assessment.title, pmo) if emails else None
    placed, refused = issue_workbooks(assessment, named, tracker, before_placing=withdraw_replaced, drafts=drafts)
    files = {record.reviewer_id: placed[record.issue_id] for record, _ in named if record.issue_id in placed}
    return Generation(allocation, files, framework, changed, not issues, reallocate, withdrawn, refused=refused,
                      drafts=drafts)


def distinct_file_names(earlier: list[IssueRecord], planned: list[IssueRecord],
                        wanted: dict[str, str] | None = None) -> list[IssueRecord]:
    """`planned` with file names that no other recipient has (as Windows compares names, ignoring case).

    A name too long for a file loses its middle, not its end, so that two service areas whose names differ only
    after 60 characters keep what tells them apart ('BV progress Children's Services…Prevention (North)'), made
    from the name each was `wanted` to have (issue ID -> text); 'Planning/Regeneration' and
    'Planning:Regeneration', the same name once Windows' forbidden characters are gone, are told apart by ' (2)'.
    A name once issued stays its recipient's, so each round gives everyone the same name as the last."""
    owner: dict[str, tuple[str, str]] = {}  # a name -> (kind, recipient) of the first workbook given it
    for issue in earlier:
        owner.setdefault(issue.file.casefold(), (issue.kind, issue.reviewer_id))
    mine = {(issue.kind, issue.reviewer_id): issue.file for issue in earlier}  # the name each had last
    named = []
    for record in planned:
        recipient = (record.kind, record.reviewer_id)
        text = (wanted or {}).get(record.issue_id)
        candidates = ([mine[recipient]] if recipient in mine else []) + [
            file_name_keeping_its_end(text, ".xlsx") if text else record.file]
        name = next((c for c in candidates if owner.get(c.casefold(), recipient) == recipient), None)
        number = 1
        while name is None or owner.get(name.casefold(), recipient) != recipient:
            number += 1
            name = numbered_file_name(candidates[-1], number)
        owner[name.casefold()] = recipient
        named.append(replace(record, file=name))
    return named


def named_apart(assessment: Assessment, planned: list, wanted: dict[str, str] | None = None) -> list:
    """(issue record, write) pairs with the records' file names made distinct (`distinct_file_names`)."""
    named = distinct_file_names(assessment.records.issues(), [record for record, _ in planned], wanted)
    return [(record, write) for record, (_, write) in zip(named, planned)]


def stage_and_record(assessment: Assessment, planned: list, tracker: Tracker = QUIET) -> Path:
    """Write workbooks to a staging folder and record them, all or none: `planned` holds (issue record,
    write(path)) pairs. Recorded before they reach the outbox: a workbook there was always issued, so its
    return is known. Returns the staging folder, for `_into_outbox`. `tracker` counts the workbooks written."""
    names = [record.file.casefold() for record, _ in planned]
    if len(set(names)) != len(names):  # two workbooks would be written as one: name them first
        raise ValueError("two workbooks planned under one file name")
    staging = assessment.records_dir / f"{STAGING_PREFIX}{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        tracker.start(len(planned), "workbooks")
        for record, write in planned:
            write(staging / record.file)
            tracker.advance(record.file)
        (staging / MANIFEST).write_text(json.dumps({r.issue_id: r.file for r, _ in planned}), encoding="utf-8")
        assessment.records.record_issues([record for record, _ in planned])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def issue_workbooks(assessment: Assessment, planned: list, tracker: Tracker = QUIET,
                    before_placing: Callable[[], list[Problem]] | None = None,
                    drafts: Drafts | None = None) -> tuple[dict[str, Path], list[Problem]]:
    """Stage, record and move workbooks into the outbox: (issue ID -> path in the outbox, the problems of
    those left waiting because the outbox's file of that name is open in Excel). `before_placing`, run once they
    are recorded and before any is moved, clears the outbox of what they replace and returns its own problems.
    With `drafts`, a draft email for each workbook placed is written beside it (`drafts` says which)."""
    staging = stage_and_record(assessment, planned, tracker)
    refused = before_placing() if before_placing else []
    refused += _into_outbox(assessment, staging, [record.file for record, _ in planned])
    placed = {record.issue_id: assessment.outbox / record.file for record, _ in planned
              if not (staging / record.file).exists()}
    if drafts is not None:
        _write_drafts(assessment, [record for record, _ in planned], placed, drafts)
    return placed, refused
