"""After the scores: `bva signoff`, `actions` and `follow-up`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from bva_excel.app.export import export_actions
from bva_excel.app.follow_up import write_follow_up
from bva_excel.app.signoff import sign_off
from bva_excel.cli.base import command, listed, show
from bva_excel.cli.common import (
    EXISTING_FOLDER,
    SPREAD,
    THRESHOLD,
    Bar,
    counted,
    not_over_the_tools_own,
    open_folder,
    quote,
)


@command("signoff")
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
    assessment = open_folder(folder)
    with Bar("Signing off") as bar:
        result = sign_off(assessment, by, accept_open, action_threshold, spread, bar)
    finals = result.signoff.finals
    scored = sum(1 for final in finals.values() if final)
    click.echo(f"Signed off the final scores of {len(finals)} characteristics ({scored} scored) for "
               f"{result.signoff.signed_by} on {result.signoff.signed_at.replace('T', ' ')[:16]}.")
    if result.signoff.not_returned:
        missing = result.signoff.not_returned
        click.echo(f"  warning: {counted(len(missing), 'reviewer')} returned nothing: {', '.join(missing)}; "
                   "recorded with the sign-off.")
    if result.signoff.short:
        short = result.signoff.short
        refs = listed([f"{ref} ({scored} of {issued})" for ref, (scored, issued) in short.items()], 12)
        click.echo(f"  warning: {counted(len(short), 'characteristic')} scored by fewer reviewers than "
                   f"{'it was' if len(short) == 1 else 'they were'} issued to: {refs}; recorded with the "
                   "sign-off.")
    if result.signoff.open_high:
        click.echo(f"  note: {result.signoff.open_high} high-severity findings were open and accepted; that is "
                   "recorded with the sign-off.")
    if result.earlier:
        click.echo(f"  note: {result.earlier} earlier sign-off{'s are' if result.earlier != 1 else ' is'} kept.")
    click.echo(f"Next: run bva report {quote(folder)} to show the sign-off on 'Summary' and the heat map.")


@command("actions")
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
    if csv_file and xlsx_file:
        raise click.UsageError("Choose one of --csv and --xlsx.")
    if csv_file or xlsx_file:
        not_over_the_tools_own(folder, csv_file or xlsx_file, "--csv" if csv_file else "--xlsx",
                                folder / ("actions.csv" if csv_file else "actions.xlsx"))
    assessment = open_folder(folder)
    with Bar("Exporting actions") as bar:
        result = export_actions(assessment, xlsx_file or csv_file or assessment.folder / "actions.csv",
                                bool(xlsx_file), service_area, bar)
    whose = f" of {result.service_area}" if result.service_area else ""
    click.echo(f"Wrote {result.rows} action{'s' * (result.rows != 1)}{whose} to {result.path}")
    if result.assigned:
        click.echo(f"  note: {len(result.assigned)} action{'s' * (len(result.assigned) != 1)} typed into report.xlsx "
                   f"without an ID {'were' if len(result.assigned) != 1 else 'was'} exported as "
                   f"{', '.join(given for _, _, given in result.assigned)}; run bva report {quote(folder)} to write "
                   "the IDs into the report as well.")
    if result.unlisted:
        count = len(result.unlisted)
        names = ", ".join(f"'{name}'" for name in dict.fromkeys(result.unlisted))
        left = f" (so {'they are' if count != 1 else 'it is'} not in this export)" if result.service_area else ""
        click.echo(f"  warning: {count} action{'s name' if count != 1 else ' names'} a service area not on the "
                   f"'Service areas' sheet ({names}){left}; run bva check {quote(folder)} to see which, with "
                   "'did you mean'.")
    if not result.rows and not result.service_area:
        from bva_excel.errors import Code, problem

        show(problem(Code.ACTION_PLAN_EMPTY, "report.xlsx", "Action plan", command=f"actions {quote(folder)}"),
             indent="")
        return
    click.echo("Next: import it into the business planning tool; after committee, collect progress with "
               f"bva generate {quote(folder)} --progress")


@command("follow-up")
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
    if output is not None:
        not_over_the_tools_own(folder, output, "-o", folder / f"follow-up {dt.date.today():%Y-%m-%d}.xlsx")
    assessment = open_folder(folder)
    with Bar("Writing the follow-up") as bar:
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
        from bva_excel.errors import Code, problem

        show(problem(Code.ACTION_PLAN_EMPTY, "report.xlsx", "Action plan", command=f"follow-up {quote(folder)}"),
             indent="")
        return
    click.echo("Next: send it to committee; collect progress again with "
               f"bva generate {quote(folder)} --progress when the next update is due.")

