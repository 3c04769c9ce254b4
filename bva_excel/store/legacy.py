"""Records kept by bva-excel 0.1 as JSON files in `DIR/.bva/`, moved into the database once.

The JSON files are read whole and checked before anything is written; the database is built under a
temporary name and renamed; only then are the JSON files moved into `.bva/json-backup/`, kept.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from bva_excel.errors import AssessmentError, Code, Problem, problem
from bva_excel.model.kinds import ReturnStatus
from bva_excel.model.recorded import IssueRecord, Response, ReturnRecord
from bva_excel.store.records import AssessmentMeta, Records

LEGACY_META = "assessment.json"
LEGACY_FILES = (LEGACY_META, "issued.json", "returns.json")
BACKUP = "json-backup"


def _read(path: Path, default):
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise AssessmentError(problem(Code.RECORDS_DAMAGED, path, reason=f"{path.name} is damaged: {exc}",
                                      folder=str(path.parent.parent))) from None


def migrate_json_records(records_dir: Path, database: Path) -> Problem:
    """Build `database` from the JSON records in `records_dir`; returns the note to show the user."""
    meta_json = _read(records_dir / LEGACY_META, {})
    issued = _read(records_dir / "issued.json", [])
    ledger = _read(records_dir / "returns.json", [])
    try:
        meta = AssessmentMeta(meta_json["assessment_id"], meta_json.get("title", ""), meta_json.get("created", ""),
                              meta_json.get("tool_version", "0.1.0"), meta_json.get("demo") is True)
        issues = [IssueRecord(i["issue_id"], i["reviewer_id"], i["issued_at"], i.get("file", ""),
                              i.get("deadline", ""), tuple(i["refs"]), i.get("texts", {})) for i in issued]
        issue_ids = {i.issue_id for i in issues}
        returns = [(ReturnRecord(e["sha256"], e["name"], e.get("source", ""), e.get("received", ""),
                                 e.get("modified", ""), ReturnStatus(e["status"]), e.get("reviewer_id", ""),
                                 e.get("issue_id", "") if e.get("issue_id") in issue_ids else "",
                                 e.get("issued", 0), e.get("answered", 0), e.get("archive", ""),
                                 tuple(Problem(p["code"], p["file"], p["sheet"], p["cell"], p["fields"])
                                       for p in e.get("problems", []))),
                    [Response(**r) for r in e.get("responses", [])]) for e in ledger]
    except (KeyError, TypeError) as exc:
        raise AssessmentError(problem(Code.RECORDS_DAMAGED, records_dir / "returns.json",
                                      reason=f"the JSON records lack {exc}", folder=str(records_dir.parent))) from None
    except ValueError as exc:  # a status this tool never wrote
        raise AssessmentError(problem(Code.RECORDS_DAMAGED, records_dir / "returns.json",
                                      reason=f"the JSON records hold {exc}", folder=str(records_dir.parent))) from None

    def fill(records: Records) -> None:
        records.record_issues(issues)
        for record, responses in returns:
            records.record_return(record, responses)

    try:
        Records.create(database, meta, fill).close()
    except sqlite3.IntegrityError as exc:
        raise AssessmentError(problem(Code.RECORDS_DAMAGED, records_dir / "returns.json",
                                      reason=f"the JSON records contradict themselves: {exc}",
                                      folder=str(records_dir.parent))) from None
    backup = records_dir / BACKUP
    backup.mkdir(exist_ok=True)
    for name in LEGACY_FILES:
        if (records_dir / name).exists():
            os.replace(records_dir / name, backup / name)
    return problem(Code.RECORDS_MIGRATED, database=f"{records_dir.name}/{database.name}",
                   backup=f"{records_dir.name}/{BACKUP}")
