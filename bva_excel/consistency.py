"""Findings for the moderators: where scoring is inconsistent, thin or incomplete.

Takes the consolidated scores and the moderation decisions; returns plain findings, most serious
first. A finding on a characteristic that has been moderated (a valid moderated score with a note,
or a final score typed by a senior officer) is kept and shown as resolved.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from statistics import mean

import numpy as np

from bva_excel.agreement import Alpha, ordinal_alpha
from bva_excel.consolidation import Consolidation, latest_issues, lists_gaps
from bva_excel.framework import Scale
from bva_excel.moderation import ScoreDecision
from bva_excel.records import IssueRecord, Response

HIGH, MEDIUM, LOW, INFO = "high", "medium", "low", "info"
SEVERITIES = (HIGH, MEDIUM, LOW, INFO)
MIN_SHARED = 3  # shared characteristics needed to judge a reviewer against colleagues
MIN_THEME_ITEMS = 5  # scores needed to judge a reviewer on themes alone
OFFSET_STEPS = 0.75  # a mean offset this large, in scale steps, is worth a moderator's look
SETTLED = 1e-10  # the offset fit has converged when no offset moves by more than this, in steps
MAX_ROUNDS = 10_000  # generous: a long chain of reviewers, each sharing items only with the next, settles slowly


@dataclass
class Finding:
    kind: str  # stable code
    severity: str
    ref: str  # '' for a finding about a reviewer or the whole assessment
    theme: str
    finding: str
    reviewers: tuple[str, ...] = ()
    evidence: str = ""
    resolved: str = ""  # how moderation resolved it; '' while open

    @property
    def must_look(self) -> bool:
        return self.severity in (HIGH, MEDIUM) and not self.resolved

    def as_dict(self) -> dict:
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
    findings = []
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
    findings = []
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
            findings.append(Finding("RETURN_OUTSTANDING", MEDIUM, "", "", f"No return yet from {reviewer_id}",
                                    (reviewer_id,), f"{len(refs)} characteristics issued: {', '.join(refs)}"))
            continue
        for ref in refs:
            if (ref, reviewer_id) not in answered:
                findings.append(Finding("NOT_ANSWERED", LOW, ref, framework.characteristic(ref).theme.name,
                                        f"Issued to {reviewer_id} but not answered", (reviewer_id,),
                                        "score left blank or row missing in their current return"))
    for characteristic in framework.characteristics:
        if not decisions[characteristic.ref].final:
            findings.append(Finding("NO_USABLE_SCORE", HIGH, characteristic.ref, characteristic.theme.name,
                                    "No usable score: the heat map will show a blank", (),
                                    _describe(consolidation.responses.get(characteristic.ref, [])) or "no responses"))
    return findings


def _shared_offsets(consolidation: Consolidation, steps: dict[str, int]) -> dict[str, tuple[float, int]]:
    """reviewer -> (offset in steps, shared characteristics) from the characteristics scored by two or more.

    Fits score = characteristic level + reviewer offset jointly (alternating means, offsets centred on
    zero, repeated until no offset moves), so that a colleague of a harsh reviewer does not look
    lenient merely by sharing items.
    """
    items = [scored for scored in ([r for r in responses if r.rating in steps]
                                   for responses in consolidation.responses.values()) if len(scored) >= 2]
    reviewers = sorted({r.reviewer_id for scored in items for r in scored})
    if len(reviewers) < 2:
        return {}
    # One entry per score: which item, which reviewer (by position in `reviewers`), which step.
    position = {reviewer: i for i, reviewer in enumerate(reviewers)}
    item = np.repeat(np.arange(len(items)), [len(scored) for scored in items])
    reviewer = np.array([position[r.reviewer_id] for scored in items for r in scored])
    score = np.array([steps[r.rating] for scored in items for r in scored], dtype=float)
    per_item, per_reviewer = np.bincount(item), np.bincount(reviewer)
    # Each round is two sums over the scores, so the fit costs rounds x scores.
    offset = np.zeros(len(reviewers))
    for _ in range(MAX_ROUNDS):
        level = np.bincount(item, weights=score - offset[reviewer]) / per_item
        fitted = np.bincount(reviewer, weights=score - level[item]) / per_reviewer
        fitted -= fitted.mean()
        moved = np.abs(fitted - offset).max()
        offset = fitted
        if moved < SETTLED:
            break
    # Centred offsets sum to zero, so a reviewer's distance from the mean of the others is k/(k-1) times theirs.
    scale_up = len(reviewers) / (len(reviewers) - 1)
    return {r: (float(offset[i]) * scale_up, int(per_reviewer[i])) for i, r in enumerate(reviewers)}


def _theme_differences(consolidation: Consolidation, steps: dict[str, int],
                       reviewer_ids: set[str]) -> dict[str, dict[str, list[float]]]:
    """reviewer -> theme -> for each of their scores, its step less the mean step of colleagues' scores on
    that theme, where colleagues have two or more there. The fallback for `reviewer_ids`, who share too
    few characteristics to be fitted.
    """
    theme_of = {c.ref: c.theme.name for c in consolidation.framework.characteristics}
    scored = [r for responses in consolidation.responses.values() for r in responses
              if r.rating in steps and r.ref in theme_of]
    total, count = Counter(), Counter()  # steps and scores, by theme and by (reviewer, theme)
    for r in scored:
        theme = theme_of[r.ref]
        for key in (theme, (r.reviewer_id, theme)):
            total[key] += steps[r.rating]
            count[key] += 1
    differences = {}
    for r in (r for r in scored if r.reviewer_id in reviewer_ids):
        theme = theme_of[r.ref]
        # Colleagues are everyone but this reviewer: all of their own scores on the theme are left out.
        others = count[theme] - count[r.reviewer_id, theme]
        if others >= 2:
            others_mean = (total[theme] - total[r.reviewer_id, theme]) / others
            differences.setdefault(r.reviewer_id, {}).setdefault(theme, []).append(steps[r.rating] - others_mean)
    return differences


def _reviewer_offsets(consolidation: Consolidation, steps: dict[str, int]) -> list[Finding]:
    """Reviewers who sit consistently above or below colleagues, in scale steps."""
    findings = []
    reviewers = sorted({r.reviewer_id for rs in consolidation.responses.values() for r in rs if r.rating in steps})
    shared = _shared_offsets(consolidation, steps)
    on_themes = {r for r in reviewers if shared.get(r, (0.0, 0))[1] < MIN_SHARED}
    theme_differences = _theme_differences(consolidation, steps, on_themes)
    for reviewer_id in reviewers:
        offset, count = shared.get(reviewer_id, (0.0, 0))
        if count >= MIN_SHARED:
            basis = f"{count} characteristics scored by colleagues too"
        else:
            by_theme = theme_differences.get(reviewer_id, {})
            differences = [d for ds in by_theme.values() for d in ds]
            if len(differences) < MIN_THEME_ITEMS:
                findings.append(Finding(
                    "REVIEWER_TOO_LITTLE_DATA", INFO, "", "", f"Too little data to judge {reviewer_id}'s scoring",
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


def _agreement(consolidation: Consolidation, steps: dict[str, int]) -> tuple[Alpha, dict[str, Alpha]]:
    scale = [name for name, _ in sorted(steps.items(), key=lambda item: item[1])]

    framework = consolidation.framework
    units, theme_units = [], {}
    for c in framework.characteristics:
        unit = [r.rating if r.rating in steps else None for r in consolidation.responses.get(c.ref, [])]
        units.append(unit)
        theme_units.setdefault(c.theme, []).append(unit)
    overall = ordinal_alpha(units, scale)
    by_theme = {t.name: ordinal_alpha(theme_units[t], scale) for t in framework.themes}
    return overall, by_theme


def _resolution(decision: ScoreDecision, scale: Scale) -> str:
    if decision.final_typed:
        return f"final score set to {decision.final} by a senior officer"
    if scale.find(decision.moderated) and decision.note.strip():
        return f"moderated to {decision.moderated}: {decision.note.strip()}"
    return ""


def check(consolidation: Consolidation, decisions: dict[str, ScoreDecision], issues: list[IssueRecord],
          spread: int = 2, threshold_name: str | None = None) -> ConsistencyReport:
    """Every finding, most serious first; findings on moderated characteristics marked resolved."""
    scale = consolidation.framework.scale
    steps = _steps(scale)
    threshold = scale.action_threshold(threshold_name)
    findings = (_per_characteristic(consolidation, steps, spread, steps[threshold.name])
                + _incomplete(consolidation, issues, decisions) + _reviewer_offsets(consolidation, steps))
    for ref, decision in decisions.items():
        if scale.find(decision.moderated) and not decision.note.strip():
            characteristic = consolidation.framework.characteristic(ref)
            findings.append(Finding("MODERATED_WITHOUT_NOTE", MEDIUM, ref, characteristic.theme.name,
                                    "Moderated score without a note saying why", (),
                                    f"consolidated {decision.consolidated or 'blank'}, moderated {decision.moderated}"))
    for finding in findings:
        if finding.ref and finding.kind != "MODERATED_WITHOUT_NOTE":
            finding.resolved = _resolution(decisions[finding.ref], scale)
    overall, by_theme = _agreement(consolidation, steps)
    findings.append(Finding("AGREEMENT", INFO, "", "All themes", "Agreement between reviewers (Krippendorff's "
                            "alpha, ordinal)", (), overall.describe()))
    for theme, alpha in by_theme.items():
        findings.append(Finding("AGREEMENT", INFO, "", theme, "Agreement between reviewers (Krippendorff's "
                                "alpha, ordinal)", (), alpha.describe()))
    order = {c.ref: i for i, c in enumerate(consolidation.framework.characteristics)}
    findings.sort(key=lambda f: (bool(f.resolved), SEVERITIES.index(f.severity), order.get(f.ref, -1)))
    return ConsistencyReport(findings, overall, by_theme)
