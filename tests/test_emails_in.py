"""Returns straight from saved emails: the workbook attached to an .eml or an Outlook .msg in the inbox, however
deeply forwarded, is read as a return, with the email's sender, date and subject kept; everything else gets an
answer; hostile emails are refused, never a crash or a hang. The real samples are in tests/data/email/."""

from __future__ import annotations

import email.message
import email.policy
import shutil
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer, refs_of

from bva_excel.app.ingest import ingest
from bva_excel.app.report import write_report
from bva_excel.cli import cli
from bva_excel.excel.read import emails, screening

SAMPLES = Path(__file__).parent / "data" / "email"
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def filled(generation, reviewer_id: str, target: Path, rating: str = "Light green") -> Path:
    return answer(generation.files[reviewer_id], target,
                  {ref: (rating, f"{reviewer_id} on {ref}", "") for ref in refs_of(generation, reviewer_id)})


def mail(sender: str, subject: str, attachments=(), body: str = "Here it is.",
         date: str = "Mon, 07 Dec 2026 10:02:00 +0000") -> email.message.EmailMessage:
    """An email as a mail client saves it; `attachments`: (name, bytes) or an email to attach as forwarded."""
    message = email.message.EmailMessage(policy=email.policy.default)
    message["From"], message["To"], message["Subject"], message["Date"] = sender, "pmo@example.gov.uk", subject, date
    message.set_content(body)
    for attached in attachments:
        if isinstance(attached, email.message.EmailMessage):
            message.add_attachment(attached)  # message/rfc822: a forwarded email
        else:
            name, content = attached
            maintype, subtype = XLSX if name.endswith(".xlsx") else ("application", "octet-stream")
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


def save(message: email.message.EmailMessage, path: Path) -> Path:
    path.write_bytes(message.as_bytes())
    return path


def lines(report) -> dict[str, tuple[str, list[str]]]:
    return {o.name: (o.status, [p.code for p in o.problems]) for o in report.outcomes}


def test_a_workbook_attached_to_an_eml_is_ingested_with_the_email_kept_on_returns(generated, tmp_path):
    assessment, generation = generated
    workbook = filled(generation, "R01", tmp_path / "R01 return.xlsx")
    save(mail("Ann Lee <Ann@example.gov.uk>", "RE: Best Value review", [("R01 return.xlsx", workbook.read_bytes())]),
         assessment.inbox / "RE_ review.eml")

    report = ingest(assessment)

    assert lines(report) == {"RE_ review.eml › R01 return.xlsx": ("accepted", [])}
    record = assessment.records.returns()[-1]
    assert (record.reviewer_id, record.answered, record.issued) == ("R01", len(refs_of(generation, "R01")),
                                                                    len(refs_of(generation, "R01")))
    assert (record.email_from, record.email_subject) == ("Ann Lee <Ann@example.gov.uk>", "RE: Best Value review")
    assert record.email_date.startswith("2026-12-07")
    # Kept in the archive like any return: the bytes of the attachment itself.
    assert (assessment.folder / record.archive).read_bytes() == workbook.read_bytes()

    written = write_report(assessment).path
    sheet = openpyxl.load_workbook(written)["Returns"]
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "RE_ review.eml › R01 return.xlsx")
    assert row[headers.index("From email")] == ('Ann Lee <Ann@example.gov.uk>, sent '
                                                f'{record.email_date.replace("T", " ")}, "RE: Best Value review"')

    again = ingest(assessment)  # the same email again changes nothing
    assert lines(again) == {"RE_ review.eml › R01 return.xlsx": ("unchanged", ["ALREADY_INGESTED"])}
    assert len(assessment.records.returns()) == 1


def test_a_return_forwarded_twice_is_found_two_emails_deep_and_a_stranger_sending_it_is_a_warning(generated, tmp_path):
    assessment, generation = generated
    workbook = filled(generation, "R02", tmp_path / "mine.xlsx")
    original = mail("Bob Stone <bob.stone@home.example>", "Review done", [("mine.xlsx", workbook.read_bytes())])
    forwarded = mail("Deputy <deputy@example.gov.uk>", "FW: Review done", [original])
    outer = mail("Office <office@example.gov.uk>", "FW: FW: Review done", [forwarded])
    save(outer, assessment.inbox / "fwd.eml")

    report = ingest(assessment)

    name = "fwd.eml › FW_ Review done.eml › Review done.eml › mine.xlsx".replace("FW_", "FW:")
    assert lines(report) == {name: ("accepted", ["EMAIL_SENDER_NOT_ISSUED"])}
    warning = report.outcomes[0].problems[0]
    assert str(warning) == (f"{name}: the email it came with was sent by Bob Stone <bob.stone@home.example>, but the "
                            "workbook was issued to Bob Stone (bob@example.gov.uk); its answers are credited to Bob "
                            "Stone. If Bob Stone <bob.stone@home.example> sent it for Bob Stone (forwarded it, or sent "
                            "it from another address), nothing to do; if not, ask Bob Stone whether these are their "
                            "answers.")
    # The email that carried the workbook is its provenance: the reviewer's, not the forwarders'.
    assert assessment.records.returns()[-1].email_subject == "Review done"


def test_an_email_with_no_workbook_gets_a_clear_answer_listing_what_it_holds(generated):
    assessment, _ = generated
    save(mail("Ann Lee <ann@example.gov.uk>", "Photos", [("site.png", b"\x89PNG\r\n\x1a\n" + bytes(50)),
                                                        ("minutes.pdf", b"%PDF-1.7\n")]), assessment.inbox / "photos.eml")

    result = run("ingest", assessment.folder)

    assert result.exit_code == 0
    assert ("skipped    photos.eml\n"
            "  warning: photos.eml: no workbook is attached to this email; attached: site.png (a PNG picture), "
            "minutes.pdf (a PDF document). If a return was meant to come with it, ask the sender to send the workbook "
            "attached; otherwise move the email out of the inbox.\n") in result.output
    assert "skipped    photos.eml › minutes.pdf\n" in result.output


def test_every_real_saved_email_gets_an_answer(generated):
    assessment, _ = generated
    for sample in sorted(SAMPLES.glob("*.*")):
        if sample.suffix in (".msg", ".eml"):
            shutil.copy(sample, assessment.inbox / sample.name)

    report = ingest(assessment)
    found = lines(report)

    # The .xlsx attached to an Outlook email is screened and refused: it is not a return.
    assert found["EmailWith2Attachments.msg › Installatiehandleiding S&I Agro.xlsx"] == ("rejected", ["RETURN_NOT_ISSUED"])
    assert found["EmailWith2Attachments.msg › Installatie handleiding.docx"] == ("skipped", ["FILE_SKIPPED"])
    assert found["EmailWithAttachments.msg"] == ("skipped", ["EMAIL_NO_WORKBOOK"])
    assert found["EmailWithAttachments.msg › peterpan.jpg"] == ("skipped", ["FILE_SKIPPED"])
    # The email embedded in another is opened: its attachments are listed under it.
    assert any(name.startswith("EmailWithInnerMailAndAttachments.msg › ") and name.count("›") == 2 for name in found)
    assert found["EmailWithInnerMailAndAttachments.msg › OUTER 1.pdf"] == ("skipped", ["FILE_SKIPPED"])
    for plain in ("TxtSampleEmail.msg", "sender_not_found_from_exchange.msg", "EmailWithISO_8859_1_From.eml",
                  "EmailWithMsgAttachment.msg"):
        assert found[plain] == ("skipped", ["EMAIL_NO_WORKBOOK"])
    assert not [name for name, (status, _) in found.items() if status == "accepted"]


def test_hostile_emails_are_refused_with_a_message_and_the_good_one_beside_them_is_read(generated, tmp_path,
                                                                                       monkeypatch):
    assessment, generation = generated
    good = filled(generation, "R03", tmp_path / "R03.xlsx").read_bytes()
    inbox = assessment.inbox
    save(mail("a@example.org", "many", [(f"f{n}.txt", b"x") for n in range(1000)]), inbox / "thousand.eml")
    deep = mail("cai@example.gov.uk", "inside", [("R03.xlsx", good)])
    for level in range(50):
        deep = mail("cai@example.gov.uk", f"level {level}", [deep])
    save(deep, inbox / "deep.eml")
    (inbox / "broken.eml").write_bytes(b"Content-Type: multipart/mixed; boundary=\"x\"\n\n--x\nContent-Type: "
                                       b"message/rfc822\n\n--x\nContent-Type: text/plain; name==?utf-8?q?\xff\n"
                                       b"Content-Transfer-Encoding: base64\n\n!!!!\n--x")
    (inbox / "noise.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000))
    monkeypatch.setattr(emails, "MAX_EMAIL_BYTES", 3 * 1024 * 1024)  # what 'huge' means, made small to stay quick
    save(mail("a@example.org", "huge", [("big.xlsx", bytes(3 * 1024 * 1024))]), inbox / "huge.eml")
    monkeypatch.setattr(screening, "MAX_FILE_BYTES", 1024 * 1024)  # and each attachment has a return's limit
    save(mail("a@example.org", "large", [("large.xlsx", b"PK" + bytes(1100 * 1024))]), inbox / "large.eml")
    save(mail("Cai Wyn <cai@example.gov.uk>", "RE: review", [("R03.xlsx", good)]), inbox / "good.eml")

    started = time.monotonic()
    report = ingest(assessment)
    assert time.monotonic() - started < 20

    found = lines(report)
    assert found["thousand.eml"] == ("rejected", ["EMAIL_TOO_MANY_ATTACHMENTS"])
    assert found["deep.eml"] == ("rejected", ["EMAIL_TOO_DEEP"])
    assert found["huge.eml"] == ("rejected", ["EMAIL_TOO_LARGE"])
    assert found["large.eml › large.xlsx"] == ("rejected", ["RETURN_TOO_LARGE"])
    assert found["noise.msg"] == ("rejected", ["EMAIL_UNREADABLE"])
    assert found["broken.eml"] == ("skipped", ["EMAIL_NO_WORKBOOK"])  # damaged, but what it holds is said
    assert found["good.eml › R03.xlsx"] == ("accepted", [])
    assert str(report.outcomes[[o.name for o in report.outcomes].index("deep.eml")].problems[0]) == (
        "deep.eml: refused unread: it nests emails in emails more than 10 deep. Open it in your email program and "
        "save the workbook attached to it into the inbox.")


def test_a_zip_bomb_attached_as_a_workbook_is_refused_by_the_screening(generated, tmp_path):
    import zipfile

    assessment, _ = generated
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<a/>")
        archive.writestr("xl/worksheets/sheet1.xml", bytes(60 * 1024 * 1024))
    save(mail("a@example.org", "bomb", [("bomb.xlsx", bomb.read_bytes())]), assessment.inbox / "bomb.eml")

    found = lines(ingest(assessment))

    assert found["bomb.eml › bomb.xlsx"] == ("rejected", ["RETURN_BOMB"])


@pytest.mark.parametrize("suffix", [".eml", ".msg"])
def test_the_cli_names_the_attachment_inside_the_email(generated, tmp_path, suffix):
    assessment, generation = generated
    if suffix == ".eml":
        save(mail("Ann Lee <ann@example.gov.uk>", "RE", [("R01.xlsx", b"not a workbook at all")]),
             assessment.inbox / "RE.eml")
        expected = "rejected   RE.eml › R01.xlsx\n"
    else:
        shutil.copy(SAMPLES / "EmailWith2Attachments.msg", assessment.inbox / "RE.msg")
        expected = "rejected   RE.msg › Installatiehandleiding S&I Agro.xlsx\n"

    result = run("ingest", assessment.folder)

    assert result.exit_code == 1
    assert expected in result.output


def test_a_workbook_is_known_by_its_bytes_under_any_name_in_the_inbox_or_in_an_email(generated, tmp_path):
    """Saved with no extension, as '.eml', or attached as 'BV return' of no known type: still read as a return."""
    assessment, generation = generated
    paths = sorted(generation.files.items())
    filled = []
    for reviewer_id, path in paths[:3]:
        target = tmp_path / f"{reviewer_id}.xlsx"
        answer(path, target, {ref: ("Amber", "Seen.", "") for ref, ids in generation.allocation.items()
                              if reviewer_id in ids})
        filled.append(target)
    (assessment.inbox / "BV return R01").write_bytes(filled[0].read_bytes())
    (assessment.inbox / "return.eml").write_bytes(filled[1].read_bytes())
    save(mail("a@example.org", "octet", [("BV return", filled[2].read_bytes())]), assessment.inbox / "octet.eml")
    result = run("ingest", assessment.folder)
    assert result.exit_code == 0, result.output
    assert "accepted   BV return R01" in result.output
    assert "accepted   return.eml" in result.output
    assert "accepted   octet.eml › BV return" in result.output
    assert "not a workbook" not in result.output and "no workbook is attached" not in result.output
