"""The change trail: every change seen between report runs to what people decide on the report.

Each `bva report` compares the fields people change (a characteristic's moderated score, moderation
note and final score; each action's inputs) with the values seen by the run before, and records in
the assessment's records the ones that differ. The trail is read back from the records, so it
survives a deleted report or history folder. What the first run saw is the starting point, not a
change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from bva_excel.model.decisions import Moderation
from bva_excel.model.recorded import SeenValue
from bva_excel.model.text import cell_text

SCORE_FIELDS = ["Moderated score", "Moderation note", "Final score"]
Cell = tuple[str, str, str]  # (kind, key, field): a field people change, of a characteristic or an action
RETURNED_FIELDS = {"Status", "Progress update", "Target date"}  # what a service area's progress return can set
CHARACTERISTIC = "characteristic"
ACTION = "action"


@dataclass(frozen=True)
class Change:
    """One change seen: when a report run first saw it, to what, and where it came from."""

    seen_at: str
    kind: str  # 'characteristic' or 'action'
    key: str  # the ref or the action ID
    field: str
    before: str
    after: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def value_text(value: object) -> str:
    """A field's value as the trail keeps it: dates as ISO 8601 dates, numbers without a stray '.0'."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    return cell_text(value).strip()


def current_values(decisions: dict[str, Any], actions: dict[str, dict[str, Any]], typed_source: str,
                   returned: dict[str, str] | None = None) -> dict[Cell, tuple[str, str]]:
    """(kind, key, field) -> (value, where it came from) for every field the trail follows.

    `decisions` are the report's ScoreDecisions by ref; `actions` the action plan's inputs as the report
    shows them (action ID -> header -> value); `typed_source` says where a typed value was found (the
    report file, when it was saved and by whom); `returned` names, by action ID, the progress return an
    action's latest update came from: it is credited with the fields a progress return can give (status,
    progress update, a revised target date), never with what only a person types on the plan.
    """
    values: dict[Cell, tuple[str, str]] = {}
    for ref, decision in decisions.items():
        moderated_from = f"from {decision.moderated_by}" if decision.moderated_by else typed_source
        if decision.final_typed:
            final_from = typed_source
        elif decision.moderated and decision.final == decision.moderated:
            final_from = "the moderated score"
        else:
            final_from = "the reviewers' scores (consolidated)"
        values[(CHARACTERISTIC, ref, "Moderated score")] = (decision.moderated.strip(), moderated_from)
        values[(CHARACTERISTIC, ref, "Moderation note")] = (decision.note.strip(), moderated_from)
        values[(CHARACTERISTIC, ref, "Final score")] = (decision.final.strip(), final_from)
    for action_id, inputs in actions.items():
        for field, value in inputs.items():
            source = (returned or {}).get(action_id, typed_source) if field in RETURNED_FIELDS else typed_source
            values[(ACTION, action_id, field)] = (value_text(value), source)
    return values


def latest(seen: list[SeenValue]) -> dict[Cell, str]:
    """(kind, key, field) -> the value last recorded."""
    return {(v.kind, v.key, v.field): v.value for v in seen}


def new_values(seen: list[SeenValue], current: dict[Cell, tuple[str, str]], seen_at: str) -> list[SeenValue]:
    """The values to record for this run: those that differ from the last recorded (never recorded
    counts as blank). A field no longer present (an action row deleted) is recorded as blank."""
    before = latest(seen)
    rows = []
    for key in list(current) + [k for k in before if k not in current]:
        value, source = current.get(key, ("", "no longer on the report"))
        if value != before.get(key, ""):
            rows.append(SeenValue(seen_at, key[0], key[1], key[2], value, source))
    return rows


def changes(seen: list[SeenValue]) -> list[Change]:
    """Every change in the records, oldest first. Values recorded by the first run are where the trail
    starts, not changes; a field first filled in later is a change from blank."""
    if not seen:
        return []
    first_run = seen[0].seen_at
    last: dict[Cell, str] = {}
    found = []
    for value in seen:
        key = (value.kind, value.key, value.field)
        if value.seen_at != first_run:
            found.append(Change(value.seen_at, value.kind, value.key, value.field, last.get(key, ""), value.value,
                                value.source))
        last[key] = value.value
    return found


def restore_missing(edits: Any, seen: list[SeenValue]) -> tuple[list[str], list[str]]:
    """Put back into `edits` what people had typed for characteristics and actions whose rows are no longer
    on the report (a row deleted, or the whole report missing), as the last report run saw it.

    Only what was typed is put back: a moderated score or note typed in the report (not one from a
    moderation return, which the records still hold), a Final score typed over the formula, and an
    action's inputs. Returns the refs and the action IDs put back.
    """
    last: dict[Cell, SeenValue] = {}
    for value in seen:
        last[(value.kind, value.key, value.field)] = value
    typed: dict[str, dict[str, str]] = {}
    inputs: dict[str, dict[str, Any]] = {}
    for (kind, key, name), value in last.items():
        if not value.value:
            continue
        if kind == CHARACTERISTIC and key not in edits.refs_present and key not in edits.moderation:
            if value.source.startswith("typed in"):
                typed.setdefault(key, {})[name] = value.value
        elif kind == ACTION and key not in edits.actions_present and key not in edits.actions:
            inputs.setdefault(key, {})[name] = _as_typed(name, value.value)
    for ref, fields in typed.items():
        edits.moderation[ref] = Moderation(fields.get("Moderated score", ""), fields.get("Moderation note", ""),
                                           fields.get("Final score", ""))
    for action_id, fields in inputs.items():
        edits.actions[action_id] = fields
    return sorted(typed), sorted(inputs)


def _as_typed(field: str, value: str) -> object:
    """A kept value as a cell would hold it again: an ISO date back to a date."""
    if field.endswith("date"):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value
