"""Who reviews what: the PMO's own choices, and a balanced share of the rest.

Independence is the rule: nobody reviews a position statement they drafted.
"""

from __future__ import annotations

from bva_excel.errors import AllocationError, Problem, problem
from bva_excel.framework import Framework
from bva_excel.assessment import ASSESSMENT_FILE


def allocate(framework: Framework, per_characteristic: int = 1) -> dict[str, tuple[str, ...]]:
    """ref -> reviewer IDs. Listed reviewers are kept; the rest are shared out, least loaded first.

    Raises AllocationError listing every characteristic that cannot be reviewed independently.
    """
    problems: list[Problem] = []
    if not framework.reviewers:
        raise AllocationError(problem("NO_REVIEWERS", ASSESSMENT_FILE, "Reviewers"))
    order = {r.reviewer_id: i for i, r in enumerate(framework.reviewers)}
    load = {r.reviewer_id: 0 for r in framework.reviewers}
    allocation: dict[str, tuple[str, ...]] = {}
    for characteristic in framework.characteristics:
        for reviewer_id in characteristic.reviewers:
            if reviewer_id in characteristic.drafted_by:
                problems.append(problem("NOT_INDEPENDENT", ASSESSMENT_FILE, "Characteristics",
                                        characteristic.reviewers_cell, reviewer=reviewer_id,
                                        ref=characteristic.ref))
            load[reviewer_id] += 1
        if characteristic.reviewers:
            allocation[characteristic.ref] = characteristic.reviewers
    for characteristic in framework.characteristics:
        if characteristic.reviewers:
            continue
        eligible = [r for r in load if r not in characteristic.drafted_by]
        if len(eligible) < per_characteristic:
            problems.append(problem("ALLOCATION_SHORT", ASSESSMENT_FILE, "Characteristics",
                                    characteristic.reviewers_cell, ref=characteristic.ref,
                                    wanted=per_characteristic, available=len(eligible)))
            continue
        chosen = sorted(eligible, key=lambda r: (load[r], order[r]))[:per_characteristic]
        for reviewer_id in chosen:
            load[reviewer_id] += 1
        allocation[characteristic.ref] = tuple(sorted(chosen, key=order.get))
    if problems:
        raise AllocationError(problems)
    return {c.ref: allocation[c.ref] for c in framework.characteristics}


def by_reviewer(allocation: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """reviewer ID -> refs, in framework order."""
    result: dict[str, list[str]] = {}
    for ref, reviewer_ids in allocation.items():
        for reviewer_id in reviewer_ids:
            result.setdefault(reviewer_id, []).append(ref)
    return result
