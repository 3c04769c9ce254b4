"""An assessment folder: the PMO's workbook, the inbox and outbox, and the tool's records.

    DIR/assessment.xlsx     the framework as the PMO fills it in (from the template)
    DIR/outbox/             reviewer workbooks to email
    DIR/inbox/              returned workbooks, saved under any name
    DIR/report.xlsx         the consolidated report
    DIR/.bva/               the tool's records: identity, secret, what was issued, every return
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from bva_excel import __version__
from bva_excel.errors import AssessmentError, problem
from bva_excel.framework import Framework, load_framework
from bva_excel.storage import read_json, replacing, write_bytes, write_json

ASSESSMENT_FILE = "assessment.xlsx"
REPORT_FILE = "report.xlsx"
RECORDS = ".bva"
ABOUT_SHEET = "Assessment"
TEMPLATE_NAME = "assessment_template.xlsx"


def builtin_template() -> Path:
    """The template shipped with the tool: beside the package in a checkout, else in share/."""
    candidates = [Path(__file__).resolve().parents[1] / "templates" / TEMPLATE_NAME,
                  Path(sys.prefix) / "share" / "bva-excel" / "templates" / TEMPLATE_NAME]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise AssessmentError(problem("TEMPLATE_NOT_FOUND", TEMPLATE_NAME))


@dataclass
class Assessment:
    folder: Path
    assessment_id: str
    title: str
    created: str

    @property
    def workbook(self) -> Path:
        return self.folder / ASSESSMENT_FILE

    @property
    def inbox(self) -> Path:
        return self.folder / "inbox"

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"

    @property
    def report(self) -> Path:
        return self.folder / REPORT_FILE

    @property
    def records(self) -> Path:
        return self.folder / RECORDS

    @property
    def archive(self) -> Path:
        return self.records / "archive"

    def secret(self) -> bytes:
        return bytes.fromhex((self.records / "secret").read_text().strip())

    def framework(self) -> Framework:
        return load_framework(self.workbook)

    def issues(self) -> list[dict]:
        """Every reviewer workbook ever generated, oldest first."""
        return read_json(self.records / "issued.json", [])

    def save_issues(self, issues: list[dict]) -> None:
        write_json(self.records / "issued.json", issues)

    @contextlib.contextmanager
    def locked(self, command: str):
        """Hold the assessment's lock while `command` changes it; refuse if another command holds it."""
        lock = self.records / "lock"
        holder = {"command": f"bva {command}", "pid": os.getpid(), "host": socket.gethostname(),
                  "since": dt.datetime.now().replace(microsecond=0).isoformat()}
        for attempt in (1, 2):
            try:
                handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                held = _read_lock(lock)
                if attempt == 1 and _is_stale(held):
                    lock.unlink(missing_ok=True)
                    continue
                description = (f"{held['command']}, process {held['pid']} on {held['host']}, since {held['since']}"
                               if held else "holder unknown")
                raise AssessmentError(problem("ASSESSMENT_BUSY", str(self.folder), holder=description,
                                              lock=str(lock)))
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(holder, out)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)

    def ledger(self) -> list[dict]:
        """Every return file ever seen, oldest first."""
        return read_json(self.records / "returns.json", [])

    def save_ledger(self, ledger: list[dict]) -> None:
        write_json(self.records / "returns.json", ledger)


def _read_lock(lock: Path) -> dict:
    try:
        held = json.loads(lock.read_text(encoding="utf-8"))
        return held if {"command", "pid", "host", "since"} <= set(held) else {}
    except (OSError, ValueError):
        return {}


def _is_stale(held: dict) -> bool:
    """A lock left by a process on this machine that is no longer running."""
    if not held or held["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(held["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError, ValueError):
        return False
    return False


def new_assessment_id(today: dt.date) -> str:
    return f"BV-{today.year}-{secrets.token_hex(3).upper()}"


def create_assessment(folder: Path, template: Path | None = None, title: str = "",
                      demo: bool = False) -> Assessment:
    """Create an assessment folder from a template; never touches an existing assessment."""
    import openpyxl

    folder = Path(folder)
    if (folder / ASSESSMENT_FILE).exists() or (folder / RECORDS).exists():
        raise AssessmentError(problem("ASSESSMENT_EXISTS", str(folder)))
    template = Path(template) if template else builtin_template()
    if not template.is_file():
        raise AssessmentError(problem("FILE_NOT_FOUND", str(template)))
    load_framework(template)  # refuse a broken template before creating anything
    now = dt.datetime.now().replace(microsecond=0)
    assessment = Assessment(folder, new_assessment_id(now.date()),
                            title or f"Best Value self-assessment {now.year}", now.isoformat())
    folder.mkdir(parents=True, exist_ok=True)
    assessment.records.mkdir()
    assessment.archive.mkdir()
    assessment.inbox.mkdir(exist_ok=True)
    assessment.outbox.mkdir(exist_ok=True)
    write_bytes(assessment.records / "secret", secrets.token_bytes(32).hex().encode())
    (assessment.records / "secret").chmod(0o600)
    write_json(assessment.records / "assessment.json",
               {"assessment_id": assessment.assessment_id, "title": assessment.title,
                "created": assessment.created, "tool_version": __version__, "demo": demo})
    workbook = openpyxl.load_workbook(template)
    about = workbook.create_sheet(ABOUT_SHEET, 0)
    for row in [("Title", assessment.title), ("Assessment ID", assessment.assessment_id),
                ("Created", assessment.created), ("Created with", f"bva-excel {__version__}"),
                ("Template", template.name)]:
        about.append(row)
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 50
    with replacing(assessment.workbook) as temp:
        workbook.save(temp)
    return assessment


def is_demo(folder: Path) -> bool:
    """True for a folder that `bva demo` made (and may therefore make again)."""
    return read_json(Path(folder) / RECORDS / "assessment.json", {}).get("demo") is True


def open_assessment(folder: Path) -> Assessment:
    """The assessment in `folder`, or an error saying how to create one."""
    folder = Path(folder)
    meta_path = folder / RECORDS / "assessment.json"
    for needed in (folder / ASSESSMENT_FILE, meta_path):
        if not needed.exists():
            raise AssessmentError(problem("NOT_AN_ASSESSMENT", str(folder),
                                          missing=needed.relative_to(folder).as_posix(),
                                          folder=str(folder)))
    meta = read_json(meta_path, {})
    return Assessment(folder, meta["assessment_id"], meta.get("title", ""), meta.get("created", ""))
