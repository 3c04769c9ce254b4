"""model.recorded"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bva_excel.errors import Problem
from bva_excel.model.kinds import IssueKind, ReturnStatus


@dataclass(frozen=True)
class Response:
    """One reviewer's answer for one characteristic, and where it was read from."""

    ref: str
    reviewer_id: str
    rating: str  # the scale's name for it, or "" when not answered
    commentary: str
    gaps: str
    file: str
    sheet: str
    cell: str  # the Score cell


@dataclass(frozen=True)
class ProgressUpdate:
    """One service area's update on one action, from a progress workbook, and where it was read from."""

    action_id: str
    service_area: str
    status: str  # one of the action plan's statuses, or '' when left as it was
    progress: str
    revised_target: str  # ISO date, or ''
    file: str
    sheet: str
    cell: str  # the Status cell
    received: str = ""  # when its return was ingested (filled in when read back)
    sha256: str = ""  # its return's, which tells apart two returns under one name (filled in when read back)
    issue_id: str = ""  # the progress workbook it came in (filled in when read back)
    replaced_by: str = ""  # a newer progress workbook issued to the same service area before this was received
    replaced_at: str = ""  # when that newer workbook was issued, as said when this was received


@dataclass(frozen=True)
class FollowUp:
    """A follow-up report as written: when, where, and each action as it then stood."""

    written_at: str
    file: str
    actions: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)  # action ID -> {status, ...}


@dataclass(frozen=True)
class Reminder:
    """A reminder drafted for someone whose return was missing or incomplete (`bva chase`)."""

    issue_id: str  # the workbook they were reminded of
    recipient: str  # a reviewer ID, or a service area's name
    kind: IssueKind
    written_at: str
    outstanding: str  # what was outstanding, as the reminder said it
    file: str  # the draft email


@dataclass(frozen=True)
class IssueRecord:
    """One workbook issued to one reviewer: the refs in the order they were sent, and the locked text."""

    issue_id: str
    reviewer_id: str
    issued_at: str
    file: str
    deadline: str = ""
    refs: tuple[str, ...] = ()
    texts: Mapping[str, dict[str, str]] = field(default_factory=dict, compare=False)  # ref -> header -> text shown
    kind: IssueKind = IssueKind.REVIEW
    written_by: str = field(default="", compare=False)  # who recorded it, on which computer


@dataclass(frozen=True)
class ReturnRecord:
    """One file seen by ingest, and what became of it."""

    sha256: str
    name: str
    source: str
    received: str
    modified: str
    status: ReturnStatus
    reviewer_id: str = ""
    issue_id: str = ""
    issued: int = 0
    answered: int = 0
    archive: str = ""
    problems: tuple[Problem, ...] = ()
    saved: str = ""  # when the workbook says it was last saved, '' if it does not say
    return_id: int = 0  # given by the records
    saved_by: str = ""  # who the workbook says last saved it (its 'last saved by'), '' if it does not say
    # The email it came attached to, if it came in a saved email: its sender, when it was sent, its subject.
    email_from: str = ""
    email_date: str = ""
    email_subject: str = ""


NOTE_KINDS = {"row": "Typed in a row with no ref or action ID", "column": "Typed in a column bva does not read",
              "score": "A score or status typed in a row with no ref or action ID (not counted)",
              "comment": "A comment on a cell"}


@dataclass(frozen=True)
class ReturnNote:
    """Something a person typed in a return where bva reads nothing (a row they inserted, a column beside the
    table, a cell comment): kept, and shown on the report, so that it is never lost."""

    sheet: str
    cell: str
    kind: str  # a key of NOTE_KINDS
    text: str
    file: str = ""  # the return's, filled in when read back
    reviewer_id: str = ""  # who sent the return (a reviewer, a moderator or a service area)
    received: str = ""  # when its return was ingested


@dataclass(frozen=True)
class SignOff:
    """Senior officers' sign-off of every characteristic's final score, as it stood then."""

    signed_by: str
    signed_at: str
    open_high: int  # high-severity findings still open, accepted with --accept-open
    finals: dict[str, str] = field(default_factory=dict, compare=False)  # ref -> final score signed off ('' if none)
    # What was missing when it was signed off: reviewers who returned nothing ("R08 Jane Doe (none of 19)"), and
    # characteristics scored by fewer reviewers than were issued them (ref -> (scored by, issued to)).
    not_returned: tuple[str, ...] = ()
    short: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)
    written_by: str = field(default="", compare=False)  # who recorded it, on which computer


@dataclass(frozen=True)
class SeenValue:
    """A value a report run found in a field people change: a characteristic's moderated score, note
    or final score, or an action's input (`kind` 'characteristic' or 'action', `key` the ref or
    action ID)."""

    seen_at: str
    kind: str
    key: str
    field: str
    value: str
    source: str = ""
    # (`dataclasses.field` by its full name: this class has a field called `field`)
    written_by: str = dataclasses.field(default="", compare=False)  # who recorded it, on which computer
    number: int = dataclasses.field(default=0, compare=False)  # its place in the records (merged in later: higher)


