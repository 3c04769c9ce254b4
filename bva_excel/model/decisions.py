"""model.decisions"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from bva_excel.errors import Code, Problem, problem
from bva_excel.layout import (
    SCORES_SHEET,
)
from bva_excel.model.framework import Scale
from bva_excel.model.recorded import Response, ReturnRecord, SignOff
from bva_excel.model.text import normalise_ref, short_list, suggest


@dataclass(frozen=True)
class Moderation:
    moderated: str = ""  # as typed; checked against the scale when the report is written
    note: str = ""
    final_override: str = ""  # a Final score typed over the formula


@dataclass
class PreviousEdits:
    moderation: dict[str, Moderation] = field(default_factory=dict)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)  # action ID -> header -> value, in order
    action_refs: dict[str, str] = field(default_factory=dict)  # action ID -> the ref it is an action for
    action_rows: dict[str, int] = field(default_factory=dict)  # action ID -> Excel row it was typed on
    assigned: list[tuple[int, str, str]] = field(default_factory=list)  # (Excel row, ID as typed, ID given)
    reused: list[tuple[int, str, int]] = field(default_factory=list)  # (Excel row, ID typed, row already using it)
    action_sources: dict[str, str] = field(default_factory=dict)  # action ID -> its 'Update from', as written
    refs_present: set[str] = field(default_factory=set)  # refs with a row on 'Scores' (typed into or not)
    actions_present: set[str] = field(default_factory=set)  # action IDs with a row on 'Action plan'


_ACTION_ID = re.compile(r"^\s*ACT-([A-Za-z]{1,4}\s*-?\s*\d{1,6})(?:-\d+)?\s*$", re.IGNORECASE)


def ref_of_action(action_id: str) -> str | None:
    """The ref in an action ID such as ACT-R002 or ACT-R002-2 (None if it holds none)."""
    match = _ACTION_ID.match(action_id or "")
    if not match or _unplaced(action_id):
        return None
    return normalise_ref(match.group(1))


def _unplaced(action_id: str) -> bool:
    """An ID given to an action typed under no characteristic (ACT-NEW-2 and on)."""
    return re.match(r"^\s*ACT-NEW-\d+\s*$", action_id or "", re.IGNORECASE) is not None


@dataclass(frozen=True)
class ScoreDecision:
    """How one characteristic's final score came about."""

    consolidated: str
    moderated: str  # the scale's name when it matched, else as typed
    note: str
    final: str
    final_typed: str  # a Final score typed over the formula, kept as typed
    moderated_by: str = ""  # where the moderated score came from: a moderation return, or '' (typed in the report)
    overruled: str = ""  # a different moderated score that a later one replaced, in words


def _later_of(moderation: Moderation, returned: tuple[Response, ReturnRecord],
              report_saved: str) -> tuple[Moderation, str, str]:
    """The typed moderation or the moderation-round answer, whichever is later; where it came from; and the
    one it overruled, in words. The report is as late as it was last saved."""
    response, record = returned
    from_return = Moderation(response.rating, response.commentary, moderation.final_override)
    source = f"{response.reviewer_id}'s moderation return {record.name}, cell {response.cell}, received {record.received}"
    typed = moderation.moderated.strip()
    if not typed or (typed.casefold(), moderation.note.strip()) == (response.rating.casefold(), response.commentary.strip()):
        return from_return, source, ""
    if report_saved and report_saved > record.received:
        return moderation, "", (f"{response.rating} from {response.reviewer_id}'s moderation return {record.name} "
                                f"was overruled by {typed} typed in report.xlsx later")
    return from_return, source, (f"{typed} typed in report.xlsx was overruled by {response.rating} from "
                                 f"{response.reviewer_id}'s moderation return {record.name}, received later")


def decide(scale: Scale, consolidated: dict[str, str], edits: PreviousEdits, file: str = "report.xlsx",
           returned: dict[str, tuple[Response, ReturnRecord]] | None = None,
           report_saved: str = "") -> tuple[dict[str, ScoreDecision], list[Problem]]:
    """Final score per ref: a typed Final score, else a valid moderated score, else the consolidated one.

    The moderated score is the one typed into the report or the one from the moderation round
    (`returned`: ref -> (response, return)), whichever is later (`report_saved`: when the report was saved).
    Returns (ref -> ScoreDecision, warnings for moderated scores that are not on the scale).
    """
    decisions, warnings = {}, []
    for ref, base in consolidated.items():
        moderation = edits.moderation.get(ref, Moderation())
        source = overruled = ""
        if returned and ref in returned:
            moderation, source, overruled = _later_of(moderation, returned[ref], report_saved)
        moderated = moderation.moderated.strip()
        valid = scale.find(moderated) if moderated else None
        if moderated and valid is None:
            warnings.append(problem(Code.MODERATED_SCORE_INVALID, file, SCORES_SHEET, ref=ref, value=moderated,
                                    hint=suggest(moderated, scale.names), ratings=", ".join(scale.names)))
        typed_final = scale.find(moderation.final_override)
        final = (typed_final.name if typed_final else moderation.final_override) or (
            valid.name if valid else base)
        decisions[ref] = ScoreDecision(base, valid.name if valid else moderation.moderated, moderation.note,
                                       final, moderation.final_override, source, overruled)
    return decisions, warnings


def changed_since(signoff: SignOff | None, finals: dict[str, str]) -> list[tuple[str, str, str]]:
    """(ref, final score signed off, final score now) of each final score that differs from the sign-off, in the
    order of `finals` (the framework's)."""
    if signoff is None:
        return []
    return [(ref, signoff.finals.get(ref, ""), final) for ref, final in finals.items()
            if signoff.finals.get(ref, "") != final]


def signed_off(signoff: SignOff | None, finals: dict[str, str] | None = None) -> str:
    """The words for the title: who signed off and when, or that nobody has yet; with `finals` (ref -> final
    score now), how many final scores differ from those signed off, so a changed map is never shown as signed."""
    if signoff is None:
        return "not signed off yet"
    when = dt.datetime.fromisoformat(signoff.signed_at).strftime("%d %B %Y %H:%M")
    accepted = (f" with {signoff.open_high} high-severity finding{'s' * (signoff.open_high != 1)} still open"
                if signoff.open_high else "")
    changed = [ref for ref, _, _ in changed_since(signoff, finals or {})]
    since = (f"; {len(changed)} final score{'s' * (len(changed) != 1)} changed since ({short_list(changed, 5)}), "
             "not signed off" if changed else "")
    return f"signed off by {signoff.signed_by} on {when}{accepted}{since}"


