"""Reminders: `bva chase` drafts a reminder to everyone whose return is missing or incomplete, names what is
outstanding and the deadline, and remembers it, so the next chase says "second reminder"."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from click.testing import CliRunner
from conftest import answer, refs_of

from bva_excel.app.ingest import ingest
from bva_excel.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_chase_reminds_the_missing_and_the_incomplete_and_the_next_chase_is_a_second_reminder(assessment):
    issued = run("issue", "review", assessment.folder, "--deadline", "2026-12-18")
    assert issued.exit_code == 0, issued.output
    outbox = assessment.outbox
    issues = {issue.reviewer_id: issue for issue in assessment.records.issues()}
    r01, r02 = list(issues["R01"].refs), list(issues["R02"].refs)
    answer(outbox / issues["R01"].file, assessment.inbox / "R01.xlsx", {r01[0]: ("Light green", "Fine.", "")})
    answer(outbox / issues["R02"].file, assessment.inbox / "R02.xlsx", {ref: ("Amber", "Gaps.", "") for ref in r02})
    ingest(assessment)

    first = run("chase", assessment.folder, "--return-to", "bestvalue@council.gov.uk")

    assert first.exit_code == 0, first.output
    assert first.output == (
        f"Drafted 2 reminders in {outbox} (open each .eml, check it and send it):\n"
        f"  R01 Ann Lee: 1 of the {len(r01)} characteristics in it is not scored yet ({', '.join(r01[1:])}) (first "
        "reminder)  BV review R01 Ann Lee (reminder 1).eml\n"
        "  R03 Cai Wyn: no return has been received yet (first reminder)  BV review R03 Cai Wyn (reminder 1).eml\n"
        "Not chased, complete: R02 Bob Stone.\n")
    draft = email.message_from_bytes((outbox / "BV review R03 Cai Wyn (reminder 1).eml").read_bytes(),
                                     policy=email.policy.default)
    assert (draft["X-Unsent"], draft["To"], draft["Subject"]) == (
        "1", "Cai Wyn <cai@example.gov.uk>", "Reminder: Test assessment, your review workbook, due Friday 18 December "
                                             "2026")
    body = draft.get_body(("plain",)).get_content()
    tense = "was" if dt.date.today() > dt.date(2026, 12, 18) else "is"  # said as the deadline stands today
    assert f"no return has been received yet. It {tense} due by Friday 18 December 2026." in body
    assert "please ask bestvalue@council.gov.uk" in body
    assert next(draft.iter_attachments()).get_content() == (outbox / issues["R03"].file).read_bytes()

    second = run("chase", assessment.folder)

    assert "  R03 Cai Wyn: no return has been received yet (second reminder)  BV review R03 Cai Wyn (reminder " \
           "2).eml\n" in second.output
    again = email.message_from_bytes((outbox / "BV review R03 Cai Wyn (reminder 2).eml").read_bytes(),
                                     policy=email.policy.default)
    assert again["Subject"].startswith("Second reminder: Test assessment")
    assert [(r.recipient, r.kind) for r in assessment.records.reminders()] == [("R01", "review"), ("R03", "review")] * 2


def test_chase_when_everything_is_back_or_nothing_was_issued(generated):
    assessment, generation = generated
    for reviewer_id, path in generation.files.items():
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx",
               {ref: ("Light green", "Fine.", "") for ref in refs_of(generation, reviewer_id)})
    ingest(assessment)

    done = run("chase", assessment.folder)
    progress = run("chase", assessment.folder, "--kind", "progress")

    assert (done.exit_code, done.output) == (0, "Nobody to chase: every review workbook issued has come back complete.\n")
    assert progress.exit_code == 1
    assert progress.output == ("error: no progress workbook has been issued, so there is nobody to chase. Issue them "
                               "first (bva issue progress FOLDER), or choose another round with --kind.\n")
    assert list(assessment.outbox.glob("*.eml")) == []


def test_a_reminder_before_the_deadline_says_it_is_due_and_after_it_that_it_was():
    from bva_excel.excel.write.drafts import _due

    ahead = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    behind = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    assert _due(ahead, "then") == "It is due by then."
    assert _due(behind, "then") == "It was due by then."


def test_a_reviewer_whose_return_was_refused_is_told_so_not_that_nothing_came(generated):
    assessment, generation = generated
    refs = refs_of(generation, "R01")
    answer(generation.files["R01"], assessment.inbox / "R01.xlsx", {refs[0]: ("Ambr", "Typo.", "")})
    assert ingest(assessment).count("rejected") == 1

    chased = run("chase", assessment.folder)

    [line] = [line for line in chased.output.splitlines() if line.startswith("  R01 ")]
    assert "the return received was refused (the PMO can say why)" in line
    [other] = [line for line in chased.output.splitlines() if line.startswith("  R02 ")]
    assert "no return has been received yet" in other


def test_a_moderator_sent_another_workbook_is_chased_for_it_though_the_first_came_back(tmp_path):
    from bva_excel.app.demo import run_demo

    folder = run_demo(tmp_path / "demo").assessment.folder  # R06 and R08 moderated, and returned it
    assert "Nobody to chase" in run("chase", folder, "--kind", "moderation").output
    assert run("issue", "moderation", folder, "--moderators", "R02,R04,R06,R08", "--all").exit_code == 0

    chased = run("chase", folder, "--kind", "moderation")

    lines = {line.split(":")[0].strip(): line for line in chased.output.splitlines() if line.startswith("  R")}
    assert {who.split()[0] for who in lines} == {"R02", "R04", "R06", "R08"}, chased.output
    assert "no return of this workbook has been received yet" in lines[next(w for w in lines if w.startswith("R06"))]
    assert "no return has been received yet" in lines[next(w for w in lines if w.startswith("R02"))]
