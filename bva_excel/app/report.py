"""report.xlsx: Summary, Scores, Heat map, Action plan, Responses and Returns.

The report is written whole to a temporary file and renamed over the old one, and what people typed
into the old one (moderated scores, notes, actions) is read first and written back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.app.collecting import without_cycle_collection
from bva_excel.app.state import STATE_STEPS, keep_choices, load_state
from bva_excel.errors import Code, Problem, problem
from bva_excel.excel.read.carried import (
    Carried,
    unplaced,
)
from bva_excel.excel.read.previous_report import (
    check_not_open,
    read_carried,
    saved_by,
    wording_edited,
)
from bva_excel.excel.read.report_file import ReportFile
from bva_excel.excel.write.report import REPORT_SHEET_STEPS, _write_workbook
from bva_excel.layout import (
    ACTION_SHEET,
    SCORES_SHEET,
)
from bva_excel.model.changes import Change, changes, current_values, new_values
from bva_excel.model.consistency import ConsistencyReport
from bva_excel.model.decisions import ScoreDecision
from bva_excel.model.state import AssessmentState
from bva_excel.store.files import keep_history
from bva_excel.store.folder import Assessment
from bva_excel.tracking import QUIET, Tracker


@dataclass
class ReportResult:
    path: Path
    warnings: list[Problem]
    decisions: dict[str, ScoreDecision]
    actions: int
    consistency: ConsistencyReport
    gathered: AssessmentState
    history: Path | None = None  # where the previous report was kept
    carried: Carried = field(default_factory=Carried)
    new_changes: list[Change] = field(default_factory=list)  # changes this run saw for the first time


REPORT_STEPS = STATE_STEPS + 2 + len(REPORT_SHEET_STEPS) + 1


def write_report(assessment: Assessment, threshold_name: str | None = None, spread: int | None = None,
                 tracker: Tracker = QUIET) -> ReportResult:
    """Consolidate everything ingested and write DIR/report.xlsx in one piece; `tracker` is told of each of
    REPORT_STEPS steps."""
    with assessment.locked("report"), without_cycle_collection():
        return _write_report(assessment, threshold_name, spread, tracker)


def _write_report(assessment: Assessment, threshold_name: str | None, spread: int | None,
                  tracker: Tracker) -> ReportResult:
    path = assessment.report
    check_not_open(path)
    for stale in path.parent.glob(f".{path.stem}-*{path.suffix}.tmp"):  # half-written by a report killed before
        stale.unlink(missing_ok=True)
    report = ReportFile(path)  # the last report, read once for all that follows
    keep_choices(assessment, threshold_name, spread, report)  # a threshold that is no rating: said before any bar
    tracker.start(REPORT_STEPS, "steps")
    gathered = load_state(assessment, tracker, report=report)  # refuses a report bva did not write
    carried = read_carried(report)  # refuses, before anything changes, a sheet it cannot carry
    tracker.advance("read what people added to the report")
    framework, decisions = gathered.framework, gathered.decisions
    carried.warnings += wording_edited(report, framework)
    actions = gathered.actions
    updates = assessment.records.progress_updates()
    now = dt.datetime.now().replace(microsecond=0)

    # The change trail: what differs from what the last run saw, recorded before the report is replaced.
    records = assessment.records
    seen = records.seen_values()
    when, who = saved_by(report) if report.exists else ("", "")
    typed_source = f"typed in {path.name} (saved {when}{f' by {who}' if who else ''})" if when else f"typed in {path.name}"
    shown = {row.action_id: row.inputs.columns() for row in actions}
    returned = {row.action_id: row.source for row in actions if row.source and not row.source.startswith("Typed in")}
    current = current_values(decisions, shown, typed_source, returned)
    for key, source in gathered.typed_where.items():  # typed on another computer, or in a copy of the report
        if key in current:
            current[key] = (current[key][0], source)
    found = new_values(seen, current, dt.datetime.now().isoformat(timespec="microseconds"))
    trail = changes(seen + found)
    new_changes = trail[len(changes(seen)):] if found else []  # the changes this run saw first
    # The change trail, the copy of the previous report and the new report: recorded and put in place as one.
    with records.together() as placed:
        if found:
            records.record_seen_values(found)
        records.keep_setting("seen_upto", str(records.last_seen_number()))  # what this computer has now seen
        history = keep_history(path, placed, report.content) if report.exists else None
        for copy in gathered.report_copies:  # folded into this report: kept whole in history/, then moved away
            keep_history(copy, placed)
        tracker.advance("kept the change trail")
        lost = _write_workbook(assessment, gathered, carried, actions, updates, trail, now, tracker, placed)
    for copy in gathered.report_copies:
        try:
            copy.unlink()
        except OSError:  # open in Excel on Windows: folded in again (alike) next time, and moved then
            pass
    tracker.advance(f"saved {path.name}")
    warnings = list(gathered.warnings) + carried.warnings
    plan_columns = carried.columns_of(ACTION_SHEET)
    action_rows = {row.action_id: index for index, row in enumerate(actions, start=1)}
    warnings += unplaced(carried.columns_of(SCORES_SHEET), {c.ref: 1 for c in framework.characteristics}, path.name)
    warnings += unplaced(plan_columns, action_rows, path.name)
    warnings += [problem(Code.REPORT_NOTE_NOT_PLACED, path, note.sheet, key=note.key, header=note.header,
                         text=note.text[:80]) for note in lost]
    return ReportResult(path, warnings, decisions, len(actions), gathered.consistency, gathered, history, carried,
                        new_changes)


