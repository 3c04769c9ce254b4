"""The assessment as it stands, read once per command (`load_state`): the framework, the records, what people
typed into the report (and into its copies on other computers), decided and checked. Reading writes nothing;
the choices a command keeps for the assessment are kept by `keep_choices`."""

from __future__ import annotations

import datetime as dt

from bva_excel.app.collecting import without_cycle_collection
from bva_excel.app.elsewhere import fold_in_typed_elsewhere
from bva_excel.errors import Code, CommandLineError, Problem, problem
from bva_excel.excel.read.framework import load_framework
from bva_excel.excel.read.previous_report import (
    check_is_report,
    read_previous_edits,
)
from bva_excel.excel.read.report_file import ReportFile
from bva_excel.layout import (
    ACTION_SHEET,
    SCORES_FIXED,
    SCORES_SHEET,
)
from bva_excel.model.action_plan import ActionRow, plan_of, plan_warnings
from bva_excel.model.changes import Change, changes, restore_missing
from bva_excel.model.consistency import DEFAULT_SPREAD, check
from bva_excel.model.consolidation import consolidate
from bva_excel.model.decisions import PreviousEdits, decide
from bva_excel.model.framework import Framework
from bva_excel.model.kinds import IssueKind, ReturnStatus
from bva_excel.model.progress import apply_progress, source_of
from bva_excel.model.recorded import SeenValue
from bva_excel.model.state import AssessmentState
from bva_excel.model.text import column_letter, short_list, suggest
from bva_excel.store.folder import Assessment
from bva_excel.tracking import QUIET, Tracker


def _final_scores_not_on_scale(framework: Framework, decisions: dict, file: str) -> list[Problem]:
    """A Final score typed over the formula that is no rating: it stays as typed (nothing typed is replaced),
    and the spreadsheet, like the report, then counts the characteristic as not answered: said, by cell."""
    column = column_letter(SCORES_FIXED.index("Final score"))
    said = []
    for row, characteristic in enumerate(framework.characteristics, start=2):
        typed = decisions[characteristic.ref].final_typed.strip()
        if typed and framework.scale.find(typed) is None:
            said.append(problem(Code.FINAL_SCORE_INVALID, file, SCORES_SHEET, f"{column}{row}", ref=characteristic.ref,
                                value=typed, hint=suggest(typed, framework.scale.names),
                                ratings=", ".join(framework.scale.names)))
    return said


STATE_STEPS = 5  # what `load_state` tells its tracker: the steps a command's progress bar counts for it


def load_state(assessment: Assessment, tracker: Tracker = QUIET,
               leaving_out: frozenset[str] = frozenset(), report: ReportFile | None = None) -> AssessmentState:
    """Read the framework, every current return and what was typed into the last report; check them, with the
    action threshold and spread kept for the assessment (`keep_choices`). Writes nothing. `tracker` is told of
    each of STATE_STEPS steps as it is done; `leaving_out`: SHA-256s of returns to read the state without;
    `report`: the last report as the command reads it (else it is read here).
    """
    with without_cycle_collection():  # every answer held at once, none of it garbage
        return _load_state(assessment, tracker, leaving_out, report or ReportFile(assessment.report))


def _load_state(assessment: Assessment, tracker: Tracker, leaving_out: frozenset[str],
                report: ReportFile) -> AssessmentState:
    framework = load_framework(assessment.workbook)
    tracker.advance(f"read {assessment.workbook.name}")
    check_is_report(report, assessment.assessment_id)
    threshold_name, spread = _kept_choices(assessment, framework)
    edits = read_previous_edits(report)
    tracker.advance(f"read {assessment.report.name}")
    records = assessment.records
    seen = records.seen_values()
    copies, folded, typed_where = fold_in_typed_elsewhere(assessment, edits, seen)
    restored = _restore_missing(assessment, edits)
    _not_typed_by_a_person(edits, seen)
    issues = records.issues()
    returns = [r for r in records.returns() if r.sha256 not in leaving_out]  # (the state before those came in)
    responses = records.responses_by_return(r.return_id for r in returns if r.status == ReturnStatus.ACCEPTED)
    tracker.advance("read the records")
    consolidation = consolidate(framework, returns, responses, issues, records.preferences())
    consolidated = {c.ref: consolidation.consolidated(c.ref) for c in framework.characteristics}
    report_saved = report.modified.isoformat() if report.exists else ""
    decisions, warnings = decide(framework.scale, consolidated, edits, assessment.report.name,
                                 consolidation.moderations, report_saved)
    warnings += _final_scores_not_on_scale(framework, decisions, assessment.report.name)
    warnings += folded + restored + [problem(Code.RESPONSE_ORPHANED, r.file, r.sheet, r.cell, ref=r.ref, reviewer=r.reviewer_id)
                            for r in consolidation.orphans]
    tracker.advance("consolidated the answers")
    signoffs = records.signoffs()
    signoff = signoffs[-1] if signoffs else None
    consistency = check(consolidation, decisions, [i for i in issues if i.kind == IssueKind.REVIEW], spread, threshold_name,
                        signoff)
    tracker.advance("checked consistency")
    state = AssessmentState(framework, consolidation, decisions, warnings, edits, issues, consistency, signoff,
                            threshold_name, spread, records.return_notes(), copies, typed_where=typed_where)
    state.actions, said = _the_action_plan(assessment, state)
    state.warnings += said
    return state


def _the_action_plan(assessment: Assessment, state: AssessmentState) -> tuple[list[ActionRow], list[Problem]]:
    """The action plan as the report would write it now: what was typed, with the progress returned since; and
    what is said of it (an update that would reopen an action done, an action under no characteristic, ...)."""
    rows = plan_of(state)
    kept = apply_progress(rows, assessment.records.progress_updates(), state.edits.action_sources)
    said = [problem(Code.ACTION_NOT_REOPENED, assessment.report.name, "Action plan", action=row.action_id,
                    status=row.status, update=update.status, source=source_of(update)) for row, update in kept]
    return rows, said + plan_warnings(state.framework, rows, state.edits, assessment.report.name)


def _not_typed_by_a_person(edits: PreviousEdits, seen) -> None:
    """Leave out of `edits` a moderated score and note that bva itself wrote into the report from a moderation
    return (as the change trail shows), so that a different return chosen since (bva ingest --prefer) is not
    overruled by them as if a person had typed them later."""
    last: dict[tuple, SeenValue] = {}
    for value in seen:
        if value.kind == "characteristic" and value.field in ("Moderated score", "Moderation note"):
            last[(value.key, value.field)] = value
    for ref, moderation in list(edits.moderation.items()):
        score, note = last.get((ref, "Moderated score")), last.get((ref, "Moderation note"))
        written = (score is not None and score.source.startswith("from ")
                   and score.value.casefold() == moderation.moderated.strip().casefold()
                   and (note.value if note else "") == moderation.note.strip())
        if written:
            edits.moderation[ref] = type(moderation)("", "", moderation.final_override)


def _restore_missing(assessment: Assessment, edits: PreviousEdits) -> list[Problem]:
    """What people typed in rows no longer on the report (or in a report gone missing), kept from the change
    trail in the records; a warning for each sheet concerned."""
    written = assessment.records.setting("report_written")
    if not written:
        return []
    refs, actions = restore_missing(edits, assessment.records.seen_values())
    path = assessment.report
    if not path.exists():
        when = dt.datetime.fromtimestamp(float(written)).strftime("%d %b %Y %H:%M")
        what = "; ".join(part for part in [f"moderations of {short_list(refs)}" if refs else "",
                                           f"actions {short_list(actions)}" if actions else ""] if part)
        return [problem(Code.REPORT_MISSING, path, when=when, what=f" ({what})" if what else "")]
    warnings = []
    if refs:
        warnings.append(problem(Code.REPORT_ROWS_RESTORED, path, SCORES_SHEET, refs=short_list(refs)))
    if actions:
        warnings.append(problem(Code.ACTION_ROWS_RESTORED, path, ACTION_SHEET, actions=short_list(actions)))
    return warnings


def keep_choices(assessment: Assessment, threshold_name: str | None, spread: int | None,
                 report: ReportFile | None = None) -> None:
    """Keep the action threshold and spread given (if any) for the assessment, so that report, check and
    sign-off judge alike from now on; an unknown threshold is refused before anything is kept. Call it holding
    the assessment's lock."""
    if threshold_name is None and spread is None:
        return
    framework = load_framework(assessment.workbook)
    check_threshold(framework, threshold_name)
    # A report refused changes nothing, settings included.
    check_is_report(report or ReportFile(assessment.report), assessment.assessment_id)
    if threshold_name is not None:
        chosen = framework.scale.find(threshold_name)
        assert chosen is not None  # check_threshold refused any other
        assessment.records.keep_setting("action_threshold", chosen.name)
    if spread is not None:
        assessment.records.keep_setting("spread", str(spread))


def _kept_choices(assessment: Assessment, framework: Framework) -> tuple[str | None, int]:
    """The action threshold and spread to judge by: those kept, else the defaults."""
    records = assessment.records
    kept = records.setting("action_threshold")
    rating = framework.scale.find(kept) if kept else None
    return (rating.name if rating and rating.scored else None), int(records.setting("spread") or DEFAULT_SPREAD)


def check_threshold(framework: Framework, threshold_name: str | None) -> None:
    if threshold_name is None:
        return
    rating = framework.scale.find(threshold_name)
    if rating is None or not rating.scored:  # (a blank value too: it names no rating)
        raise CommandLineError(problem(Code.THRESHOLD_UNKNOWN, value=threshold_name,
                               hint=suggest(threshold_name, [r.name for r in framework.scale.scored]),
                               ratings=", ".join(r.name for r in framework.scale.scored)))


def change_trail(assessment: Assessment) -> list[Change]:
    """Every change the report runs have seen, oldest first (from the records)."""
    return changes(assessment.records.seen_values())


def saved_since_written(assessment: Assessment) -> bool:
    """Whether report.xlsx was saved (by a person) after bva last wrote it: changes in it not yet seen."""
    written = assessment.records.setting("report_written")
    path = assessment.report
    return written is not None and bool(written) and path.exists() and path.stat().st_mtime > float(written) + 1


