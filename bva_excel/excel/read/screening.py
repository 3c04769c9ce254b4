"""Screening an untrusted file before any workbook reader sees it.

Returns arrive as email attachments. Before parsing, a file is identified by its first bytes (not
its name), a zip's declared sizes, member count and compression ratio are checked, and every XML
part is streamed through expat with a byte budget, refusing what defusedxml refuses (a DTD, entity
declarations, external references), so a decompression bomb or an entity bomb is refused by size and
structure, and never reaches a parser that could be made to blow up. The scan builds nothing: no
element handlers are set, so a part costs one pass of expat's C code, and a part already found clean
in this process (the same packed bytes, by SHA-256) is not inflated or parsed again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

from bva_excel.errors import Code, Problem, problem
from bva_excel.excel.read.notes import COMMENTS_PART, cell_comments
from bva_excel.model.recorded import ReturnNote

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv"}  # screened, whatever they hold
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_FILE_BYTES = 50 * 1024 * 1024  # a return is a few hundred KB; 50 MB is far beyond any real one
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 2000
MAX_RATIO = 200  # XML compresses about 10:1; hundreds to one is a bomb
# zipfile inflates these without a limit on what one read may produce, whatever size a part declares;
# no spreadsheet program writes them.
UNBOUNDED_METHODS = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

PICTURES = {b"\x89PNG": "a PNG picture", b"\xff\xd8\xff": "a JPEG picture", b"GIF8": "a GIF picture",
            b"BM": "a bitmap picture"}
CHUNK = 1024 * 1024

# A cell formula is an <f> element in the spreadsheet namespace (transitional or strict); other
# namespaces have their own <f> (a chart's <c:f>, a validation list's <xm:f>), which are not formulas.
SPREADSHEET_NAMESPACES = {"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                          "http://purl.oclc.org/ooxml/spreadsheetml/main"}
FORMULA_TAG = re.compile(rb"<f[\s/>]")
PREFIXED_FORMULA_TAG = re.compile(rb"<([^\s<>/:]+):f[\s/>]")
PREFIXED_F = re.compile(rb":f[\s/>]")  # a quick test first: most worksheets use no prefix at all
TAG_NAME_END = re.compile(rb"[\s>/]")
MAX_TAG_TAIL = 64 * 1024  # a tag name split across chunks longer than this is not searched: assume a formula

# Parts already found clean in this process, by the SHA-256 of their packed bytes (with how they are packed, and
# the size and checksum the zip says they have) -> whether they may hold a formula. Returns issued together share
# most parts (theme, styles, relationships), and the same packed bytes always inflate to the same part and parse
# the same way, so each is inflated and parsed once. Only clean verdicts are kept.
_CLEAN_PARTS: dict[tuple[bytes, int, int, int, bool], bool] = {}
MAX_CLEAN_PARTS = 4096


@dataclass
class Screening:
    """What screening found: the kind of file, why it must not be parsed, and whether it may hold formulas."""

    kind: str  # 'xlsx', 'xlsm', 'ods', or '' when the file must not be parsed
    problems: list[Problem]
    # False only when no worksheet part can hold a cell formula, so the formulas need not be read.
    has_formulas: bool = False
    saved: str = ""  # when the workbook says it was last saved (docProps/core.xml), as local time
    saved_by: str = ""  # who it says last saved it (cp:lastModifiedBy)
    author: str = ""  # who it says made it (dc:creator)
    comments: list[ReturnNote] = field(default_factory=list)  # comments people put on cells


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def sniff(head: bytes) -> str:
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


def _says_ods(archive: zipfile.ZipFile) -> bool:
    """Whether the zip's mimetype part names an OpenDocument spreadsheet, read in a bounded amount."""
    with archive.open("mimetype") as member:
        return member.read(1024).strip() == ODS_MIMETYPE


def _ole_kind(data: bytes) -> str:
    """An OLE compound file is either an encrypted workbook or a legacy .xls/.doc."""
    data = data[:1024 * 1024]
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return "encrypted"
    return "legacy"


class _Refused(Exception):
    """Raised from inside expat when a part declares what a workbook never needs."""


def _refuse(what: str):
    def handler(*_):
        raise _Refused(what)
    return handler


_REFUSE_DTD = _refuse("a DTD")
_REFUSE_ENTITIES = _refuse("entities")
_REFUSE_EXTERNAL = _refuse("an external reference")


def _xml_parser():
    """An expat parser that builds nothing and refuses a DTD, entities and external references."""
    parser = expat.ParserCreate(None, "}")  # with namespaces, as ElementTree parses: an unbound prefix is damage
    parser.StartDoctypeDeclHandler = _REFUSE_DTD
    parser.EntityDeclHandler = _REFUSE_ENTITIES
    parser.UnparsedEntityDeclHandler = _REFUSE_ENTITIES
    parser.ExternalEntityRefHandler = _REFUSE_EXTERNAL
    return parser


class _FormulaSearch:
    """Whether a worksheet part holds a cell formula: a byte search of the chunks expat is fed, with
    expat telling which prefixes name the spreadsheet namespace. When unsure, it says yes."""

    def __init__(self, parser) -> None:
        self.spreadsheet_prefixes: set[str | None] = set()
        self.other_prefixes: set[str | None] = set()
        self.found_prefixes: set[str | None] = set()
        self.unsure = False
        self.tail = b""  # from the last '<' of the previous chunk: a tag split across chunks
        parser.StartNamespaceDeclHandler = self._namespace

    def _namespace(self, prefix: str | None, uri: str) -> None:
        (self.spreadsheet_prefixes if uri in SPREADSHEET_NAMESPACES else self.other_prefixes).add(prefix)

    def feed(self, chunk: bytes) -> None:
        # Every encoding expat reads writes markup in ASCII bytes, except UTF-16, which the search cannot
        # read; only UTF-16 puts a NUL byte in well-formed XML.
        if b"\0" in chunk:
            self.unsure = True
        text = self.tail + chunk if self.tail else chunk
        if FORMULA_TAG.search(text):
            self.found_prefixes.add(None)
        if PREFIXED_F.search(text):
            self.found_prefixes.update(match.group(1).decode("utf-8", "replace")
                                       for match in PREFIXED_FORMULA_TAG.finditer(text))
        last = text.rfind(b"<")
        self.tail = text[last:] if last >= 0 and not TAG_NAME_END.search(text, last) else b""
        if len(self.tail) > MAX_TAG_TAIL:
            self.unsure, self.tail = True, b""

    @property
    def found(self) -> bool:
        # A prefix bound only to another namespace is not a formula; one never seen bound is counted.
        return self.unsure or any(prefix in self.spreadsheet_prefixes or prefix not in self.other_prefixes
                                  for prefix in self.found_prefixes)


class _Damaged(Exception):
    """A part that does not inflate to what the zip's directory says of it."""


LOCAL_HEADER_SIZE = 30  # then the part's name and an extra field, whose lengths are at bytes 26 and 28


def _packed(content: bytes, info: zipfile.ZipInfo) -> bytes:
    """A part's bytes as they are packed in the zip, found through its local header, as zipfile finds them. (Bytes
    that are not the part, or not all of it, fail its inflating or its checksum.)"""
    if info.flag_bits & 1:  # encrypted: no spreadsheet program encrypts a part alone
        raise _Damaged
    name_length, extra_length = struct.unpack_from("<HH", content, info.header_offset + 26)
    start = info.header_offset + LOCAL_HEADER_SIZE + name_length + extra_length
    return content[start:start + info.compress_size]


def _inflated(packed: bytes, info: zipfile.ZipInfo):
    """The part's bytes, a chunk at a time, never more than the size it declares; raises _Damaged when they are
    not that size or do not match its checksum (as zipfile's reading does)."""
    size = crc = 0
    if info.compress_type == zipfile.ZIP_STORED:
        chunks = (packed[at:at + CHUNK] for at in range(0, len(packed), CHUNK))
        for chunk in chunks:
            size += len(chunk)
            crc = zlib.crc32(chunk, crc)
            yield chunk
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater, left = zlib.decompressobj(-zlib.MAX_WBITS), packed
        while not inflater.eof:
            try:
                chunk = inflater.decompress(left, min(CHUNK, info.file_size - size + 1))
            except zlib.error:
                raise _Damaged from None
            left = inflater.unconsumed_tail
            if not chunk and not left:
                break  # the stream ends before its end: cut short
            size += len(chunk)
            if size > info.file_size:
                raise _Damaged  # more than it declares
            crc = zlib.crc32(chunk, crc)
            yield chunk
        if not inflater.eof:
            raise _Damaged
    else:  # Deflate64 and the like, which zipfile cannot read either
        raise _Damaged
    if size != info.file_size or crc != info.CRC:
        raise _Damaged


def _scan_xml(content: bytes, info: zipfile.ZipInfo, budget: list[int], search_formulas: bool = False,
              keep: list[bytes] | None = None) -> tuple[str, bool]:
    """Stream one XML part through expat: ('' if clean, else why not; whether it may hold a formula). Its bytes
    are added to `keep` when given."""
    try:
        packed = _packed(content, info)
        # The same packed bytes always inflate to the same part: one found clean before is clean again.
        seen = (hashlib.sha256(packed).digest(), info.compress_type, info.file_size, info.CRC, search_formulas)
        if seen in _CLEAN_PARTS:
            budget[0] -= info.file_size
            if keep is not None:
                keep.extend(_inflated(packed, info))
            return "", _CLEAN_PARTS[seen]
        parser = _xml_parser()
        formulas = _FormulaSearch(parser) if search_formulas else None
        whole, ended = info.file_size <= CHUNK, False  # a part read in one chunk is parsed, and ended, in one call
        for chunk in _inflated(packed, info):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                return "size", False
            if formulas is not None:
                formulas.feed(chunk)
            parser.Parse(chunk, whole)
            ended = whole
            if keep is not None:
                keep.append(chunk)
        if not ended:  # (an empty part too: no document at all is damage)
            parser.Parse(b"", True)
    except _Refused as refused:
        return f"it declares {refused.args[0]}", False
    except Exception as exc:  # malformed XML or a damaged member: the workbook is broken
        return f"it is damaged ({type(exc).__name__})", False
    found = formulas is not None and formulas.found
    if len(_CLEAN_PARTS) >= MAX_CLEAN_PARTS:
        _CLEAN_PARTS.clear()
    _CLEAN_PARTS[seen] = found
    return "", found


def saved_time(core_xml: bytes) -> str:
    """The last-saved time in a workbook's core properties, as local time ('' if it does not say)."""
    found = re.search(rb"<dcterms:modified[^>]*>([^<]{1,40})</dcterms:modified>", core_xml)
    if not found:
        return ""
    try:
        stamp = dt.datetime.fromisoformat(found.group(1).decode("ascii").strip().replace("Z", "+00:00"))
    except (ValueError, UnicodeDecodeError):
        return ""
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone().replace(tzinfo=None)
    return stamp.replace(microsecond=0).isoformat()


def core_property(core_xml: bytes, name: str) -> str:
    """One text property of a workbook's core properties ('lastModifiedBy', 'creator'), '' if absent."""
    found = re.search(rb"<(?:\w+:)?" + name.encode() + rb">([^<]{0,400})</", core_xml)
    return html.unescape(found.group(1).decode("utf-8", "replace")).strip() if found else ""


def screen(path: Path, name: str = "", content: bytes | None = None) -> Screening:
    """Decide whether `path` may be parsed as a workbook; the problems say why not (naming `name`).

    `content`, if given, is the file's bytes already read (so the file is read once in all).
    """
    path = Path(path)
    file = name or path.name
    size = len(content) if content is not None else path.stat().st_size
    if size == 0:
        return Screening("", [problem(Code.RETURN_EMPTY, file)])
    if size > MAX_FILE_BYTES:
        return Screening("", [problem(Code.RETURN_TOO_LARGE, file, size=_megabytes(size), limit=_megabytes(MAX_FILE_BYTES))])
    if content is None:
        content = path.read_bytes()  # at most MAX_FILE_BYTES; one read instead of a seek and read per part
    head = content[:512]
    if head.startswith(OLE_SIGNATURE):
        code = Code.RETURN_ENCRYPTED if _ole_kind(content) == "encrypted" else Code.RETURN_LEGACY_XLS
        return Screening("", [problem(code, file)])
    if not head.startswith(b"PK"):
        what = sniff(head)
        if what:
            return Screening("", [problem(Code.RETURN_NOT_A_WORKBOOK, file, what=what)])
        if path.suffix.lower() in (".csv", ".txt") or b"," in head or b";" in head:
            return Screening("", [problem(Code.RETURN_CSV, file)])
        return Screening("", [problem(Code.RETURN_NOT_A_WORKBOOK, file, what="not a spreadsheet")])
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError):  # ValueError: a part name that is not the UTF-8 it claims
        return Screening("", [problem(Code.RETURN_TRUNCATED, file)])
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if len(members) > MAX_MEMBERS:
            return Screening("", [problem(Code.RETURN_BOMB, file, reason=f"it holds {len(members):,} parts")])
        unpacked = sum(m.file_size for m in members)
        if unpacked > MAX_UNPACKED_BYTES:
            return Screening("", [problem(Code.RETURN_BOMB, file, reason=f"it would unpack to {_megabytes(unpacked)}")])
        for member in members:
            if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
                return Screening("", [problem(Code.RETURN_BOMB, file, reason=(
                    f"part {member.filename} would inflate {member.file_size // max(member.compress_size, 1):,} times"))])
            if member.compress_type in UNBOUNDED_METHODS:
                return Screening("", [problem(Code.RETURN_BOMB, file, reason=(
                    f"part {member.filename} is packed with {UNBOUNDED_METHODS[member.compress_type]}, "
                    "which spreadsheet programs never use"))])
        try:
            says_ods = "mimetype" in names and _says_ods(archive)
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError, OSError):
            return Screening("", [problem(Code.RETURN_TRUNCATED, file)])
        if says_ods:
            kind, notes = "ods", [problem(Code.RETURN_ODS, file)]
        elif "xl/workbook.xml" in names:
            kind, notes = ("xlsm" if "xl/vbaProject.bin" in names else "xlsx"), []
            if kind == "xlsm":
                notes.append(problem(Code.RETURN_MACROS, file))
        elif "xl/workbook.bin" in names:
            return Screening("", [problem(Code.RETURN_XLSB, file)])
        elif "word/document.xml" in names:
            return Screening("", [problem(Code.RETURN_NOT_A_WORKBOOK, file, what="a Word document")])
        elif "ppt/presentation.xml" in names:
            return Screening("", [problem(Code.RETURN_NOT_A_WORKBOOK, file, what="a PowerPoint presentation")])
        else:
            return Screening("", [problem(Code.RETURN_NOT_A_WORKBOOK, file, what="a zip archive (of other files)")])
        budget = [MAX_UNPACKED_BYTES]
        has_formulas, core_xml = False, b""
        for member in members:
            part = member.filename.lower()
            if not part.endswith((".xml", ".rels", ".vml")):
                continue
            core: list[bytes] | None = [] if member.filename == "docProps/core.xml" else None
            why, formula = _scan_xml(content, member, budget, part.startswith("xl/worksheets/"), core)
            if core is not None:
                core_xml = b"".join(core)
            has_formulas = has_formulas or formula
            if why == "size":
                return Screening("", [problem(Code.RETURN_BOMB, file, reason="its parts inflate beyond their declared sizes")])
            if why.startswith("it declares"):
                return Screening("", [problem(Code.RETURN_UNSAFE_XML, file, part=member.filename, reason=why)])
            if why:
                return Screening("", [problem(Code.RETURN_TRUNCATED, file)])
        comments = []
        if any(COMMENTS_PART.fullmatch(name) for name in names):  # rare: looked into only when there
            try:
                comments = cell_comments(archive, file, notes)
            except (ElementTree.ParseError, KeyError, ValueError):
                notes.append(problem(Code.RETURN_COMMENTS_UNREADABLE, file))
    return Screening(kind, notes, has_formulas, saved_time(core_xml), core_property(core_xml, "lastModifiedBy"),
                     core_property(core_xml, "creator"), comments)
