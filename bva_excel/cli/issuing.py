"""Issuing workbooks: `bva issue review|moderation|progress`, one round each, and `bva generate`, which runs the
same three rounds behind flags (kept for the scripts and notes that use it)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bva_excel.app.chase import KINDS
from bva_excel.app.chase import chase as draft_reminders
from bva_excel.app.issue import generate as generate_workbooks
from bva_excel.app.moderation_round import generate_moderation
from bva_excel.app.progress import ProgressRefused, generate_progress
from bva_excel.cli.base import command, group, show_all
from bva_excel.cli.common import (
    EXISTING_FOLDER,
    Bar,
    counted,
    open_folder,
    quote,
    say_service_areas_added,
)
from bva_excel.model.allocation import by_reviewer, colleagues, groups
from bva_excel.model.kinds import IssueKind

DEADLINE = click.option("--deadline", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]),
                        help="Return date shown on the workbooks, as 2026-12-18 or 18/12/2026.")
RETURN_TO = click.option("--return-to", default="the PMO", show_default=True,
                         help="Who the workbooks are emailed back to, shown on their Guide sheet.")
PER_CHARACTERISTIC = click.option("--per-characteristic", "per_characteristic", type=click.IntRange(min=1), default=1,
                                  show_default=True, help="Reviewers for each characteristic that has none listed.")
REALLOCATE = click.option("--reallocate", is_flag=True,
                          help="Start the allocation again, discarding who was given what before (says what changes).")
EMAILS = click.option("--emails", is_flag=True,
                      help="Also write a draft email to each person sent a workbook now (to the address on 'Reviewers' or "
                           "'Service areas', the workbook attached) into the outbox, ready to open and send.")
SHOW_PASSWORD = click.option("--show-password", is_flag=True,
                             help="Print the password that locks the workbooks' sheets (for the PMO), and write "
                                  "nothing.")

@command("generate")
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--per-characteristic", "per_characteristic", type=click.IntRange(min=1), default=1,
              show_default=True, help="Reviewers for each characteristic that has none listed.")
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]),
              help="Return date shown to reviewers, as 2026-12-18 or 18/12/2026.")
@click.option("--return-to", default="the PMO", show_default=True,
              help="Who reviewers email their workbook to, shown on their Guide sheet.")
@click.option("--reallocate", is_flag=True,
              help="Start the allocation again, discarding who was given what before (says what changes).")
@click.option("--show-password", is_flag=True,
              help="Print the password that locks the workbooks' sheets (for the PMO), and write nothing.")
@click.option("--moderation", is_flag=True,
              help="Write moderation workbooks instead: the characteristics with open findings, shared out among "
                   "--moderators.")
@click.option("--moderators", metavar="ID,ID", default="",
              help="With --moderation: the reviewer IDs of the moderators, separated by commas.")
@click.option("--all", "every", is_flag=True, help="With --moderation: every characteristic, not only those "
                                                  "with open findings.")
@click.option("--progress", is_flag=True,
              help="Write progress workbooks instead: one per service area, with its open actions from the action "
                   "plan, for its Head of Service to report status, progress and any revised target date.")
@EMAILS
def generate(folder, per_characteristic, deadline, return_to, reallocate, show_password, moderation, moderators,
             every, progress, emails):
    """Write a protected workbook for each reviewer to FOLDER/outbox.

    Characteristics with no reviewers listed are shared out, balancing the load and never
    given to an officer who drafted the statement. Run it again after editing assessment.xlsx:
    what was issued stays as it was; only new characteristics (or rows where you changed
    'Reviewers') are given out, and only reviewers whose set changed get a new workbook.

    Example: bva generate "BV 2026" --deadline 2026-12-18 --return-to bestvalue@council.gov.uk

    \b
    More examples:
      bva generate "BV 2026" --per-characteristic 2
      bva generate "BV 2026" --reallocate
      bva generate "BV 2026" --moderation --moderators "R05,R06"
      bva generate "BV 2026" --progress --deadline 2027-01-15
      bva generate "BV 2026" --deadline 2026-12-18 --emails

    \b
    The same rounds, one command each: bva issue review, bva issue moderation, bva issue progress.
    """
    if (moderators or every) and not moderation:
        raise click.UsageError("--moderators and --all go with --moderation.")
    if progress:
        if moderation:
            raise click.UsageError("--progress and --moderation are two different rounds: choose one.")
        _generate_progress(open_folder(folder), folder, deadline.date() if deadline else None, return_to, emails)
        return
    if moderation:
        if not moderators.strip():
            raise click.UsageError('--moderation needs --moderators, e.g. --moderators "R05,R06".')
        _generate_moderation(open_folder(folder), folder, _moderator_ids(moderators), every,
                             deadline.date() if deadline else None, return_to, emails)
        return
    _issue_reviews(folder, per_characteristic, deadline, return_to, reallocate, show_password, emails)

@group("issue")
def issue():
    """Issue one round of workbooks to FOLDER/outbox: review, moderation or progress.

    \b
      bva issue review "BV 2026" --deadline 2026-12-18     a workbook for each reviewer
      bva issue moderation "BV 2026" --moderators "R05,R06"   findings to moderators who had no part
      bva issue progress "BV 2026" --deadline 2027-01-15   a workbook for each service area's open actions

    Each is what bva generate does with the same options (--moderation, --progress).
    """


@issue.command("review", short_help="A protected workbook for each reviewer.")
@click.argument("folder", type=EXISTING_FOLDER)
@PER_CHARACTERISTIC
@DEADLINE
@RETURN_TO
@REALLOCATE
@SHOW_PASSWORD
@EMAILS
def issue_review(folder, per_characteristic, deadline, return_to, reallocate, show_password, emails):
    """Write a protected workbook for each reviewer to FOLDER/outbox.

    Characteristics with no reviewers listed are shared out, balancing the load and never
    given to an officer who drafted the statement. Run it again after editing assessment.xlsx:
    what was issued stays as it was; only new characteristics (or rows where you changed
    'Reviewers') are given out, and only reviewers whose set changed get a new workbook.

    Example: bva issue review "BV 2026" --deadline 2026-12-18 --return-to bestvalue@council.gov.uk --emails
    """
    _issue_reviews(folder, per_characteristic, deadline, return_to, reallocate, show_password, emails)


@issue.command("moderation", short_help="The open findings, shared out among moderators.")
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--moderators", metavar="ID,ID", required=True, help="The reviewer IDs of the moderators, separated by commas.")
@click.option("--all", "every", is_flag=True, help="Every characteristic, not only those with open findings.")
@DEADLINE
@RETURN_TO
@EMAILS
def issue_moderation(folder, moderators, every, deadline, return_to, emails):
    """Write moderation workbooks: the characteristics with open findings, shared out among the moderators.

    A moderator is never given a characteristic they scored or drafted.

    Example: bva issue moderation "BV 2026" --moderators "R05,R06" --deadline 2027-01-08
    """
    names = _moderator_ids(moderators)
    if not names:
        raise click.UsageError('--moderators needs at least one reviewer ID, e.g. --moderators "R05,R06".')
    _generate_moderation(open_folder(folder), folder, names, every, deadline.date() if deadline else None, return_to,
                         emails)


@issue.command("progress", short_help="A workbook for each service area's open actions.")
@click.argument("folder", type=EXISTING_FOLDER)
@DEADLINE
@RETURN_TO
@EMAILS
def issue_progress(folder, deadline, return_to, emails):
    """Write progress workbooks: one per service area, with its open actions from the action plan, for its Head
    of Service to report status, progress and any revised target date.

    Example: bva issue progress "BV 2026" --deadline 2027-01-15
    """
    _generate_progress(open_folder(folder), folder, deadline.date() if deadline else None, return_to, emails)


@command("chase")
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--kind", type=click.Choice(KINDS), default="review", show_default=True,
              help="Which round's returns to chase.")
@RETURN_TO
def chase(folder, kind, return_to):
    """Draft a reminder email to everyone whose return of the current round is missing or incomplete.

    Each draft goes into FOLDER/outbox, ready to open and send: it names what is outstanding (no return yet,
    or the characteristics or actions not answered) and the deadline, with their workbook attached again.
    Reminders are recorded, so the next chase of the same person says "Second reminder". Moderators are
    chased only for a missing return (a moderated score is given only where one is needed).

    Example: bva chase "BV 2026"

    \b
    More examples:
      bva chase "BV 2026" --kind progress --return-to bestvalue@council.gov.uk
    """
    assessment = open_folder(folder)
    result = draft_reminders(assessment, IssueKind(kind), return_to)
    if not result.chased:
        click.echo(f"Nobody to chase: every {kind} workbook issued has come back complete.")
        return
    click.echo(f"Drafted {counted(len(result.chased), 'reminder')} in {assessment.outbox} (open each .eml, check it "
               "and send it):")
    for chased in result.chased:
        nth = {1: "first", 2: "second", 3: "third"}.get(chased.number, f"reminder {chased.number}")
        click.echo(f"  {chased.label}: {chased.outstanding} ({nth} reminder)  {chased.draft.name}")
        if not chased.addressed:
            click.echo("    warning: no email address is listed for them: type it in the draft.")
        if not chased.attached:
            click.echo("    note: their workbook is no longer in the outbox, so the draft has none attached.")
    if result.complete:
        click.echo(f"Not chased, complete: {', '.join(result.complete)}.")


def _say_drafts(drafts, where: str) -> None:
    """The draft emails written (with --emails), and who has no address to send theirs to."""
    if drafts is None:
        return
    click.echo(f"Wrote {counted(len(drafts.written), 'draft email')} beside the workbooks (open each .eml, check it "
               "and send it).")
    if drafts.unaddressed:
        click.echo(f"  warning: no email address for {', '.join(drafts.unaddressed)}: their workbook is written and "
                   f"their draft has no recipient. Type the address in the draft, and on {where} for next time.")


def _issue_reviews(folder: Path, per_characteristic: int, deadline, return_to: str, reallocate: bool,
                   show_password: bool, emails: bool = False) -> None:
    assessment = open_folder(folder)
    if show_password:
        click.echo(f"The sheets of this assessment's workbooks are locked with: {assessment.records.sheet_password()}")
        click.echo("Keep it within the PMO: a reviewer who unlocks a sheet can change what they were sent.")
        return
    with Bar("Writing workbooks") as bar:
        result = generate_workbooks(assessment, per_characteristic, deadline.date() if deadline else None,
                                    return_to, reallocate, bar, emails)
    framework = result.framework
    for line in result.recovered:
        click.echo(f"  note: {line}")
    show_all(framework.notes)
    if result.first:
        click.echo("Allocation:")
        for characteristic in framework.characteristics:
            listed = "listed" if characteristic.reviewers else "allocated"
            click.echo(f"  {characteristic.ref:<7} {', '.join(result.allocation[characteristic.ref])}  ({listed})")
    else:
        if result.reallocated:
            moved = sum(len(c.removed) for c in result.changes.values())
            click.echo(f"Started the allocation again (--reallocate): {moved} earlier assignments are discarded; "
                       "earlier workbooks stay valid for what they were issued.")
        click.echo("Changes to the allocation:" if result.changes else
                   "No changes to the allocation: every reviewer keeps the workbook they have.")
        order = {r.reviewer_id: i for i, r in enumerate(framework.reviewers)}
        for reviewer_id in sorted(result.changes, key=lambda r: order.get(r, len(order))):
            change = result.changes[reviewer_id]
            reviewer = framework.reviewer(reviewer_id)
            parts = []
            if change.added:
                parts.append(f"now also {', '.join(change.added)}")
            if change.removed:
                parts.append("no longer " + ", ".join(f"{ref} ({change.reasons[ref]})" for ref in change.removed))
            click.echo(f"  {reviewer.label if reviewer else reviewer_id}: {'; '.join(parts)}")
        kept = [r.reviewer_id for r in framework.reviewers if r.reviewer_id not in result.changes
                and r.reviewer_id in {rid for ids in result.allocation.values() for rid in ids}]
        if kept and result.changes:
            click.echo(f"  unchanged, no new workbook: {', '.join(kept)}")
    if result.first or result.changes:
        _show_calibration(result)
    for path in result.withdrawn:
        click.echo(f"  moved out of the outbox (no longer current): {path.name}, kept in {path.parent}")
    if not result.files and not result.refused:
        click.echo("Wrote no workbooks: nothing to send.")
        if deadline:
            click.echo("  note: --deadline is printed on workbooks written now, and none was; to send everyone a new "
                       "date, tell them by email (their workbooks stay valid).")
        return
    if result.files:
        click.echo(f"Wrote {counted(len(result.files), 'reviewer workbook')} to {assessment.outbox}:")
    for reviewer_id, path in result.files.items():
        count = sum(reviewer_id in r for r in result.allocation.values())
        click.echo(f"  {path.name}  ({counted(count, 'characteristic')})")
    if not result.first:
        click.echo("  Earlier workbooks stay valid: a reviewer's answers count per characteristic, whichever "
                   "workbook they fill in.")
    _say_drafts(result.drafts, "'Reviewers'")
    if result.refused:  # the rest is done and recorded; these files wait for Excel to let go of them
        show_all(result.refused, indent="", err=True)
        sys.exit(1)
    click.echo(f"Next: email each reviewer their workbook; save the returns in {assessment.inbox} "
               f"and run: bva ingest {quote(folder)}")



def _moderator_ids(typed: str) -> list[str]:
    """The reviewer IDs typed after --moderators ("R05, R06"), in order, blanks left out."""
    return [m.strip() for m in typed.split(",") if m.strip()]


def _generate_moderation(assessment, folder: Path, moderators: list[str], every: bool, deadline, return_to,
                         emails: bool = False) -> None:
    with Bar("Writing moderation workbooks") as bar:
        result = generate_moderation(assessment, moderators, every, deadline, return_to, bar, emails)
    for line in result.recovered:
        click.echo(f"  note: {line}")
    click.echo(f"Wrote {counted(len(result.files), 'moderation workbook')} to {assessment.outbox}:")
    for moderator_id, path in result.files.items():
        refs = result.shares[moderator_id]
        click.echo(f"  {path.name}  ({counted(len(refs), 'characteristic')}: {', '.join(refs)})")
    _say_drafts(result.drafts, "'Reviewers'")
    if result.refused:  # recorded; these wait for Excel to let go of the outbox's copy
        show_all(result.refused, indent="", err=True)
        sys.exit(1)
    click.echo(f"Next: email each moderator their workbook; save the returns in {assessment.inbox} and run: "
               f"bva ingest {quote(folder)}")


def _generate_progress(assessment, folder: Path, deadline, return_to, emails: bool = False) -> None:
    try:
        with Bar("Writing progress workbooks") as bar:
            result = generate_progress(assessment, deadline, return_to, bar, emails)
    except ProgressRefused as refused:
        say_service_areas_added(refused.added)
        raise
    for line in result.recovered:
        click.echo(f"  note: {line}")
    say_service_areas_added(result.added)
    click.echo(f"Wrote {len(result.files)} progress workbooks to {assessment.outbox}:")
    for area, path in result.files.items():
        count = len(result.actions[area])
        click.echo(f"  {path.name}  ({count} action{'s' * (count != 1)}: {', '.join(result.actions[area])})")
    if result.replaced:
        verb = "replaces" if len(result.replaced) == 1 else "replace"
        click.echo(f"  note: {len(result.replaced)} of these {verb} the workbook of the same name from an earlier "
                   f"round ({', '.join(result.replaced)}); a return of the earlier one is still read, but if it comes "
                   "after this one was issued it does not change the plan.")
    _say_drafts(result.drafts, "'Service areas'")
    if result.done:
        click.echo(f"  {result.done} complete or closed action{'s are' if result.done != 1 else ' is'} not sent.")
    if result.unassigned:
        click.echo(f"  warning: {len(result.unassigned)} open action{'s have' if len(result.unassigned) != 1 else ' has'} "
                   f"no service area, so nobody was asked about {'them' if len(result.unassigned) != 1 else 'it'}: "
                   f"{', '.join(result.unassigned)}. Type a 'Service area' on the Action plan and generate again.")
    if result.held:
        click.echo(f"  Not sent: {counted(len(result.held_actions), 'action')} ({', '.join(result.held_actions)}) for "
                   "a service area not on the 'Service areas' sheet. Correct it on the Action plan, or add the area "
                   "to 'Service areas', then run this command again before sending the workbooks (it writes every "
                   "service area's workbook again):", err=True)
        show_all(result.held, indent="", err=True)
    if result.refused:
        show_all(result.refused, indent="", err=True)
    if result.refused or result.held:
        sys.exit(1)
    click.echo(f"Next: email each Head of Service their workbook; save the returns in {assessment.inbox} and run: "
               f"bva ingest {quote(folder)}, then bva report {quote(folder)} and bva follow-up {quote(folder)}")


def _show_calibration(result) -> None:
    """Per reviewer: load, themes and the colleagues they share characteristics with; groups that never meet."""
    if max((len(team) for team in result.allocation.values()), default=0) < 2:
        return
    framework = result.framework
    refs = by_reviewer(result.allocation)
    met = colleagues(result.allocation)
    click.echo("Reviewers, and the colleagues they share characteristics with:")
    for reviewer in framework.reviewers:
        if reviewer.reviewer_id not in refs:
            continue
        themes = {framework.characteristic(ref).theme.name for ref in refs[reviewer.reviewer_id]}
        others = sorted(met.get(reviewer.reviewer_id, ()))
        load = len(refs[reviewer.reviewer_id])
        click.echo(f"  {reviewer.label}: {load} characteristic{'s' * (load != 1)}, {len(themes)} "
                   f"theme{'s' * (len(themes) != 1)}, with {', '.join(others) or 'nobody'}")
    split = groups(result.allocation)
    if len(split) > 1:
        click.echo("  warning: these groups of reviewers never share a characteristic, so their scoring cannot be "
                   f"compared: {' | '.join(', '.join(g) for g in split)}. List reviewers from different groups "
                   "together on a few rows of 'Characteristics', or run generate with --reallocate.")

