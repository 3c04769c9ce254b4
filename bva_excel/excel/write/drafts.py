"""Draft emails, ready to send: one per workbook issued, or a reminder for a return still outstanding.

A draft is an `.eml` marked unsent (`X-Unsent: 1`), so Outlook opens it as a new message with its To, subject, text
and attachment filled in, ready for Send; Thunderbird opens it too (Edit as new). The words are plain text, short,
and the same for everyone: what to do, by when, whom to ask, and what not to change in the workbook.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from bva_excel.store.files import replacing

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# An address as people type it in a cell: one local part, one domain with a dot, nothing that could start
# another header or another recipient.
ADDRESS = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\.]+")

WHAT_TO_DO = {
    "review": ("your review workbook",
               "For each characteristic listed, please read the position statement, look at the evidence, choose a "
               "score from the dropdown and write a commentary that justifies it, with any gaps or further areas "
               "to address."),
    "moderation": ("your moderation workbook",
                   "For each characteristic listed, please read the reviewers' scores and commentaries and the "
                   "findings, and give the moderated score with your reasons where it should differ."),
    "progress": ("the progress workbook for {name}",
                 "For each action listed, please give its status, what progress has been made, and a revised "
                 "target date if the original one will not be met."),
}
CARE = ("Only the coloured cells can be changed. Please do not rename the sheets, insert or delete rows or columns, "
        "or copy the answers into another file: the workbook is read back as it was sent.")


@dataclass(frozen=True)
class Recipient:
    """Whom a draft is to: their name, and their address as listed ('' or unusable if none)."""

    name: str
    address: str
    area: str = ""  # the service area, for a progress workbook

    @property
    def usable_address(self) -> str:
        text = self.address.strip()
        return text if ADDRESS.fullmatch(text) else ""


def _one_line(text: str) -> str:
    """Header text as one printable line (a name typed in a cell may hold a line break)."""
    return "".join(c for c in " ".join(str(text).split()) if c.isprintable())


def _by_when(deadline: str) -> str:
    if not deadline:
        return ""
    try:
        day = dt.date.fromisoformat(deadline)
    except ValueError:
        return deadline
    return f"{day:%A} {day.day} {day:%B %Y}"


def _due(deadline: str, when: str) -> str:
    """'It was due by ...' once the deadline has passed, else 'It is due by ...'."""
    try:
        passed = dt.date.fromisoformat(deadline) < dt.date.today()
    except ValueError:
        passed = False
    return f"It {'was' if passed else 'is'} due by {when}."


def compose(recipient: Recipient, kind: str, title: str, deadline: str, pmo: str, workbook: Path | None,
            reminder: int = 0, outstanding: str = "") -> EmailMessage:
    """The draft for one recipient: `reminder` 0 for the workbook as issued, else which reminder it is (1, 2, ...),
    saying what is `outstanding`. `workbook` is attached (a reminder may have none to attach)."""
    what, task = WHAT_TO_DO[kind]
    what = what.format(name=recipient.area or recipient.name)
    when = _by_when(deadline)
    message = EmailMessage(policy=policy.SMTP.clone(max_line_length=200))  # a subject on one line, where it fits
    message["X-Unsent"] = "1"  # Outlook opens it as a message to send, not as one received
    address = recipient.usable_address
    if address:
        message["To"] = Address(_one_line(recipient.name), addr_spec=address) if recipient.name.strip() else address
    title = _one_line(title)
    if reminder:
        nth = {1: "Reminder", 2: "Second reminder", 3: "Third reminder"}.get(reminder, f"Reminder {reminder}")
        subject = f"{nth}: {title}, {what}" + (f", due {when}" if when else "")
    else:
        subject = f"{title}: {what}" + (f", to return by {when}" if when else "")
    message["Subject"] = _one_line(subject)
    name = _one_line(recipient.name) or "colleague"
    lines = [f"Dear {name},", ""]
    if reminder:
        lines += [f"This is a {nth.lower()} about {what} for {title}: {outstanding}."
                  + (f" {_due(deadline, when)}" if when else "")
                  + (" Your answers already returned are kept: only what is outstanding is needed."
                     if outstanding and "not scored yet" in outstanding else ""), "", task,
                  "", "Please reply to this email with the workbook attached as soon as you can"
                  + (" (it is attached again here, in case you need it)." if workbook else ".")]
    else:
        lines += [f"Please find attached {what} for {title}.", "", task,
                  "", f"Please reply to this email with the workbook attached by {when}." if when else
                  "Please reply to this email with the workbook attached."]
    lines += ["", CARE, "", f"If you have any questions, please ask {_one_line(pmo)}.", "", "Thank you."]
    message.set_content("\n".join(line for i, line in enumerate(lines) if line or lines[i - 1]) + "\n")
    if workbook is not None:
        message.add_attachment(workbook.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                               filename=workbook.name)
    return message


def write_draft(path: Path, message: EmailMessage) -> Path:
    """Write a draft whole or not at all."""
    with replacing(path) as temp:
        temp.write_bytes(message.as_bytes())
    return path
