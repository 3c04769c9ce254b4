"""Saved emails (.eml, and Outlook's .msg) in the inbox: the workbooks attached to them, and who sent them.

A return usually comes back as an email, often forwarded, so the workbook may sit in an email attached to an email.
Every workbook found, however deep, is handed back with the email that carried it (its sender, date and subject,
kept as provenance) and a name that says where it was (`RE_ review.eml › R01 return.xlsx`), to be screened and read
as a file in the inbox would be. Everything else attached is listed by what it is, never dropped unsaid. An email
larger, holding more attachments or nesting deeper than any real one is refused whole, so a hostile one costs little.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from email import policy
from email.errors import MessageError
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from bva_excel.errors import Code, Problem, problem
from bva_excel.excel.read.screening import WORKBOOK_SUFFIXES, sniff

EMAIL_SUFFIXES = (".eml", ".msg")
MAX_EMAIL_BYTES = 100 * 1024 * 1024  # mail servers refuse a message of more than 20 to 150 MB
MAX_ATTACHMENTS = 200  # in all, nested emails' included; a real return brings one or two
MAX_DEPTH = 10  # an email in an email ... ten deep is far beyond any forwarding chain
SEPARATOR = " › "
SPREADSHEET_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
                     "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm"}
# What the standard library's email package raises on a damaged message it half-parsed (its parser itself
# records defects rather than raising, but reading a header or parameter of a damaged part can still raise).
DAMAGED = (MessageError, ValueError, TypeError, IndexError, LookupError, AttributeError)
HEADER_CHARS = 300  # a sender or subject longer than this is cut: it is shown on one line

for _library in ("extract_msg", "olefile", "RTFDE"):  # they log odd emails; the ingest says what matters itself
    logging.getLogger(_library).addHandler(logging.NullHandler())
    logging.getLogger(_library).propagate = False


@dataclass(frozen=True)
class Envelope:
    """Who sent an email, when, and about what, as the email says."""

    sender: str  # as written: 'Ann Lee <ann@example.gov.uk>'
    address: str  # the sender's email address, lower case ('' if it gives none, as an Exchange sender may not)
    date: str  # when it was sent, local time, ISO ('' if it does not say)
    subject: str


@dataclass(frozen=True)
class AttachedWorkbook:
    """A workbook attached to an email (or to an email in it)."""

    name: str  # where it was: 'RE_ review.eml › R01 return.xlsx'
    filename: str  # its own name as attached
    content: bytes
    envelope: Envelope  # of the email it was attached to


@dataclass
class EmailReading:
    """What one saved email holds: its workbooks, everything else attached, and why it could not be read."""

    workbooks: list[AttachedWorkbook] = field(default_factory=list)
    others: list[tuple[str, str]] = field(default_factory=list)  # (where, what it is) of every other attachment
    emails: list[str] = field(default_factory=list)  # where each email attached to it was (each opened)
    problems: list[Problem] = field(default_factory=list)
    envelope: Envelope | None = None


class _Refused(Exception):
    """The email is beyond a limit: nothing of it is taken."""

    def __init__(self, found: Problem) -> None:
        super().__init__(found.code)
        self.problem = found


ZIP_START = b"PK\x03\x04"  # how every .xlsx/.xlsm begins, whatever the file is called


def starts_like_a_workbook(path: Path) -> bool:
    """Whether the file is a workbook by its bytes (a zip with a workbook's parts), so that it is read as one
    under any name."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == ZIP_START and _holds_a_workbook(path)
    except OSError:
        return False


def _holds_a_workbook(source) -> bool:
    """A zip (a path, or bytes) with a workbook's parts in it; one too damaged to list is taken for one, so that
    screening says what is wrong with it. (A Word document is a zip too, with no 'xl/' part.)"""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
            return any(name.startswith("xl/") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return True


def is_email(path: Path) -> bool:
    """A saved email by its name (.eml, .msg), unless its bytes show it is a workbook saved under that name."""
    return path.suffix.lower() in EMAIL_SUFFIXES and not starts_like_a_workbook(path)


def refused_by_size(file: str, size: int) -> Problem | None:
    """Why an email of `size` bytes is refused unread, or None."""
    if size > MAX_EMAIL_BYTES:
        return problem(Code.EMAIL_TOO_LARGE, file, size=_megabytes(size), limit=_megabytes(MAX_EMAIL_BYTES))
    return None


def read_email(path: Path, content: bytes) -> EmailReading:
    """The workbooks attached to the saved email `content` (named `path`), nested emails opened."""
    file = path.name
    refused = refused_by_size(file, len(content))
    if refused:
        return EmailReading(problems=[refused])
    walk = _Walk(file)
    try:
        walk.open(file, content, path.suffix.lower(), 1)
    except _Refused as stopped:
        return EmailReading(problems=[stopped.problem])
    return walk.reading


class _Walk:
    def __init__(self, file: str) -> None:
        self.file = file
        self.reading = EmailReading()
        self.attachments = 0

    def open(self, where: str, content: bytes, suffix: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _Refused(problem(Code.EMAIL_TOO_DEEP, self.file, limit=MAX_DEPTH))
        if suffix == ".msg":
            self._outlook(where, content, depth)
            return
        try:
            message = BytesParser(policy=policy.default).parsebytes(content)
        except RecursionError:  # parts in parts, thousands deep
            raise _Refused(problem(Code.EMAIL_TOO_DEEP, self.file, limit=MAX_DEPTH)) from None
        except DAMAGED as exc:
            self._unreadable(where, f"{type(exc).__name__}")
            return
        self._mime(where, message, depth)

    def _unreadable(self, where: str, reason: str) -> None:
        self.reading.problems.append(problem(Code.EMAIL_UNREADABLE, where, reason=reason))

    def _envelope(self, envelope: Envelope, depth: int) -> None:
        if depth == 1:
            self.reading.envelope = envelope

    # MIME (.eml), as Thunderbird, Apple Mail and Outlook's 'Save as' write it.

    def _mime(self, where: str, message, depth: int) -> None:
        try:
            envelope = Envelope(*_sender(_header(message, "from")), _when(_header(message, "date")),
                                _header(message, "subject"))
            self._envelope(envelope, depth)
            pending = [message]
            while pending:  # a list, not recursion: multiparts may nest deep within one email
                part = pending.pop(0)
                kind = part.get_content_type()
                if kind == "message/rfc822":
                    inner = part.get_payload()
                    inner = inner[0] if isinstance(inner, list) and inner else inner
                    if not hasattr(inner, "get_content_type"):
                        self._unreadable(where, "an attached email is empty")
                        continue
                    self._count()
                    name = _safe_name(part.get_filename() or f"{_header(inner, 'subject') or 'attached email'}.eml")
                    self.reading.emails.append(f"{where}{SEPARATOR}{name}")
                    self._mime(f"{where}{SEPARATOR}{name}", inner, self._deeper(depth))
                elif part.is_multipart():
                    pending[:0] = list(part.iter_parts())
                elif part.get_filename() is None and part.get_content_disposition() != "attachment" \
                        and part.get_content_maintype() in ("text", "multipart"):
                    continue  # the body
                else:
                    content = part.get_payload(decode=True) or b""
                    filename = part.get_filename() or _header(part, "content-description")
                    self._attachment(where, filename, content, kind, envelope, depth)
        except RecursionError:
            raise _Refused(problem(Code.EMAIL_TOO_DEEP, self.file, limit=MAX_DEPTH)) from None
        except DAMAGED as exc:
            self._unreadable(where, type(exc).__name__)

    # Outlook (.msg).

    def _outlook(self, where: str, content: bytes, depth: int) -> None:
        import extract_msg  # heavy: loaded only when needed

        try:
            message = extract_msg.openMsg(content)
        except Exception as exc:  # extract-msg and olefile raise many unrelated types for a file they cannot read
            self._unreadable(where, _reason(exc))
            return
        try:
            self._outlook_message(where, message, depth)
        finally:
            message.close()

    def _outlook_message(self, where: str, message, depth: int) -> None:
        from extract_msg.enums import AttachmentType  # heavy: loaded only when needed

        try:
            envelope = Envelope(*_sender(_clean(getattr(message, "sender", ""))), _when(getattr(message, "date", None)),
                                _clean(getattr(message, "subject", "")))
            attachments = list(getattr(message, "attachments", ()))
        except Exception as exc:  # a damaged property stream: extract-msg raises many unrelated types
            self._unreadable(where, _reason(exc))
            return
        self._envelope(envelope, depth)
        for number, attachment in enumerate(attachments, start=1):
            try:
                filename = (getattr(attachment, "longFilename", None) or getattr(attachment, "shortFilename", None)
                            or getattr(attachment, "displayName", None) or "")
                kind, data = attachment.type, attachment.data
            except Exception as exc:  # as above
                self._unreadable(f"{where}{SEPARATOR}attachment {number}", _reason(exc))
                continue
            if kind == AttachmentType.MSG and data is not None and hasattr(data, "attachments"):
                self._count()
                name = _safe_name(filename or f"{_clean(getattr(data, 'subject', '')) or 'attached email'}.msg")
                self.reading.emails.append(f"{where}{SEPARATOR}{name}")
                self._outlook_message(f"{where}{SEPARATOR}{name}", data, self._deeper(depth))
            elif isinstance(data, bytes):
                mimetype = str(getattr(attachment, "mimetype", "") or "")
                self._attachment(where, _clean(filename), data, mimetype, envelope, depth)
            else:
                self._count()
                self.reading.others.append((f"{where}{SEPARATOR}{_safe_name(filename or f'attachment {number}')}",
                                            "an attachment of a kind bva does not open"))

    # Either.

    def _count(self) -> None:
        self.attachments += 1
        if self.attachments > MAX_ATTACHMENTS:
            raise _Refused(problem(Code.EMAIL_TOO_MANY_ATTACHMENTS, self.file, limit=MAX_ATTACHMENTS))

    def _deeper(self, depth: int) -> int:
        if depth + 1 > MAX_DEPTH:
            raise _Refused(problem(Code.EMAIL_TOO_DEEP, self.file, limit=MAX_DEPTH))
        return depth + 1

    def _attachment(self, where: str, filename: str, content: bytes, kind: str, envelope: Envelope,
                    depth: int) -> None:
        self._count()
        filename = _safe_name(filename or f"attachment {self.attachments}{SPREADSHEET_TYPES.get(kind, '')}")
        name = f"{where}{SEPARATOR}{filename}"
        suffix = Path(filename).suffix.lower()
        if content[:4] == ZIP_START and _holds_a_workbook(content):  # a workbook by its bytes, whatever its name
            self.reading.workbooks.append(AttachedWorkbook(name, filename, content, envelope))
        elif suffix in EMAIL_SUFFIXES or kind == "message/rfc822":
            self.reading.emails.append(name)
            self.open(name, content, ".msg" if suffix == ".msg" else ".eml", self._deeper(depth))
        elif suffix in WORKBOOK_SUFFIXES or kind in SPREADSHEET_TYPES:
            self.reading.workbooks.append(AttachedWorkbook(name, filename, content, envelope))
        else:
            self.reading.others.append((name, _what(suffix, content, kind)))


def _what(suffix: str, content: bytes, kind: str) -> str:
    """What an attachment that is not a workbook is, for the list of what was skipped."""
    found = sniff(content[:512])
    if found:
        return found
    if kind.startswith("image/"):
        return "a picture"
    if suffix in (".doc", ".docx"):
        return "a Word document"
    return f"a {suffix} file" if suffix else "a file with no extension"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def _clean(value) -> str:
    """Header text on one line, no control characters, cut to a sensible length."""
    text = " ".join(str(value or "").split())
    text = "".join(c for c in text if c.isprintable())
    return text[:HEADER_CHARS]


def _header(message, name: str) -> str:
    try:
        return _clean(message.get(name, ""))
    except DAMAGED:  # a header damaged beyond what the parser could keep: the raw text
        raw = next((value for key, value in message.raw_items() if key.lower() == name), "")
        return _clean(raw)


def _sender(text: str) -> tuple[str, str]:
    """(the sender as written, their address in lower case or '' if the text holds none)."""
    _, address = parseaddr(text)
    return text, address.lower() if "@" in address else ""


def _when(value) -> str:
    """An email's date (a header's text or a datetime) as local time, ISO, to the second; '' if none."""
    if isinstance(value, str):
        try:
            value = parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError, IndexError, OverflowError):
            return ""
    if not isinstance(value, dt.datetime):
        return ""
    try:
        if value.tzinfo is not None:
            value = value.astimezone().replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return ""
    return value.replace(microsecond=0).isoformat()


def _safe_name(name: str) -> str:
    """An attachment's name as shown: no folders, no control characters."""
    name = re.split(r"[\\/]", _clean(name))[-1].strip()
    return name or "attachment"


def _reason(exc: Exception) -> str:
    return _clean(str(exc))[:120] or type(exc).__name__
