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
    # Who has met whom, and how often each reviewer has each theme: the shares below vary the pairings,
    # so that every reviewer's scores can be compared with several colleagues', and spread the themes.
    met: dict[frozenset, int] = {}
    themes: dict[tuple[str, str], int] = {}
    for characteristic in framework.characteristics:
        _note_team(allocation[characteristic.ref], characteristic.theme.name, met, themes)
    known = colleagues(allocation)
    fresh: set[tuple[str, str]] = set()  # (ref, reviewer) given out in this run, which may still move
    # The most constrained first (fewest who may review it), so that drafters' own rows do not leave
    # them short at the end; framework order otherwise.
    for characteristic in sorted(framework.characteristics, key=lambda c: len(c.drafted_by)):
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
        theme = characteristic.theme.name
        team = list(kept)
        for _ in range(wanted):
            # Least loaded first (loads stay within one of each other), then whoever has met this team
            # least, then whoever has met fewest colleagues so far, then whoever has least of this theme;
            # the order of 'Reviewers' breaks ties.
            choice = min((r for r in eligible if r not in team), key=lambda r: (
                load[r], sum(met.get(frozenset((r, other)), 0) for other in team), len(known.get(r, ())),
                themes.get((r, theme), 0), order[r]))
            team.append(choice)
            load[choice] += 1
        new = team[len(kept):]
        _note_team(team, theme, met, themes, new)
        for reviewer_id in team:
            known.setdefault(reviewer_id, set()).update(r for r in team if r != reviewer_id)
        fresh.update((characteristic.ref, r) for r in new)
        allocation[characteristic.ref] = tuple(sorted(team, key=order.get))
    _even_out(framework, allocation, fresh, load, order)
    _connect(framework, allocation, fresh, order)
    if problems:
        raise AllocationError(problems)
    return allocation


def _connect(framework: Framework, allocation: dict, fresh: set, order: dict) -> None:
    """Join groups of reviewers who never share a characteristic (their scores could not be compared) by
    swapping two reviewers given out in this run between a team in one group and a team in another; loads
    do not change, and nobody is given what they drafted or already hold. Stops when one group is left or
    no swap joins two."""
    drafted = {c.ref: c.drafted_by for c in framework.characteristics}
    while len(found := groups(allocation)) > 1:
        group_of = {reviewer_id: number for number, group in enumerate(found) for reviewer_id in group}
        for first, second in _swaps(allocation, fresh, group_of, drafted):
            _swap(allocation, fresh, first, second, order)
            if len(groups(allocation)) < len(found):
                break
            _swap(allocation, fresh, (first[0], second[1]), (second[0], first[1]), order)  # undo
        else:
            return


def _swaps(allocation: dict, fresh: set, group_of: dict, drafted: dict):
    """(ref, reviewer) pairs given out in this run, in teams of different groups, that may change places."""
    movable = [(ref, reviewer_id) for ref, team in allocation.items() for reviewer_id in team
               if (ref, reviewer_id) in fresh]
    for index, (ref_a, a) in enumerate(movable):
        for ref_b, b in movable[index + 1:]:
            if (group_of[a] != group_of[b] and a not in allocation[ref_b] and b not in allocation[ref_a]
                    and a not in drafted[ref_b] and b not in drafted[ref_a]):
                yield (ref_a, a), (ref_b, b)


def _swap(allocation: dict, fresh: set, first: tuple[str, str], second: tuple[str, str], order: dict) -> None:
    (ref_a, a), (ref_b, b) = first, second
    allocation[ref_a] = tuple(sorted([r for r in allocation[ref_a] if r != a] + [b], key=order.get))
    allocation[ref_b] = tuple(sorted([r for r in allocation[ref_b] if r != b] + [a], key=order.get))
    fresh.difference_update({(ref_a, a), (ref_b, b)})
    fresh.update({(ref_a, b), (ref_b, a)})


def _even_out(framework: Framework, allocation: dict, fresh: set, load: dict, order: dict) -> None:
    """Move assignments given out in this run from a reviewer to an eligible one with two or more fewer,
    until no such move is left: loads then differ by at most one wherever drafting allows it."""
    moved = True
    while moved:
        moved = False
        for characteristic in framework.characteristics:
            team = allocation[characteristic.ref]
            for giver in sorted(team, key=lambda r: (-load[r], order[r])):
                if (characteristic.ref, giver) not in fresh:
                    continue
                takers = [r for r in load if r not in team and r not in characteristic.drafted_by
                          and load[r] <= load[giver] - 2]
                if not takers:
                    continue
                taker = min(takers, key=lambda r: (load[r], order[r]))
                allocation[characteristic.ref] = tuple(sorted((*[r for r in team if r != giver], taker), key=order.get))
                fresh.discard((characteristic.ref, giver))
                fresh.add((characteristic.ref, taker))
                load[giver] -= 1
                load[taker] += 1
                moved = True
                break
        if not moved:
            moved = _even_out_by_a_chain(framework, allocation, fresh, load, order)


def _even_out_by_a_chain(framework: Framework, allocation: dict, fresh: set, load: dict, order: dict) -> bool:
    """One assignment passed along a chain of reviewers when no direct move is left: the most loaded gives one
    to a colleague, who gives one of theirs on to another, ... up to one with two or fewer than the first.
    Those in between keep their load. True if a chain was found and passed along."""
    for giver in sorted(load, key=lambda r: (-load[r], order[r])):
        # Breadth first from the giver, in a fixed order so that the same workbook gives the same allocation.
        came_from: dict[str, tuple[str, str] | None] = {giver: None}
        queue = [giver]
        while queue:
            holder = queue.pop(0)
            for characteristic in framework.characteristics:
                team = allocation[characteristic.ref]
                if holder not in team or (characteristic.ref, holder) not in fresh:
                    continue
                for taker in sorted(load, key=lambda r: (load[r], order[r])):
                    if taker in came_from or taker in team or taker in characteristic.drafted_by:
                        continue
                    came_from[taker] = (holder, characteristic.ref)
                    if load[taker] <= load[giver] - 2 and _pass_along(allocation, fresh, came_from, taker, order):
                        load[giver] -= 1
                        load[taker] += 1
                        return True
                    queue.append(taker)
    return False


def _pass_along(allocation: dict, fresh: set, came_from: dict, last: str, order: dict) -> bool:
    """Make the moves of the chain that ends at `last`, if they hold together (each on its own characteristic)."""
    steps = []
    while came_from[last] is not None:
        holder, ref = came_from[last]
        steps.append((ref, holder, last))
        last = holder
    if len({ref for ref, _, _ in steps}) != len(steps):
        return False
    for ref, holder, taker in steps:
        team = allocation[ref]
        allocation[ref] = tuple(sorted((*[r for r in team if r != holder], taker), key=order.get))
        fresh.discard((ref, holder))
        fresh.add((ref, taker))
    return True


def _note_team(team, theme: str, met: dict, themes: dict, new=None) -> None:
    """Count the pairs in `team` as having met, and the theme for its members (or only its `new` ones)."""
    team = list(team)
    for i, one in enumerate(team):
        for other in team[i + 1:]:
            if new is None or one in new or other in new:
                met[frozenset((one, other))] = met.get(frozenset((one, other)), 0) + 1
    for reviewer_id in (team if new is None else new):
        themes[reviewer_id, theme] = themes.get((reviewer_id, theme), 0) + 1


def colleagues(allocation: dict[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """reviewer ID -> the colleagues they share at least one characteristic with."""
    met: dict[str, set[str]] = {}
    for team in allocation.values():
        for reviewer_id in team:
            met.setdefault(reviewer_id, set()).update(r for r in team if r != reviewer_id)
    return met


def groups(allocation: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """Reviewers split into groups that share characteristics, directly or through colleagues; scores in
    different groups cannot be compared, so a harsh or kind group cannot be told from the rest."""
    met = colleagues(allocation)
    seen: set[str] = set()
    found = []
    for start in sorted(met):
        if start in seen:
            continue
        group, todo = [], [start]
        seen.add(start)
        while todo:
            reviewer_id = todo.pop()
            group.append(reviewer_id)
            for other in sorted(met[reviewer_id] - seen):
                seen.add(other)
                todo.append(other)
        found.append(sorted(group))
    return found


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
