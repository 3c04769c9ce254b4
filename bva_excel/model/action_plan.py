"""The action plan: a row for every characteristic scored at or below the threshold or with gaps listed,
and every further action people added under a characteristic.

Action IDs are stable (ACT-<ref> for the first, ACT-<ref>-2 and on for more) so that what service areas
type against an action is kept when the report is written again, even if the characteristic is no
longer flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bva_excel.errors import Code, Problem, problem
from bva_excel.layout import ACTION_HEADERS, ACTION_SHEET
from bva_excel.model.consolidation import lists_gaps
from bva_excel.model.decisions import PreviousEdits, ref_of_action
from bva_excel.model.framework import Framework, Rating, area_key
from bva_excel.model.kinds import ActionStatus
from bva_excel.model.recorded import Response
from bva_excel.model.text import a1, suggest

STATUSES = list(ActionStatus)
DONE = (ActionStatus.COMPLETE, ActionStatus.CLOSED)  # an action in either status is finished
NOT_FLAGGED = "No longer flagged by the scores; kept because actions were recorded against it."
NO_CHARACTERISTIC = ("Under no characteristic (typed above the first one); type its characteristic's Ref in "
                     "'Ref' so that it belongs to one.")


# What a cell can hold as read (calamine, openpyxl) or as a service area returns it: text, a number, a date.
CellValue = Any


@dataclass
class ActionInputs:
    """What people type on an action's row of the plan, or a service area returns for it: one field for each of
    the plan's input columns, None where nothing is given."""

    action: CellValue = None
    owner: CellValue = None
    service_area: CellValue = None
    target_date: CellValue = None
    status: CellValue = None
    progress_update: CellValue = None

    # The plan's column for each field (ACTION_INPUT_HEADERS, in order).
    HEADERS: ClassVar[dict[str, str]] = {"Action": "action", "Owner": "owner", "Service area": "service_area", "Target date": "target_date",
               "Status": "status", "Progress update": "progress_update"}

    @classmethod
    def from_columns(cls, values: Mapping[str, CellValue]) -> ActionInputs:
        """From values by the plan's column headers (as read from a report); other headers are not inputs."""
        return cls(**{field: values[header] for header, field in cls.HEADERS.items() if header in values})

    def column(self, header: str) -> CellValue:
        """The value under one of the plan's input columns ('Target date'), None if not given."""
        return getattr(self, self.HEADERS[header])

    def columns(self) -> dict[str, CellValue]:
        """The values given, by the plan's column headers, in the plan's order."""
        return {header: value for header in self.HEADERS if (value := self.column(header)) is not None}


@dataclass
class ActionRow:
    action_id: str
    ref: str
    theme: str
    characteristic: str
    score: str
    gap: str
    inputs: ActionInputs = field(default_factory=ActionInputs)  # typed by people, or returned by a service area
    updated: str = ""  # when the latest progress update was received (ISO), '' if none came by workbook
    source: str = ""  # where the latest progress update came from

    def text(self, header: str) -> str:
        """An input as a reader sees it: a date as ISO 8601, a whole number without '.0'."""
        value = self.inputs.column(header)
        if isinstance(value, dt.datetime):
            return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return "" if value is None else str(value).strip()

    @property
    def status(self) -> ActionStatus | str:
        """The plan's status typed (in any case), else the text typed as it is."""
        typed = self.text("Status")
        return next((s for s in STATUSES if s.casefold() == typed.casefold()), typed)

    @property
    def done(self) -> bool:
        return self.status in DONE

    def target(self) -> dt.date | None:
        """The target date, if one is given as a date (or as text that reads as one)."""
        return as_date(self.inputs.target_date)


def as_date(value: object) -> dt.date | None:
    """A date from a date cell, or from text typed as 2027-03-31 or 31/03/2027; None otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def action_id(ref: str) -> str:
    return f"ACT-{ref}"


def gaps_text(responses: list[Response]) -> str:
    """The gaps reviewers listed, one line each; words that mean "no gap" are not a gap."""
    return "\n".join(f"{r.reviewer_id}: {r.gaps}" for r in responses if lists_gaps(r.gaps))


def plan_actions(framework: Framework, final: dict[str, str], responses: dict[str, list[Response]],
                 threshold: Rating, previous: dict[str, dict[str, Any]], refs: dict[str, str] | None = None) -> list[ActionRow]:
    """Flagged characteristics in framework order, each followed by the further actions people added under
    it (in the order they typed them); a characteristic no longer flagged keeps its typed actions, marked so.

    `previous`: action ID -> what was typed, in sheet order; `refs`: action ID -> its characteristic's ref
    (read from the sheet; otherwise taken from the ID).
    """
    refs = refs or {}
    typed_by_ref: dict[str, list[str]] = {}
    for typed_id in previous:
        ref = refs[typed_id] if typed_id in refs else ref_of_action(typed_id)
        typed_by_ref.setdefault(ref or "", []).append(typed_id)
    rows = []
    for characteristic in framework.characteristics:
        ref = characteristic.ref
        rating = framework.scale.find(final.get(ref, ""))
        low = (rating is not None and rating.value is not None and threshold.value is not None
               and rating.value <= threshold.value)
        gaps = gaps_text(responses.get(ref, []))
        typed = typed_by_ref.pop(ref, [])
        flagged = bool(low or gaps)
        if not (flagged or typed):
            continue
        scored = rating.name if rating is not None else "blank"
        gap = (gaps or f"Scored {scored}; no gaps were listed by the reviewers.") if flagged else NOT_FLAGGED
        ids = [action_id(ref)] + typed if flagged and action_id(ref) not in typed else typed
        for one in ids:
            rows.append(ActionRow(one, ref, characteristic.theme.name, characteristic.text, final.get(ref, ""), gap,
                                  ActionInputs.from_columns(previous.get(one, {}))))
    for ref, typed in typed_by_ref.items():  # a characteristic taken out of the framework: its actions stay
        gap = (f"{ref} is no longer in the framework; kept because actions were recorded against it." if ref
               else NO_CHARACTERISTIC)
        rows += [ActionRow(one, ref, "", "", "", gap, ActionInputs.from_columns(previous[one])) for one in typed]
    return rows


def plan_of(gathered: Any) -> list[ActionRow]:  # an AssessmentState (which holds the plan: typed loosely)
    """The action plan as the report would write it now, from what `report.load_state` read."""
    framework = gathered.framework
    final = {ref: decision.final for ref, decision in gathered.decisions.items()}
    return plan_actions(framework, final, gathered.consolidation.responses,
                        framework.scale.action_threshold(gathered.threshold), gathered.edits.actions,
                        gathered.edits.action_refs)


def plan_warnings(framework: Framework, rows: list[ActionRow], edits: PreviousEdits,
                  file: str = "report.xlsx") -> list[Problem]:
    """What the report and bva check say about the plan as typed, each at its row: an action under no
    characteristic, a status that is none of the plan's, an ID typed on a second row (given a new one), a
    service area not on the sheet."""
    found: list[Problem] = []
    for row in rows:
        excel_row = edits.action_rows.get(row.action_id)
        if not row.ref and excel_row:
            found.append(problem(Code.ACTION_NO_CHARACTERISTIC, file, ACTION_SHEET, a1(excel_row - 1, 1),
                                 action=row.action_id, row=excel_row))
        if row.status and row.status not in STATUSES:
            cell = a1(excel_row - 1, ACTION_HEADERS.index("Status")) if excel_row else ""
            found.append(problem(Code.ACTION_STATUS_UNKNOWN, file, ACTION_SHEET, cell, value=row.status,
                                 action=row.action_id, hint=suggest(row.status, STATUSES),
                                 statuses=", ".join(STATUSES)))
    given = {number: new for number, _, new in edits.assigned}
    for number, typed, first in edits.reused:
        found.append(problem(Code.ACTION_ID_REUSED, file, ACTION_SHEET, a1(number - 1, 0), typed=typed, first=first,
                             given=given.get(number, "")))
    found += [problem(Code.ACTION_SERVICE_AREA_NOT_LISTED, p.file, p.sheet, p.cell, **p.fields)
              for p in action_problems(framework, rows, edits.action_rows, False, file)
              if p.code == "ACTION_SERVICE_AREA_UNKNOWN"]
    return found


def as_listed(framework: Framework, rows: list[ActionRow]) -> list[str]:
    """Write each action's service area (in place) as the 'Service areas' sheet spells it when it is that one
    but for case and spacing ('human  resources': 'Human Resources'), so that other systems see one name.
    Returns the names typed that are not on the sheet, one per action naming one."""
    unlisted = []
    for row in rows:
        typed = row.text("Service area")
        area = framework.service_area(typed)
        if area is not None:
            row.inputs.service_area = area.name
        elif typed and framework.service_areas is not None:
            unlisted.append(typed)
    return unlisted


def missing_details(rows: list[ActionRow]) -> list[tuple[ActionRow, list[str]]]:
    """Actions still to be finished that lack an owner, a service area or a target date, and which."""
    found = []
    for row in rows:
        if row.done:
            continue
        missing = [label for header, label in (("Owner", "owner"), ("Service area", "service area"),
                                               ("Target date", "target date")) if not row.text(header)]
        if missing:
            found.append((row, missing))
    return found


def action_problems(framework: Framework, rows: list[ActionRow], typed_rows: dict[str, int], signed_off: bool,
                    file: str = "report.xlsx") -> list[Problem]:
    """What is wrong with the plan, each at its cell on 'Action plan' (`typed_rows`: action ID -> Excel row):
    a service area not on the 'Service areas' sheet (with "did you mean"); after sign-off, an action still to
    be finished with no owner, service area or target date."""
    found = []
    areas = [a.name for a in framework.service_areas or ()]
    area_col = ACTION_HEADERS.index("Service area")
    unknown: dict[str, list[ActionRow]] = {}  # one finding per service area, however many actions name it
    for row in rows:
        area = row.text("Service area")
        if framework.service_areas is not None and area and framework.service_area(area) is None:
            unknown.setdefault(area_key(area), []).append(row)
    for named in unknown.values():
        area = named[0].text("Service area")
        cells = ", ".join(a1(typed_rows[r.action_id] - 1, area_col) for r in named if typed_rows.get(r.action_id))
        ids = [r.action_id for r in named]
        found.append(problem(Code.ACTION_SERVICE_AREA_UNKNOWN, file, ACTION_SHEET, cells,
                             action=(f"action {ids[0]} is" if len(ids) == 1 else
                                     f"{len(ids)} actions ({', '.join(ids[:-1])} and {ids[-1]}) are"),
                             value=area, hint=suggest(area, areas), areas=", ".join(areas) or "none yet"))
    if signed_off:
        for row, missing in missing_details(rows):
            excel_row = typed_rows.get(row.action_id)
            found.append(problem(Code.ACTION_DETAILS_MISSING, file, ACTION_SHEET,
                                 a1(excel_row - 1, 0) if excel_row else "", action=row.action_id,
                                 ref=row.ref or "under no characteristic",
                                 missing=" or ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1
                                                     else missing)))
    return found
