"""Screening an untrusted file before any workbook reader sees it.

Returns arrive as email attachments. Before parsing, a file is identified by its first bytes (not
its name), a zip's declared sizes, member count and compression ratio are checked, and every XML
part is streamed through defusedxml with a byte budget, so a decompression bomb or an entity bomb is
refused by size and structure, and never reaches a parser that could be made to blow up.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser

from bva_excel.errors import Problem, problem

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_FILE_BYTES = 50 * 1024 * 1024  # a return is a few hundred KB; 50 MB is far beyond any real one
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 2000
MAX_RATIO = 200  # XML compresses about 10:1; hundreds to one is a bomb
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

PICTURES = {b"\x89PNG": "a PNG picture", b"\xff\xd8\xff": "a JPEG picture", b"GIF8": "a GIF picture",
            b"BM": "a bitmap picture"}


@dataclass
class Screening:
    kind: str  # 'xlsx', 'xlsm', 'ods', or '' when the file must not be parsed
    problems: list[Problem]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def _sniff(head: bytes) -> str:
    """What a file is by its first bytes, for the message."""
    if head.startswith(b"%PDF"):
        return "a PDF document"
    for signature, name in PICTURES.items():
        if head.startswith(signature):
            return name
    if head.lstrip().lower().startswith((b"<html", b"<!doctype html")):
        return "a web page"
    if head.startswith((b"{\\rtf",)):
        return "a Word (RTF) document"
    return ""


def _ole_kind(path: Path) -> str:
    """An OLE compound file is either an encrypted workbook or a legacy .xls/.doc."""
    with open(path, "rb") as handle:
        data = handle.read(1024 * 1024)
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return "encrypted"
    return "legacy"


def _scan_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> str:
    """Stream one XML part through defusedxml; '' if clean, else why not."""
    parser = XMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        with archive.open(info) as member:
            while True:
                chunk = member.read(1024 * 1024)
                if not chunk:
                    break
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    return "size"
                parser.feed(chunk)
        parser.close()
    except DefusedXmlException as exc:
        what = {"DTDForbidden": "a DTD", "EntitiesForbidden": "entities",
                "ExternalReferenceForbidden": "an external reference"}.get(type(exc).__name__, "a DTD")
        return f"it declares {what}"
    except Exception as exc:  # malformed XML or a damaged member: the workbook is broken
        return f"it is damaged ({type(exc).__name__})"
    return ""


def screen(path: Path, name: str = "") -> Screening:
    """Decide whether `path` may be parsed as a workbook; the problems say why not (naming `name`)."""
    path = Path(path)
    file = name or path.name
    size = path.stat().st_size
    if size == 0:
        return Screening("", [problem("RETURN_EMPTY", file)])
    if size > MAX_FILE_BYTES:
        return Screening("", [problem("RETURN_TOO_LARGE", file, size=_megabytes(size), limit=_megabytes(MAX_FILE_BYTES))])
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head.startswith(OLE_SIGNATURE):
        code = "RETURN_ENCRYPTED" if _ole_kind(path) == "encrypted" else "RETURN_LEGACY_XLS"
        return Screening("", [problem(code, file)])
    if not head.startswith(b"PK"):
        what = _sniff(head)
        if what:
            return Screening("", [problem("RETURN_NOT_A_WORKBOOK", file, what=what)])
        if path.suffix.lower() in (".csv", ".txt") or b"," in head or b";" in head:
            return Screening("", [problem("RETURN_CSV", file)])
        return Screening("", [problem("RETURN_NOT_A_WORKBOOK", file, what="not a spreadsheet")])
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return Screening("", [problem("RETURN_TRUNCATED", file)])
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if len(members) > MAX_MEMBERS:
            return Screening("", [problem("RETURN_BOMB", file, reason=f"it holds {len(members):,} parts")])
        unpacked = sum(m.file_size for m in members)
        if unpacked > MAX_UNPACKED_BYTES:
            return Screening("", [problem("RETURN_BOMB", file, reason=f"it would unpack to {_megabytes(unpacked)}")])
        for member in members:
            if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
                return Screening("", [problem("RETURN_BOMB", file, reason=(
                    f"part {member.filename} would inflate {member.file_size // max(member.compress_size, 1):,} times"))])
        if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
            kind, notes = "ods", [problem("RETURN_ODS", file)]
        elif "xl/workbook.xml" in names:
            kind, notes = ("xlsm" if "xl/vbaProject.bin" in names else "xlsx"), []
            if kind == "xlsm":
                notes.append(problem("RETURN_MACROS", file))
        elif "xl/workbook.bin" in names:
            return Screening("", [problem("RETURN_XLSB", file)])
        elif "word/document.xml" in names:
            return Screening("", [problem("RETURN_NOT_A_WORKBOOK", file, what="a Word document")])
        elif "ppt/presentation.xml" in names:
            return Screening("", [problem("RETURN_NOT_A_WORKBOOK", file, what="a PowerPoint presentation")])
        else:
            return Screening("", [problem("RETURN_NOT_A_WORKBOOK", file, what="a zip archive, not a workbook")])
        budget = [MAX_UNPACKED_BYTES]
        for member in members:
            if not member.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            why = _scan_xml(archive, member, budget)
            if why == "size":
                return Screening("", [problem("RETURN_BOMB", file, reason="its parts inflate beyond their declared sizes")])
            if why.startswith("it declares"):
                return Screening("", [problem("RETURN_UNSAFE_XML", file, part=member.filename, reason=why)])
            if why:
                return Screening("", [problem("RETURN_TRUNCATED", file)])
    return Screening(kind, notes)
