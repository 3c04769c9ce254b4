"""The `bva` command: a thin layer over the library. Each command makes one library call and prints.

Exit codes: 0 ok, 1 the input has problems, 2 usage error. No traceback unless --debug.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import click

from bva_excel import __version__
from bva_excel.errors import ERROR, BvaError, Problem

WRITE_ERRORS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EACCES, errno.EPERM, errno.EROFS}
FOLDER = click.Path(file_okay=False, path_type=Path)
EXISTING_FOLDER = click.Path(file_okay=False, exists=True, path_type=Path)


def show(problem: Problem, indent: str = "  ", err: bool = False) -> None:
    click.echo(f"{indent}{problem.severity}: {problem}", err=err)


class BvaCommand(click.Command):
    """A command that spots a folder name with spaces typed without quotes, and says how to quote it."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, list(args))
        except click.UsageError as error:
            words = [a for a in args if not a.startswith("-")]
            for end in range(len(words), 1, -1):
                joined = " ".join(words[:end])
                if Path(joined).exists():
                    error.message += (f"\nA folder name with spaces needs quotes: bva {ctx.info_name} \"{joined}\" "
                                      "(in PowerShell and cmd as well).")
                    break
            raise


class BvaGroup(click.Group):
    """Lists commands in the order of the exercise; turns the library's errors into messages and exit code 1."""

    command_class = BvaCommand

    def list_commands(self, ctx):
        return list(self.commands)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BvaError as error:
            if ctx.params.get("debug"):
                raise
            for problem in error.problems:
                show(problem, indent="", err=True)
            ctx.exit(1)
        except BrokenPipeError:
            # Output piped into a command that stopped reading (e.g. head): not an error of the input.
            sys.stdout = open(os.devnull, "w", encoding="utf-8")
            ctx.exit(0)
        except OSError as error:
            if ctx.params.get("debug"):
                raise
            if error.filename and error.errno in WRITE_ERRORS:  # a full disk, a file or folder one may not change
                from bva_excel.store.files import write_problem

                show(write_problem(error, error.filename), indent="", err=True)
            else:
                name = f"{error.filename}: " if error.filename else ""
                click.echo(f"error: {name}{error.strerror or error}. Check the path and its permissions.", err=True)
            ctx.exit(1)


@click.group(cls=BvaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bva")
@click.option("--debug", is_flag=True, help="Show the full traceback when something goes wrong (before the "
                                           "command: bva --debug report FOLDER).")
def cli(debug):
    """Run a council's Best Value self-assessment in Excel.

    \b
    The exercise, one command a step:
      bva new 2026            create an assessment folder from the template
      (fill in 2026/assessment.xlsx: reviewers, position statements, evidence)
      bva generate 2026       one protected workbook per reviewer, in 2026/outbox
      bva ingest 2026         read the returns saved in 2026/inbox
      bva report 2026         heat map, action plan and every score in 2026/report.xlsx
      bva changes 2026        what changed in moderated and final scores and actions, run by run
      bva check 2026          inconsistent scoring for the moderators
      bva generate 2026 --moderation --moderators "R05,R06"   a moderation round by workbook
      bva signoff 2026 --by "Name, Role"   senior officers sign off the final scores
      bva picture 2026        the heat map and ratings by theme as pictures, in 2026/pictures
      bva detail 2026 SD006   the background on one characteristic, for a councillor (--pdf)
      bva actions 2026        the action plan as CSV for the business planning tool
      bva generate 2026 --progress   a progress workbook per service area
      bva follow-up 2026      the follow-up report on the action plan for committee

    Try it all on sample data first: bva demo demo-assessment
    """


@cli.command()
@click.argument("folder", type=FOLDER)
@click.option("--template", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Framework workbook to start from (default: the built-in template).")
@click.option("--title", default="", help="Name of the exercise, shown on every workbook.")
def new(folder, template, title):
    """Create an assessment folder: assessment.xlsx, inbox/ and outbox/.

    Never overwrites an existing assessment.

    Example: bva new "BV 2026" --title "Best Value self-assessment 2026"
    """
    from bva_excel.app.new import create_assessment
    from bva_excel.excel.read.framework import load_framework

    assessment = create_assessment(folder, template, title)
    framework = load_framework(assessment.workbook)
    click.echo(f"Created assessment {assessment.assessment_id} in {folder}")
    click.echo(f"  {len(framework.characteristics)} characteristics in {len(framework.themes)} themes, "
               f"{len(framework.scale.ratings)} ratings, {len(framework.reviewers)} reviewers")
    click.echo(f"Next: fill in {assessment.workbook} (reviewers, position statements, evidence, "
               f"drafted by), then run: bva generate {_quote(folder)}")


@cli.command()
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
def generate(folder, per_characteristic, deadline, return_to, reallocate, show_password, moderation, moderators,
             every, progress):
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
    """
    from bva_excel.app.issue import generate as generate_workbooks

    if (moderators or every) and not moderation:
        raise click.UsageError("--moderators and --all go with --moderation.")
    if progress:
        if moderation:
            raise click.UsageError("--progress and --moderation are two different rounds: choose one.")
        _generate_progress(_open(folder), folder, deadline.date() if deadline else None, return_to)
        return
    if moderation:
        if not moderators.strip():
            raise click.UsageError('--moderation needs --moderators, e.g. --moderators "R05,R06".')
        _generate_moderation(_open(folder), folder, [m.strip() for m in moderators.split(",") if m.strip()], every,
                             deadline.date() if deadline else None, return_to)
        return
    assessment = _open(folder)
    if show_password:
        click.echo(f"The sheets of this assessment's workbooks are locked with: {assessment.records.sheet_password()}")
        click.echo("Keep it within the PMO: a reviewer who unlocks a sheet can change what they were sent.")
        return
    with _Bar("Writing workbooks") as bar:
        result = generate_workbooks(assessment, per_characteristic, deadline.date() if deadline else None,
                                    return_to, reallocate, bar)
    framework = result.framework
    for line in result.recovered:
        click.echo(f"  note: {line}")
    for note in framework.notes:
        show(note)
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
        click.echo(f"Wrote {_count(len(result.files), 'reviewer workbook')} to {assessment.outbox}:")
    for reviewer_id, path in result.files.items():
        count = sum(reviewer_id in r for r in result.allocation.values())
        click.echo(f"  {path.name}  ({_count(count, 'characteristic')})")
    if not result.first:
        click.echo("  Earlier workbooks stay valid: a reviewer's answers count per characteristic, whichever "
                   "workbook they fill in.")
    if result.refused:  # the rest is done and recorded; these files wait for Excel to let go of them
        for problem in result.refused:
            show(problem, indent="", err=True)
        sys.exit(1)
    click.echo(f"Next: email each reviewer their workbook; save the returns in {assessment.inbox} "
               f"and run: bva ingest {_quote(folder)}")


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the outcome of every file as JSON.")
@click.option("--prefer", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Make this return's answers count over the same reviewer's other returns "
                   "(when two were saved at the same moment): its path, or its name in the inbox.")
def ingest(folder, paths, as_json, prefer):
    """Read returned workbooks from FOLDER/inbox (or the PATHS given): reviews, moderation and progress returns.

    Every new file gets a line: accepted (answered/issued), or what is wrong with it and what to
    do. Answers count per characteristic: a later return replaces an earlier answer only where
    it chose a score. A service area's progress return updates its actions on the plan (one made
    on a workbook replaced by a newer one is kept but changes nothing, and is said). Returns are
    never modified; accepted ones are archived. Exits 1 if any file in the inbox is rejected.

    Example: bva ingest "BV 2026" "Downloads/RE_ BV return (2).xlsx"

    \b
    More examples:
      bva ingest "BV 2026" --json
      bva ingest "BV 2026" --prefer "BV 2026/inbox/RE_ BV return (3).xlsx"
    """
    from bva_excel.app.ingest import ingest as ingest_returns

    assessment = _open(folder)
    with _Bar("Reading returns", enabled=not as_json) as bar:
        report = ingest_returns(assessment, list(paths) if paths else None, bar, prefer)
    if as_json:
        _echo_json({"valid": report.valid, "counts": {
            "accepted": report.count("accepted"), "rejected": sum(o.has_errors for o in report.outcomes
                                                                  if o.status != "unchanged"),
            "unchanged": report.count("unchanged"), "skipped": report.count("skipped")}, "files": [
            {"file": o.name, "status": o.status, "rejected": o.has_errors, "sha256": o.sha256,
             "reviewer": o.reviewer_id, "answered": o.answered, "issued": o.issued,
             "problems": [p.as_dict() for p in o.problems]}
            for o in report.outcomes], "preferred": report.preferred.as_dict() if report.preferred else None})
        sys.exit(0 if report.valid else 1)
    for outcome in report.outcomes:
        if outcome.status == "unchanged":
            continue  # said when it was new; counted below
        reviewer = report.framework.reviewer(outcome.reviewer_id)
        who = reviewer.label if reviewer else outcome.reviewer_id
        if outcome.kind == "progress":  # a rejected progress return gives nothing: no count to contradict that
            replaced = any(p.code == "PROGRESS_WORKBOOK_REPLACED" for p in outcome.problems)
            detail = (f"the progress return from {who}, " + ("nothing taken from it" if outcome.has_errors else
                      f"updates on {outcome.answered} of its {outcome.issued} actions"
                      + (", kept but not put on the plan" if replaced else "")))
        else:
            detail = f"{who}, answered {outcome.answered}/{outcome.issued}" if outcome.reviewer_id else ""
        state = "rejected" if outcome.has_errors else outcome.status
        click.echo(f"{state:<10} {outcome.name}" + (f"  ({detail})" if detail else ""))
        for problem in outcome.problems:
            show(problem)
    if report.preferred:
        show(report.preferred, indent="")
    unchanged = [o for o in report.outcomes if o.status == "unchanged"]
    still_rejected = [o.name for o in unchanged if o.has_errors]
    rejected = sum(o.has_errors for o in report.outcomes if o.status != "unchanged")
    if not report.outcomes:
        click.echo(f"No files to read: save the returned attachments in {assessment.inbox} (any file name) "
                   "or give their paths after the folder.")
    if still_rejected:
        click.echo(f"Still in the inbox, rejected before (see the Returns sheet or --json): {', '.join(still_rejected)}")
    moot = [o.name for o in unchanged if any(p.code == "REJECTED_SINCE_REPLACED" for p in o.problems)]
    if moot:
        click.echo("Rejected before, and since replaced by an accepted return from the same sender (you may move "
                   f"them out of the inbox): {', '.join(moot)}")
    click.echo(f"{report.count('accepted')} accepted, {rejected} rejected, {len(unchanged)} already ingested, "
               f"{report.count('skipped')} skipped.")
    waiting = _still_to_return(assessment)
    if waiting:
        click.echo(f"Still to return their review: {', '.join(waiting[:8])}"
                   + (f" and {len(waiting) - 8} more" if len(waiting) > 8 else "") + ".")
    if rejected or still_rejected:
        click.echo("Next: ask the senders of rejected files to correct and resend them; "
                   f"meanwhile run: bva report {_quote(folder)}")
    else:
        click.echo(f"Next: run: bva report {_quote(folder)}")
    sys.exit(0 if report.valid else 1)


THRESHOLD = click.option(
    "--action-threshold", default=None, metavar="RATING",
    help="A score at or below this rating needs an action and a justification (default: as last chosen "
         "for this assessment, else the middle of the scale, Yellow on the default scale). Kept for report, "
         "check and signoff alike.")
SPREAD = click.option("--spread", type=click.IntRange(min=1), default=None,
                      help="Flag reviewers this many scale steps apart on one characteristic (default: as last "
                           "chosen for this assessment, else 2). Kept for report, check and signoff alike.")


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@THRESHOLD
@SPREAD
def report(folder, action_threshold, spread):
    """Write FOLDER/report.xlsx: Summary, Scores, Heat map, Action plan, Consistency, Changes, Responses, Returns.

    Once progress has come back from the service areas, 'Action history' lists every progress
    update received (one from a replaced workbook says it did not change the plan).

    Moderated scores, notes and actions typed into an earlier report are kept, and so are sheets and
    columns people added to it; the earlier report itself is kept in FOLDER/history/. What changed
    since the last run is listed on 'Changes' (and by bva changes).

    Example: bva report "BV 2026"
    """
    from bva_excel.app.report import write_report

    assessment = _open(folder)
    with _Bar("Writing the report") as bar:
        result = write_report(assessment, action_threshold, spread, bar)
    for warning in result.warnings:
        show(warning)
    answered = sum(1 for d in result.decisions.values() if d.final)
    click.echo(f"Wrote {result.path}: {answered} of {len(result.decisions)} characteristics scored, "
               f"{result.actions} action{'s' * (result.actions != 1)} on the action plan.")
    if result.history:
        click.echo(f"The previous report is kept as {result.history.parent.name}/{result.history.name}.")
    for carried in result.carried.sheets:
        click.echo(f"Kept your sheet '{carried.name}' (values, formulas, column widths, merged cells and notes; "
                   "the previous report in history/ has it exactly as it was).")
    for column in result.carried.columns:
        formulas = " (its formulas were kept as their values; history/ has the formulas)" if column.formulas else ""
        click.echo(f"Kept your column '{column.header}' on '{column.sheet}', now after the report's own "
                   f"columns{formulas}.")
    if result.new_changes:
        click.echo(f"{len(result.new_changes)} change{'s' * (len(result.new_changes) != 1)} since the last report: "
                   f"see the 'Changes' sheet, or run bva changes {_quote(folder)}")
    early = _early_step(result.gathered, folder)
    if early:
        click.echo(early)
        return
    open_findings = len(result.consistency.must_look)
    if open_findings:
        click.echo(f"{open_findings} consistency findings need a moderator's look: see the 'Consistency' sheet "
                   f"or run bva check {_quote(folder)}")
    click.echo(f"Next: open {result.path.name}; type moderated scores on 'Scores' and actions on "
               f"'Action plan', then run bva report {_quote(folder)} again to refresh (what you typed is kept).")


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.argument("refs", nargs=-1, required=True, metavar="REF...")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Write the workbook here (default: FOLDER/detail/detail REF.xlsx).")
@click.option("--pdf", is_flag=True, help="Also write the PDF beside it (needs LibreOffice; without it, the "
                                          "workbook is written and you are told how to print it to PDF).")
def detail(folder, refs, output, pdf):
    """Write the background on characteristics for committee: a sheet per REF, printed on A4.

    Each page has the characteristic, the position statement and evidence, who drafted it, every
    reviewer's score, commentary and gaps with the return it came from, the consistency findings and
    how they were settled, how the final score was reached and who signed it off, and the actions.
    REF in any case (sd006); several refs, a theme prefix (SD) or all give a page each.

    Example: bva detail "BV 2026" SD006 --pdf

    \b
    More examples:
      bva detail "BV 2026" SD006 SD007 -o "SD006 and SD007.xlsx"
      bva detail "BV 2026" SD
    """
    from bva_excel.app.detail import add_pdf, write_detail

    if output is not None:
        _not_over_the_tools_own(folder, output, "-o", folder / "detail" / output.with_suffix(".xlsx").name)
        if not output.suffix:
            output = output.with_suffix(".xlsx")
        if output.suffix.lower() != ".xlsx":
            raise click.BadParameter(f"{output.name}: the workbook's name must end in .xlsx (the PDF is named "
                                     "after it).", param_hint="-o")
        if not output.parent.is_dir():
            raise click.BadParameter(f"{output.parent}: no such folder.", param_hint="-o")
        _not_over_the_tools_own(folder, output, "-o", folder / "detail" / output.name)  # with .xlsx added
    assessment = _open(folder)
    with _Bar("Writing the detail") as bar:
        result = write_detail(assessment, list(refs), output, bar)
    for warning in result.warnings:
        show(warning)
    click.echo(f"Wrote {result.path}: {result.pages} characteristic{'s' * (result.pages != 1)} "
               f"({', '.join(result.refs) if len(result.refs) <= 10 else f'{result.refs[0]} to {result.refs[-1]}'}), "
               "one A4 page or more each.")
    if pdf:
        pdf_warnings = len(result.warnings)
        add_pdf(result)
        for warning in result.warnings[pdf_warnings:]:
            show(warning)
        if result.pdf:
            click.echo(f"Wrote {result.pdf}")
    elif result.path.with_suffix(".pdf").exists():
        click.echo(f"The PDF beside it, {result.path.with_suffix('.pdf').name}, is from an earlier run: add --pdf "
                   "to bring it up to date.")
    click.echo(f"Next: open {result.path.name} to read or print it; it matches report.xlsx as of now (run "
               f"bva report {_quote(folder)} too if anything has changed).")


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("-o", "--out", type=FOLDER, default=None, metavar="FOLDER",
              help="Where to write the pictures (default: FOLDER/pictures).")
def picture(folder, out):
    """Draw the heat map and the ratings by theme as pictures for a committee report.

    Writes 'heat map' and 'ratings by theme', each as PNG (200 dpi, 16 cm wide: pastes into a
    Word document on A4 without scaling) and SVG, with the same final scores, colours, markers
    and key as report.xlsx (what was typed into it counts), titled with the date and sign-off.

    Example: bva picture "BV 2026"

    \b
    More examples:
      bva picture "BV 2026" -o "BV 2026/committee"
    """
    from bva_excel.app.picture import write_pictures

    if out is not None:
        _not_over_the_tools_own(folder, out, "-o", folder / "pictures")
    assessment = _open(folder)
    # matplotlib's font cache in a folder of the tool's, not the user's profile or, where that cannot be written,
    # a new folder in the system's temporary folder on every run (left there for good).
    cache = assessment.records_dir / "matplotlib"
    try:
        cache.mkdir(exist_ok=True)
        os.environ.setdefault("MPLCONFIGDIR", str(cache.resolve()))
    except OSError:  # a share one may only read: matplotlib's own place, as before
        pass
    with _Bar("Drawing the pictures") as bar:
        result = write_pictures(assessment, out, bar)
    click.echo("Wrote:")
    for path in result.paths:
        click.echo(f"  {path}")
    click.echo("Next: insert the PNG (or SVG) into the committee report; run bva picture again after "
               "moderating in report.xlsx.")


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def changes(folder, as_json):
    """List every change seen between report runs, oldest first.

    Changes to moderated scores, moderation notes, final scores and the action plan's inputs are
    recorded each time bva report runs (in the assessment's records, so the list survives a deleted
    report or history folder). Each shows when it was first seen, the characteristic or action, the
    field, the value before and after, and where it came from.

    Example: bva changes "BV 2026"
    """
    from bva_excel.app.state import change_trail, saved_since_written

    assessment = _open(folder)
    trail = change_trail(assessment)
    report_newer = (f"{assessment.report.name} was saved after bva last wrote it: run bva report {_quote(folder)} "
                    "to record what changed in it since." if saved_since_written(assessment) else "")
    if as_json:
        _echo_json({"changes": [c.as_dict() for c in trail], "report_saved_since": bool(report_newer)})
        return
    if not trail:
        click.echo("No changes seen yet: each bva report records what changed since the run before.")
    for change in trail:
        seen = dt.datetime.fromisoformat(change.seen_at).strftime("%d %b %Y %H:%M")
        click.echo(f"{seen}  {change.key}  {change.field}: {change.before or '(blank)'} -> "
                   f"{change.after or '(blank)'}  ({change.source})")
    if report_newer:
        click.echo(report_newer)


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@THRESHOLD
@SPREAD
def check(folder, as_json, action_threshold, spread):
    """Find inconsistent scoring for the moderators, most serious first.

    Disagreement between reviewers, reviewers harsher or kinder than colleagues, scores
    that contradict their words, unanswered characteristics, and agreement overall
    (Krippendorff's alpha). Findings on moderated characteristics show as resolved.
    Also lists problems on the action plan: a service area not on the 'Service areas' sheet (with
    "did you mean"), an action under no characteristic or with an ID used twice, and after
    sign-off an open action with no owner, service area or target date.
    Exits 1 while anything needs a moderator's look or a service area is not listed.

    Example: bva check "BV 2026" --spread 2

    \b
    More examples:
      bva check "BV 2026" --json
    """
    from bva_excel.app.progress import current_actions
    from bva_excel.app.state import STATE_STEPS, load_state
    from bva_excel.model.action_plan import action_problems
    from bva_excel.model.consistency import SEVERITIES

    assessment = _open(folder)
    _service_areas_needed(assessment, "check")
    with _Bar("Checking", enabled=not as_json) as bar:
        bar.start(STATE_STEPS, "steps")
        if action_threshold is not None or spread is not None:  # kept for the assessment: written under the lock
            with assessment.locked("check"):
                gathered = load_state(assessment, action_threshold, spread, bar)
        else:
            gathered = load_state(assessment, action_threshold, spread, bar)
    result = gathered.consistency
    on_plan = action_problems(gathered.framework, current_actions(assessment, gathered), gathered.edits.action_rows,
                              gathered.signoff is not None, assessment.report.name)
    failed = bool(result.must_look) or any(p.severity == ERROR for p in on_plan)
    # The plan's service areas are said under 'Action plan' (as errors, since no progress can be asked for them).
    gathered.warnings[:] = [w for w in gathered.warnings if w.code != "ACTION_SERVICE_AREA_NOT_LISTED"]
    if as_json:  # only JSON on stdout: warnings go inside it
        _echo_json({"must_look": len(result.must_look), "alpha": result.alpha.value,
                    "alpha_reason": result.alpha.reason, "findings": [f.as_dict() for f in result.findings],
                    "warnings": [w.as_dict() for w in gathered.warnings],
                    "action_plan": [p.as_dict() for p in on_plan]})
        sys.exit(1 if failed else 0)
    for warning in gathered.warnings:
        show(warning, indent="")
    groups = [(severity.capitalize(), [f for f in result.findings if f.severity == severity and not f.resolved])
              for severity in SEVERITIES] + [("Resolved by moderation", [f for f in result.findings if f.resolved])]
    for title, findings in groups:
        if not findings:
            continue
        click.echo(f"{title} ({len(findings)})")
        for finding in findings:
            place = f"{finding.ref:<7} " if finding.ref else (f"{finding.theme}: " if finding.theme else "")
            who = f" [{', '.join(finding.reviewers)}]" if finding.reviewers else ""
            click.echo(f"  {place}{finding.finding}{who}")
            click.echo(f"      {finding.evidence}")
            if finding.resolved:
                click.echo(f"      resolved: {finding.resolved}")
    def open_count(severity):
        return sum(1 for f in result.findings if f.severity == severity and not f.resolved)

    click.echo(f"{len(result.must_look)} findings need a moderator's look ({open_count(SEVERITIES[0])} high, "
               f"{open_count(SEVERITIES[1])} medium); {open_count(SEVERITIES[2])} low to note; "
               f"{sum(1 for f in result.findings if f.resolved)} resolved by moderation.")
    if on_plan:
        click.echo(f"Action plan ({len(on_plan)})")
        for found in on_plan:
            show(found)
    early = _early_step(gathered, folder)
    if early:
        click.echo(early)
    elif result.must_look:
        click.echo("Next: moderate in report.xlsx ('Scores': Moderated score and Moderation note), "
                   f"then run bva report {_quote(folder)} and bva check {_quote(folder)} again.")
    elif on_plan:
        click.echo(f"Next: complete the action plan in report.xlsx, then run bva check {_quote(folder)} again.")
    else:
        click.echo(f"Next: run bva report {_quote(folder)} for committee.")
    sys.exit(1 if failed else 0)


def _service_areas_needed(assessment, command: str) -> None:
    """Give an older assessment's workbook its 'Service areas' sheet, saying so; if the workbook is open, say
    that the service areas are not checked this time."""
    from bva_excel.excel.write.service_areas import ensure_service_areas

    try:
        with assessment.locked(command):
            _say_service_areas_added(ensure_service_areas(assessment))
    except BvaError as error:  # busy, open in Excel, or a share that may only be read: checked the next time
        for found in error.problems:
            show(found, indent="", err=True)
        click.echo("  note: service areas are not checked this time.", err=True)


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--by", "by", required=True, metavar='"NAME, ROLE"',
              help="Who signs off the final scores, and in what role.")
@click.option("--accept-open", is_flag=True,
              help="Sign off even though high-severity findings are open (their number is recorded).")
@THRESHOLD
@SPREAD
def signoff(folder, by, accept_open, action_threshold, spread):
    """Record the senior officers' sign-off of every characteristic's final score.

    Refused while high-severity findings are open, unless --accept-open. Signing off again
    records a new sign-off and keeps the old. Afterwards, a final score changed in report.xlsx
    is shown with both values and needs a note.

    Example: bva signoff "BV 2026" --by "Jane Smith, Assistant Chief Executive"
    """
    from bva_excel.app.signoff import sign_off

    assessment = _open(folder)
    with _Bar("Signing off") as bar:
        result = sign_off(assessment, by, accept_open, action_threshold, spread, bar)
    finals = result.signoff.finals
    scored = sum(1 for final in finals.values() if final)
    click.echo(f"Signed off the final scores of {len(finals)} characteristics ({scored} scored) for "
               f"{result.signoff.signed_by} on {result.signoff.signed_at.replace('T', ' ')[:16]}.")
    if result.signoff.open_high:
        click.echo(f"  note: {result.signoff.open_high} high-severity findings were open and accepted; that is "
                   "recorded with the sign-off.")
    if result.earlier:
        click.echo(f"  note: {result.earlier} earlier sign-off{'s are' if result.earlier != 1 else ' is'} kept.")
    click.echo(f"Next: run bva report {_quote(folder)} to show the sign-off on 'Summary' and the heat map.")


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write CSV (UTF-8, opens correctly in Excel) to FILE (the default, as FOLDER/actions.csv).")
@click.option("--xlsx", "xlsx_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write a workbook to FILE instead.")
@click.option("--service-area", metavar="NAME", help="Only the actions of this service area.")
def actions(folder, csv_file, xlsx_file, service_area):
    """Export the action plan for the business planning tool.

    One row per action: Action ID, Ref, Theme, Characteristic, Gap, Action, Owner, Service area,
    Target date (as 2027-03-31), Status, Progress update, Last updated. The plan is the one in
    report.xlsx, with the progress returned since; the same action keeps the same ID on every
    export. A cell starting with =, +, - or @ is written so that no spreadsheet runs it.

    Example: bva actions "BV 2026" --csv "BV 2026/actions for planning.csv"

    \b
    More examples:
      bva actions "BV 2026" --xlsx actions.xlsx --service-area Finance
    """
    from bva_excel.app.export import export_actions

    if csv_file and xlsx_file:
        raise click.UsageError("Choose one of --csv and --xlsx.")
    if csv_file or xlsx_file:
        _not_over_the_tools_own(folder, csv_file or xlsx_file, "--csv" if csv_file else "--xlsx",
                                folder / ("actions.csv" if csv_file else "actions.xlsx"))
    assessment = _open(folder)
    with _Bar("Exporting actions") as bar:
        result = export_actions(assessment, xlsx_file or csv_file or assessment.folder / "actions.csv",
                                bool(xlsx_file), service_area, bar)
    whose = f" of {result.service_area}" if result.service_area else ""
    click.echo(f"Wrote {result.rows} action{'s' * (result.rows != 1)}{whose} to {result.path}")
    if result.assigned:
        click.echo(f"  note: {len(result.assigned)} action{'s' * (len(result.assigned) != 1)} typed into report.xlsx "
                   f"without an ID {'were' if len(result.assigned) != 1 else 'was'} exported as "
                   f"{', '.join(given for _, _, given in result.assigned)}; run bva report {_quote(folder)} to write "
                   "the IDs into the report as well.")
    if result.unlisted:
        count = len(result.unlisted)
        names = ", ".join(f"'{name}'" for name in dict.fromkeys(result.unlisted))
        left = f" (so {'they are' if count != 1 else 'it is'} not in this export)" if result.service_area else ""
        click.echo(f"  warning: {count} action{'s name' if count != 1 else ' names'} a service area not on the "
                   f"'Service areas' sheet ({names}){left}; run bva check {_quote(folder)} to see which, with "
                   "'did you mean'.")
    if not result.rows and not result.service_area:
        from bva_excel.errors import problem

        show(problem("ACTION_PLAN_EMPTY", "report.xlsx", "Action plan", command=f"actions {_quote(folder)}"),
             indent="")
        return
    click.echo("Next: import it into the business planning tool; after committee, collect progress with "
               f"bva generate {_quote(folder)} --progress")


@cli.command("follow-up")
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Where to write it (default: FOLDER/follow-up YYYY-MM-DD.xlsx, dated today).")
def follow_up(folder, output):
    """Write the follow-up report on the action plan for committee.

    Counts by status and by service area (with charts), overdue actions, what changed since the
    previous follow-up (completed, slipped, new), the characteristics whose actions are all
    complete, and the service areas that have not returned progress. Each follow-up is kept in
    the records, so the next one can say what changed.

    Example: bva follow-up "BV 2026" -o "BV 2026/Follow-up for January committee.xlsx"
    """
    from bva_excel.app.follow_up import write_follow_up

    if output is not None:
        _not_over_the_tools_own(folder, output, "-o", folder / f"follow-up {dt.date.today():%Y-%m-%d}.xlsx")
    assessment = _open(folder)
    with _Bar("Writing the follow-up") as bar:
        result = write_follow_up(assessment, output, tracker=bar)
    if result.history:
        click.echo(f"The previous follow-up is kept as {result.history.parent.name}/{result.history.name}.")
    done = sum(1 for r in result.rows if r.done)
    click.echo(f"Wrote {result.path}: {len(result.rows)} actions, {done} complete or closed, "
               f"{len(result.overdue)} overdue.")
    if result.previous:
        click.echo(f"  since the follow-up of {result.previous.written_at[:10]} ({result.previous.file}): "
                   f"{result.count('Completed')} completed, {result.count('Slipped')} slipped, "
                   f"{result.count('New')} new.")
    for missing in result.not_returned:
        click.echo(f"  not returned: {missing.area} (sent {missing.sent[:10]} as {missing.file}; "
                   + (f"last returned {missing.last_return[:10]})" if missing.last_return else "none returned yet)"))
    if not result.rows:
        from bva_excel.errors import problem

        show(problem("ACTION_PLAN_EMPTY", "report.xlsx", "Action plan", command=f"follow-up {_quote(folder)}"),
             indent="")
        return
    click.echo("Next: send it to committee; collect progress again with "
               f"bva generate {_quote(folder)} --progress when the next update is due.")


@cli.command()
@click.argument("folder", type=FOLDER, default="demo-assessment")
def demo(folder):
    """Run the whole exercise on the built-in template with sample data.

    Creates FOLDER (default demo-assessment; an earlier demo there is made afresh, a real
    assessment is never touched) with sample reviewers and position statements,
    generates the reviewer workbooks (two reviewers to a characteristic), simulates the returns
    (with disagreements, a kind and a harsh reviewer, one reviewer late and one bad file),
    ingests them, runs a moderation round, signs off, types an action plan with owners,
    service areas and dates, and writes the report.

    Example: bva demo demo-assessment
    """
    from bva_excel.app.demo import run_demo

    result = run_demo(folder)
    if result.replaced:
        click.echo(f"Replaced the earlier demo in {folder}")
    click.echo(f"Demo assessment {result.assessment.assessment_id} in {folder}")
    click.echo(f"  generated {result.generated} reviewer workbooks in {result.assessment.outbox}")
    click.echo(f"  simulated {result.returned} returns in {result.assessment.inbox}; ingest said:")
    for outcome in result.ingest.outcomes:
        state = "rejected" if outcome.has_errors else outcome.status
        click.echo(f"    {state:<10} {outcome.name}")
        for problem in outcome.problems:
            if problem.severity == ERROR:
                show(problem, indent="      ")
    if result.moderation:
        shares = ", ".join(f"{m} {len(refs)}" for m, refs in result.moderation.shares.items())
        resolved = sum(1 for f in result.report.consistency.findings if f.resolved)
        click.echo(f"  moderation round: {len(result.moderation.files)} moderation workbooks ({shares} "
                   f"characteristics), returned and ingested; {resolved} findings resolved by moderation")
    if result.signed:
        click.echo(f"  signed off by {result.signed.signoff.signed_by}, with {result.signed.signoff.open_high} "
                   "high-severity findings still open (accepted)")
    click.echo(f"  wrote {result.report.path} ({result.report.actions} actions on the plan)")
    click.echo(f"  {len(result.report.consistency.must_look)} findings need a moderator's look: see the "
               f"'Consistency' sheet, or run bva check {_quote(folder)}")
    click.echo("The rejected file is part of the show: it has a typo in a score.")
    click.echo(f"Next: open {result.report.path} and look at 'Heat map' and 'Action plan'; then try "
               f"bva picture {_quote(folder)} (the pictures for a committee paper) and "
               f"bva detail {_quote(folder)} SD006 (the background on one characteristic).")


def _generate_moderation(assessment, folder: Path, moderators: list[str], every: bool, deadline, return_to) -> None:
    from bva_excel.app.moderation_round import generate_moderation

    with _Bar("Writing moderation workbooks") as bar:
        result = generate_moderation(assessment, moderators, every, deadline, return_to, bar)
    for line in result.recovered:
        click.echo(f"  note: {line}")
    click.echo(f"Wrote {_count(len(result.files), 'moderation workbook')} to {assessment.outbox}:")
    for moderator_id, path in result.files.items():
        refs = result.shares[moderator_id]
        click.echo(f"  {path.name}  ({_count(len(refs), 'characteristic')}: {', '.join(refs)})")
    if result.refused:  # recorded; these wait for Excel to let go of the outbox's copy
        for problem in result.refused:
            show(problem, indent="", err=True)
        sys.exit(1)
    click.echo(f"Next: email each moderator their workbook; save the returns in {assessment.inbox} and run: "
               f"bva ingest {_quote(folder)}")


def _generate_progress(assessment, folder: Path, deadline, return_to) -> None:
    from bva_excel.app.progress import generate_progress

    try:
        with _Bar("Writing progress workbooks") as bar:
            result = generate_progress(assessment, deadline, return_to, bar)
    except BvaError as refused:
        _say_service_areas_added(getattr(refused, "added", None))
        raise
    for line in result.recovered:
        click.echo(f"  note: {line}")
    _say_service_areas_added(result.added)
    click.echo(f"Wrote {len(result.files)} progress workbooks to {assessment.outbox}:")
    for area, path in result.files.items():
        count = len(result.actions[area])
        click.echo(f"  {path.name}  ({count} action{'s' * (count != 1)}: {', '.join(result.actions[area])})")
    if result.replaced:
        verb = "replaces" if len(result.replaced) == 1 else "replace"
        click.echo(f"  note: {len(result.replaced)} of these {verb} the workbook of the same name from an earlier "
                   f"round ({', '.join(result.replaced)}); a return of the earlier one is still read, but if it comes "
                   "after this one was issued it does not change the plan.")
    if result.done:
        click.echo(f"  {result.done} complete or closed action{'s are' if result.done != 1 else ' is'} not sent.")
    if result.unassigned:
        click.echo(f"  warning: {len(result.unassigned)} open action{'s have' if len(result.unassigned) != 1 else ' has'} "
                   f"no service area, so nobody was asked about {'them' if len(result.unassigned) != 1 else 'it'}: "
                   f"{', '.join(result.unassigned)}. Type a 'Service area' on the Action plan and generate again.")
    if result.refused:
        for problem in result.refused:
            show(problem, indent="", err=True)
        sys.exit(1)
    click.echo(f"Next: email each Head of Service their workbook; save the returns in {assessment.inbox} and run: "
               f"bva ingest {_quote(folder)}, then bva report {_quote(folder)} and bva follow-up {_quote(folder)}")


def _say_service_areas_added(added) -> None:
    """One line when an older assessment's workbook was given its 'Service areas' sheet."""
    if added is None:
        return
    from bva_excel.errors import problem

    areas = f" with the {len(added.areas)} service areas named on 'Reviewers' ({', '.join(added.areas)})" \
        if added.areas else ""
    show(problem("SERVICE_AREAS_ADDED", added.workbook, areas=areas,
                 backup=str(added.backup.relative_to(added.workbook.parent))), indent="", err=True)


def _show_calibration(result) -> None:
    """Per reviewer: load, themes and the colleagues they share characteristics with; groups that never meet."""
    from bva_excel.model.allocation import by_reviewer, colleagues, groups

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


def _still_to_return(assessment) -> list[str]:
    """Reviewers sent a review workbook from whom no return of one has been accepted yet, as they are named."""
    records = assessment.records
    issues = records.issues()
    kinds = {issue.issue_id: issue.kind for issue in issues}
    sent = {issue.reviewer_id for issue in issues if issue.kind == "review"}
    returned = {r.reviewer_id for r in records.returns() if r.status == "accepted" and kinds.get(r.issue_id) == "review"}
    from bva_excel.excel.read.framework import load_framework

    try:
        framework = load_framework(assessment.workbook)
    except BvaError:
        framework = None
    names = {r.reviewer_id: r.label for r in framework.reviewers} if framework else {}
    return [names.get(reviewer_id, reviewer_id) for reviewer_id in sorted(sent - returned)
            if not framework or reviewer_id in names]


def _early_step(gathered, folder: Path) -> str:
    """The next step while the exercise has not reached moderation yet, else ''."""
    missing = [what for what, done in [("reviewers on 'Reviewers'", gathered.framework.reviewers),
                                       ("position statements on 'Characteristics'",
                                        any(c.position_statement for c in gathered.framework.characteristics))]
               if not done]
    if missing and not gathered.issues:
        return (f"Next: fill in {folder / 'assessment.xlsx'} ({' and '.join(missing)}), then run: "
                f"bva generate {_quote(folder)}")
    if not gathered.issues:
        return f"Next: write the reviewer workbooks: bva generate {_quote(folder)}"
    if not any(r.status in ("accepted", "superseded") for r in gathered.consolidation.returns):
        return (f"Next: wait for the returns; save them in {folder / 'inbox'} (any file name) and run: "
                f"bva ingest {_quote(folder)}")
    return ""


def _not_over_the_tools_own(folder: Path, target: Path, option: str, instead: Path) -> None:
    """Refuse (a usage error, exit 2) an output path that would replace or write into what the tool keeps."""
    from bva_excel.store.folder import kept_by_the_tool

    kept = kept_by_the_tool(folder, target)
    if kept:
        raise click.BadParameter(f"{target}: this would {kept}, which bva keeps; nothing was written. "
                                 f"Write it somewhere else, such as {_quote(instead)}.", param_hint=option)


def _open(folder: Path):
    """Open the assessment in `folder`; anything said on opening (a one-off migration) goes to stderr,
    so that --json output stays clean."""
    from bva_excel.store.folder import open_assessment

    assessment = open_assessment(folder)
    for note in assessment.notes:
        show(note, indent="", err=True)
    click.get_current_context().with_resource(_temporary_files_in(assessment.records_dir))
    _finish_an_interrupted_round(assessment)
    return assessment


def _finish_an_interrupted_round(assessment) -> None:
    """Whatever the command, first finish (or undo) a round of workbooks that a generate stopped half-way left
    in the records' staging folder, and say which (on stderr, so that --json stays clean)."""
    from bva_excel.app.issue import STAGING_PREFIX, finish_interrupted_generation

    if not any(assessment.records_dir.glob(f"{STAGING_PREFIX}*")):
        return
    try:
        with assessment.locked("finish an interrupted generate"):
            said = finish_interrupted_generation(assessment)
    except BvaError as busy:  # another command holds the lock, or the outbox's file is open: the next one will
        for found in busy.problems:
            show(found, indent="", err=True)
        return
    for line in said:
        click.echo(f"note: {line}", err=True)


@contextlib.contextmanager
def _temporary_files_in(records_dir: Path):
    """Keep this run's temporary files (XlsxWriter's, LibreOffice's) inside the assessment's records, cleared at
    the end and, after a kill, by the next run; where that folder cannot be written, the system's is used."""
    from bva_excel.store.files import scratch_space

    previous = tempfile.tempdir
    try:
        scratch = scratch_space(records_dir)
        folder = scratch.__enter__()
    except OSError:
        yield
        return
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = previous
        scratch.__exit__(None, None, None)


def _columns() -> int:
    """How wide the terminal the bar is drawn on (stderr) is, even when the output goes to a file or a program."""
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size().columns


class _Bar:
    """The progress bar of one command, drawn by click on a terminal's stderr: the count, the time left and,
    for files or workbooks, the rate (for steps, the step just done). Nothing at all when stderr is not a
    terminal (a pipe, a log file) or with --json. Its line always fits the terminal, a column to spare (a
    line of the terminal's full width wraps on Windows): the rate or step gives way first, then the label
    (to its first word, then altogether), then the bar, down to 6 columns."""

    MIN_BAR = 6

    def __init__(self, label: str, enabled: bool = True):
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.bar = None
        self.unit, self.finished, self.first, self.started, self.extra = "", "", 0, 0.0, 0

    def start(self, total: int, unit: str, done: int = 0) -> None:
        if self.bar is not None and unit == self.unit and done == self.bar.pos:  # more of the same work: one bar
            self.bar.length, self.bar.finished = total, False
            return
        self.close()
        if not self.enabled or total - done < 2:
            return
        self.unit, self.finished, self.first, self.started = unit, "", done, time.monotonic()
        room = _columns() - 1
        counts = len(f"  {total}/{total}") + len("  00:00:00")
        self.extra = 28 if room - counts - 4 - 20 >= 28 else 0  # "  1,234 workbooks/s" or the step done
        fits = [label for label in (self.label, self.label.split()[0])  # "Writing the report", else "Writing"
                if len(label) + 4 + self.MIN_BAR + counts + self.extra <= room]
        label = fits[0] if fits else ""
        width = max(self.MIN_BAR, room - len(label) - 4 - counts - self.extra)
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, show_percent=False,
                                     width=width, item_show_func=lambda _: self._info())
        self.bar.__enter__()
        self.bar.update(done)

    def advance(self, finished: str = "") -> None:
        if self.bar is not None:
            self.finished = finished or self.finished
            self.bar.update(1)

    def _info(self) -> str | None:
        if not self.extra:
            return None
        if self.unit == "steps":
            text = self.finished
        else:
            seconds = time.monotonic() - self.started
            text = f"{(self.bar.pos - self.first) / seconds:,.0f} {self.unit}/s" if seconds > 0.5 else ""
        if len(text) > self.extra - 2:  # cut at a word, never in one
            text = text[:self.extra - 5].rsplit(" ", 1)[0] + "..."
        return text or None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self) -> "_Bar":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def _echo_json(data: dict) -> None:
    """Print `data` as JSON in ASCII (escapes for every other character), so that it stays valid JSON on a
    stream that cannot encode a name: a Windows code page such as cp1252, when output is redirected."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=True))


def _count(number: int, thing: str) -> str:
    """'1 characteristic', '2 characteristics'."""
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _quote(path: Path) -> str:
    text = str(path)
    return f'"{text}"' if any(c in text for c in " '()&") else text


def _never_fail_on_a_character() -> None:
    """Write a character the output's encoding lacks as an escape (\\u738b), never a traceback.

    On Windows, output redirected to a file or another program is in the legacy code page (cp1252),
    which has no Chinese, Cyrillic, Arabic or emoji. Python already escapes them on stderr; the same is
    done here for stdout, whose encoding is left as it is.
    """
    if hasattr(sys.stdout, "reconfigure"):  # a text stream (not None, as under pythonw)
        sys.stdout.reconfigure(errors="backslashreplace")


def run() -> int:
    """The command line, as `bva` runs it (see `bva_excel.__main__`): the exit code. Click's own answer to Ctrl-C
    ('Aborted!', exit code 1) is left to the caller, which says what became of the work."""
    _never_fail_on_a_character()
    try:
        code = cli.main(prog_name="bva", standalone_mode=False)
    except click.exceptions.Abort as stopped:
        if isinstance(stopped.__cause__, KeyboardInterrupt):
            raise stopped.__cause__ from None
        click.echo("Aborted!", err=True)
        return 1
    except click.ClickException as error:  # a usage error: said with the usage, exit code 2
        error.show()
        return error.exit_code
    return code if isinstance(code, int) else 0
