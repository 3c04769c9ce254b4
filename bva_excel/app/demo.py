"""A whole exercise on sample data: the README's first command, and a realistic test bed.

Sample reviewers and statements go into a new assessment, two reviewers to a characteristic;
reviewers' returns are simulated the way real ones arrive (mostly light green, a few disagreements, a
kind reviewer and a harsh one, one reviewer late, one resend, one file with a typo in a score, a lock
file and a stray PDF in the inbox); then a moderation round by two officers, a sign-off, and an action
plan typed in as the PMO would after committee (owners, service areas, dates, one action overdue).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import secrets
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bva_excel.app.ingest import IngestReport, ingest
from bva_excel.app.issue import generate
from bva_excel.app.moderation_round import ModerationRound, generate_moderation
from bva_excel.app.new import create_assessment
from bva_excel.app.report import ReportResult, write_report
from bva_excel.app.signoff import SignOffResult, sign_off
from bva_excel.errors import BvaError, Code
from bva_excel.layout import ACTION_HEADERS, REVIEW_SHEET
from bva_excel.store.files import move_over, replacing
from bva_excel.store.folder import Assessment, is_demo

REVIEWERS = [
    ("R01", "Aisha Khan", "aisha.khan@example.gov.uk", "Finance"),
    ("R02", "Tom Whitfield", "tom.whitfield@example.gov.uk", "Legal and Democratic Services"),
    ("R03", "Siân Roberts", "sian.roberts@example.gov.uk", "Housing"),
    ("R04", "Grzegorz Nowak", "grzegorz.nowak@example.gov.uk", "Environment"),
    ("R05", "Helen O'Connor", "helen.oconnor@example.gov.uk", "Adult Social Care"),
    ("R06", "David Mensah", "david.mensah@example.gov.uk", "Children's Services"),
    ("R07", "Priya Patel", "priya.patel@example.gov.uk", "Customer Services"),
    ("R08", "Mark Ellis", "mark.ellis@example.gov.uk", "Human Resources"),
]
# Drafters by theme: heads of service draft, and so may not review, their own statements.
DRAFTERS = {"Continuous improvement": "R07", "Leadership": "Chief Executive's Office",
            "Governance": "Tom Whitfield", "Culture": "R08", "Use of resources": "R01",
            "Service delivery": "R07", "Partnerships and community engagement": "Siân Roberts"}
OUTSIDE_CONTROL = {"L010", "C009"}  # electoral cycle, relations between political groups
DOUBLE_REVIEWED = ["CI003", "L005", "G002", "G006", "C004", "R003", "R005", "R007", "SD006", "PCE003"]
STRENGTHS = ["a clear framework is in place and reported to members each quarter",
             "the approach was endorsed by the last peer challenge",
             "officers could point to recent examples and minutes",
             "the policy was refreshed this year and is widely understood"]
GAPS = ["evidence of impact is thin outside the larger services",
        "the action plan has no owners or dates yet",
        "monitoring stopped after the restructure and needs restarting",
        "members are not yet sighted on progress",
        "the approach is new and not yet embedded"]
LEVELS = ["Dark green", "Light green", "Yellow", "Amber"]
SERVICE_AREAS = [
    ("Policy and Performance", "Rachel Adeyemi", "rachel.adeyemi@example.gov.uk"),
    ("Legal and Democratic Services", "Tom Whitfield", "tom.whitfield@example.gov.uk"),
    ("Human Resources", "Mark Ellis", "mark.ellis@example.gov.uk"),
    ("Finance", "Aisha Khan", "aisha.khan@example.gov.uk"),
    ("Customer Services", "Priya Patel", "priya.patel@example.gov.uk"),
    ("Housing", "Siân Roberts", "sian.roberts@example.gov.uk"),
]
AREA_BY_THEME = {"Continuous improvement": 0, "Leadership": 0, "Governance": 1, "Culture": 2, "Use of resources": 3,
                 "Service delivery": 4, "Partnerships and community engagement": 5}
ACTION_FOR_GAP = {
    GAPS[0]: "Collect impact measures from every service and report them quarterly",
    GAPS[1]: "Give every improvement action an owner and a date",
    GAPS[2]: "Restart monitoring and report to the management team monthly",
    GAPS[3]: "Report progress to the scrutiny committee twice a year",
    GAPS[4]: "Run workshops with managers to embed the approach",
}


@dataclass
class DemoResult:
    assessment: Assessment
    generated: int
    returned: int
    ingest: IngestReport
    report: ReportResult
    replaced: bool = False  # an earlier demo in the folder was made afresh
    moderation: ModerationRound | None = None
    moderated: IngestReport | None = None  # what ingest said of the moderation returns
    signed: SignOffResult | None = None


def fill_sample_framework(assessment: Assessment, rng: random.Random) -> None:
    """Type sample reviewers, statements and evidence into assessment.xlsx, as the PMO would."""
    import openpyxl  # heavy: loaded only when needed

    workbook = openpyxl.load_workbook(assessment.workbook)
    reviewers = workbook["Reviewers"]
    for listed in REVIEWERS:
        reviewers.append(listed)
    for area in SERVICE_AREAS:
        workbook["Service areas"].append(area)
    sheet = workbook["Characteristics"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        ref = sheet.cell(row, headers["Ref"]).value
        theme = sheet.cell(row, headers["Theme"]).value
        if not ref:
            continue
        statement = (f"{sheet.cell(row, headers['Characteristic']).value} We believe "
                     f"{rng.choice(STRENGTHS)}. We recognise that {rng.choice(GAPS)}.")
        sheet.cell(row, headers["Position statement"], statement)
        sheet.cell(row, headers["Evidence"], f"Evidence library items {ref}-1 to {ref}-{rng.randint(2, 6)}")
        sheet.cell(row, headers["Drafted by"], DRAFTERS[theme])
        if ref in DOUBLE_REVIEWED:
            eligible = [r[0] for r in REVIEWERS if DRAFTERS[theme] not in (r[0], r[1]) and r[0] not in ("R06", "R08")]
            sheet.cell(row, headers["Reviewers"], ", ".join(sorted(rng.sample(eligible, 2))))
    with replacing(assessment.workbook) as temp:
        workbook.save(temp)


def _sample_answer(ref: str, reviewer_id: str, rng: random.Random, truth: dict[str, int]) -> tuple[str, str, str]:
    if ref in OUTSIDE_CONTROL:
        return "Grey", "Outside officers' control: this is decided by members, not by officers.", ""
    if rng.random() < 0.04:
        return "", "", ""  # not answered
    # R05 marks harder than colleagues, R02 kinder, and anyone may see things a step differently.
    level = truth[ref] + {"R05": 1, "R02": -1}.get(reviewer_id, 0) + rng.choice([0] * 8 + [1, -1])
    level = max(level, 0)
    rating = LEVELS[min(level, len(LEVELS) - 1)]
    commentary = f"The statement is fair: {rng.choice(STRENGTHS)}."
    gaps = rng.choice(GAPS).capitalize() + "." if rating not in ("Dark green",) and rng.random() < 0.6 else ""
    if rating in ("Yellow", "Amber") and not gaps:
        gaps = rng.choice(GAPS).capitalize() + "."
    return rating, commentary, gaps


def _add_quirks(answers: dict[str, dict[str, tuple]], allocation: dict[str, tuple[str, ...]]) -> None:
    """What moderators meet in real returns: a wide disagreement, a top score that lists gaps,
    an Amber with no justification and a Grey with no reason."""
    first, second = allocation["SD006"]
    answers[first]["SD006"] = ("Dark green", "Complaints are answered within target and reported quarterly.", "")
    answers[second]["SD006"] = ("Amber", "Learning from complaints is not shared across services.",
                                "No corporate lessons-learned log; ombudsman findings not reported to members.")
    gaps_reviewer = next(r for r in ("R04", "R03", "R02") if r in answers and r not in (first, second))
    ref = next(iter(answers[gaps_reviewer]))
    answers[gaps_reviewer][ref] = ("Dark green", "Well evidenced.", "Some services have no improvement plan yet.")
    last, first_ref = list(answers["R07"])[-1], list(answers["R07"])[0]
    answers["R07"][last] = ("Amber", "", "")
    answers["R07"][first_ref] = ("Grey", "", "")


def fill_return(source: Path, target: Path, answers: dict[str, tuple[str, str, str]],
                saved: dt.datetime | None = None) -> None:
    """Fill a reviewer workbook's Review sheet as a reviewer would and save it under another name.

    `saved` (local time) is when the workbook will say it was saved, as Excel records it."""
    import openpyxl  # heavy: loaded only when needed

    workbook = openpyxl.load_workbook(source)
    sheet = workbook[REVIEW_SHEET]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        ref = sheet.cell(row, headers["Ref"]).value
        if ref in answers:
            for header, text in zip(["Score", "Commentary", "Gaps and areas to address"], answers[ref]):
                cell = sheet.cell(row, headers[header], excel_escape(text) if text else None)
                if text:
                    cell.data_type = "s"  # typed text stays text, even '=...'
    workbook.save(target)
    if saved:
        _set_saved(target, saved)


def _set_saved(path: Path, saved: dt.datetime) -> None:
    """Rewrite the saved time in docProps/core.xml (openpyxl always writes the moment it saves)."""
    stamp = saved.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>",
                              data)
            target.writestr(info, data)


def excel_escape(text: str) -> str:
    """Store text as Excel does: a literal '_xHHHH_' and a carriage return are escaped (openpyxl does
    neither, so without this the simulated reviewer's text would not be what they typed)."""
    return re.sub(r"_(x[0-9A-Fa-f]{4}_)", r"_x005F_\1", text).replace("\r", "_x000D_")


def _discard(folder: Path) -> None:
    """Delete an earlier demo whole. It is first renamed aside, which Windows refuses while a file in it is
    open in Excel: then the demo is left as it was, rather than half deleted."""
    aside = folder.with_name(f".{folder.name}-discarded-{secrets.token_hex(4)}")
    refused = move_over(folder, aside, Code.DEMO_BUSY, busy=folder)
    if refused:
        raise BvaError(refused)
    shutil.rmtree(aside)


def run_demo(folder: Path, seed: int = 2024) -> DemoResult:
    """Create, fill, generate, simulate returns, ingest and report, in `folder`."""
    rng = random.Random(seed)
    folder = Path(folder)
    replaced = is_demo(folder)
    if replaced:  # an earlier demo, made by this command: make it afresh (a real assessment is refused)
        _discard(folder)
    assessment = create_assessment(folder, title="Demo Borough Council: Best Value self-assessment", demo=True)
    fill_sample_framework(assessment, rng)
    generation = generate(assessment, per_characteristic=2, deadline=dt.date.today() + dt.timedelta(days=21),
                          pmo="bestvalue@example.gov.uk")
    refs_by_reviewer: dict[str, list[str]] = {}
    for ref, reviewer_ids in generation.allocation.items():
        for reviewer_id in reviewer_ids:
            refs_by_reviewer.setdefault(reviewer_id, []).append(ref)
    truth = {ref: rng.choice([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3]) for ref in generation.allocation}
    stamp = dt.datetime.now().timestamp() - 3600
    returned = 0
    answers_by_reviewer = {reviewer_id: {ref: _sample_answer(ref, reviewer_id, rng, truth) for ref in refs}
                           for reviewer_id, refs in refs_by_reviewer.items()}
    _add_quirks(answers_by_reviewer, generation.allocation)
    for index, (reviewer_id, path) in enumerate(generation.files.items()):
        if reviewer_id == "R08":
            continue  # late: still outstanding
        answers = answers_by_reviewer[reviewer_id]
        name = f"RE_ BV return ({index + 1}).xlsx" if index % 2 else f"{path.stem} - completed.xlsx"
        if reviewer_id == "R06":
            first_ref = refs_by_reviewer[reviewer_id][0]
            answers[first_ref] = ("Ambr",) + answers[first_ref][1:]  # the bad file: a typo in a score
        target = assessment.inbox / name
        fill_return(path, target, answers, dt.datetime.fromtimestamp(stamp + index))
        os.utime(target, (stamp + index, stamp + index))
        returned += 1
        if reviewer_id == "R01":  # sends a corrected return later: it supersedes the first
            answers[refs_by_reviewer[reviewer_id][-1]] = ("Light green", "Updated after the workshop.", "")
            resent = assessment.inbox / "RE_ RE_ BV return - updated.xlsx"
            fill_return(path, resent, answers, dt.datetime.fromtimestamp(stamp + 100))
            os.utime(resent, (stamp + 100, stamp + 100))
            returned += 1
    (assessment.inbox / "~$RE_ BV return (2).xlsx").write_bytes(b"\x00lock")
    (assessment.inbox / "Evidence pack.pdf").write_bytes(b"%PDF-1.4\n% sample attachment\n")
    ingested = ingest(assessment)
    write_report(assessment)
    # The second, impartial review: two officers who neither drafted nor scored what they moderate.
    moderation = generate_moderation(assessment, ["R06", "R08"], deadline=dt.date.today() + dt.timedelta(days=35),
                                     pmo="bestvalue@example.gov.uk")
    for index, (moderator_id, path) in enumerate(moderation.files.items()):
        target = assessment.inbox / f"RE_ moderation {moderator_id}.xlsx"
        fill_moderation(path, target, dt.datetime.fromtimestamp(stamp + 200 + index))
        os.utime(target, (stamp + 200 + index, stamp + 200 + index))
    moderated = ingest(assessment)
    write_report(assessment)
    fill_action_plan(assessment.report, rng)
    signed = sign_off(assessment, "Alex Morgan, Chief Executive", accept_open=True)
    report = write_report(assessment)
    return DemoResult(assessment, len(generation.files), returned, ingested, report, replaced, moderation,
                      moderated, signed)


def fill_moderation(source: Path, target: Path, saved: dt.datetime) -> None:
    """A moderator's return: SD006 moderated to Yellow (learning from complaints is partly in place), every
    other row confirmed at its consolidated score, each with a note."""
    import openpyxl  # heavy: loaded only when needed

    workbook = openpyxl.load_workbook(source)
    sheet = workbook["Moderation"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        ref = sheet.cell(row, headers["Ref"]).value
        consolidated = sheet.cell(row, headers["Consolidated score"]).value
        if ref == "SD006":
            score, note = "Yellow", "Complaints are answered on time, but lessons are not yet shared across services."
        elif consolidated:
            score, note = consolidated, "Checked against the evidence and the other reviews: the score stands."
        else:
            continue
        sheet.cell(row, headers["Moderated score"], score)
        sheet.cell(row, headers["Moderation note"], note)
    workbook.save(target)
    _set_saved(target, saved)


def fill_action_plan(path: Path, rng: random.Random) -> None:
    """Type actions into the report's Action plan as the PMO would after committee: an action, owner, service
    area, target date and status for each, a second action added under the first characteristic, one action
    already overdue and one still without a target date (which `bva check` points out)."""
    import openpyxl  # heavy: loaded only when needed

    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Action plan"]
    col = {header: ACTION_HEADERS.index(header) + 1 for header in ACTION_HEADERS}
    today = dt.datetime.combine(dt.date.today(), dt.time())
    last = sheet.max_row
    for row in range(2, last + 1):
        theme, gap = sheet.cell(row, col["Theme"]).value, sheet.cell(row, col["Gap identified"]).value or ""
        area, head, _ = SERVICE_AREAS[AREA_BY_THEME.get(theme, 0)]
        action = next((text for found, text in ACTION_FOR_GAP.items() if found in gap.lower()),
                      "Agree the improvement needed with the service and set milestones")
        values = {"Action": action, "Owner": head, "Service area": area,
                  "Target date": today + dt.timedelta(days=rng.choice([60, 90, 120, 180, 240])),
                  "Status": "In progress" if row % 3 == 0 else "Not started"}
        if row == 3:
            values.update({"Target date": today - dt.timedelta(days=20), "Status": "In progress"})  # overdue
        if row == 4:
            values.update({"Status": "Complete", "Progress update": "Done: reported to the management team."})
        if row == last:
            del values["Target date"]  # still to be agreed
        for header, value in values.items():
            sheet.cell(row, col[header], value)
    sheet.insert_rows(3)  # a second action under the first characteristic, typed without an ID
    for header, value in {"Action": "Invite a peer challenge of the improvement plan", "Owner": "Rachel Adeyemi",
                          "Service area": "Policy and Performance", "Target date": today + dt.timedelta(days=270),
                          "Status": "Not started"}.items():
        sheet.cell(3, col[header], value)
    with replacing(path) as temp:
        workbook.save(temp)
