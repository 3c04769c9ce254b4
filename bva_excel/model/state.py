"""The assessment as it stands: everything the report, the checks and the other commands are made from, read
once from the folder by `app.state.load_state` and never written back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.errors import Problem
from bva_excel.model.action_plan import ActionRow
from bva_excel.model.consistency import DEFAULT_SPREAD, ConsistencyReport
from bva_excel.model.consolidation import Consolidation
from bva_excel.model.decisions import PreviousEdits, ScoreDecision
from bva_excel.model.framework import Framework
from bva_excel.model.recorded import IssueRecord, ReturnNote, SignOff


@dataclass
class AssessmentState:
    """Everything the report and the checks are made from, read once."""

    framework: Framework
    consolidation: Consolidation
    decisions: dict[str, ScoreDecision]
    warnings: list[Problem]
    edits: PreviousEdits
    issues: list[IssueRecord]
    consistency: ConsistencyReport
    signoff: SignOff | None = None  # the latest sign-off, if any
    threshold: str | None = None  # the action threshold judged by (None: the scale's middle)
    spread: int = DEFAULT_SPREAD  # the disagreement judged by
    notes: list[ReturnNote] = field(default_factory=list)  # typed in returns where bva reads nothing
    report_copies: list[Path] = field(default_factory=list)  # conflict copies of the report folded into `edits` (paths)
    actions: list[ActionRow] = field(default_factory=list)  # the action plan as the report would write it now (ActionRow)
    typed_where: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (kind, key, field) -> where a value typed elsewhere came from


