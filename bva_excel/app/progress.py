"""Progress on the action plan, collected from the service areas by workbook.

`bva generate DIR --progress` writes one protected workbook per service area with its open actions:
the characteristic, gap, action, owner, target date, current status and last update as context, and
three inputs, `Status` (a dropdown), `Progress update` and `Revised target date`. The workbooks carry
the same signed identity (kind "progress"), protection and staging as reviewers' own and come back
through `bva ingest`. Every update received is kept; the plan shows each action's latest, with its
date and source. An action left out of a return, or whose inputs were left blank, is not changed.
A return made on a workbook that a newer one replaced before it came back is kept but does not change
the plan, and an update does not reopen an action made Complete or Closed since its workbook was
issued; both are said.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.app.issue import (
    Drafts,
    finish_interrupted_generation,
    issue_workbooks,
    named_apart,
)
from bva_excel.app.state import STATE_STEPS, load_state
from bva_excel.errors import BvaError, Code, Problem, problem
from bva_excel.excel.write.progress import write_progress_workbook
from bva_excel.excel.write.service_areas import ensure_service_areas
from bva_excel.model.action_plan import (
    ActionRow,
    action_problems,
)
from bva_excel.model.identity import IssueIdentity
from bva_excel.model.kinds import IssueKind
from bva_excel.model.recorded import IssueRecord
from bva_excel.store.files import safe_file_name
from bva_excel.store.folder import Assessment, needs_report
from bva_excel.tracking import QUIET, Tracker

# Issuing the progress workbooks.

class ProgressRefused(BvaError):
    """A progress round refused, with nothing issued; `added`: the 'Service areas' sheet given to an older
    assessment.xlsx on the way (said all the same, as the workbook was changed)."""

    def __init__(self, problems: list[Problem], added: object = None):
        super().__init__(problems)
        self.added = added


@dataclass
class ProgressRound:
    files: dict[str, Path]  # service area -> workbook written to the outbox
    actions: dict[str, list[str]]  # service area -> action IDs sent
    unassigned: list[str]  # open actions with no service area: not sent
    done: int  # actions complete or closed: not sent
    added: object = None  # the 'Service areas' sheet added to an older assessment, if it was
    recovered: list[str] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # workbooks of an earlier round in the outbox, written over
    held: list[Problem] = field(default_factory=list)  # actions for a service area not listed: not sent, and why
    held_actions: list[str] = field(default_factory=list)
    drafts: Drafts | None = None  # the draft emails written, with --emails


def generate_progress(assessment: Assessment, deadline: dt.date | None = None, pmo: str = "the PMO",
                      tracker: Tracker = QUIET, emails: bool = False) -> ProgressRound:
    """One progress workbook per service area with open actions. An open action whose service area is not on the
    'Service areas' sheet is held back, and said (`held`); the other service areas get their workbooks. Refused,
    with nothing written, while an action ID holds a comma, or when every open action is held back."""
    needs_report(assessment, "generate --progress")
    with assessment.locked("generate --progress"):
        recovered = finish_interrupted_generation(assessment)
        added = ensure_service_areas(assessment)
        tracker.start(STATE_STEPS, "steps")
        gathered = load_state(assessment, tracker=tracker)
        framework = gathered.framework
        rows = gathered.actions
        open_rows = [r for r in rows if not r.done]
        held = action_problems(framework, open_rows, gathered.edits.action_rows, False, assessment.report.name)
        commas = [problem(Code.ACTION_ID_COMMA, assessment.report.name, "Action plan", action=r.action_id)
                  for r in open_rows if "," in r.action_id]
        by_area: dict[str, list[ActionRow]] = {}
        for row in open_rows:
            area = framework.service_area(row.text("Service area")) if row.text("Service area") else None
            if area is not None:
                by_area.setdefault(area.name, []).append(row)
        if commas or (held and not by_area):
            raise ProgressRefused(commas + held, added)
        if not by_area:
            raise BvaError(problem(Code.NO_PROGRESS_TO_ASK, assessment.report.name, "Action plan"))
        secret, password = assessment.secret(), assessment.records.sheet_password()
        issued_at = dt.datetime.now().replace(microsecond=0).isoformat()
        planned = []
        areas = [a for a in framework.service_areas or () if a.name in by_area]
        for area in areas:
            mine = by_area[area.name]
            ids = tuple(r.action_id for r in mine)
            identity = IssueIdentity(assessment.assessment_id, area.name, secrets.token_hex(6), issued_at, ids,
                                     IssueKind.PROGRESS)
            name = safe_file_name(f"BV progress {area.name}", ".xlsx")
            texts = {r.action_id: {"Characteristic": r.characteristic, "Action": r.text("Action")} for r in mine}
            record = IssueRecord(identity.issue_id, area.name, issued_at, name,
                                 deadline.isoformat() if deadline else "", ids, texts, IssueKind.PROGRESS)

            def write(path, area=area, mine=mine, identity=identity):
                write_progress_workbook(path, area, mine, identity, secret, assessment.title, deadline, pmo, password)
            planned.append((record, write))
        planned = named_apart(assessment, planned, {record.issue_id: f"BV progress {record.reviewer_id}"
                                                    for record, _ in planned})
        earlier = [record.file for record, _ in planned if (assessment.outbox / record.file).exists()]
        drafts = Drafts(framework, assessment.title, pmo) if emails else None
        placed, refused = issue_workbooks(assessment, planned, tracker, drafts=drafts)
        sent = {r.action_id for mine in by_area.values() for r in mine}
        files = {record.reviewer_id: placed[record.issue_id] for record, _ in planned if record.issue_id in placed}
        return ProgressRound(files, {a.name: [r.action_id for r in by_area[a.name]] for a in areas},
                             [r.action_id for r in open_rows if not r.text("Service area")],
                             len(rows) - len(open_rows), added, recovered, refused,
                             [name for name in earlier if any(path.name == name for path in files.values())], held,
                             [r.action_id for r in open_rows if r.text("Service area") and r.action_id not in sent],
                             drafts)

