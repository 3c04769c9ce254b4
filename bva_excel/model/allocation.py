"""Who reviews what: the PMO's own choices, what was issued before, and a balanced share of the rest.

Independence is the rule: nobody reviews a position statement they drafted. An allocation, once
issued, is kept: a new run gives out only what is new (a characteristic added, a reviewer short),
unless the PMO lists other reviewers on that row or asks to start again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bva_excel.errors import AllocationError, Code, Problem, problem
from bva_excel.layout import ASSESSMENT_FILE
from bva_excel.model.framework import Characteristic, Framework

Allocation = dict[str, tuple[str, ...]]  # ref -> the reviewers it is given to
Fresh = set[tuple[str, str]]  # (ref, reviewer) given out in this run, which may still move


@dataclass
class ReviewerChange:
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
        raise AllocationError(problem(Code.NO_REVIEWERS, ASSESSMENT_FILE, "Reviewers"))
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
                    problems.append(problem(Code.NOT_INDEPENDENT, ASSESSMENT_FILE, "Characteristics",
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
    tally = _Tally(list(order), [t.name for t in framework.themes], load)
    for characteristic in framework.characteristics:
        tally.note_team(allocation[characteristic.ref], characteristic.theme.name)
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
            problems.append(problem(Code.ALLOCATION_SHORT, ASSESSMENT_FILE, "Characteristics",
                                    characteristic.reviewers_cell, ref=characteristic.ref,
                                    wanted=per_characteristic, available=len(eligible) + len(kept)))
            continue
        new = tally.choose(eligible, kept, wanted, characteristic.theme.name)
        team = [*kept, *new]
        tally.note_team(team, characteristic.theme.name, new)
        fresh.update((characteristic.ref, r) for r in new)
        allocation[characteristic.ref] = tuple(sorted(team, key=order.__getitem__))
    load.update(tally.loads())
    _even_out(framework, allocation, fresh, load, order)
    _connect(framework, allocation, fresh, order)
    if problems:
        raise AllocationError(problems)
    return allocation


def _connect(framework: Framework, allocation: Allocation, fresh: Fresh, order: dict[str, int]) -> None:
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


def _swaps(allocation: Allocation, fresh: Fresh, group_of: dict[str, int],
           drafted: dict[str, tuple[str, ...]]) -> Iterator[tuple[tuple[str, str], tuple[str, str]]]:
    """(ref, reviewer) pairs given out in this run, in teams of different groups, that may change places."""
    movable = [(ref, reviewer_id) for ref, team in allocation.items() for reviewer_id in team
               if (ref, reviewer_id) in fresh]
    for index, (ref_a, a) in enumerate(movable):
        for ref_b, b in movable[index + 1:]:
            if (group_of[a] != group_of[b] and a not in allocation[ref_b] and b not in allocation[ref_a]
                    and a not in drafted[ref_b] and b not in drafted[ref_a]):
                yield (ref_a, a), (ref_b, b)


def _swap(allocation: Allocation, fresh: Fresh, first: tuple[str, str], second: tuple[str, str], order: dict[str, int]) -> None:
    (ref_a, a), (ref_b, b) = first, second
    allocation[ref_a] = tuple(sorted([r for r in allocation[ref_a] if r != a] + [b], key=order.__getitem__))
    allocation[ref_b] = tuple(sorted([r for r in allocation[ref_b] if r != b] + [a], key=order.__getitem__))
    fresh.difference_update({(ref_a, a), (ref_b, b)})
    fresh.update({(ref_a, b), (ref_b, a)})


def _even_out(framework: Framework, allocation: Allocation, fresh: Fresh, load: dict[str, int], order: dict[str, int]) -> None:
    """Move assignments given out in this run from a reviewer to an eligible one with two or more fewer,
    until no such move is left: loads then differ by at most one wherever drafting allows it."""
    moved = True
    while moved:
        moved = False
        if max(load.values()) - min(load.values()) <= 1:
            return  # already even: no move can be made (a taker needs two fewer than its giver)
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
                allocation[characteristic.ref] = tuple(sorted((*[r for r in team if r != giver], taker), key=order.__getitem__))
                fresh.discard((characteristic.ref, giver))
                fresh.add((characteristic.ref, taker))
                load[giver] -= 1
                load[taker] += 1
                moved = True
                break
        if not moved:
            moved = _even_out_by_a_chain(framework, allocation, fresh, load, order)


def _even_out_by_a_chain(framework: Framework, allocation: Allocation, fresh: Fresh, load: dict[str, int], order: dict[str, int]) -> bool:
    """One assignment passed along a chain of reviewers when no direct move is left: the most loaded gives one
    to a colleague, who gives one of theirs on to another, ... up to one with two or fewer than the first.
    Those in between keep their load. True if a chain was found and passed along."""
    least = min(load.values())
    least_first = sorted(load, key=lambda r: (load[r], order[r]))  # loads do not change until a chain is passed
    held_by: dict[str, list[Characteristic]] = {}
    for characteristic in framework.characteristics:
        for holder in allocation[characteristic.ref]:
            if (characteristic.ref, holder) in fresh:
                held_by.setdefault(holder, []).append(characteristic)
    # Only a reviewer with two or more above the least loaded can give: a chain ends with a taker two below.
    for giver in [r for r in sorted(load, key=lambda r: (-load[r], order[r])) if load[r] >= least + 2]:
        # Breadth first from the giver, in a fixed order so that the same workbook gives the same allocation.
        came_from: dict[str, tuple[str, str] | None] = {giver: None}
        queue = deque([giver])
        while queue:
            holder = queue.popleft()
            for characteristic in held_by.get(holder, []):
                team = allocation[characteristic.ref]
                for taker in least_first:
                    if taker in came_from or taker in team or taker in characteristic.drafted_by:
                        continue
                    came_from[taker] = (holder, characteristic.ref)
                    if load[taker] <= load[giver] - 2 and _pass_along(allocation, fresh, came_from, taker, order):
                        load[giver] -= 1
                        load[taker] += 1
                        return True
                    queue.append(taker)
    return False


def _pass_along(allocation: Allocation, fresh: Fresh, came_from: dict[str, tuple[str, str] | None], last: str,
                order: dict[str, int]) -> bool:
    """Make the moves of the chain that ends at `last`, if they hold together (each on its own characteristic)."""
    steps = []
    step = came_from[last]
    while step is not None:
        holder, ref = step
        steps.append((ref, holder, last))
        last, step = holder, came_from[holder]
    if len({ref for ref, _, _ in steps}) != len(steps):
        return False
    for ref, holder, taker in steps:
        team = allocation[ref]
        allocation[ref] = tuple(sorted((*[r for r in team if r != holder], taker), key=order.__getitem__))
        fresh.discard((ref, holder))
        fresh.add((ref, taker))
    return True


class _Tally:
    """Who has met whom (on how many characteristics), how many colleagues each reviewer has met, how many
    characteristics of each theme they hold and their loads, kept in arrays: choosing each place of a team
    compares every reviewer at once, so that sharing out among hundreds of reviewers stays quick."""

    def __init__(self, reviewers: list[str], themes: list[str], load: dict[str, int]):
        import numpy as np  # loaded only to allocate (generate), not by every command

        self.np = np
        self.reviewers = reviewers
        self.index = {r: i for i, r in enumerate(reviewers)}  # the order of 'Reviewers': the last tie-break
        self.theme = {name: i for i, name in enumerate(themes)}
        count = len(reviewers)
        self.met = np.zeros((count, count), dtype=np.int64)
        self.knows = np.eye(count, dtype=bool)  # who has met whom at all (everyone knows themself)
        self.colleagues = np.zeros(count, dtype=np.int64)
        self.themes = np.zeros((count, max(len(themes), 1)), dtype=np.int64)
        self.load = np.array([load[r] for r in reviewers], dtype=np.int64)

    def note_team(self, team: Iterable[str], theme: str, new: Iterable[str] | None = None) -> None:
        """Count the pairs in `team` as having met (those with one of its `new` members, if given) and the theme
        for its members (or only its `new` ones)."""
        np = self.np
        members = np.array([self.index[r] for r in team], dtype=np.int64)
        if not len(members):
            return
        added = members if new is None else np.array([self.index[r] for r in new], dtype=np.int64)
        self.met[np.ix_(added, members)] += 1
        if new is not None:
            self.met[np.ix_(members, added)] += 1
            self.met[np.ix_(added, added)] -= 1  # a pair of two new members once, not twice
        self.met[members, members] = 0  # nobody meets themself
        block = np.ix_(members, members)
        self.colleagues[members] += (~self.knows[block]).sum(axis=1)  # those the team makes them meet first
        self.knows[block] = True
        self.themes[added, self.theme[theme]] += 1

    def choose(self, eligible: list[str], kept: Iterable[str], wanted: int, theme: str) -> list[str]:
        """`wanted` more for a team that holds `kept`, from `eligible`, one place at a time: least loaded first
        (loads stay within one of each other), then whoever has met this team least, then whoever has met fewest
        colleagues so far, then whoever has least of this theme; the order of 'Reviewers' breaks ties.

        The five are one number per reviewer, each a digit in a base wide enough for its largest value, so the
        smallest number is the first choice; a place given changes only the chosen one's load (they leave the
        running) and everyone's meetings with the team, which are added."""
        np = self.np
        count = len(self.reviewers)
        kept_at = [self.index[r] for r in kept]
        with_team = self.met[kept_at].sum(axis=0) if kept_at else np.zeros(count, dtype=np.int64)
        theme_held = self.themes[:, self.theme[theme]]
        most_met = int(self.met.max()) if count else 0
        bases = [int(with_team.max()) + wanted * most_met + 1, count + 1, int(theme_held.max()) + 1, count + 1]
        weights = [int(np.prod(bases[i:], dtype=object)) for i in range(1, len(bases) + 1)]  # of each digit
        if (int(self.load.max()) + wanted + 1) * weights[0] * bases[0] >= 2 ** 62:  # no room in 64 bits
            return self._choose_digit_by_digit(eligible, kept_at, with_team, theme_held, wanted)
        score = (self.load * weights[0] * bases[0] + with_team * weights[0] + self.colleagues * weights[1]
                 + theme_held * weights[2] + np.arange(count, dtype=np.int64))
        out_of_it = np.iinfo(np.int64).max
        closed = np.ones(count, dtype=bool)
        closed[[self.index[r] for r in eligible]] = False
        score[closed] = out_of_it
        chosen = []
        for _ in range(wanted):
            choice = int(score.argmin())
            chosen.append(self.reviewers[choice])
            self.load[choice] += 1
            closed[choice] = True
            # The others' meetings with the team grow by theirs with the one chosen (who has met whom changes only
            # once the team is whole); those out of the running stay out.
            score += np.where(closed, 0, self.met[choice] * weights[0])
            score[choice] = out_of_it
        return chosen

    def _choose_digit_by_digit(self, eligible: Any, kept_at: Any, with_team: Any, theme_held: Any,
                               wanted: int) -> list[str]:  # numpy arrays
        """`choose` for an allocation too large for one number per reviewer: key by key."""
        np = self.np
        open_to = np.zeros(len(self.reviewers), dtype=bool)
        open_to[[self.index[r] for r in eligible]] = True
        chosen = []
        for _ in range(wanted):
            candidates = open_to.copy()
            for key in (self.load, with_team, self.colleagues, theme_held):
                best = key[candidates].min()
                candidates &= key == best
            choice = int(np.argmax(candidates))  # the first of those left: the order of 'Reviewers'
            chosen.append(self.reviewers[choice])
            open_to[choice] = False
            self.load[choice] += 1
            with_team = with_team + self.met[choice]
        return chosen

    def loads(self) -> dict[str, int]:
        return {r: int(self.load[i]) for i, r in enumerate(self.reviewers)}


def colleagues(allocation: dict[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """reviewer ID -> the colleagues they share at least one characteristic with."""
    met: dict[str, set[str]] = {}
    for team in allocation.values():
        for reviewer_id in team:
            met.setdefault(reviewer_id, set()).update(r for r in team if r != reviewer_id)
    return met


def groups(allocation: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """Reviewers split into groups that share characteristics, directly or through colleagues; scores in
    different groups cannot be compared, so a harsh or kind group cannot be told from the rest. Each group is
    sorted, and the groups are in the order of their first reviewer. (Joined team by team: in time with the
    number of places given, not with the pairs of colleagues.)"""
    parent: dict[str, str] = {}

    def root(reviewer_id: str) -> str:
        while parent[reviewer_id] != reviewer_id:
            parent[reviewer_id] = parent[parent[reviewer_id]]
            reviewer_id = parent[reviewer_id]
        return reviewer_id

    for team in allocation.values():
        for reviewer_id in team:
            parent.setdefault(reviewer_id, reviewer_id)
        for reviewer_id in team[1:]:
            first, other = root(team[0]), root(reviewer_id)
            if first != other:
                parent[max(first, other)] = min(first, other)
    found: dict[str, list[str]] = {}
    for reviewer_id in parent:
        found.setdefault(root(reviewer_id), []).append(reviewer_id)
    return sorted((sorted(group) for group in found.values()), key=lambda group: group[0])


def by_reviewer(allocation: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """reviewer ID -> refs, in framework order."""
    result: dict[str, list[str]] = {}
    for ref, reviewer_ids in allocation.items():
        for reviewer_id in reviewer_ids:
            result.setdefault(reviewer_id, []).append(ref)
    return result


def changes(framework: Framework, allocation: dict[str, tuple[str, ...]],
            issued: dict[str, tuple[str, ...]]) -> dict[str, ReviewerChange]:
    """reviewer ID -> how their set changes from what they hold now; reviewers with no change left out."""
    now = by_reviewer(allocation)
    result = {}
    for reviewer_id in dict.fromkeys([*issued, *now]):
        before, after = list(issued.get(reviewer_id, ())), now.get(reviewer_id, [])
        change = ReviewerChange([r for r in after if r not in before], [r for r in before if r not in after])
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
