"""The checks in linear time give the same numbers and findings as the quadratic code they replaced.

The replaced code is kept below as the oracle, as it was (the theme fallback moved into a function
of its own, and the fit given a number of rounds, 100 as before).
"""

import random
from itertools import permutations
from statistics import mean

import pytest

from bva_excel.excel.read.framework import load_framework
from bva_excel.model import consistency
from bva_excel.model.agreement import Alpha, ordinal_alpha
from bva_excel.model.consistency import (
    MEDIUM,
    MIN_SHARED,
    MIN_THEME_ITEMS,
    OFFSET_STEPS,
    Finding,
    _agreement,
    _shared_offsets,
    _steps,
    _theme_differences,
    check,
)
from bva_excel.model.consolidation import Consolidation, ReviewerProgress
from bva_excel.model.decisions import PreviousEdits, decide
from bva_excel.model.framework import THEMES, Characteristic, Framework, Reviewer
from bva_excel.model.recorded import IssueRecord, Response

FULL = ("Good evidence seen.", "Embed the new plan.")
LEVELS = ["Red", "Amber", "Yellow", "Light green", "Dark green"]  # steps 0 to 4


# The oracle: the code as it was before it was made linear.

def old_shared_offsets(consolidation: Consolidation, steps: dict[str, int],
                       rounds: int = 100) -> dict[str, tuple[float, int]]:
    items = {}
    for ref, responses in consolidation.responses.items():
        scores = [(r.reviewer_id, steps[r.rating]) for r in responses if r.rating in steps]
        if len(scores) >= 2:
            items[ref] = scores
    reviewers = sorted({reviewer for scores in items.values() for reviewer, _ in scores})
    if len(reviewers) < 2:
        return {}
    offset = dict.fromkeys(reviewers, 0.0)
    for _ in range(rounds):
        level = {ref: mean(step - offset[r] for r, step in scores) for ref, scores in items.items()}
        offset = {r: mean(step - level[ref] for ref, scores in items.items() for who, step in scores if who == r)
                  for r in reviewers}
        centre = mean(offset.values())
        offset = {r: value - centre for r, value in offset.items()}
    # Centred offsets sum to zero, so a reviewer's distance from the mean of the others is k/(k-1) times theirs.
    scale_up = len(reviewers) / (len(reviewers) - 1)
    return {r: (offset[r] * scale_up, sum(1 for scores in items.values() for who, _ in scores if who == r))
            for r in reviewers}


def old_theme_differences(scored, theme_of, steps, reviewer_id) -> dict[str, list[float]]:
    by_theme = {}
    for r in (r for r in scored if r.reviewer_id == reviewer_id):
        others = [steps[o.rating] for o in scored
                  if o.reviewer_id != reviewer_id and theme_of[o.ref] == theme_of[r.ref]]
        if len(others) >= 2:
            by_theme.setdefault(theme_of[r.ref], []).append(steps[r.rating] - mean(others))
    return by_theme


def old_reviewer_offsets(consolidation: Consolidation, steps: dict[str, int], rounds: int = 100) -> list[Finding]:
    findings = []
    scored = [r for rs in consolidation.responses.values() for r in rs if r.rating in steps]
    theme_of = {c.ref: c.theme.name for c in consolidation.framework.characteristics}
    shared = old_shared_offsets(consolidation, steps, rounds)
    for reviewer_id in sorted({r.reviewer_id for r in scored}):
        offset, count = shared.get(reviewer_id, (0.0, 0))
        if count >= MIN_SHARED:
            basis = f"{count} characteristics scored by colleagues too"
        else:
            by_theme = old_theme_differences(scored, theme_of, steps, reviewer_id)
            differences = [d for ds in by_theme.values() for d in ds]
            if len(differences) < MIN_THEME_ITEMS:
                findings.append(Finding(
                    "REVIEWER_TOO_LITTLE_DATA", "info", "", "", f"Too little data to judge {reviewer_id}'s scoring",
                    (reviewer_id,), f"{count} shared characteristics (need {MIN_SHARED}) and "
                                    f"{len(differences)} scores on themes colleagues also scored (need {MIN_THEME_ITEMS})"))
                continue
            offset = mean(differences)
            basis = (f"{len(differences)} scores compared with colleagues' on the same themes "
                     f"({', '.join(sorted(by_theme))}), not the same characteristics")
        if abs(offset) >= OFFSET_STEPS:
            harsher = offset < 0
            findings.append(Finding(
                "REVIEWER_SEVERE" if harsher else "REVIEWER_LENIENT", MEDIUM, "", "",
                f"{reviewer_id} scores {abs(offset):.1f} scale steps {'below' if harsher else 'above'} colleagues",
                (reviewer_id,), f"mean offset {offset:+.2f} steps on {basis}"))
    return findings


def old_ordinal_alpha(units: list[list], scale: list) -> Alpha:
    rank = {value: i for i, value in enumerate(scale)}
    unknown = {v for unit in units for v in unit if v is not None and v not in rank}
    if unknown:
        raise ValueError(f"values not on the scale: {sorted(map(str, unknown))}")
    size = len(scale)
    coincidence = [[0.0] * size for _ in range(size)]
    pairable_units = pairable_values = 0
    for unit in units:
        values = [rank[v] for v in unit if v is not None]
        if len(values) < 2:
            continue
        pairable_units += 1
        pairable_values += len(values)
        for c, k in permutations(values, 2):
            coincidence[c][k] += 1 / (len(values) - 1)
    if pairable_units == 0:
        return Alpha(None, 0, 0, "no characteristic has two or more scores")
    totals = [sum(row) for row in coincidence]
    n = sum(totals)

    def distance(c: int, k: int) -> float:
        low, high = min(c, k), max(c, k)
        return (sum(totals[low:high + 1]) - (totals[c] + totals[k]) / 2) ** 2

    observed = sum(coincidence[c][k] * distance(c, k) for c in range(size) for k in range(size))
    expected = sum(totals[c] * totals[k] * distance(c, k) for c in range(size) for k in range(size))
    if expected == 0:
        return Alpha(None, pairable_units, pairable_values,
                     "every score given is the same, so agreement beyond chance cannot be measured")
    return Alpha(1 - (n - 1) * observed / expected, pairable_units, pairable_values)


def old_agreement(consolidation: Consolidation, steps: dict[str, int]) -> tuple[Alpha, dict[str, Alpha]]:
    scale = [name for name, _ in sorted(steps.items(), key=lambda item: item[1])]

    def units(characteristics):
        return [[r.rating if r.rating in steps else None for r in consolidation.responses.get(c.ref, [])]
                for c in characteristics]

    framework = consolidation.framework
    overall = old_ordinal_alpha(units(framework.characteristics), scale)
    by_theme = {t.name: old_ordinal_alpha(units([c for c in framework.characteristics if c.theme == t]), scale)
                for t in framework.themes}
    return overall, by_theme


# Building cases.

def consolidation_of(framework: Framework, scores: dict[str, dict[str, tuple]]) -> Consolidation:
    """scores: ref -> reviewer -> (rating, commentary, gaps)."""
    responses = {ref: [Response(ref, rid, *answer, "f.xlsx", "Review", "F2") for rid, answer in by.items()]
                 for ref, by in scores.items()}
    return Consolidation(framework, responses, [], [])


def report_of(consolidation: Consolidation):
    """What `bva check` shows for these scores, every reviewer having returned what they were issued."""
    framework = consolidation.framework
    issued = {}
    for ref, responses in consolidation.responses.items():
        for r in responses:
            issued.setdefault(r.reviewer_id, []).append(ref)
    issues = [IssueRecord(f"issue-{rid}", rid, "2026-01-01", "f.xlsx", "", tuple(refs)) for rid, refs in issued.items()]
    consolidation.progress = [ReviewerProgress(rid, "", len(refs), 0, "2026-01-01", "") for rid, refs in issued.items()]
    consolidated = {c.ref: consolidation.consolidated(c.ref) for c in framework.characteristics}
    decisions, _ = decide(framework.scale, consolidated, PreviousEdits({}))
    return check(consolidation, decisions, issues)


def synthetic_framework(scale, refs_per_theme: dict, reviewers: int) -> Framework:
    characteristics = tuple(Characteristic(f"{theme.prefix}{i:03d}", theme, f"Item {i}")
                            for theme, count in refs_per_theme.items() for i in range(1, count + 1))
    people = tuple(Reviewer(f"R{i:02d}", f"Reviewer {i}") for i in range(1, reviewers + 1))
    return Framework(scale, characteristics, people)


def random_scores(rng: random.Random, framework: Framework) -> dict[str, dict[str, tuple]]:
    """Reviewers with their own leanings, one to four to a characteristic, in pools that may not overlap;
    in some assessments most characteristics have one reviewer, so reviewers are judged on themes."""
    ids = [r.reviewer_id for r in framework.reviewers]
    lean = {rid: rng.choice([-2, -1, 0, 0, 0, 1, 1]) for rid in ids}
    pools = [ids] if rng.random() < 0.5 else [ids[:len(ids) // 2], ids[len(ids) // 2:]]
    sizes = [1, 1, 1, 2] if rng.random() < 0.4 else [1, 2, 2, 2, 3, 4]
    scores = {}
    for c in framework.characteristics:
        pool = rng.choice(pools)
        level = rng.randint(0, 4)
        by = {}
        for rid in rng.sample(pool, min(len(pool), rng.choice(sizes))):
            roll = rng.random()
            if roll < 0.06:
                by[rid] = ("", "", "")
            elif roll < 0.14:
                by[rid] = ("Grey", "Outside officers' control.", "")
            else:
                step = max(0, min(4, level + lean[rid] + rng.choice([-1, 0, 0, 0, 1])))
                by[rid] = (LEVELS[step],) + FULL
        if by:
            scores[c.ref] = by
    return scores


def random_case(seed: int, scale) -> Consolidation:
    rng = random.Random(seed)
    themes = rng.sample(THEMES, rng.randint(1, 4))
    framework = synthetic_framework(scale, {t: rng.randint(3, 25) for t in themes}, rng.randint(2, 14))
    return consolidation_of(framework, random_scores(rng, framework))


@pytest.fixture
def framework(framework_file):
    return load_framework(framework_file)


@pytest.fixture
def themes_only_framework(tmp_path):
    from conftest import REVIEWERS, SCALE, make_framework

    rows = [[f"CI{i:03d}", "Continuous improvement", f"Item {i}", "", "", "", ""] for i in range(1, 13)]
    return load_framework(make_framework(tmp_path / "f.xlsx", SCALE, rows, REVIEWERS))


def fixture_cases(framework, themes_only_framework) -> dict[str, Consolidation]:
    """The score tables of tests/test_consistency.py."""
    refs = [c.ref for c in framework.characteristics]
    clean = {ref: {"R01": ("Light green",) + FULL, "R02": ("Light green",) + FULL} for ref in refs}
    harsh = {}
    for i, ref in enumerate(refs):
        base = ["Light green", "Dark green"][i % 2]
        low = {"Light green": "Yellow", "Dark green": "Light green"}[base]
        harsh[ref] = {"R01": (base,) + FULL, "R02": (base,) + FULL, "R03": (low,) + FULL}
    themed = [c.ref for c in themes_only_framework.characteristics]
    lenient = ({ref: {"R01": ("Yellow",) + FULL} for ref in themed[:4]}
               | {ref: {"R02": ("Yellow",) + FULL} for ref in themed[4:7]}
               | {ref: {"R03": ("Dark green", "Strong.", "None")} for ref in themed[7:]})
    cases = {
        "clean": clean,
        "disagreement": clean | {"CI001": {"R01": ("Dark green",) + FULL, "R02": ("Amber",) + FULL},
                                 "CI002": {"R01": ("Light green",) + FULL, "R02": ("Yellow",) + FULL}},
        "grey": clean | {"L001": {"R01": ("Grey", "Decided by members.", ""), "R02": ("Light green",) + FULL}},
        "words": clean | {"G001": {"R03": ("Dark green", "Strong.", "None")},
                          "R001": {"R03": ("Amber", "Weak controls.", "Fix the audit actions.")},
                          "SD001": {"R03": ("Grey", "Outside officers' control.", "")}},
        "incomplete": clean | {"CI001": {"R01": ("", "", ""), "R02": ("", "", "")}},
        "harsh": harsh,
        "too little": {"CI001": {"R01": ("Dark green",) + FULL}, "L001": {"R02": ("Red", "Poor.", "Everything.")}},
        "moderation": clean | {"CI001": {"R01": ("Dark green",) + FULL, "R02": ("Amber",) + FULL},
                               "CI002": {"R01": ("Amber", "", "gaps"), "R02": ("Amber", "Weak.", "gaps")}},
    }
    result = {name: consolidation_of(framework, scores) for name, scores in cases.items()}
    result["lenient on themes"] = consolidation_of(themes_only_framework, lenient)
    return result


def rounds_for_the_old_fit_to_settle(consolidation: Consolidation) -> int:
    """Rounds of the old fit after which a further doubling moves no offset by more than 1e-10."""
    steps = _steps(consolidation.framework.scale)
    rounds, before = 100, old_shared_offsets(consolidation, steps, 100)
    while True:
        after = old_shared_offsets(consolidation, steps, 2 * rounds)
        if all(abs(after[r][0] - before[r][0]) <= 1e-10 for r in before):
            return 2 * rounds
        rounds, before = 2 * rounds, after


def assert_same_as_before(consolidation: Consolidation, old_rounds: int = 100):
    """Offsets, theme differences, the findings on reviewers and alpha all as the old code gave them,
    its fit run for `old_rounds`."""
    steps = _steps(consolidation.framework.scale)
    new, old = _shared_offsets(consolidation, steps), old_shared_offsets(consolidation, steps, old_rounds)
    if connected(consolidation):  # the old fit centred every reviewer together; now each group on its own
        assert new.keys() == old.keys()
        for reviewer_id, (offset, count) in old.items():
            assert new[reviewer_id][1] == count
            assert new[reviewer_id][0] == pytest.approx(offset, abs=1e-6), reviewer_id
    scored = [r for rs in consolidation.responses.values() for r in rs if r.rating in steps]
    theme_of = {c.ref: c.theme.name for c in consolidation.framework.characteristics}
    differences = _theme_differences(consolidation, steps, {r.reviewer_id for r in scored})
    for reviewer_id in {r.reviewer_id for r in scored}:
        expected = old_theme_differences(scored, theme_of, steps, reviewer_id)
        got = differences.get(reviewer_id, {})
        assert list(got) == list(expected)
        for theme in expected:
            assert got[theme] == pytest.approx(expected[theme], abs=1e-9)
    overall, by_theme = _agreement(consolidation, steps)
    old_overall, old_by_theme = old_agreement(consolidation, steps)
    for alpha, expected in [(overall, old_overall)] + [(by_theme[t], old_by_theme[t]) for t in old_by_theme]:
        assert (alpha.units, alpha.pairable, alpha.reason) == (expected.units, expected.pairable, expected.reason)
        assert alpha.value == pytest.approx(expected.value, abs=1e-12)
    assert list(by_theme) == list(old_by_theme)


def connected(consolidation: Consolidation) -> bool:
    """Whether every reviewer who shares a characteristic is in one group of three or more."""
    steps = _steps(consolidation.framework.scale)
    items = [[r for r in rs if r.rating in steps] for rs in consolidation.responses.values()]
    groups = consistency._groups([scored for scored in items if len(scored) >= 2])
    sizes = [len({r.reviewer_id for i in g for r in [x for x in items if len(x) >= 2][i]}) for g in groups]
    return len(sizes) == 1 and sizes[0] >= 3


def test_the_test_fixtures_give_the_same_numbers_and_findings_as_100_rounds(framework, themes_only_framework):
    """The old 100 rounds had converged on every fixture."""
    for consolidation in fixture_cases(framework, themes_only_framework).values():
        assert_same_as_before(consolidation)


@pytest.mark.parametrize("seed", range(12))
def test_random_assessments_give_the_same_numbers_and_findings_as_the_old_fit_run_to_convergence(framework, seed):
    consolidation = random_case(seed, framework.scale)
    assert_same_as_before(consolidation, rounds_for_the_old_fit_to_settle(consolidation))


def test_the_random_assessments_exercise_both_ways_of_judging_a_reviewer(framework):
    """Otherwise the comparison above could pass without comparing anything."""
    findings = [f for seed in range(12) for f in report_of(random_case(seed, framework.scale)).findings]
    evidence = [f.evidence for f in findings if f.kind in ("REVIEWER_SEVERE", "REVIEWER_LENIENT")]
    assert any("characteristics shared with colleagues" in e for e in evidence)
    assert any("on the same themes" in e for e in evidence)
    assert sum(connected(random_case(seed, framework.scale)) for seed in range(12)) >= 5
    assert any(f.kind == "REVIEWER_TOO_LITTLE_DATA" for f in findings)


def test_alpha_from_counts_equals_alpha_from_pairs_on_large_units():
    rng = random.Random(11)
    for _ in range(50):
        levels = rng.randint(2, 6)
        units = [[rng.choice([None] + list(range(levels))) for _ in range(rng.randint(0, 30))]
                 for _ in range(rng.randint(1, 20))]
        new, old = ordinal_alpha(units, list(range(levels))), old_ordinal_alpha(units, list(range(levels)))
        assert (new.units, new.pairable, new.reason) == (old.units, old.pairable, old.reason)
        assert new.value == pytest.approx(old.value, abs=1e-12)


def chain(scale, plant: dict[str, int], length: int = 21) -> Consolidation:
    """R01-R02, R02-R03, ..., each pair sharing three characteristics scored Yellow plus the planted steps."""
    framework = synthetic_framework(scale, {THEMES[0]: 3 * (length - 1)}, length)
    ids = [r.reviewer_id for r in framework.reviewers]
    scores = {c.ref: {rid: (LEVELS[2 + plant.get(rid, 0)],) + FULL for rid in ids[i // 3:i // 3 + 2]}
              for i, c in enumerate(framework.characteristics)}
    return consolidation_of(framework, scores)


def test_the_fit_runs_until_it_converges_where_100_rounds_are_not_enough(framework):
    upper_half = {f"R{i:02d}": 1 for i in range(11, 22)}
    consolidation = chain(framework.scale, upper_half)
    steps = _steps(framework.scale)
    # Eleven of 21 reviewers one step up: centred, -11/21 and +10/21, times 21/20 for distance from the others.
    planted = {f"R{i:02d}": (0.5 if i >= 11 else -0.55) for i in range(1, 22)}
    fitted = _shared_offsets(consolidation, steps)
    for reviewer_id, offset in planted.items():
        assert fitted[reviewer_id][0] == pytest.approx(offset, abs=1e-6), reviewer_id
    after_100 = old_shared_offsets(consolidation, steps)
    assert max(abs(after_100[r][0] - planted[r]) for r in planted) > 0.3  # still moving after 100 rounds


def test_the_fit_is_the_old_iteration_stopped_later(framework, monkeypatch):
    """With its rounds capped at 100 and no early stop, the fit lands exactly where the old one did."""
    monkeypatch.setattr(consistency, "MAX_ROUNDS", 100)
    monkeypatch.setattr(consistency, "SETTLED", 0.0)
    steps = _steps(framework.scale)
    for consolidation in [chain(framework.scale, {f"R{i:02d}": 1 for i in range(11, 22)})] + \
            [random_case(seed, framework.scale) for seed in range(4)]:
        if not connected(consolidation):
            continue
        old = old_shared_offsets(consolidation, steps)
        new = _shared_offsets(consolidation, steps)
        assert {r: pytest.approx(v[0], abs=1e-9) for r, v in old.items()} == {r: v[0] for r, v in new.items()}


def shared_design(scale, plant: dict[str, int]) -> Consolidation:
    """Eight reviewers, three to a characteristic, scoring each characteristic's level plus their plant."""
    rng = random.Random(5)
    framework = synthetic_framework(scale, {THEMES[1]: 15, THEMES[2]: 15}, 8)
    ids = [r.reviewer_id for r in framework.reviewers]
    scores = {}
    for c in framework.characteristics:
        level = rng.randint(0, 3)
        scores[c.ref] = {rid: (LEVELS[level + plant.get(rid, 0)],) + FULL for rid in sorted(rng.sample(ids, 3))}
    return consolidation_of(framework, scores)


def test_a_reviewer_planted_one_step_above_everyone_is_flagged_and_only_then(framework):
    planted = report_of(shared_design(framework.scale, {"R04": 1}))
    flagged = [f for f in planted.findings if f.kind in ("REVIEWER_LENIENT", "REVIEWER_SEVERE")]
    assert [(f.kind, f.severity, f.reviewers, f.finding) for f in flagged] == [
        ("REVIEWER_LENIENT", "medium", ("R04",), "R04 scores 1.0 scale steps above colleagues")]
    assert flagged[0].evidence.startswith("offset +1.00 steps (give or take ")
    assert " characteristics shared with colleagues (" in flagged[0].evidence
    level = report_of(shared_design(framework.scale, {}))
    assert not [f for f in level.findings if f.kind in ("REVIEWER_LENIENT", "REVIEWER_SEVERE")]
    # Every reviewer's offset is reported, with how many characteristics and how sure.
    assert sorted(f.reviewers[0] for f in level.findings if f.kind == "REVIEWER_OFFSET") == [
        f"R0{n}" for n in range(1, 9)]
