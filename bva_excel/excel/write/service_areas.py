"""The 'Service areas' sheet of assessment.xlsx: who delivers actions and reports progress on them.

An assessment made before the sheet existed gets it the first time a command needs it. The workbook
is one people edit, so it is changed as little as a zip allows: a new worksheet part and the three
lines that name it (in the workbook, its relationships and the content types); every other part,
comments, pictures and formatting included, is copied byte for byte. A dated copy of the workbook as
it was is kept in `.bva/backups/` first.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bva_excel.errors import BvaError, Code, problem
from bva_excel.excel.read.framework import (
    SERVICE_AREA_HEADERS,
    SERVICE_AREAS_SHEET,
    load_framework,
)
from bva_excel.model.framework import Framework, area_key
from bva_excel.store.files import check_path_length, replacing

WORKBOOK_PART = "xl/workbook.xml"
RELS_PART = "xl/_rels/workbook.xml.rels"
TYPES_PART = "[Content_Types].xml"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
WIDTHS = (30, 30, 34)


@dataclass
class AddedSheet:
    """What adding the sheet did, to say so."""

    workbook: Path
    backup: Path
    areas: list[str]  # service areas written in, from the reviewers' own


def ensure_service_areas(assessment, today: dt.datetime | None = None,
                         framework: Framework | None = None) -> AddedSheet | None:
    """Add the 'Service areas' sheet to the assessment's workbook if it has none (the caller holds the lock).

    It is filled with the service areas named on 'Reviewers', for the PMO to complete. Refused, with
    the workbook unchanged, while the workbook is open or when its layout is not one this can edit.
    `framework` is the workbook as the caller last read it, if it has.
    """
    framework = framework or load_framework(assessment.workbook)
    if framework.service_areas is not None:
        return None
    path = assessment.workbook
    for lock in (path.with_name(f"~${path.name}"), path.with_name(f".~lock.{path.name}#")):
        if lock.exists():
            raise BvaError(problem(Code.SERVICE_AREAS_WORKBOOK_OPEN, path, lock=lock.name))
    areas: list[str] = []
    for reviewer in framework.reviewers:
        name = " ".join(reviewer.service_area.split())
        if name and area_key(name) not in {area_key(a) for a in areas}:
            areas.append(name)
    now = (today or dt.datetime.now()).replace(microsecond=0)
    backup = assessment.records_dir / "backups" / f"{path.stem} (before service areas {now:%Y-%m-%d %H%M}){path.suffix}"
    check_path_length(backup)
    backup.parent.mkdir(parents=True, exist_ok=True)
    content = _with_sheet(path, areas)
    shutil.copy2(path, backup)
    with replacing(path) as temp:
        temp.write_bytes(content)
    return AddedSheet(path, backup, areas)


def _with_sheet(path: Path, areas: list[str]) -> bytes:
    """The workbook's bytes with a 'Service areas' sheet added at the end; every other part as it was."""
    try:
        source = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BvaError(problem(Code.SERVICE_AREAS_BY_HAND, path, reason=f"it cannot be opened as a zip ({exc})")) from exc
    with source:
        names = source.namelist()
        missing = [part for part in (WORKBOOK_PART, RELS_PART, TYPES_PART) if part not in names]
        if missing:
            raise BvaError(problem(Code.SERVICE_AREAS_BY_HAND, path, reason=f"it has no {missing[0]}"))
        workbook = source.read(WORKBOOK_PART).decode("utf-8")
        rels = source.read(RELS_PART).decode("utf-8")
        types = source.read(TYPES_PART).decode("utf-8")
        if "purl.oclc.org/ooxml" in workbook:  # Strict Open XML names its parts otherwise
            raise BvaError(problem(Code.SERVICE_AREAS_BY_HAND, path, reason="it is saved as Strict Open XML"))
        closing = re.search(r"</(\w+:)?sheets>", workbook)
        if closing is None:
            raise BvaError(problem(Code.SERVICE_AREAS_BY_HAND, path, reason="its list of sheets could not be found"))
        prefix = closing.group(1) or ""
        number = 1
        while f"xl/worksheets/sheet{number}.xml" in names:
            number += 1
        part = f"xl/worksheets/sheet{number}.xml"
        sheet_ids = [int(n) for n in re.findall(r"\bsheetId=\"(\d+)\"", workbook)]
        rel_ids = set(re.findall(r"\bId=\"([^\"]+)\"", rels))
        rel_id = next(f"rIdBva{n}" for n in range(1, len(rel_ids) + 2) if f"rIdBva{n}" not in rel_ids)
        # The prefix the workbook already uses for relationships (readers may look for 'r:id' as written).
        declared = re.search(r'xmlns:(\w+)="' + re.escape(RELATIONSHIPS) + '"', workbook)
        r = declared.group(1) if declared else "r"
        entry = (f'<{prefix}sheet{"" if declared else f" xmlns:r={chr(34)}{RELATIONSHIPS}{chr(34)}"} '
                 f'name="{SERVICE_AREAS_SHEET}" sheetId="{max(sheet_ids, default=0) + 1}" {r}:id="{rel_id}"/>')
        workbook = workbook[:closing.start()] + entry + workbook[closing.start():]
        rels = _before_last(rels, "</Relationships>", f'<Relationship Id="{rel_id}" Type="{RELATIONSHIPS}/worksheet" '
                                                        f'Target="worksheets/sheet{number}.xml"/>', path)
        types = _before_last(types, "</Types>", f'<Override PartName="/{part}" ContentType="{WORKSHEET_TYPE}"/>', path)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == WORKBOOK_PART:
                    data = workbook.encode("utf-8")
                elif info.filename == RELS_PART:
                    data = rels.encode("utf-8")
                elif info.filename == TYPES_PART:
                    data = types.encode("utf-8")
                target.writestr(info, data)
            target.writestr(zipfile.ZipInfo(part, date_time=source.infolist()[0].date_time), _sheet_xml(areas),
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _before_last(text: str, closing: str, insert: str, path: Path) -> str:
    at = text.rfind(closing)
    if at < 0:
        raise BvaError(problem(Code.SERVICE_AREAS_BY_HAND, path, reason=f"its {closing} could not be found"))
    return text[:at] + insert + text[at:]


def _sheet_xml(areas: list[str]) -> str:
    """The new sheet: its headers in row 1, one service area a row below, columns wide enough to read."""
    def cell(ref: str, text: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{html.escape(text, quote=False)}</t></is></c>'

    rows = [f'<row r="1">{"".join(cell(f"{col}1", h) for col, h in zip("ABC", SERVICE_AREA_HEADERS))}</row>']
    rows += [f'<row r="{n}">{cell(f"A{n}", name)}</row>' for n, name in enumerate(areas, start=2)]
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(WIDTHS, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            f'state="frozen"/></sheetView></sheetViews><cols>{cols}</cols><sheetData>{"".join(rows)}</sheetData>'
            '</worksheet>')
