"""Findings for the moderators: where scoring is inconsistent, thin or incomplete.

Takes the consolidated scores and the moderation decisions; returns plain findings, most serious
first. A finding on a characteristic that has been moderated (a valid moderated score with a note,
or a final score typed by a senior officer) is kept and shown as resolved.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import asdict, dataclass, field
from statistics import mean
from typing import Any

from bva_excel.model.agreement import Alpha, ordinal_alpha
from bva_excel.model.consolidation import Consolidation, latest_issues, lists_gaps
from bva_excel.model.decisions import ScoreDecision
from bva_excel.model.framework import Framework, Scale
from bva_excel.model.kinds import Severity
from bva_excel.model.recorded import IssueRecord, Response, SignOff

HIGH, MEDIUM, LOW, INFO = Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO
SEVERITIES = tuple(Severity)
MIN_SHARED = 3  # shared characteristics needed to judge a reviewer against colleagues
MIN_THEME_ITEMS = 5  # scores needed to judge a reviewer on themes alone
OFFSET_STEPS = 0.75  # a mean offset this large, in scale steps, is worth a moderator's look
SETTLED = 1e-10  # the offset fit has converged when no offset moves by more than this, in steps
ROUNDING = 1e-9  # arithmetic's own error, so that a boundary the README states is met exactly
ROUNDING_NOISE = 12 ** -0.5  # the spread that rounding to whole scale steps adds to any score
MAX_ROUNDS = 10_000  # generous: a long chain of reviewers, each sharing items only with the next, settles slowly


@dataclass
class Finding:
    kind: str  # stable code
    severity: Severity
    ref: str  # '' for a finding about a reviewer or the whole assessment
    theme: str
    finding: str
    reviewers: tuple[str, ...] = ()
    evidence: str = ""
    resolved: str = ""  # how moderation resolved it; '' while open

    @property
    def must_look(self) -> bool:
        return self.severity in (HIGH, MEDIUM) and not self.resolved

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reviewers": list(self.reviewers)}


@dataclass
class ConsistencyReport:
    findings: list[Finding]
    alpha: Alpha
    alpha_by_theme: dict[str, Alpha] = field(default_factory=dict)

    @property
    def must_look(self) -> list[Finding]:
        return [f for f in self.findings if f.must_look]


def _steps(scale: Scale) -> dict[str, int]:
    """Scored rating -> its step on the scale, lowest 0."""
    return {r.name: i for i, r in enumerate(reversed(scale.scored))}


def _describe(responses: list[Response]) -> str:
    return ", ".join(f"{r.reviewer_id} {r.rating or 'blank'}" for r in responses)


def _quote(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return f"'{flat[:limit]}{'…' if len(flat) > limit else ''}'"


def _per_characteristic(consolidation: Consolidation, steps: dict[str, int], spread: int,
                        threshold_step: int) -> list[Finding]:
    findings: list[Finding] = []
    scale = consolidation.framework.scale
    top = scale.scored[0].name
    for characteristic in consolidation.framework.characteristics:
        ref, theme = characteristic.ref, characteristic.theme.name
        responses = consolidation.responses.get(ref, [])
        scored = [r for r in responses if r.rating in steps]
        unscored = [r for r in responses if r.rating and r.rating not in steps]
        if len(scored) >= 2:
            width = max(steps[r.rating] for r in scored) - min(steps[r.rating] for r in scored)
            if width >= spread:
                findings.append(Finding(
                    "DISAGREEMENT", HIGH if width >= spread + 1 else MEDIUM, ref, theme,
                    f"Reviewers are {width} scale steps apart", tuple(r.reviewer_id for r in scored),
                    _describe(scored)))
        if scored and unscored:
            findings.append(Finding(
                "GREY_VS_SCORE", MEDIUM, ref, theme,
                f"{unscored[0].rating} (not scored) against a score: is this within officers' control?",
                tuple(r.reviewer_id for r in scored + unscored), _describe(scored + unscored)))
        for r in responses:
            who = (r.reviewer_id,)
            if r.rating == top and lists_gaps(r.gaps):
                findings.append(Finding("TOP_SCORE_WITH_GAPS", MEDIUM, ref, theme,
                                        f"{top} although the reviewer lists gaps", who,
                                        f"{r.reviewer_id} {r.rating}; gaps: {_quote(r.gaps)}"))
            if r.rating in steps and steps[r.rating] <= threshold_step:
                if not r.commentary.strip():
                    findings.append(Finding("LOW_SCORE_NO_COMMENTARY", MEDIUM, ref, theme,
                                            f"{r.rating} with no commentary to justify it", who,
                                            f"{r.reviewer_id} {r.rating}; commentary blank"))
                if not lists_gaps(r.gaps):
                    findings.append(Finding("LOW_SCORE_NO_GAPS", MEDIUM, ref, theme,
                                            f"{r.rating} with no gaps or areas to address given", who,
                                            f"{r.reviewer_id} {r.rating}; gaps: {_quote(r.gaps) if r.gaps.strip() else 'blank'}"))
            if r.rating and r.rating not in steps and not r.commentary.strip():
                findings.append(Finding("GREY_NO_REASON", MEDIUM, ref, theme,
                                        f"{r.rating} (not scored) with no reason given", who,
                                        f"{r.reviewer_id} {r.rating}; commentary blank"))
    return findings


def _incomplete(consolidation: Consolidation, issues: list[IssueRecord], decisions: dict[str, ScoreDecision]) -> list[Finding]:
    findings: list[Finding] = []
    if not issues:
        return findings  # nothing issued yet: nothing can be missing
    framework = consolidation.framework
    answered = {(r.ref, r.reviewer_id) for rs in consolidation.responses.values() for r in rs if r.rating}
    returned = {p.reviewer_id for p in consolidation.progress if p.received}
    for reviewer_id, issue in latest_issues(issues).items():
        refs = [ref for ref in issue.refs if framework.characteristic(ref)]
        if framework.reviewer(reviewer_id) is None:
            kept = sum(1 for (_, rid) in answered if rid == reviewer_id)
            if kept:  # said once, here; their answers count like anyone's
                findings.append(Finding("REVIEWER_NOT_LISTED", LOW, "", "",
                                        f"{reviewer_id} is no longer on 'Reviewers'; their {kept} answers are kept "
                                        "and counted", (reviewer_id,),
                                        "restore them on 'Reviewers' to show their name, or moderate their scores"))
            continue
        if reviewer_id not in returned:
            rejected = next((p.rejected for p in consolidation.progress if p.reviewer_id == reviewer_id), 0)
            words = (f"No return accepted yet from {reviewer_id} ({rejected} rejected: see 'Returns')" if rejected
                     else f"No return yet from {reviewer_id}")
            findings.append(Finding("RETURN_OUTSTANDING", MEDIUM, "", "", words,
                                    (reviewer_id,), f"{len(refs)} characteristics issued: {', '.join(refs)}"))
            continue
        for ref in refs:
            if (ref, reviewer_id) not in answered:
                findings.append(Finding("NOT_ANSWERED", LOW, ref, _theme_name(framework, ref),
                                        f"Issued to {reviewer_id} but not answered", (reviewer_id,),
                                        "score left blank or row missing in their current return"))
    for characteristic in framework.characteristics:
        if not decisions[characteristic.ref].final:
            findings.append(Finding("NO_USABLE_SCORE", HIGH, characteristic.ref, characteristic.theme.name,
                                    "No usable score: the heat map will show a blank", (),
                                    _describe(consolidation.responses.get(characteristic.ref, [])) or "no responses"))
    return findings


@dataclass(frozen=True)
class Offset:
    """How far one reviewer's scores sit from colleagues' on the characteristics they share, in steps."""

    offset: float  # above (+) or below (-) the mean of the others in their group
    count: int  # scores behind it: characteristics shared with colleagues
    error: float  # its standard error, in steps
    group: tuple[str, ...]  # the reviewers it is compared with, directly or through colleagues


def _groups(items: list[list[Response]]) -> list[list[int]]:
    """Indexes of `items`, split into groups whose reviewers meet, directly or through colleagues."""
    parent: dict[str, str] = {}

    def root(reviewer: str) -> str:
        while parent.setdefault(reviewer, reviewer) != reviewer:
            parent[reviewer] = parent[parent[reviewer]]
            reviewer = parent[reviewer]
        return reviewer

    for scored in items:
        first = root(scored[0].reviewer_id)
        for response in scored[1:]:
            parent[root(response.reviewer_id)] = first
    found: dict[str, list[int]] = {}
    for index, scored in enumerate(items):
        found.setdefault(root(scored[0].reviewer_id), []).append(index)
    return list(found.values())


def _fit(items: list[list[Response]], steps: dict[str, int]) -> dict[str, Offset]:
    """Fit score = characteristic level + reviewer offset over one group (alternating means, offsets centred
    on zero, repeated until no offset moves), so that a colleague of a harsh reviewer does not look lenient
    merely by sharing items; each round is two sums over the scores."""
    import numpy as np  # heavy: loaded only when the consistency rules run, not by every command

    reviewers = sorted({r.reviewer_id for scored in items for r in scored})
    position = {reviewer: i for i, reviewer in enumerate(reviewers)}
    item = np.repeat(np.arange(len(items)), [len(scored) for scored in items])
    reviewer = np.array([position[r.reviewer_id] for scored in items for r in scored])
    score = np.array([steps[r.rating] for scored in items for r in scored], dtype=float)
    per_item, per_reviewer = np.bincount(item), np.bincount(reviewer)
    offset = np.zeros(len(reviewers))
    level = np.zeros(len(items))
    for _ in range(MAX_ROUNDS):
        level = np.bincount(item, weights=score - offset[reviewer]) / per_item
        fitted = np.bincount(reviewer, weights=score - level[item]) / per_reviewer
        fitted -= fitted.mean()
        moved = np.abs(fitted - offset).max()
        offset = fitted
        if moved < SETTLED:
            break
    residual = score - level[item] - offset[reviewer]
    freedom = len(score) - len(items) - len(reviewers) + 1
    # Whole-step scores carry rounding noise of at least 1/sqrt(12) of a step, however well they fit.
    spread = max(float(np.sqrt((residual ** 2).sum() / freedom)) if freedom > 0 else 1.0, ROUNDING_NOISE)
    # Centred offsets sum to zero, so a reviewer's distance from the mean of the others is k/(k-1) times theirs.
    scale_up = len(reviewers) / (len(reviewers) - 1)
    group = tuple(reviewers)
    return {r: Offset(float(offset[i]) * scale_up, int(per_reviewer[i]),
                      spread / float(np.sqrt(per_reviewer[i])) * scale_up, group)
            for i, r in enumerate(reviewers)}


def _theme_name(framework: Framework, ref: str) -> str:
    """The name of the theme of `ref` ('' for a ref no longer in the framework)."""
    characteristic = framework.characteristic(ref)
    return characteristic.theme.name if characteristic is not None else ""


def _fitted_offsets(consolidation: Consolidation,
                    steps: dict[str, int]) -> tuple[dict[str, Offset], list[tuple[str, str, Any]]]:
    """Offsets within each group of three or more reviewers who meet; and the pairs who meet only each other,
    as (reviewer, other, their scores side by side)."""
    items = [scored for scored in ([r for r in responses if r.rating in steps]
                                   for responses in consolidation.responses.values()) if len(scored) >= 2]
    offsets: dict[str, Offset] = {}
    pairs = []
    for indexes in _groups(items):
        group = [items[i] for i in indexes]
        reviewers = sorted({r.reviewer_id for scored in group for r in scored})
        if len(reviewers) >= 3:
            offsets.update(_fit(group, steps))
        elif len(reviewers) == 2:
            first, second = reviewers
            side_by_side = [(next(steps[r.rating] for r in scored if r.reviewer_id == first),
                             next(steps[r.rating] for r in scored if r.reviewer_id == second)) for scored in group]
            pairs.append((first, second, side_by_side))
    return offsets, pairs


def _shared_offsets(consolidation: Consolidation, steps: dict[str, int]) -> dict[str, tuple[float, int]]:
    """reviewer -> (offset in steps, shared characteristics), for reviewers in a group of three or more."""
    return {r: (o.offset, o.count) for r, o in _fitted_offsets(consolidation, steps)[0].items()}


def _theme_differences(consolidation: Consolidation, steps: dict[str, int],
                       reviewer_ids: set[str]) -> dict[str, dict[str, list[float]]]:
    """reviewer -> theme -> for each of their scores, its step less the mean step of colleagues' scores on
    that theme, where colleagues have two or more there. The fallback for `reviewer_ids`, who share too
    few characteristics to be fitted.
    """
    theme_of = {c.ref: c.theme.name for c in consolidation.framework.characteristics}
    scored = [r for responses in consolidation.responses.values() for r in responses
              if r.rating in steps and r.ref in theme_of]
    total: Counter[object] = Counter()  # steps, by theme and by (reviewer, theme)
    count: Counter[object] = Counter()  # scores, the same way
    for r in scored:
        theme = theme_of[r.ref]
        for key in (theme, (r.reviewer_id, theme)):
            total[key] += steps[r.rating]
            count[key] += 1
    differences: dict[str, dict[str, list[float]]] = {}
    for r in (r for r in scored if r.reviewer_id in reviewer_ids):
        theme = theme_of[r.ref]
        # Colleagues are everyone but this reviewer: all of their own scores on the theme are left out.
        others = count[theme] - count[r.reviewer_id, theme]
        if others >= 2:
            others_mean = (total[theme] - total[r.reviewer_id, theme]) / others
            differences.setdefault(r.reviewer_id, {}).setdefault(theme, []).append(steps[r.rating] - others_mean)
    return differences


def _reviewer_offsets(consolidation: Consolidation, steps: dict[str, int]) -> list[Finding]:
    """Each reviewer's offset from colleagues, in scale steps, with its uncertainty; those clearly beyond the
    threshold flagged, those beyond it but uncertain said as such; a pair that only meets itself reported
    as a pair. A systematic difference is never silent."""
    import numpy as np  # heavy: loaded only when the consistency rules run, not by every command

    findings: list[Finding] = []
    reviewers = sorted({r.reviewer_id for rs in consolidation.responses.values() for r in rs if r.rating in steps})
    offsets, pairs = _fitted_offsets(consolidation, steps)
    pairs = [pair for pair in pairs if len(pair[2]) >= MIN_SHARED]  # fewer: a disagreement, judged on themes
    paired = {reviewer for first, second, _ in pairs for reviewer in (first, second)}
    on_themes = {r for r in reviewers if offsets.get(r, Offset(0.0, 0, 0.0, ())).count < MIN_SHARED
                 and r not in paired}
    theme_differences = _theme_differences(consolidation, steps, on_themes)
    for first, second, scores in pairs:
        findings.append(_pair_finding(first, second, scores))
    for reviewer_id in reviewers:
        if reviewer_id in paired:
            continue
        fitted = offsets.get(reviewer_id)
        if fitted and fitted.count >= MIN_SHARED:
            offset, error = fitted.offset, fitted.error
            others = list(itertools.islice((r for r in fitted.group if r != reviewer_id), 7))  # six named, and more?
            basis = (f"{fitted.count} characteristics shared with colleagues "
                     f"({', '.join(others[:6])}{', ...' if len(others) > 6 else ''})")
        else:
            by_theme = theme_differences.get(reviewer_id, {})
            differences = [d for ds in by_theme.values() for d in ds]
            count = fitted.count if fitted else 0
            if len(differences) < MIN_THEME_ITEMS:
                findings.append(Finding(
                    "REVIEWER_TOO_LITTLE_DATA", INFO, "", "", f"Too little data to judge {reviewer_id}'s scoring",
                    (reviewer_id,), f"{count} shared characteristics (need {MIN_SHARED}) and "
                                    f"{len(differences)} scores on themes colleagues also scored (need {MIN_THEME_ITEMS})"))
                continue
            offset = mean(differences)
            error = max(float(np.std(differences, ddof=1)), ROUNDING_NOISE) / len(differences) ** 0.5
            basis = (f"{len(differences)} scores compared with colleagues' on the same themes "
                     f"({', '.join(sorted(by_theme))}), not the same characteristics")
        findings.append(_offset_finding(reviewer_id, offset, error, basis))
    return findings


def _offset_finding(reviewer_id: str, offset: float, error: float, basis: str) -> Finding:
    offset = round(offset, 9)  # as the arithmetic means it: 0.7499999999 is the 0.75 it was fitted to
    direction = "below" if offset < 0 else "above"
    evidence = f"offset {offset:+.2f} steps (give or take {1.96 * error:.2f}) on {basis}"
    words = f"{reviewer_id} scores {abs(offset):.1f} scale steps {direction} colleagues"
    if abs(offset) < OFFSET_STEPS - ROUNDING:  # a fit that lands a hair under 0.75 has reached it
        return Finding("REVIEWER_OFFSET", INFO, "", "", f"{words}: within the usual range", (reviewer_id,), evidence)
    kind = "REVIEWER_SEVERE" if offset < 0 else "REVIEWER_LENIENT"
    if abs(offset) - 1.96 * error > 0:  # clearly not chance: the whole of the likely range is on one side
        return Finding(kind, MEDIUM, "", "", words, (reviewer_id,), evidence)
    return Finding(kind, LOW, "", "", f"{words}, possibly: too few shared scores to be sure", (reviewer_id,),
                   evidence)


def _pair_finding(first: str, second: str, scores: list[tuple[int, int]]) -> Finding:
    """Two reviewers who share characteristics only with each other: which is out of line cannot be told."""
    difference = mean(a - b for a, b in scores)
    higher, lower = (first, second) if difference >= 0 else (second, first)
    words = (f"{higher} scored {abs(difference):.1f} steps above {lower} on all {len(scores)} characteristics they "
             "share; only a third reviewer can say which is out of line")
    evidence = (f"{first} and {second} share characteristics with nobody else, so neither can be compared with "
                "colleagues; give a third reviewer some of their characteristics")
    if abs(difference) >= OFFSET_STEPS - ROUNDING:
        return Finding("REVIEWER_PAIR_APART", MEDIUM, "", "", words, (higher, lower), evidence)
    return Finding("REVIEWER_PAIR", INFO, "", "", words, (higher, lower), evidence)


def _agreement(consolidation: Consolidation, steps: dict[str, int]) -> tuple[Alpha, dict[str, Alpha]]:
    scale = [name for name, _ in sorted(steps.items(), key=lambda item: item[1])]

    framework = consolidation.framework
    units: list[list[str | None]] = []
    theme_units: dict[Any, list[list[str | None]]] = {}
    for c in framework.characteristics:
        unit = [r.rating if r.rating in steps else None for r in consolidation.responses.get(c.ref, [])]
        units.append(unit)
        theme_units.setdefault(c.theme, []).append(unit)
    overall = ordinal_alpha(units, scale)
    by_theme = {t.name: ordinal_alpha(theme_units[t], scale) for t in framework.themes}
    return overall, by_theme


def _resolution(decision: ScoreDecision, scale: Scale) -> str:
    if decision.final_typed and scale.find(decision.final_typed):  # a typed score that is no rating settles nothing
        return f"final score set to {decision.final} by a senior officer"
    if scale.find(decision.moderated) and decision.note.strip():
        return f"moderated to {decision.moderated}: {decision.note.strip()}"
    return ""


def _since_signoff(consolidation: Consolidation, decisions: dict[str, ScoreDecision],
                   signoff: SignOff) -> list[Finding]:
    """A final score that differs from the one signed off: shown with both values; without a note, a finding
    that needs a look."""
    findings: list[Finding] = []
    when = signoff.signed_at.replace("T", " ")[:16]
    for characteristic in consolidation.framework.characteristics:
        ref = characteristic.ref
        signed, now = signoff.finals.get(ref, ""), decisions[ref].final
        if signed == now:
            continue
        both = f"signed off as {signed or 'blank'} by {signoff.signed_by} on {when}; now {now or 'blank'}"
        note = decisions[ref].note.strip()
        if note:
            findings.append(Finding("CHANGED_SINCE_SIGNOFF", LOW, ref, characteristic.theme.name,
                                    f"Final score changed since sign-off: {signed or 'blank'} to {now or 'blank'}", (),
                                    f"{both}; note: {_quote(note)}"))
        else:
            findings.append(Finding("CHANGED_SINCE_SIGNOFF_NO_NOTE", MEDIUM, ref, characteristic.theme.name,
                                    f"Final score changed since sign-off without a note: {signed or 'blank'} to "
                                    f"{now or 'blank'}", (), f"{both}; say why in 'Moderation note'"))
    return findings


def check(consolidation: Consolidation, decisions: dict[str, ScoreDecision], issues: list[IssueRecord],
          spread: int = 2, threshold_name: str | None = None, signoff: SignOff | None = None) -> ConsistencyReport:
    """Every finding, most serious first; findings on moderated characteristics marked resolved; after a
    sign-off, every final score changed since."""
    scale = consolidation.framework.scale
    steps = _steps(scale)
    threshold = scale.action_threshold(threshold_name)
    findings = (_per_characteristic(consolidation, steps, spread, steps[threshold.name])
                + _incomplete(consolidation, issues, decisions) + _reviewer_offsets(consolidation, steps))
    for ref, decision in decisions.items():
        if scale.find(decision.moderated) and not decision.note.strip():
            findings.append(Finding("MODERATED_WITHOUT_NOTE", MEDIUM, ref, _theme_name(consolidation.framework, ref),
                                    "Moderated score without a note saying why", (),
                                    f"consolidated {decision.consolidated or 'blank'}, moderated {decision.moderated}"))
    for finding in findings:
        if finding.ref and finding.kind != "MODERATED_WITHOUT_NOTE":
            finding.resolved = _resolution(decisions[finding.ref], scale)
    if signoff is not None:
        findings += _since_signoff(consolidation, decisions, signoff)
    for ref, decision in decisions.items():
        if decision.overruled:
            findings.append(Finding("MODERATION_OVERRULED", LOW, ref, _theme_name(consolidation.framework, ref),
                                    "Two moderated scores: the later one counts", (), decision.overruled))
    overall, by_theme = _agreement(consolidation, steps)
    findings.append(Finding("AGREEMENT", INFO, "", "All themes", "Agreement between reviewers (Krippendorff's "
                            "alpha, ordinal)", (), overall.describe()))
    for theme, alpha in by_theme.items():
        findings.append(Finding("AGREEMENT", INFO, "", theme, "Agreement between reviewers (Krippendorff's "
                                "alpha, ordinal)", (), alpha.describe()))
    order = {c.ref: i for i, c in enumerate(consolidation.framework.characteristics)}
    findings.sort(key=lambda f: (bool(f.resolved), SEVERITIES.index(f.severity), order.get(f.ref, -1)))
    return ConsistencyReport(findings, overall, by_theme)


DEFAULT_SPREAD = 2  # reviewers this many scale steps apart disagree, unless the PMO chose otherwise


