"""Reading returns: `bva ingest`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bva_excel.app.ingest import ingest as ingest_returns
from bva_excel.app.signoff import finals_now
from bva_excel.cli.base import command, listed, show, show_all
from bva_excel.cli.common import (
    EXISTING_FOLDER,
    Bar,
    counted,
    echo_json,
    open_folder,
    quote,
    said_changed,
)
from bva_excel.errors import BvaError
from bva_excel.excel.read.framework import load_framework
from bva_excel.model.decisions import changed_since
from bva_excel.model.kinds import IssueKind, Outcome, ReturnStatus


@command("ingest")
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
    assessment = open_folder(folder)
    with Bar("Reading returns", enabled=not as_json) as bar:
        report = ingest_returns(assessment, list(paths) if paths else None, bar, prefer)
    moved = _signed_off_scores_moved(assessment, report)
    if as_json:
        echo_json({"valid": report.valid, "counts": {
            "accepted": report.count(Outcome.ACCEPTED), "rejected": sum(o.has_errors for o in report.outcomes
                                                                  if o.status != Outcome.UNCHANGED),
            "unchanged": report.count(Outcome.UNCHANGED), "skipped": report.count(Outcome.SKIPPED)}, "files": [
            {"file": o.name, "status": o.status, "rejected": o.has_errors, "sha256": o.sha256,
             "reviewer": o.reviewer_id, "answered": o.answered, "issued": o.issued,
             "problems": [p.as_dict() for p in o.problems]}
            for o in report.outcomes], "preferred": report.preferred.as_dict() if report.preferred else None})
        sys.exit(0 if report.valid else 1)
    for outcome in report.outcomes:
        if outcome.status == Outcome.UNCHANGED:
            continue  # said when it was new; counted below
        reviewer = report.framework.reviewer(outcome.reviewer_id)
        who = reviewer.label if reviewer else outcome.reviewer_id
        if outcome.kind == IssueKind.PROGRESS:  # a rejected progress return gives nothing: no count to contradict that
            replaced = any(p.code == "PROGRESS_WORKBOOK_REPLACED" for p in outcome.problems)
            detail = (f"the progress return from {who}, " + ("nothing taken from it" if outcome.has_errors else
                      f"updates on {outcome.answered} of its {outcome.issued} actions"
                      + (", kept but not put on the plan" if replaced else "")))
        else:
            detail = f"{who}, answered {outcome.answered}/{outcome.issued}" if outcome.reviewer_id else ""
        state = "rejected" if outcome.has_errors else outcome.status
        click.echo(f"{state:<10} {outcome.name}" + (f"  ({detail})" if detail else ""))
        show_all(outcome.problems)
    if report.preferred:
        show(report.preferred, indent="")
    unchanged = [o for o in report.outcomes if o.status == Outcome.UNCHANGED]
    still_rejected = [o.name for o in unchanged if o.has_errors]
    rejected = sum(o.has_errors for o in report.outcomes if o.status != Outcome.UNCHANGED)
    if not report.outcomes:
        click.echo(f"No files to read: save the returned attachments in {assessment.inbox} (any file name) "
                   "or give their paths after the folder.")
    if still_rejected:
        click.echo(f"Rejected when first read, and not replaced since (see the Returns sheet or --json): "
                   f"{', '.join(still_rejected)}")
    moot = [o.name for o in unchanged if any(p.code == "REJECTED_SINCE_REPLACED" for p in o.problems)]
    if moot:
        click.echo("Rejected before, and since replaced by an accepted return from the same sender (you may move "
                   f"them out of the inbox): {', '.join(moot)}")
    before = f" ({len(still_rejected)} of them rejected then)" if still_rejected else ""
    click.echo(f"{report.count(Outcome.ACCEPTED)} accepted, {rejected} rejected, {len(unchanged)} already "
               f"ingested{before}, {report.count(Outcome.SKIPPED)} skipped.")
    if moved:
        click.echo(f"  warning: the new answers change {counted(len(moved), 'final score')} signed off on "
                   f"{assessment.records.signoffs()[-1].signed_at[:10]}: {said_changed(moved)}. The report and heat map will show "
                   f"{'them' if len(moved) != 1 else 'it'} as changed since sign-off; moderate on 'Scores' or sign "
                   "off again.")
    waiting = _still_to_return(assessment)
    if waiting:
        click.echo(f"Still to return their review: {listed(waiting, 8)}.")
    if rejected or still_rejected:
        click.echo("Next: ask the senders of rejected files to correct and resend them; "
                   f"meanwhile run: bva report {quote(folder)}")
    else:
        click.echo(f"Next: run: bva report {quote(folder)}")
    sys.exit(0 if report.valid else 1)


def _signed_off_scores_moved(assessment, report) -> list[tuple[str, str, str]]:
    """(ref, signed off, now) of each signed-off final score the returns accepted in this run changed."""
    signoffs = assessment.records.signoffs()
    new = frozenset(o.sha256 for o in report.outcomes if o.status == Outcome.ACCEPTED)
    if not signoffs or not new:
        return []
    before, after = finals_now(assessment, leaving_out=new), finals_now(assessment)
    if before is None or after is None:
        return []
    return [(ref, signed, now) for ref, signed, now in changed_since(signoffs[-1], after)
            if before.get(ref, "") != now]


def _still_to_return(assessment) -> list[str]:
    """Reviewers sent a review workbook from whom no return of one has been accepted yet, as they are named."""
    records = assessment.records
    issues = records.issues()
    kinds = {issue.issue_id: issue.kind for issue in issues}
    sent = {issue.reviewer_id for issue in issues if issue.kind == IssueKind.REVIEW}
    returned = {r.reviewer_id for r in records.returns() if r.status == ReturnStatus.ACCEPTED and kinds.get(r.issue_id) == IssueKind.REVIEW}

    try:
        framework = load_framework(assessment.workbook)
    except BvaError:
        framework = None
    names = {r.reviewer_id: r.label for r in framework.reviewers} if framework else {}
    return [names.get(reviewer_id, reviewer_id) for reviewer_id in sorted(sent - returned)
            if not framework or reviewer_id in names]

