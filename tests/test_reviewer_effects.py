"""Reviewer effects told apart: offsets recovered on a calibrated design, a pair that only meets itself
reported as a pair, an uncertain offset said as uncertain. A systematic difference is never silent."""

from __future__ import annotations

import random

from bva_excel.model.allocation import allocate
from bva_excel.model.consistency import _fitted_offsets, _steps, check
from bva_excel.model.consolidation import Consolidation
from bva_excel.model.decisions import PreviousEdits, decide
from bva_excel.model.framework import (
    THEMES,
    Characteristic,
    Framework,
    Rating,
    Reviewer,
    Scale,
)
from bva_excel.model.recorded import Response

SCALE = Scale((Rating("Dark green", "#00703C", 5), Rating("Light green", "#92D050", 4),
               Rating("Yellow", "#FFD966", 3), Rating("Amber", "#F4A300", 2), Rating("Red", "#C00000", 1),
               Rating("Grey", "#BFBFBF", None)))
BY_STEP = {0: "Red", 1: "Amber", 2: "Yellow", 3: "Light green", 4: "Dark green"}


def framework(reviewers: int = 8, per_theme: int = 10) -> Framework:
    people = tuple(Reviewer(f"R{n:02d}", f"Reviewer {n}") for n in range(1, reviewers + 1))
    items = tuple(Characteristic(f"{t.prefix}{n:03d}", t, f"{t.name} {n}") for t in THEMES for n in range(1, per_theme + 1))
    return Framework(SCALE, items, people)


def scored(fw: Framework, allocation, plant: dict[str, int], noise: float, seed: int = 3) -> Consolidation:
    """Each reviewer scores the characteristic's true level plus their plant, now and then a step off."""
    rng = random.Random(seed)
    truth = {c.ref: 2 for c in fw.characteristics}  # Yellow: room for a plant and a slip either way
    responses = {}
    for ref, team in allocation.items():
        responses[ref] = []
        for reviewer_id in team:
            step = truth[ref] + plant.get(reviewer_id, 0) + (rng.choice([-1, 1]) if rng.random() < noise else 0)
            responses[ref].append(Response(ref, reviewer_id, BY_STEP[max(0, min(4, step))], "Seen.", "Gap.",
                                           "f.xlsx", "Review", "F2"))
    return Consolidation(fw, responses, [], [])


def findings(consolidation: Consolidation):
    consolidated = {c.ref: consolidation.consolidated(c.ref) for c in consolidation.framework.characteristics}
    decisions, _ = decide(consolidation.framework.scale, consolidated, PreviousEdits())
    return check(consolidation, decisions, []).findings


def test_planted_offsets_are_recovered_within_a_quarter_step_on_a_calibrated_design():
    fw = framework()
    plant = {"R03": 1, "R06": -1}
    consolidation = scored(fw, allocate(fw, 2), plant, noise=0.1)
    offsets, pairs = _fitted_offsets(consolidation, _steps(SCALE))
    assert pairs == []
    # Centred on the group, a plant of +1 among eight reviewers whose plants sum to 0 sits 1 step from the rest.
    for reviewer_id, fitted in offsets.items():
        assert abs(fitted.offset - plant.get(reviewer_id, 0) * 8 / 7) <= 0.25, (reviewer_id, fitted)
        assert fitted.count >= 15 and 0 < fitted.error < 0.2
    flagged = {(f.kind, f.reviewers) for f in findings(consolidation) if f.severity == "medium"
               and f.kind.startswith("REVIEWER_")}
    assert flagged == {("REVIEWER_LENIENT", ("R03",)), ("REVIEWER_SEVERE", ("R06",))}


def test_fixed_pairs_cannot_tell_a_generous_reviewer_from_a_harsh_one_and_say_so():
    fw = framework(reviewers=4, per_theme=3)
    teams = [("R01", "R02"), ("R03", "R04")]
    allocation = {c.ref: teams[i % 2] for i, c in enumerate(fw.characteristics)}
    consolidation = scored(fw, allocation, {"R03": 1}, noise=0.0)
    pair = [f for f in findings(consolidation) if f.kind == "REVIEWER_PAIR_APART"]
    assert [(f.severity, f.finding) for f in pair] == [
        ("medium", "R03 scored 1.0 steps above R04 on all 10 characteristics they share; only a third reviewer can "
                   "say which is out of line")]
    assert not [f for f in findings(consolidation) if f.kind in ("REVIEWER_LENIENT", "REVIEWER_SEVERE")]
    level = [f for f in findings(scored(fw, allocation, {}, noise=0.0)) if f.kind.startswith("REVIEWER_PAIR")]
    assert [f.kind for f in level] == ["REVIEWER_PAIR", "REVIEWER_PAIR"]  # said, not flagged


def test_an_offset_on_few_scattered_scores_is_reported_as_uncertain_not_ignored():
    fw = framework(reviewers=3, per_theme=1)
    steady, scattered = [2, 2, 2, 2], [4, 4, 1, 3]  # one step up on average, but all over the place
    responses = {}
    for i, c in enumerate(fw.characteristics[:4]):
        responses[c.ref] = [Response(c.ref, rid, BY_STEP[steps[i]], "Seen.", "Gap.", "f.xlsx", "Review", "F2")
                            for rid, steps in (("R01", steady), ("R02", scattered), ("R03", steady))]
    reviewer_findings = [f for f in findings(Consolidation(fw, responses, [], []))
                         if f.reviewers == ("R02",) and f.kind.startswith("REVIEWER_")]
    assert [(f.kind, f.severity, f.finding) for f in reviewer_findings] == [
        ("REVIEWER_LENIENT", "low", "R02 scores 1.0 scale steps above colleagues, possibly: too few shared scores "
                                    "to be sure")]
    assert reviewer_findings[0].evidence.startswith("offset +1.00 steps (give or take 1.")
