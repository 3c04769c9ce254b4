"""Each finding is raised on a small hand-built case and not on a clean one."""

import pytest

from bva_excel.excel.read.framework import load_framework
from bva_excel.model.consistency import check, lists_gaps
from bva_excel.model.consolidation import Consolidation, ReviewerProgress
from bva_excel.model.decisions import Moderation, PreviousEdits, decide
from bva_excel.model.recorded import IssueRecord, Response

FULL = ("Good evidence seen.", "Embed the new plan.")


@pytest.fixture
def framework(framework_file):
    return load_framework(framework_file)


def build(framework, scores: dict[str, dict[str, tuple]], moderation: dict[str, Moderation] | None = None,
          issues=None, returned=None):
    """scores: ref -> reviewer -> (rating, commentary, gaps). Returns the checks' report."""
    responses = {ref: [Response(ref, rid, *answer, "f.xlsx", "Review", "F2") for rid, answer in by.items()]
                 for ref, by in scores.items()}
    reviewers = sorted({rid for by in scores.values() for rid in by})
    issues = issues if issues is not None else [
        {"reviewer_id": rid, "refs": [ref for ref, by in scores.items() if rid in by]} for rid in reviewers]
    issues = [IssueRecord(f"issue-{i['reviewer_id']}", i["reviewer_id"], "2026-01-01", "f.xlsx", "", tuple(i["refs"]))
              for i in issues]
    returned = reviewers if returned is None else returned
    progress = [ReviewerProgress(i.reviewer_id, "", len(i.refs), 0,
                                 "2026-01-01" if i.reviewer_id in returned else "", "") for i in issues]
    consolidation = Consolidation(framework, responses, [], progress)
    consolidated = {c.ref: consolidation.consolidated(c.ref) for c in framework.characteristics}
    decisions, _ = decide(framework.scale, consolidated, PreviousEdits(moderation or {}))
    return check(consolidation, decisions, issues)


def clean(framework):
    """Every characteristic scored Light green by R01 and R02 with words; no finding needs a look."""
    return {c.ref: {"R01": ("Light green",) + FULL, "R02": ("Light green",) + FULL} for c in framework.characteristics}


def kinds(report, open_only=True):
    return sorted({f.kind for f in report.findings if f.severity != "info" and not (open_only and f.resolved)})


def test_a_clean_assessment_raises_nothing_to_look_at_and_one_change_raises_exactly_that(framework):
    report = build(framework, clean(framework))
    assert report.must_look == []
    assert kinds(report) == []
    assert report.alpha.value is None and "every score given is the same" in report.alpha.reason
    scores = clean(framework)
    scores["R001"]["R02"] = ("Yellow", "Partly.", "None")
    changed = build(framework, scores)
    assert [(f.kind, f.ref, f.reviewers) for f in changed.must_look] == [("LOW_SCORE_NO_GAPS", "R001", ("R02",))]
    assert changed.alpha.value is not None


def test_disagreement_is_measured_in_scale_steps_with_a_threshold(framework):
    scores = clean(framework)
    scores["CI001"] = {"R01": ("Dark green",) + FULL, "R02": ("Amber",) + FULL}
    scores["CI002"] = {"R01": ("Light green",) + FULL, "R02": ("Yellow",) + FULL}
    report = build(framework, scores)
    [finding] = [f for f in report.findings if f.kind == "DISAGREEMENT"]
    assert (finding.ref, finding.severity, finding.finding) == ("CI001", "high", "Reviewers are 3 scale steps apart")
    assert finding.evidence == "R01 Dark green, R02 Amber" and finding.reviewers == ("R01", "R02")


def test_grey_against_a_score_is_its_own_finding(framework):
    scores = clean(framework)
    scores["L001"] = {"R01": ("Grey", "Decided by members.", ""), "R02": ("Light green",) + FULL}
    report = build(framework, scores)
    assert kinds(report) == ["GREY_VS_SCORE"]


SAID = {"TOP_SCORE_WITH_GAPS": ("Dark green although the reviewer lists gaps",
                                 "R03 Dark green; gaps: 'Scrutiny of partnerships is weak.'"),
        "LOW_SCORE_NO_COMMENTARY": ("Amber with no commentary to justify it", "R03 Amber; commentary blank"),
        "LOW_SCORE_NO_GAPS": ("Yellow with no gaps or areas to address given", "R03 Yellow; gaps: 'n/a'"),
        "GREY_NO_REASON": ("Grey (not scored) with no reason given", "R03 Grey; commentary blank")}


@pytest.mark.parametrize("answer, expected", [
    (("Dark green", "Strong.", "Scrutiny of partnerships is weak."), "TOP_SCORE_WITH_GAPS"),
    (("Dark green", "Strong.", "None"), None),
    (("Light green", "Good.", "Scrutiny of partnerships is weak."), None),  # gaps below the top are expected
    (("Amber", "", "Write the plan."), "LOW_SCORE_NO_COMMENTARY"),
    (("Amber", "Weak controls.", "Fix the audit actions."), None),
    (("Yellow", "Partly there.", "  n/a "), "LOW_SCORE_NO_GAPS"),
    (("Yellow", "Partly there.", "Embed the plan."), None),
    (("Light green", "", "  n/a "), None),  # above the threshold, neither is needed
    (("Grey", "", ""), "GREY_NO_REASON"),
    (("Grey", "Outside officers' control.", ""), None),
])
def test_scores_against_words(framework, answer, expected):
    scores = clean(framework)
    scores["G001"] = {"R03": answer}
    report = build(framework, scores)
    assert kinds(report) == ([expected] if expected else [])
    if expected:
        [finding] = [f for f in report.findings if f.kind == expected]
        assert (finding.ref, finding.theme, finding.reviewers, finding.severity) == (
            "G001", "Governance", ("R03",), "medium")
        assert (finding.finding, finding.evidence) == SAID[expected]


def test_lists_gaps():
    assert not lists_gaps(" None. ") and not lists_gaps("") and not lists_gaps("N/A")
    assert lists_gaps("No plan for succession")


def test_incomplete_returns(framework):
    scores = clean(framework)
    scores["CI001"] = {"R01": ("", "", ""), "R02": ("", "", "")}
    scores["CI002"] = {"R01": ("Amber", "", "Write it."), "R02": ("Amber", "Weak.", "Write it.")}
    issues = [{"reviewer_id": "R09", "refs": ["G001"]},  # issued, then removed from 'Reviewers', never returned
              {"reviewer_id": "R01", "refs": [c.ref for c in framework.characteristics]},
              {"reviewer_id": "R02", "refs": [c.ref for c in framework.characteristics]},
              {"reviewer_id": "R03", "refs": ["SD001", "R001"]}]
    report = build(framework, scores, issues=issues, returned=["R01", "R02"])
    found = [(f.kind, f.severity, f.ref, f.theme, f.finding, f.reviewers, f.evidence) for f in report.findings
             if f.severity != "info"]
    assert found == [
        ("NO_USABLE_SCORE", "high", "CI001", "Continuous improvement", "No usable score: the heat map will show a blank",
         (), "R01 blank, R02 blank"),
        ("RETURN_OUTSTANDING", "medium", "", "", "No return yet from R03", ("R03",),
         "2 characteristics issued: SD001, R001"),  # about no characteristic: before those that are
        ("LOW_SCORE_NO_COMMENTARY", "medium", "CI002", "Continuous improvement", "Amber with no commentary to justify it",
         ("R01",), "R01 Amber; commentary blank"),
        ("NOT_ANSWERED", "low", "CI001", "Continuous improvement", "Issued to R01 but not answered", ("R01",),
         "score left blank or row missing in their current return"),
        ("NOT_ANSWERED", "low", "CI001", "Continuous improvement", "Issued to R02 but not answered", ("R02",),
         "score left blank or row missing in their current return")]
    agreement = report.findings[-len(framework.themes) - 1]
    assert (agreement.kind, agreement.ref, agreement.theme, agreement.finding) == (
        "AGREEMENT", "", "All themes", "Agreement between reviewers (Krippendorff's alpha, ordinal)")
    assert [f.theme for f in report.findings if f.kind == "AGREEMENT"] == ["All themes"] + [
        t.name for t in framework.themes]


def test_a_characteristic_nobody_answered_says_so(framework):
    report = build(framework, {c.ref: {"R01": ("Light green",) + FULL} for c in framework.characteristics[1:]})
    [unusable] = [f for f in report.findings if f.kind == "NO_USABLE_SCORE"]
    assert (unusable.ref, unusable.evidence) == ("CI001", "no responses")


def test_a_harsh_reviewer_is_found_on_shared_characteristics(framework):
    scores = {}
    for i, c in enumerate(framework.characteristics):
        base = ["Light green", "Dark green"][i % 2]
        harsh = {"Light green": "Yellow", "Dark green": "Light green"}[base]
        scores[c.ref] = {"R01": (base,) + FULL, "R02": (base,) + FULL, "R03": (harsh,) + FULL}
    report = build(framework, scores)
    [finding] = [f for f in report.findings if f.kind in ("REVIEWER_SEVERE", "REVIEWER_LENIENT")]
    assert (finding.kind, finding.severity, finding.reviewers) == ("REVIEWER_SEVERE", "medium", ("R03",))
    assert finding.finding == "R03 scores 1.0 scale steps below colleagues"
    assert "on 6 characteristics shared with colleagues (R01, R02)" in finding.evidence


def test_a_lenient_reviewer_is_found_on_themes_when_nothing_is_shared(tmp_path):
    from conftest import REVIEWERS, SCALE, make_framework

    rows = [[f"CI{i:03d}", "Continuous improvement", f"Item {i}", "", "", "", ""] for i in range(1, 13)]
    framework = load_framework(make_framework(tmp_path / "f.xlsx", SCALE, rows, REVIEWERS))
    refs = [c.ref for c in framework.characteristics]
    scores = {ref: {"R01": ("Yellow",) + FULL} for ref in refs[:4]}
    scores |= {ref: {"R02": ("Yellow",) + FULL} for ref in refs[4:7]}
    scores |= {ref: {"R03": ("Dark green", "Strong.", "None")} for ref in refs[7:]}
    report = build(framework, scores)
    lenient = [f for f in report.findings if f.kind == "REVIEWER_LENIENT"]
    assert [(f.reviewers, f.finding) for f in lenient] == [(("R03",), "R03 scores 2.0 scale steps above colleagues")]
    assert "compared with colleagues' on the same themes (Continuous improvement), not the same characteristics" in lenient[0].evidence
    even = {ref: {rid: ("Yellow",) + FULL} for ref, by in scores.items() for rid in by}
    assert not [f for f in build(framework, even).findings if f.kind.startswith("REVIEWER_") and f.severity != "info"]


def test_too_little_data_is_said_not_flagged(framework):
    scores = {"CI001": {"R01": ("Dark green",) + FULL}, "L001": {"R02": ("Red", "Poor.", "Everything.")}}
    report = build(framework, scores)
    little = [f for f in report.findings if f.kind == "REVIEWER_TOO_LITTLE_DATA"]
    assert {f.reviewers for f in little} == {("R01",), ("R02",)}
    assert all(f.severity == "info" for f in little)
    assert "need 3" in little[0].evidence


def test_moderation_resolves_findings_and_a_moderated_score_needs_a_note(framework):
    scores = clean(framework)
    scores["CI001"] = {"R01": ("Dark green",) + FULL, "R02": ("Amber",) + FULL}
    scores["CI002"] = {"R01": ("Amber", "", "gaps"), "R02": ("Amber", "Weak.", "gaps")}
    moderation = {"CI001": Moderation("Light green", "Agreed at moderation panel"),
                  "CI002": Moderation("Yellow", "")}
    report = build(framework, scores, moderation)
    disagreement = next(f for f in report.findings if f.kind == "DISAGREEMENT")
    assert disagreement.resolved == "moderated to Light green: Agreed at moderation panel"
    assert not disagreement.must_look
    assert kinds(report) == ["LOW_SCORE_NO_COMMENTARY", "MODERATED_WITHOUT_NOTE"]
    assert report.findings[-1].resolved  # resolved findings come last, kept


def test_before_anything_is_issued_nothing_counts_as_missing_and_after_it_everything_does(framework):
    report = build(framework, {}, issues=[])
    assert kinds(report) == []
    refs = [c.ref for c in framework.characteristics]
    issued = build(framework, {}, issues=[{"reviewer_id": "R01", "refs": refs[:3]},
                                          {"reviewer_id": "R02", "refs": refs[3:]}], returned=[])
    found = sorted((f.kind, f.ref, f.reviewers) for f in issued.findings if f.severity != "info")
    assert found == sorted([("NO_USABLE_SCORE", ref, ()) for ref in refs]
                           + [("RETURN_OUTSTANDING", "", ("R01",)), ("RETURN_OUTSTANDING", "", ("R02",))])


@pytest.mark.parametrize("gaps, quoted", [
    ("Scrutiny of\n  partnerships   is weak.", "'Scrutiny of partnerships is weak.'"),  # spacing flattened
    ("x" * 160, "'" + "x" * 160 + "'"),  # up to 160 characters, whole
    ("x" * 161, "'" + "x" * 160 + "…'"),  # beyond, cut with an ellipsis
])
def test_the_evidence_quotes_the_reviewer_s_gaps_flattened_and_cut_at_160_characters(framework, gaps, quoted):
    scores = clean(framework)
    scores["G001"] = {"R03": ("Dark green", "Strong.", gaps)}
    [finding] = [f for f in build(framework, scores).findings if f.kind == "TOP_SCORE_WITH_GAPS"]
    assert (finding.finding, finding.evidence) == ("Dark green although the reviewer lists gaps",
                                                   f"R03 Dark green; gaps: {quoted}")


def test_the_evidence_of_a_low_score_says_what_was_given(framework):
    scores = clean(framework)
    scores["G001"] = {"R03": ("Amber", " ", "n/a")}
    scores["R001"] = {"R03": ("Red", "Poor.", "")}
    found = {(f.kind, f.ref): (f.finding, f.evidence) for f in build(framework, scores).findings
             if f.kind.startswith("LOW_SCORE")}
    assert found == {
        ("LOW_SCORE_NO_COMMENTARY", "G001"): ("Amber with no commentary to justify it", "R03 Amber; commentary blank"),
        ("LOW_SCORE_NO_GAPS", "G001"): ("Amber with no gaps or areas to address given", "R03 Amber; gaps: 'n/a'"),
        ("LOW_SCORE_NO_GAPS", "R001"): ("Red with no gaps or areas to address given", "R03 Red; gaps: blank")}


def test_a_moderated_score_without_a_note_stays_open_even_under_a_typed_final_score(framework):
    scores = clean(framework)
    scores["CI001"] = {"R01": ("", "", ""), "R02": ("", "", "")}
    report = build(framework, scores, {"CI001": Moderation("Amber", "", "Red")})
    [without] = [f for f in report.findings if f.kind == "MODERATED_WITHOUT_NOTE"]
    assert (without.evidence, without.resolved, without.must_look) == ("consolidated blank, moderated Amber", "", True)
    unusable = [f for f in report.findings if f.kind == "NO_USABLE_SCORE"]
    assert unusable == []  # the typed Final score is a usable score
