"""Starting: `bva new` and `bva demo`."""

from __future__ import annotations

from pathlib import Path

import click

from bva_excel.app.demo import run_demo
from bva_excel.app.new import create_assessment
from bva_excel.cli.base import command, show
from bva_excel.cli.common import (
    FOLDER,
    quote,
)
from bva_excel.errors import ERROR
from bva_excel.excel.read.framework import load_framework


@command("new")
@click.argument("folder", type=FOLDER)
@click.option("--template", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Framework workbook to start from (default: the built-in template).")
@click.option("--title", default="", help="Name of the exercise, shown on every workbook.")
def new(folder, template, title):
    """Create an assessment folder: assessment.xlsx, inbox/ and outbox/.

    Never overwrites an existing assessment.

    Example: bva new "BV 2026" --title "Best Value self-assessment 2026"
    """
    assessment = create_assessment(folder, template, title)
    framework = load_framework(assessment.workbook)
    click.echo(f"Created assessment {assessment.assessment_id} in {folder}")
    click.echo(f"  {len(framework.characteristics)} characteristics in {len(framework.themes)} themes, "
               f"{len(framework.scale.ratings)} ratings, {len(framework.reviewers)} reviewers")
    click.echo(f"Next: fill in {assessment.workbook} (reviewers, position statements, evidence, "
               f"drafted by), then run: bva generate {quote(folder)}")


@command("demo")
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
               f"'Consistency' sheet, or run bva check {quote(folder)}")
    click.echo("The rejected file is part of the show: it has a typo in a score.")
    click.echo(f"Next: open {result.report.path} and look at 'Heat map' and 'Action plan'; then try "
               f"bva picture {quote(folder)} (the pictures for a committee paper) and "
               f"bva detail {quote(folder)} SD006 (the background on one characteristic).")

