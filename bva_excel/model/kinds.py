"""The fixed words the tool decides by: what a workbook was issued for, what became of a file, how much a finding
matters, each a `words.Text`: an Enum whose members are their text."""

from __future__ import annotations

from bva_excel.words import Text


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
