"""Sign-off: senior officers' final assessment of the scores, recorded with who and when.

Each sign-off keeps every characteristic's final score as it stood; signing again adds a new one and
keeps the old. A final score changed afterwards is shown with both values, and needs a note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bva_excel.app.state import STATE_STEPS, keep_choices, load_state
from bva_excel.errors import BvaError, Code, problem
from bva_excel.model.consistency import HIGH
from bva_excel.model.recorded import SignOff
from bva_excel.store.folder import Assessment
from bva_excel.tracking import QUIET, Tracker


@dataclass
class SignOffResult:
    signoff: SignOff
    earlier: int  # sign-offs before this one


def sign_off(assessment: Assessment, by: str, accept_open: bool = False, threshold_name: str | None = None,
             spread: int | None = None, tracker: Tracker = QUIET) -> SignOffResult:
    """Record the final score of every characteristic as signed off by `by` ("Name, Role").

    Refused while high-severity findings are open, unless `accept_open` (their number is recorded).
    """
    by = " ".join(by.split())
    if not by:
        raise BvaError(problem(Code.SIGNOFF_NOBODY))
    with assessment.locked("signoff"):
        tracker.start(STATE_STEPS, "steps")
        keep_choices(assessment, threshold_name, spread)
        gathered = load_state(assessment, tracker)
        open_high = [f for f in gathered.consistency.must_look if f.severity == HIGH]
        if open_high and not accept_open:
            raise BvaError(problem(Code.SIGNOFF_OPEN_FINDINGS, count=len(open_high),
                                   first=f"{open_high[0].ref} {open_high[0].finding}".strip(),
                                   folder=str(assessment.folder)))
        consolidation = gathered.consolidation
        missing = tuple(f"{p.reviewer_id} {p.name}".strip() + f" (none of {p.issued})"
                        for p in consolidation.not_returned)
        signoff = SignOff(by, dt.datetime.now().replace(microsecond=0).isoformat(), len(open_high),
                          {ref: decision.final for ref, decision in gathered.decisions.items()},
                          missing, consolidation.short_of_reviewers)
        earlier = len(assessment.records.signoffs())
        assessment.records.record_signoff(signoff)
        return SignOffResult(signoff, earlier)


def finals_now(assessment: Assessment, leaving_out: frozenset[str] = frozenset()) -> dict[str, str] | None:
    """ref -> the final score as the report would show it now, or as it did before the returns of the SHA-256s
    `leaving_out` came in (None if the state cannot be read: said elsewhere)."""
    try:
        return {ref: decision.final for ref, decision in load_state(assessment, leaving_out=leaving_out).decisions.items()}
    except (BvaError, OSError):
        return None
