"""Drafts out: with --emails, each workbook issued comes with a draft email in the outbox, ready to open and send,
and the round trips: the draft's attachment, filled in and sent back in a reply saved as .eml, is ingested."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FOLDER, REVIEWERS, answer, make_framework
from progress_helpers import (  # noqa: F401  (fixtures)
    _flagged_once,
    fill_progress,
    flagged,
    planned,
)
from test_emails_in import mail, save

from bva_excel.app.ingest import ingest
from bva_excel.app.new import create_assessment
from bva_excel.cli import cli

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def opened(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def attachment(draft: email.message.EmailMessage) -> tuple[str, str, bytes]:
    part = next(draft.iter_attachments())
    return part.get_content_type(), part.get_filename(), part.get_content()


def test_issue_review_with_emails_writes_a_draft_per_reviewer_that_round_trips_through_ingest(assessment, tmp_path):
    result = run("issue", "review", assessment.folder, "--deadline", "2026-12-18", "--return-to",
                 "bestvalue@council.gov.uk", "--emails")

    assert result.exit_code == 0, result.output
    assert "Wrote 3 draft emails beside the workbooks (open each .eml, check it and send it).\n" in result.output
    draft = opened(assessment.outbox / "BV review R01 Ann Lee.eml")
    assert draft["X-Unsent"] == "1"
    assert draft["To"] == "Ann Lee <ann@example.gov.uk>"
    assert draft["Subject"] == "Test assessment: your review workbook, to return by Friday 18 December 2026"
    body = draft.get_body(("plain",)).get_content()
    for words in ("Dear Ann Lee,", "by Friday 18 December 2026", "please ask bestvalue@council.gov.uk",
                  "Only the coloured cells can be changed", "do not rename the sheets, insert or delete rows"):
        assert words in body
    kind, name, content = attachment(draft)
    assert (kind, name) == (XLSX, "BV review R01 Ann Lee.xlsx")
    assert content == (assessment.outbox / "BV review R01 Ann Lee.xlsx").read_bytes()

    # Ann opens the draft's workbook, fills it in and replies with it attached; the reply is saved into the inbox.
    received = tmp_path / "BV review R01 Ann Lee.xlsx"
    received.write_bytes(content)
    refs = refs_of_outbox(assessment, "R01")
    filled = answer(received, tmp_path / "filled.xlsx", {ref: ("Light green", "Sound.", "") for ref in refs})
    save(mail("Ann Lee <ann@example.gov.uk>", f"RE: {draft['Subject']}", [(name, filled.read_bytes())]),
         assessment.inbox / "RE_ review.eml")

    report = ingest(assessment)

    assert [(o.name, o.status, o.answered, [p.code for p in o.problems]) for o in report.outcomes] == [
        ("RE_ review.eml › BV review R01 Ann Lee.xlsx", "accepted", len(refs), [])]


def refs_of_outbox(assessment, reviewer_id: str) -> list[str]:
    return [ref for issue in assessment.records.issues() if issue.reviewer_id == reviewer_id for ref in issue.refs]


def test_a_reviewer_with_no_address_is_listed_their_workbook_written_and_only_new_workbooks_get_drafts(tmp_path):
    reviewers = [row[:2] + [""] + row[3:] if row[0] == "R02" else row for row in REVIEWERS]
    framework = make_framework(tmp_path / "framework.xlsx", reviewers=reviewers)
    created = create_assessment(tmp_path / FOLDER, framework, "Test assessment")
    created.records.close()

    result = run("generate", tmp_path / FOLDER, "--emails")

    assert result.exit_code == 0, result.output
    assert ("  warning: no email address for R02 Bob Stone: their workbook is written and their draft has no "
            "recipient. Type the address in the draft, and on 'Reviewers' for next time.\n") in result.output
    outbox = tmp_path / FOLDER / "outbox"
    assert (outbox / "BV review R02 Bob Stone.xlsx").is_file()
    assert opened(outbox / "BV review R02 Bob Stone.eml")["To"] is None
    assert opened(outbox / "BV review R03 Cai Wyn.eml")["Subject"] == "Test assessment: your review workbook"

    for draft in outbox.glob("*.eml"):
        draft.unlink()
    again = run("generate", tmp_path / FOLDER, "--emails")  # nothing changed: no workbook, so no draft

    assert again.exit_code == 0
    assert "draft email" not in again.output
    assert list(outbox.glob("*.eml")) == []


def test_issue_progress_with_emails_drafts_to_the_head_of_service_and_a_reply_from_elsewhere_is_a_warning(planned):
    assessment, _ = planned

    result = run("issue", "progress", assessment.folder, "--deadline", "2027-01-15", "--emails")

    assert result.exit_code == 0, result.output
    draft = opened(assessment.outbox / "BV progress Finance.eml")
    assert (draft["To"], draft["Subject"]) == (
        "Fay Green <fay@example.gov.uk>", "Test assessment: the progress workbook for Finance, to return by "
        "Friday 15 January 2027")
    kind, name, content = attachment(draft)
    workbook = assessment.outbox / name
    assert (kind, content) == (XLSX, workbook.read_bytes())
    filled = fill_progress(workbook, assessment.folder.parent / "filled.xlsx",
                           {"ACT-CI001": ("In progress", "Drafted.", None)}, dt.datetime(2027, 1, 6, 9, 0))
    save(mail("Someone Else <someone@example.gov.uk>", "RE: progress", [(name, filled.read_bytes())]),
         assessment.inbox / "RE_ progress.eml")

    report = ingest(assessment)

    outcome = next(o for o in report.outcomes if o.name.startswith("RE_ progress.eml"))
    assert (outcome.name, outcome.status) == ("RE_ progress.eml › BV progress Finance.xlsx", "accepted")
    assert [str(p) for p in outcome.problems if p.code == "EMAIL_SENDER_NOT_ISSUED"] == [
        "RE_ progress.eml › BV progress Finance.xlsx: the email it came with was sent by Someone Else "
        "<someone@example.gov.uk>, but the workbook was issued to Fay Green (fay@example.gov.uk); its answers are "
        "credited to Fay Green. If Someone Else <someone@example.gov.uk> sent it for Fay Green (forwarded it, or "
        "sent it from another address), nothing to do; if not, ask Fay Green whether these are their answers."]


@pytest.mark.parametrize("address", ["bob@example.gov.uk\nBcc: all@example.gov.uk", "not an address"])
def test_an_address_that_is_not_one_gives_a_draft_with_no_recipient_never_a_header_of_its_own(tmp_path, address):
    from bva_excel.excel.write.drafts import Recipient, compose

    workbook = tmp_path / "w.xlsx"
    workbook.write_bytes(b"PK")
    message = compose(Recipient("Bob\r\nBcc: x@y.z", address), "review", "BV", "", "the PMO", workbook)

    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert (parsed["To"], parsed["Bcc"]) == (None, None)
    assert "Dear Bob Bcc: x@y.z," in parsed.get_body(("plain",)).get_content()
