"""What the PMO and committee read: `bva report`, `detail`, `picture`, `changes` and `check`."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from bva_excel.app.detail import add_pdf, write_detail
from bva_excel.app.picture import write_pictures
from bva_excel.app.report import write_report
from bva_excel.app.state import (
    STATE_STEPS,
    change_trail,
    keep_choices,
    load_state,
    saved_since_written,
)
from bva_excel.cli.base import command, listed, show_all, verbose
from bva_excel.cli.common import (
    EXISTING_FOLDER,
    FOLDER,
    SPREAD,
    THRESHOLD,
    Bar,
    counted,
    early_step,
    echo_json,
    not_over_the_tools_own,
    open_folder,
    quote,
    said_changed,
    service_areas_needed,
)
from bva_excel.errors import ERROR, REPEATS
from bva_excel.model.action_plan import action_problems
from bva_excel.model.consistency import SEVERITIES
from bva_excel.model.copies import made_apart
from bva_excel.model.decisions import changed_since


@command("report")
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
    assessment = open_folder(folder)
    with Bar("Writing the report") as bar:
        result = write_report(assessment, action_threshold, spread, bar)
    show_all(result.warnings)
    scale = result.gathered.framework.scale  # a final score typed that is not on it is not answered, as on the sheets
    answered = sum(1 for d in result.decisions.values() if d.final and scale.find(d.final) is not None)
    click.echo(f"Wrote {result.path}: {answered} of {len(result.decisions)} characteristics scored, "
               f"{result.actions} action{'s' * (result.actions != 1)} on the action plan.")
    if result.history:
        click.echo(f"The previous report is kept as {result.history.parent.name}/{result.history.name}.")
    for carried in result.carried.sheets:
        pictures = f", {counted(len(carried.pictures), 'picture')}" if carried.pictures else ""
        click.echo(f"Kept your sheet '{carried.name}' (values, formulas, column widths, merged cells and "
                   f"notes{pictures}; the previous report in history/ has it exactly as it was).")
    for column in result.carried.columns:
        formulas = " (its formulas were kept as their values; history/ has the formulas)" if column.formulas else ""
        click.echo(f"Kept your column '{column.header}' on '{column.sheet}', now after the report's own "
                   f"columns{formulas}.")
    since = changed_since(result.gathered.signoff, {ref: d.final for ref, d in result.decisions.items()})
    if since:
        click.echo(f"  warning: {counted(len(since), 'final score')} differ{'s' * (len(since) == 1)} from the "
                   f"sign-off of {result.gathered.signoff.signed_at[:10]}: {said_changed(since)}; marked as changed "
                   "since sign-off on the heat map. Sign off again once they are agreed.")
    if result.new_changes:
        click.echo(f"{len(result.new_changes)} change{'s' * (len(result.new_changes) != 1)} since the last report: "
                   f"see the 'Changes' sheet, or run bva changes {quote(folder)}")
    early = early_step(result.gathered, folder)
    if early:
        click.echo(early)
        return
    open_findings = len(result.consistency.must_look)
    if open_findings:
        click.echo(f"{open_findings} consistency findings need a moderator's look: see the 'Consistency' sheet "
                   f"or run bva check {quote(folder)}")
    click.echo(f"Next: open {result.path.name}; type moderated scores on 'Scores' and actions on "
               f"'Action plan', then run bva report {quote(folder)} again to refresh (what you typed is kept).")


@command("detail")
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
    if output is not None:
        not_over_the_tools_own(folder, output, "-o", folder / "detail" / output.with_suffix(".xlsx").name)
        if not output.suffix:
            output = output.with_suffix(".xlsx")
        if output.suffix.lower() != ".xlsx":
            raise click.BadParameter(f"{output.name}: the workbook's name must end in .xlsx (the PDF is named "
                                     "after it).", param_hint="-o")
        if not output.parent.is_dir():
            raise click.BadParameter(f"{output.parent}: no such folder.", param_hint="-o")
        not_over_the_tools_own(folder, output, "-o", folder / "detail" / output.name)  # with .xlsx added
    assessment = open_folder(folder)
    with Bar("Writing the detail") as bar:
        result = write_detail(assessment, list(refs), output, bar)
    show_all(result.warnings)
    click.echo(f"Wrote {result.path}: {result.pages} characteristic{'s' * (result.pages != 1)} "
               f"({', '.join(result.refs) if len(result.refs) <= 10 else f'{result.refs[0]} to {result.refs[-1]}'}), "
               "one A4 page or more each.")
    if pdf:
        pdf_warnings = len(result.warnings)
        add_pdf(result)
        show_all(result.warnings[pdf_warnings:])
        if result.pdf:
            click.echo(f"Wrote {result.pdf}")
    elif result.path.with_suffix(".pdf").exists():
        click.echo(f"The PDF beside it, {result.path.with_suffix('.pdf').name}, is from an earlier run: add --pdf "
                   "to bring it up to date.")
    click.echo(f"Next: open {result.path.name} to read or print it; it matches report.xlsx as of now (run "
               f"bva report {quote(folder)} too if anything has changed).")


@command("picture")
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
    if out is not None:
        not_over_the_tools_own(folder, out, "-o", folder / "pictures")
    assessment = open_folder(folder)
    # matplotlib's font cache in a folder of the tool's, not the user's profile or, where that cannot be written,
    # a new folder in the system's temporary folder on every run (left there for good).
    cache = assessment.records_dir / "matplotlib"
    try:
        cache.mkdir(exist_ok=True)
        os.environ.setdefault("MPLCONFIGDIR", str(cache.resolve()))
    except OSError:  # a share one may only read: matplotlib's own place, as before
        pass
    with Bar("Drawing the pictures") as bar:
        result = write_pictures(assessment, out, bar)
    click.echo("Wrote:")
    for path in result.paths:
        click.echo(f"  {path}")
    click.echo("Next: insert the PNG (or SVG) into the committee report; run bva picture again after "
               "moderating in report.xlsx.")


@command("changes")
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
    assessment = open_folder(folder)
    trail = change_trail(assessment)
    report_newer = (f"{assessment.report.name} was saved after bva last wrote it: run bva report {quote(folder)} "
                    "to record what changed in it since." if saved_since_written(assessment) else "")
    if as_json:
        echo_json({"changes": [c.as_dict() for c in trail], "report_saved_since": bool(report_newer)})
        return
    if not trail:
        click.echo("No changes seen yet: each bva report records what changed since the run before.")
    for change in trail:
        seen = dt.datetime.fromisoformat(change.seen_at).strftime("%d %b %Y %H:%M")
        click.echo(f"{seen}  {change.key}  {change.field}: {change.before or '(blank)'} -> "
                   f"{change.after or '(blank)'}  ({change.source})")
    if trail:
        keys = {change.key for change in trail}
        things = "characteristic or action" if len(keys) == 1 else "characteristics or actions"
        click.echo(f"{counted(len(trail), 'change')} to {len(keys)} {things}, "
                   f"oldest first; the latest seen {dt.datetime.fromisoformat(trail[-1].seen_at):%d %b %Y %H:%M}.")
    if report_newer:
        click.echo(report_newer)


def _findings_alike(findings) -> list[list]:
    """The findings in order, those the same but for their ref and evidence (the same words, reviewers and
    resolution, three or more) together; each on its own with --verbose."""
    if verbose():
        return [[f] for f in findings]
    groups: dict[tuple, list] = {}
    for finding in findings:
        key = (finding.finding, tuple(finding.reviewers), finding.resolved, bool(finding.ref))
        groups.setdefault(key, []).append(finding)
    shown, done = [], set()
    for finding in findings:
        key = (finding.finding, tuple(finding.reviewers), finding.resolved, bool(finding.ref))
        group = groups[key]
        if len(group) < REPEATS or not finding.ref:
            shown.append([finding])
        elif key not in done:
            done.add(key)
            shown.append(group)
    return shown


@command("check")
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
    assessment = open_folder(folder)
    service_areas_needed(assessment, "check")
    with Bar("Checking", enabled=not as_json) as bar:
        bar.start(STATE_STEPS, "steps")
        if action_threshold is not None or spread is not None:  # kept for the assessment: written under the lock
            with assessment.locked("check"):
                keep_choices(assessment, action_threshold, spread)
        gathered = load_state(assessment, bar)
    result = gathered.consistency
    on_plan = action_problems(gathered.framework, gathered.actions, gathered.edits.action_rows,
                              gathered.signoff is not None, assessment.report.name)
    failed = bool(result.must_look) or any(p.severity == ERROR for p in on_plan)
    # The plan's service areas are said under 'Action plan' (as errors, since no progress can be asked for them).
    gathered.warnings[:] = [w for w in gathered.warnings if w.code != "ACTION_SERVICE_AREA_NOT_LISTED"]
    apart = made_apart(gathered.issues, assessment.records.signoffs())
    if as_json:  # only JSON on stdout: warnings go inside it
        echo_json({"made_apart": apart, "must_look": len(result.must_look), "alpha": result.alpha.value,
                    "alpha_reason": result.alpha.reason, "findings": [f.as_dict() for f in result.findings],
                    "warnings": [w.as_dict() for w in gathered.warnings],
                    "action_plan": [p.as_dict() for p in on_plan]})
        sys.exit(1 if failed else 0)
    show_all(gathered.warnings, indent="")
    for line in apart:
        click.echo(f"note: {line}")
    groups = [(severity.capitalize(), [f for f in result.findings if f.severity == severity and not f.resolved])
              for severity in SEVERITIES] + [("Resolved by moderation", [f for f in result.findings if f.resolved])]
    for title, findings in groups:
        if not findings:
            continue
        click.echo(f"{title} ({len(findings)})")
        for alike in _findings_alike(findings):
            finding = alike[0]
            if len(alike) > 1:
                place = f"{listed([f.ref for f in alike], len(alike))} ({len(alike)}): "
            else:
                place = f"{finding.ref:<7} " if finding.ref else (f"{finding.theme}: " if finding.theme else "")
            who = f" [{', '.join(finding.reviewers)}]" if finding.reviewers else ""
            click.echo(f"  {place}{finding.finding}{who}")
            evidence = {f.evidence for f in alike}
            click.echo(f"      {finding.evidence}" if len(evidence) == 1 else
                       "      " + "; ".join(f"{f.ref}: {f.evidence}" for f in alike))
            if finding.resolved:
                click.echo(f"      resolved: {finding.resolved}")
    def open_count(severity):
        return sum(1 for f in result.findings if f.severity == severity and not f.resolved)

    click.echo(f"{len(result.must_look)} findings need a moderator's look ({open_count(SEVERITIES[0])} high, "
               f"{open_count(SEVERITIES[1])} medium); {open_count(SEVERITIES[2])} low to note; "
               f"{sum(1 for f in result.findings if f.resolved)} resolved by moderation.")
    if on_plan:
        click.echo(f"Action plan ({len(on_plan)})")
        show_all(on_plan)
    early = early_step(gathered, folder)
    if early:
        click.echo(early)
    elif result.must_look:
        click.echo("Next: moderate in report.xlsx ('Scores': Moderated score and Moderation note), "
                   f"then run bva report {quote(folder)} and bva check {quote(folder)} again.")
    elif on_plan:
        click.echo(f"Next: complete the action plan in report.xlsx, then run bva check {quote(folder)} again.")
    else:
        click.echo(f"Next: run bva report {quote(folder)} for committee.")
    sys.exit(1 if failed else 0)

