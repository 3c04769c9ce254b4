"""Ingesting returned workbooks: every file gets an answer, every accepted return is archived.

Returned files are only ever read. An accepted return is copied into the assessment's archive under
its SHA-256, and the ledger (`.bva/returns.json`) records every file seen, so deleting the inbox loses
nothing and ingesting the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.assessment import Assessment
from bva_excel.errors import ERROR, Problem, problem
from bva_excel.framework import Framework
from bva_excel.returns import read_return
from bva_excel.storage import sha256_of

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv"}


@dataclass
class FileOutcome:
    """What happened to one file in this run."""

    name: str
    status: str  # accepted, rejected, unchanged, skipped
    sha256: str = ""
    reviewer_id: str = ""
    answered: int = 0
    issued: int = 0
    problems: list[Problem] = field(default_factory=list)
    supersedes: str = ""

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


@dataclass
class IngestReport:
    outcomes: list[FileOutcome]
    framework: Framework  # as read for this ingest, to name reviewers

    @property
    def valid(self) -> bool:
        return not any(o.has_errors for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def skip_reason(path: Path) -> str:
    """Why a file in the inbox is not a return at all, or '' if it should be read."""
    if path.name.startswith("~$") or (path.name.startswith(".~lock.") and path.name.endswith("#")):
        return "an Excel or LibreOffice lock file, not a return"
    if path.name.startswith("."):
        return "a hidden file"
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return f"not a workbook ({path.suffix or 'no extension'})"
    return ""


def inbox_files(assessment: Assessment) -> list[Path]:
    """The inbox's files, oldest first, so a later save supersedes an earlier one."""
    if not assessment.inbox.is_dir():
        return []
    files = [p for p in assessment.inbox.iterdir() if p.is_file()]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def current_returns(ledger: list[dict]) -> dict[str, dict]:
    """reviewer ID -> their latest accepted return (later ingestion wins)."""
    current = {}
    for entry in ledger:
        if entry["status"] == "accepted":
            current[entry["reviewer_id"]] = entry
    return current


def ingest(assessment: Assessment, paths: list[Path] | None = None) -> IngestReport:
    """Read every file in the inbox (or `paths`), archive and record the accepted returns."""
    with assessment.locked("ingest"):
        return _ingest(assessment, paths)


def _unchanged(path: Path, seen: dict) -> FileOutcome:
    """A file whose content was ingested before: nothing changes; its earlier problems are repeated."""
    notes = [problem("ALREADY_INGESTED", path, other=seen["name"])]
    notes += [problem(p["code"], p["file"], p["sheet"], p["cell"], **p["fields"]) for p in seen["problems"]]
    return FileOutcome(path.name, "unchanged", seen["sha256"], seen.get("reviewer_id", ""), seen.get("answered", 0),
                       seen.get("issued", 0), notes)


def _ledger_entry(path: Path, sha: str, reading) -> dict:
    identity = reading.identity
    return {"sha256": sha, "name": path.name, "source": str(path),
            "received": dt.datetime.now().replace(microsecond=0).isoformat(),
            "modified": dt.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0).isoformat(),
            "status": "accepted" if reading.accepted else "rejected",
            "reviewer_id": identity.reviewer_id if identity else "",
            "issue_id": identity.issue_id if identity else "",
            "issued": len(identity.refs) if identity else 0, "answered": reading.answered,
            "problems": [{"code": p.code, "file": p.file, "sheet": p.sheet, "cell": p.cell, "fields": p.fields}
                         for p in reading.problems],
            "responses": [r.as_dict() for r in reading.responses] if reading.accepted else [],
            "archive": ""}


def _ingest(assessment: Assessment, paths: list[Path] | None) -> IngestReport:
    framework = assessment.framework()
    secret = assessment.secret()
    issues = assessment.issues()
    issues_by_id = {i["issue_id"]: i for i in issues}
    ledger = assessment.ledger()
    by_hash = {e["sha256"]: e for e in ledger}
    outcomes = []
    for path in (paths if paths is not None else inbox_files(assessment)):
        path = Path(path)
        if not path.is_file():
            outcomes.append(FileOutcome(path.name, "rejected", problems=[problem("FILE_NOT_FOUND", str(path))]))
            continue
        reason = skip_reason(path)
        if reason:
            outcomes.append(FileOutcome(path.name, "skipped", problems=[problem("FILE_SKIPPED", path, reason=reason)]))
            continue
        # Work on a private copy, so what is hashed, read and archived is one and the same content even if
        # the file in the inbox is changed meanwhile (a mail client still saving it, say).
        with tempfile.TemporaryDirectory(dir=assessment.records) as work:
            copy = Path(work) / f"incoming{path.suffix.lower()}"
            shutil.copyfile(path, copy)
            sha = sha256_of(copy)
            if sha in by_hash:
                outcomes.append(_unchanged(path, by_hash[sha]))
                continue
            reading = read_return(copy, framework, assessment.assessment_id, secret, issues_by_id, path.name)
            entry = _ledger_entry(path, sha, reading)
            outcome = FileOutcome(path.name, entry["status"], sha, entry["reviewer_id"], entry["answered"],
                                  entry["issued"], reading.problems)
            if reading.accepted:
                archived = assessment.archive / f"{sha}{path.suffix.lower()}"
                if not archived.exists():
                    os.replace(copy, archived)
                entry["archive"] = archived.relative_to(assessment.folder).as_posix()
                previous = current_returns(ledger).get(entry["reviewer_id"])
                if previous:
                    outcome.supersedes = previous["name"]
        ledger.append(entry)
        by_hash[sha] = entry
        outcomes.append(outcome)
    assessment.save_ledger(ledger)
    return IngestReport(outcomes, framework)
