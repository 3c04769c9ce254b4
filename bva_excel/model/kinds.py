"""The fixed words the tool decides by: what a workbook was issued for, what became of a file, how much a finding
matters. Each is an Enum whose members are their text, so that they are stored in the records, written in JSON
and shown in messages as that text, and compare equal to it; the type checker then knows the only values each
may take."""

from __future__ import annotations

from enum import Enum


class Text(str, Enum):
    """An enumeration of words: each member is its text."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class IssueKind(Text):
    """What a workbook was issued for."""

    REVIEW = "review"  # a reviewer's scores, commentary and gaps
    MODERATION = "moderation"  # the second, independent review of the consolidated scores
    PROGRESS = "progress"  # a service area's progress on its actions


class ReturnStatus(Text):
    """What ingest made of a file, as the records keep it."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Outcome(Text):
    """What one run of ingest did with a file it was given."""

    ACCEPTED = "accepted"  # read and recorded, its answers taken
    REJECTED = "rejected"  # read and recorded, nothing taken: the problems say why
    UNCHANGED = "unchanged"  # recorded before (the same bytes): not read again
    SKIPPED = "skipped"  # not a return (a lock file, a PDF): not read


class ActionStatus(Text):
    """The statuses of an action on the plan (a status typed that is none of these is kept, and said)."""

    NOT_STARTED = "Not started"
    IN_PROGRESS = "In progress"
    COMPLETE = "Complete"
    CLOSED = "Closed"


class Severity(Text):
    """How much a consistency finding matters, most first."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"
