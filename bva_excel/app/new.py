"""app.new"""

from __future__ import annotations

import datetime as dt
import secrets
import site
import sys
from pathlib import Path

from bva_excel import __version__
from bva_excel.errors import AssessmentError, Code, problem
from bva_excel.excel.read.framework import load_framework
from bva_excel.layout import ASSESSMENT_FILE
from bva_excel.store.files import replacing, write_bytes
from bva_excel.store.folder import ABOUT_SHEET, RECORDS, Assessment, check_folder_depth
from bva_excel.store.records import DATABASE, AssessmentMeta, Records

TEMPLATE_NAME = "assessment_template.xlsx"


def builtin_template() -> Path:
    """The template shipped with the tool: beside the package in a checkout, else in share/ where pip put
    it: in the environment, or in the user's own folder after a per-user install (what `py -m pip install`
    does with the Microsoft Store's Python, or wherever site-packages cannot be written)."""
    share = Path("share") / "bva-excel" / "templates" / TEMPLATE_NAME
    package = next(p for p in Path(__file__).resolve().parents if p.name == "bva_excel")
    checkout = package.parent  # beside the package, in a clone of the repository
    candidates = [checkout / "templates" / TEMPLATE_NAME,
                  Path(sys.prefix) / share, Path(site.getuserbase()) / share]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise AssessmentError(problem(Code.TEMPLATE_NOT_FOUND, TEMPLATE_NAME))


def new_assessment_id(today: dt.date) -> str:
    return f"BV-{today.year}-{secrets.token_hex(3).upper()}"


def create_assessment(folder: Path, template: Path | None = None, title: str = "",
                      demo: bool = False) -> Assessment:
    """Create an assessment folder from a template; never touches an existing assessment."""
    import openpyxl  # heavy: loaded only when needed

    folder = Path(folder)
    if (folder / ASSESSMENT_FILE).exists() or (folder / RECORDS).exists():
        raise AssessmentError(problem(Code.ASSESSMENT_EXISTS, str(folder)))
    check_folder_depth(folder)
    template = Path(template) if template else builtin_template()
    if not template.is_file():
        raise AssessmentError(problem(Code.FILE_NOT_FOUND, str(template)))
    load_framework(template)  # refuse a broken template before creating anything
    now = dt.datetime.now().replace(microsecond=0)
    meta = AssessmentMeta(new_assessment_id(now.date()), title or f"Best Value self-assessment {now.year}",
                          now.isoformat(), __version__, demo)
    records_dir = folder / RECORDS
    folder.mkdir(parents=True, exist_ok=True)
    records_dir.mkdir()
    (records_dir / "archive").mkdir()
    (folder / "inbox").mkdir(exist_ok=True)
    (folder / "outbox").mkdir(exist_ok=True)
    write_bytes(records_dir / "secret", secrets.token_bytes(32).hex().encode())
    (records_dir / "secret").chmod(0o600)
    workbook = openpyxl.load_workbook(template)
    about = workbook.create_sheet(ABOUT_SHEET, 0)
    for row in [("Title", meta.title), ("Assessment ID", meta.assessment_id),
                ("Created", meta.created), ("Created with", f"bva-excel {__version__}"),
                ("Template", template.name)]:
        about.append(row)
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 50
    with replacing(folder / ASSESSMENT_FILE) as temp:
        workbook.save(temp)
    # The database comes last: a folder is an assessment once it has its records.
    records = Records.create(records_dir / DATABASE, meta)
    return Assessment(folder, meta.assessment_id, meta.title, meta.created, records, demo)


