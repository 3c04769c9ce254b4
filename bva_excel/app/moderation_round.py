"""The moderation round: a second, impartial review of the scores that need it, by workbook.

Each moderator gets one protected workbook with a row per characteristic to moderate: the position
statement, every reviewer's score and words, the consolidated score and the findings in words, and two
inputs, `Moderated score` (a dropdown of the scale) and `Moderation note`. Characteristics are shared
out evenly, never to a moderator who drafted or scored them. The workbooks carry the same signed
identity, protection and staging as reviewers' own, and come back through `bva ingest`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.app.issue import (
    Drafts,
    finish_interrupted_generation,
    issue_workbooks,
    named_apart,
)
from bva_excel.app.state import STATE_STEPS, load_state
from bva_excel.errors import AllocationError, BvaError, Code, Problem, problem
from bva_excel.excel.write.review import (
    cell_formats,
    issued_texts,
    score_validation,
    write_identity_sheet,
    write_scale_sheet,
)
from bva_excel.excel.write.styles import (
    add_rating_colours,
    finish_printing,
    fit_row,
    new_workbook,
    print_landscape,
)
from bva_excel.excel.write.template import write_guide
from bva_excel.layout import ASSESSMENT_FILE, MODERATION_HEADERS, MODERATION_SHEET
from bva_excel.model.framework import Framework, present
from bva_excel.model.identity import IssueIdentity
from bva_excel.model.kinds import IssueKind
from bva_excel.model.recorded import IssueRecord
from bva_excel.model.text import suggest
from bva_excel.store.files import replacing, safe_file_name
from bva_excel.store.folder import Assessment
from bva_excel.tracking import QUIET, Tracker

HEADERS = MODERATION_HEADERS
WIDTHS = [8, 15, 26, 48, 48, 13, 40, 14, 40]
INPUTS = ("Moderated score", "Moderation note")


@dataclass(frozen=True)
class Row:
    """One characteristic as a moderator sees it."""

    ref: str
    theme: str
    characteristic: str
    position_statement: str
    scores: str  # every reviewer's score and words
    consolidated: str
    findings: str


@dataclass
class ModerationRound:
    shares: dict[str, list[str]]  # moderator ID -> refs, in framework order
    files: dict[str, Path]  # moderator ID -> workbook written to the outbox
    framework: Framework
    recovered: list[str]
    refused: list[Problem] = field(default_factory=list)  # workbooks left waiting: the outbox's copy is open
    drafts: Drafts | None = None  # the draft emails written, with --emails


NOTHING_SCORED = "NO_USABLE_SCORE"  # a characteristic nobody has scored yet waits for returns, not a moderator


def needing_moderation(gathered, every: bool = False) -> list[str]:
    """Refs with an open finding that needs a moderator's look (every ref with `every`), in framework order."""
    open_refs = {f.ref for f in gathered.consistency.must_look if f.ref and f.kind != NOTHING_SCORED}
    return [c.ref for c in gathered.framework.characteristics if every or c.ref in open_refs]


def share_out(framework: Framework, refs: list[str], moderators: list[str],
              scored_by: dict[str, set[str]]) -> dict[str, list[str]]:
    """moderator -> refs: evenly, least loaded first, never a characteristic they drafted, or scored or were
    sent to score (`scored_by`)."""
    known = {r.reviewer_id for r in framework.reviewers}
    unknown = [m for m in moderators if m not in known]
    if unknown:
        raise AllocationError([problem(Code.REVIEWER_UNKNOWN, ASSESSMENT_FILE, "Reviewers", value=m,
                                       hint=suggest(m, sorted(known))) for m in unknown])
    load = {m: 0 for m in moderators}
    shares: dict[str, list[str]] = {m: [] for m in moderators}
    short = []
    for ref in refs:
        characteristic = present(framework.characteristic(ref), ref)
        eligible = [m for m in moderators if m not in characteristic.drafted_by and m not in scored_by.get(ref, ())]
        if not eligible:
            short.append(ref)
            continue
        chosen = min(eligible, key=lambda m: (load[m], moderators.index(m)))
        load[chosen] += 1
        shares[chosen].append(ref)
    if short:  # said once, all of them: the fix is the same for each
        raise AllocationError([problem(Code.MODERATION_SHORT, count=len(short), total=len(refs), refs=", ".join(short),
                                       moderators=", ".join(moderators))])
    return {m: refs for m, refs in shares.items() if refs}


def rows_for(gathered, refs: list[str]) -> list[Row]:
    """What a moderator is shown for each ref."""
    framework = gathered.framework
    open_findings: dict[str, list[str]] = {}
    for finding in gathered.consistency.must_look:
        if finding.ref:
            open_findings.setdefault(finding.ref, []).append(f"{finding.finding} ({finding.evidence})")
    rows = []
    for ref in refs:
        characteristic = framework.characteristic(ref)
        scores = []
        for response in gathered.consolidation.responses.get(ref, []):
            reviewer = framework.reviewer(response.reviewer_id)
            who = reviewer.label if reviewer else response.reviewer_id
            scores.append(f"{who}: {response.rating or 'not answered'}\nCommentary: {response.commentary or '-'}"
                          f"\nGaps: {response.gaps or '-'}")
        decision = gathered.decisions[ref]
        already = []  # what the report holds now, so that the moderator sees where it stands
        if decision.final_typed:
            already.append(f"- A senior officer has typed a final score of {decision.final_typed} in the report"
                           + ("." if framework.scale.find(decision.final_typed) else ", which is not a rating."))
        elif framework.scale.find(decision.moderated):
            already.append(f"- Moderated already in the report: {decision.moderated}"
                           + (f" ({decision.note.strip()})" if decision.note.strip() else "") + ".")
        rows.append(Row(ref, characteristic.theme.name, characteristic.text, characteristic.position_statement,
                        "\n\n".join(scores) or "No reviewer has scored it.", decision.consolidated,
                        "\n".join(already + [f"- {text}" for text in open_findings.get(ref, [])]) or "None open."))
    return rows


def moderation_guide_lines(title: str, moderator, count: int, deadline: dt.date | None, pmo: str) -> list[str]:
    due = deadline.strftime("%A %d %B %Y") if deadline else "the date in the covering email"
    return [
        f"# {title}: moderation",
        f"This workbook is for {moderator.name} ({moderator.reviewer_id}). It holds the {count} characteristics "
        "you have been asked to moderate: a second, impartial look at the scores, for consistency across "
        "reviewers. None of them is one you drafted or scored.",
        f"Please return it by {due}.",
        "# How to fill it in",
        "1. Go to the 'Moderation' sheet. Each row is one characteristic, with the reviewers' scores and words, "
        "the consolidated score and what the consistency checks found.",
        "2. In 'Moderated score', choose the score it should have. Leave it blank to let the consolidated "
        "score stand.",
        "3. In 'Moderation note', say why, in a sentence the committee can read.",
        "Only the shaded cells can be changed.",
        "# How to return it",
        f"Save the workbook (any file name will do) and email it back to {pmo}.",
    ]


def write_moderation_workbook(path: Path, framework: Framework, moderator, rows: list[Row],
                              identity: IssueIdentity, secret: bytes, title: str, deadline: dt.date | None,
                              pmo: str, password: str) -> None:
    """Write one moderator's workbook to `path` (atomically)."""
    with replacing(path) as temp:
        workbook = new_workbook(temp, f"{title}: moderation by {moderator.name}", issued=True)
        write_guide(workbook, moderation_guide_lines(title, moderator, len(rows), deadline, pmo), password=password)
        sheet = workbook.add_worksheet(MODERATION_SHEET)
        head, locked, _, unlocked = cell_formats(workbook)
        for col, (header, width) in enumerate(zip(HEADERS, WIDTHS)):
            sheet.write_string(0, col, header, head)
            sheet.set_column(col, col, width)
        sheet.set_row(0, 32)  # two lines, so that 'Moderated score' is read whole
        for number, row in enumerate(rows, start=1):
            texts = [row.ref, row.theme, row.characteristic, row.position_statement, row.scores, row.consolidated,
                     row.findings]
            for col, text in enumerate(texts):
                sheet.write_string(number, col, text, locked)
            for col in range(len(texts), len(HEADERS)):
                sheet.write_blank(number, col, None, unlocked)
            fit_row(sheet, number, texts, WIDTHS, most=30)
        last, score = len(rows), HEADERS.index("Moderated score")
        sheet.data_validation(1, score, last, score, score_validation(framework.scale))
        add_rating_colours(workbook, sheet, 1, HEADERS.index("Consolidated score"), last, score, framework.scale)
        sheet.freeze_panes(1, 1)
        sheet.autofilter(0, 0, max(last, 1), len(HEADERS) - 1)
        print_landscape(sheet)
        sheet.protect(password, {"format_columns": True, "format_rows": True, "autofilter": True})
        sheet.activate()
        write_scale_sheet(workbook, framework.scale, password)
        write_identity_sheet(workbook, identity, secret, password)
        finish_printing(workbook, title)
        workbook.close()


def generate_moderation(assessment: Assessment, moderators: list[str], every: bool = False,
                        deadline: dt.date | None = None, pmo: str = "the PMO",
                        tracker: Tracker = QUIET, emails: bool = False) -> ModerationRound:
    """Share out what needs moderation among `moderators` and issue one workbook each."""
    with assessment.locked("generate --moderation"):
        recovered = finish_interrupted_generation(assessment)
        tracker.start(STATE_STEPS, "steps")
        gathered = load_state(assessment, tracker=tracker)
        framework = gathered.framework
        refs = needing_moderation(gathered, every)
        if not refs:
            raise BvaError(problem(Code.NOTHING_TO_MODERATE))
        # Nobody moderates what they scored, or were sent to score and may still return.
        involved: dict[str, set[str]] = {}
        for ref, responses in gathered.consolidation.responses.items():
            involved.setdefault(ref, set()).update(r.reviewer_id for r in responses if r.rating)
        for issue in gathered.issues:
            if issue.kind == IssueKind.REVIEW:
                for ref in issue.refs:
                    involved.setdefault(ref, set()).add(issue.reviewer_id)
        known = {r.reviewer_id.casefold(): r.reviewer_id for r in framework.reviewers}
        moderators = [known.get(m.casefold(), m) for m in moderators]  # IDs in any case, as ratings are
        shares = share_out(framework, refs, moderators, involved)
        secret, password = assessment.secret(), assessment.records.sheet_password()
        issued_at = dt.datetime.now().replace(microsecond=0).isoformat()
        planned, wanted = [], {}
        for moderator_id, mine in shares.items():
            moderator = present(framework.reviewer(moderator_id), moderator_id)
            identity = IssueIdentity(assessment.assessment_id, moderator_id, secrets.token_hex(6), issued_at,
                                     tuple(mine), IssueKind.MODERATION)
            wanted[identity.issue_id] = f"BV moderation {moderator_id} {moderator.name}"
            name = safe_file_name(wanted[identity.issue_id], ".xlsx")
            record = IssueRecord(identity.issue_id, moderator_id, issued_at, name,
                                 deadline.isoformat() if deadline else "", tuple(mine),
                                 {ref: {k: v for k, v in issued_texts(present(framework.characteristic(ref), ref)).items()
                                        if k != "Evidence"} for ref in mine}, IssueKind.MODERATION)
            rows = rows_for(gathered, mine)

            def write(path, moderator=moderator, rows=rows, identity=identity):
                write_moderation_workbook(path, framework, moderator, rows, identity, secret, assessment.title,
                                          deadline, pmo, password)
            planned.append((record, write))
        planned = named_apart(assessment, planned, wanted)
        drafts = Drafts(framework, assessment.title, pmo) if emails else None
        placed, refused = issue_workbooks(assessment, planned, tracker, drafts=drafts)
        files = {record.reviewer_id: placed[record.issue_id] for record, _ in planned if record.issue_id in placed}
        return ModerationRound(shares, files, framework, recovered, refused, drafts)
