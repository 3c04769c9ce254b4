"""What was typed into the report on another computer, folded into what was typed into this one.

Two officers with copies of one folder (a synced folder) each type into their own report.xlsx. What the other typed
reaches this computer in two ways: as values their report runs saw, in their copy of the records, merged into these
(`fold_in_elsewhere`); and as their report itself, kept by the sync client as a conflict copy (`fold_in`). A cell
is judged by what this computer last saw in it: changed only elsewhere, the other value counts; changed only here,
this one stays; changed in both to different values, a value is never replaced by a blank, and of two values the
later counts; every clash is said with both values, so that nothing either officer typed is lost from view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from bva_excel.model.changes import ACTION, CHARACTERISTIC, Cell, value_text
from bva_excel.model.decisions import Moderation, PreviousEdits, ref_of_action
from bva_excel.model.recorded import IssueRecord, SeenValue, SignOff

_COMPUTED = ("the moderated score", "the reviewers' scores (consolidated)")  # a final score nobody typed
_FIELDS = {"Moderated score": "moderated", "Moderation note": "note", "Final score": "final_override"}


@dataclass(frozen=True)
class Clash:
    """A cell typed differently here and elsewhere."""

    kind: str  # 'characteristic' or 'action'
    key: str  # the ref or the action ID
    field: str
    here: str
    there: str
    there_counts: bool  # the value typed elsewhere counts (the later, or the only one not blank)


@dataclass
class Folded:
    taken: list[Cell]  # (kind, key, field) of each value that counts from elsewhere
    clashes: list[Clash]


def _typed(value: SeenValue) -> bool:
    """Whether a value seen was typed by a person (not worked out by bva, nor brought by a return)."""
    return value.source.startswith("typed in")


def _seen_here(seen: list[SeenValue], upto: int) -> tuple[dict[Cell, str], dict[Cell, set[str]]]:
    """(kind, key, field) -> what this computer last saw in the cell, and every value it ever saw there: the values
    numbered up to `upto` (those merged in from elsewhere since come after); a final score bva worked out counts
    as blank, as only a typed final score is in the cell."""
    last: dict[Cell, str] = {}
    ever: dict[Cell, set[str]] = {}
    for value in seen:
        if value.number <= upto:
            typed = not (value.field == "Final score" and value.source in _COMPUTED)
            key = (value.kind, value.key, value.field)
            last[key] = value.value.strip() if typed else ""
            ever.setdefault(key, set()).add(last[key])
    return last, ever


def _current(edits: PreviousEdits, kind: str, key: str, field: str) -> str:
    if kind == CHARACTERISTIC:
        return getattr(edits.moderation.get(key, Moderation()), _FIELDS[field], "").strip()
    return value_text(edits.actions.get(key, {}).get(field)).strip()


def _put(edits: PreviousEdits, cell: Cell, value: str) -> None:
    kind, key, field = cell
    if kind == CHARACTERISTIC:
        edits.moderation[key] = replace(edits.moderation.get(key, Moderation()), **{_FIELDS[field]: value})
        return
    if key not in edits.actions:  # an action typed elsewhere only
        edits.actions[key] = {}
        edits.action_refs.setdefault(key, ref_of_action(key) or "")
        edits.actions_present.add(key)
    typed: object = value
    if field == "Target date" and value:
        try:
            typed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    edits.actions[key][field] = typed


def _judge(folded: Folded, edits: PreviousEdits, key: Cell, here: str, there: str, base: str, stale: set[str],
           there_later: bool) -> None:
    """Fold one cell: `here` as typed in this report, `there` as typed elsewhere, `base` as last seen here;
    `stale`: values `there` may hold without anyone having typed it there (what this computer saw before)."""
    if here == there or there in stale:
        return
    if here == base:  # changed elsewhere only
        _put(edits, key, there)
        folded.taken.append(key)
        return
    _clash(folded, edits, key, here, there, there_later)


def _clash(folded: Folded, edits: PreviousEdits, key: Cell, here: str, there: str, there_later: bool) -> None:
    """A cell typed differently here and there: both named, the later counting (never a value replaced by a blank)."""
    there_counts = bool(there) and (not here or there_later)
    folded.clashes.append(Clash(key[0], key[1], key[2], here, there, there_counts))
    if there_counts:
        _put(edits, key, there)


def fold_in_elsewhere(edits: PreviousEdits, seen: list[SeenValue], upto: int, report_saved: str,
                      parted: int | None = None) -> Folded:
    """Fold into `edits` (in place) the values typed elsewhere that another copy's report runs saw and that were
    merged into these records after this computer's last report run (`upto`: the number of the last value seen
    then; merged values are numbered after it); `report_saved`: when this report was saved (ISO), to tell which
    is later. A value seen there is a change made there (a report run records a value only when it changed), a
    blank too. `parted`: the number of the last value both copies had seen when they were merged; a cell typed
    here after it (and seen by a report run here) and typed otherwise there is a clash, the later counting."""
    base, _ = _seen_here(seen, upto)
    latest: dict[Cell, SeenValue] = {}
    typed_here = _typed_here(seen, upto, parted)  # changed here after the copies parted
    for value in seen:
        if value.number > upto and _typed(value):
            latest[(value.kind, value.key, value.field)] = value
    folded = Folded([], [])
    for key, value in latest.items():
        here, there = _current(edits, *key), value.value.strip()
        mine = typed_here.get(key)
        if mine is not None and here == mine.value.strip() and here != there:  # typed on both, apart
            _clash(folded, edits, key, here, there, value.seen_at > mine.seen_at)
            continue
        _judge(folded, edits, key, here, there, base.get(key, ""), {base.get(key, "")}, value.seen_at > report_saved)
    return folded


def fold_in(report: PreviousEdits, copy: PreviousEdits, seen: list[SeenValue], upto: int,
            copy_later: bool, parted: int | None = None) -> Folded:
    """Fold into `report` (in place) what was typed in `copy`, a conflict copy of it. What the copy holds that this
    computer saw there before (or a blank) is taken for the copy's not having changed it, never as a change; a
    cell changed here after the copies parted (`parted`, as in `fold_in_elsewhere`) and otherwise there is a
    clash."""
    base, ever = _seen_here(seen, upto)
    typed_here = _typed_here(seen, upto, parted)
    folded = Folded([], [])
    cells = [((CHARACTERISTIC, ref, field), getattr(copy.moderation.get(ref, Moderation()), attribute))
             for ref in sorted(set(report.moderation) | set(copy.moderation)) for field, attribute in _FIELDS.items()]
    cells += [((ACTION, action_id, field), value) for action_id, inputs in copy.actions.items()
              for field, value in inputs.items()]
    for key, value in cells:
        here, there = _current(report, *key), value_text(value).strip()
        mine = typed_here.get(key)
        if mine is not None and here == mine.value.strip() and there and here != there and there not in ever.get(key, set()):
            _clash(folded, report, key, here, there, copy_later)
            continue
        _judge(folded, report, key, here, there, base.get(key, ""), ever.get(key, set()) | {""}, copy_later)
    return folded


def _typed_here(seen: list[SeenValue], upto: int, parted: int | None) -> dict[Cell, SeenValue]:
    """The cells typed here (and seen by a report run here) after the copies parted, with the value seen."""
    if parted is None:
        return {}
    return {(v.kind, v.key, v.field): v for v in seen if parted < v.number <= upto and _typed(v)}


def made_apart(issues: list[IssueRecord], signoffs: list[SignOff]) -> list[str]:
    """What was done twice on two computers (copies of the folder worked on apart, then merged) where only one can
    stand: the later does; these lines name the other, so that nobody's is unseen."""
    said = []
    if len({s.written_by for s in signoffs if s.written_by}) > 1:
        listed = "; ".join(f"{s.signed_by} on {s.signed_at.replace('T', ' ')[:16]} ({s.written_by})"
                           for s in signoffs)
        said.append(f"{len(signoffs)} sign-offs were recorded on different computers: {listed}. The later stands; "
                    "sign off again if the earlier was meant.")
    by_reviewer: dict[tuple[str, str], list[IssueRecord]] = {}
    for issue in issues:
        by_reviewer.setdefault((issue.kind, issue.reviewer_id), []).append(issue)
    for (kind, reviewer_id), theirs in by_reviewer.items():
        if len({i.written_by for i in theirs if i.written_by}) > 1:
            listed = "; ".join(f"{i.file} issued {i.issued_at.replace('T', ' ')[:16]} ({i.written_by})"
                               for i in theirs)
            said.append(f"{reviewer_id} was sent {kind} workbooks from different computers: {listed}. The later "
                        "stands; a return of either is read.")
    return said
