"""What was typed in a conflict copy of the report, folded into what was typed in the report itself.

Both were the same report once, written by bva; since, each officer typed into their own. A cell is compared three
ways, with what bva last saw in it (the change trail) as the common starting point: typed in one only, that one
counts; typed alike in both, nothing to choose; typed differently in both, the copy saved later counts, and the clash
is listed with both values, so that nothing either officer typed is lost from view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bva_excel.model.changes import ACTION, CHARACTERISTIC, value_text
from bva_excel.model.decisions import Moderation, PreviousEdits
from bva_excel.model.recorded import IssueRecord, SeenValue, SignOff

_COMPUTED = ("the moderated score", "the reviewers' scores (consolidated)")  # a final score nobody typed
_FIELDS = {"Moderated score": "moderated", "Moderation note": "note", "Final score": "final_override"}


@dataclass(frozen=True)
class Clash:
    """A cell typed differently in the report and in its conflict copy."""

    kind: str  # 'characteristic' or 'action'
    key: str  # the ref or the action ID
    field: str
    in_report: str
    in_copy: str
    copy_counts: bool  # the copy was saved later, so its value counts


def fold_in(report: PreviousEdits, copy: PreviousEdits, seen: list[SeenValue],
            copy_later: bool) -> tuple[list[tuple[str, str, str]], list[Clash]]:
    """Fold into `report` (in place) what was typed in `copy`; return what was taken from the copy alone
    ((kind, key, field) each) and the clashes."""
    base = _last_seen(seen)
    taken: list[tuple[str, str, str]] = []
    clashes: list[Clash] = []

    def choose(kind: str, key: str, field: str, mine: str, theirs: str) -> bool:
        """Whether the copy's value counts for this cell."""
        mine, theirs, was = mine.strip(), theirs.strip(), base.get((kind, key, field), "")
        if mine == theirs or theirs == was:
            return False
        if mine == was:
            taken.append((kind, key, field))
            return True
        clashes.append(Clash(kind, key, field, mine, theirs, copy_later))
        return copy_later

    for ref in sorted(set(report.moderation) | set(copy.moderation)):
        mine, theirs = report.moderation.get(ref, Moderation()), copy.moderation.get(ref, Moderation())
        chosen = {attribute: getattr(theirs, attribute) for field, attribute in _FIELDS.items()
                  if choose(CHARACTERISTIC, ref, field, getattr(mine, attribute), getattr(theirs, attribute))}
        if chosen:
            report.moderation[ref] = replace(mine, **chosen)
    for action_id, inputs in copy.actions.items():
        if action_id not in report.actions:  # an action typed in the copy only
            if inputs and any(value_text(v) for v in inputs.values()):
                report.actions[action_id] = dict(inputs)
                report.action_refs.setdefault(action_id, copy.action_refs.get(action_id, ""))
                report.actions_present.add(action_id)
                taken.append((ACTION, action_id, "the whole action"))
            continue
        mine = report.actions[action_id]
        for field in dict.fromkeys([*mine, *inputs]):
            if choose(ACTION, action_id, field, value_text(mine.get(field)), value_text(inputs.get(field))):
                mine[field] = inputs.get(field)
    return taken, clashes


def _last_seen(seen: list[SeenValue]) -> dict[tuple, str]:
    """(kind, key, field) -> what bva last saw in the cell (a final score it worked out itself counts as blank:
    only a typed final score is in the cell)."""
    last = {}
    for value in seen:
        typed = not (value.field == "Final score" and value.source in _COMPUTED)
        last[(value.kind, value.key, value.field)] = value.value if typed else ""
    return last


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
