"""Who reviews what: the PMO's own choices, what was issued before, and a balanced share of the rest.

Independence is the rule: nobody reviews a position statement they drafted. An allocation, once
issued, is kept: a new run gives out only what is new (a characteristic added, a reviewer short),
unless the PMO lists other reviewers on that row or asks to start again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bva_excel.assessment import ASSESSMENT_FILE
from bva_excel.errors import AllocationError, Problem, problem
from bva_excel.framework import Framework


@dataclass
class Change:
    """How one reviewer's set of characteristics changes; `reasons` say why each ref left it."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def allocate(framework: Framework, per_characteristic: int = 1,
             issued: dict[str, tuple[str, ...]] | None = None) -> dict[str, tuple[str, ...]]:
    """ref -> reviewer IDs, in framework order.

    Listed reviewers are kept; so is every assignment in `issued` (reviewer -> refs they currently
    hold) that is still independent; the rest is shared out, least loaded first.
    Raises AllocationError listing every characteristic that cannot be reviewed independently.
    """
    problems: list[Problem] = list(framework.doubts)
    if not framework.reviewers:
        raise AllocationError(problem("NO_REVIEWERS", ASSESSMENT_FILE, "Reviewers"))
    order = {r.reviewer_id: i for i, r in enumerate(framework.reviewers)}
    load = dict.fromkeys(order, 0)
    held: dict[str, list[str]] = {}
    for reviewer_id, refs in (issued or {}).items():
        if reviewer_id in order:
            for ref in refs:
                held.setdefault(ref, []).append(reviewer_id)
    allocation: dict[str, tuple[str, ...]] = {}
    for characteristic in framework.characteristics:
        if characteristic.reviewers:
            for reviewer_id in characteristic.reviewers:
                if reviewer_id in characteristic.drafted_by:
                    problems.append(problem("NOT_INDEPENDENT", ASSESSMENT_FILE, "Characteristics",
                                            characteristic.reviewers_cell, reviewer=reviewer_id,
                                            ref=characteristic.ref))
            allocation[characteristic.ref] = characteristic.reviewers
        else:
            allocation[characteristic.ref] = tuple(r for r in held.get(characteristic.ref, [])
                                                   if r not in characteristic.drafted_by)
        for reviewer_id in allocation[characteristic.ref]:
            load[reviewer_id] += 1
    for characteristic in framework.characteristics:
        kept = allocation[characteristic.ref]
        if characteristic.reviewers or len(kept) >= per_characteristic:
            continue
        eligible = [r for r in load if r not in characteristic.drafted_by and r not in kept]
        wanted = per_characteristic - len(kept)
        if len(eligible) < wanted:
            problems.append(problem("ALLOCATION_SHORT", ASSESSMENT_FILE, "Characteristics",
                                    characteristic.reviewers_cell, ref=characteristic.ref,
                                    wanted=per_characteristic, available=len(eligible) + len(kept)))
            continue
        chosen = sorted(eligible, key=lambda r: (load[r], order[r]))[:wanted]
        for reviewer_id in chosen:
            load[reviewer_id] += 1
        allocation[characteristic.ref] = tuple(sorted(kept + tuple(chosen), key=order.get))
    if problems:
        raise AllocationError(problems)
    return allocation


def by_reviewer(allocation: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """reviewer ID -> refs, in framework order."""
    result: dict[str, list[str]] = {}
    for ref, reviewer_ids in allocation.items():
        for reviewer_id in reviewer_ids:
            result.setdefault(reviewer_id, []).append(ref)
    return result


def changes(framework: Framework, allocation: dict[str, tuple[str, ...]],
            issued: dict[str, tuple[str, ...]]) -> dict[str, Change]:
    """reviewer ID -> how their set changes from what they hold now; reviewers with no change left out."""
    now = by_reviewer(allocation)
    result = {}
    for reviewer_id in dict.fromkeys([*issued, *now]):
        before, after = list(issued.get(reviewer_id, ())), now.get(reviewer_id, [])
        change = Change([r for r in after if r not in before], [r for r in before if r not in after])
        for ref in change.removed:
            characteristic = framework.characteristic(ref)
            if framework.reviewer(reviewer_id) is None:
                change.reasons[ref] = "no longer listed on 'Reviewers'"
            elif characteristic is None:
                change.reasons[ref] = "no longer in assessment.xlsx"
            elif reviewer_id in characteristic.drafted_by:
                change.reasons[ref] = "now listed as its drafter"
            elif characteristic.reviewers:
                change.reasons[ref] = "other reviewers listed for it"
            else:
                change.reasons[ref] = "reallocated"
        if change:
            result[reviewer_id] = change
    return result
