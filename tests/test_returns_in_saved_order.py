"""Progress returns count in the order they were saved (the time inside the workbook), as review answers do: an
older copy that arrives later (a synced folder's conflict copy, an email sent twice) does not undo a newer one."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from progress_helpers import _flagged_once, fill_progress, flagged, plan  # noqa: F401  (fixtures)
from test_progress import planned  # noqa: F401  (fixture)

from bva_excel.app.ingest import ingest
from bva_excel.app.progress import generate_progress
from bva_excel.app.report import write_report
from bva_excel.cli import cli

NEWER = dt.datetime(2027, 1, 5, 18, 38, 7)
OLDER = dt.datetime(2027, 1, 5, 18, 38, 0)


def _two_copies(assessment, first_ingested: str):
    """Finance's workbook returned twice: Complete saved at 18:38:07, In progress saved at 18:38:00; the one named
    by `first_ingested` ('newer' or 'older') is ingested first, the other after it."""
    issued = generate_progress(assessment).files["Finance"]
    copies = {"newer": ("BV progress Finance.xlsx", ("Complete", "Done", None), NEWER),
              "older": ("BV progress Finance-DESKTOP-4F2.xlsx", ("In progress", "Started", None), OLDER)}
    for which in (first_ingested, "older" if first_ingested == "newer" else "newer"):
        name, update, saved = copies[which]
        fill_progress(issued, assessment.inbox / name, {"ACT-G001": update}, saved)
        ingest(assessment)


def test_an_older_progress_return_ingested_later_does_not_undo_a_newer_one(planned):  # noqa: F811
    assessment, report = planned
    _two_copies(assessment, first_ingested="newer")
    write_report(assessment)
    assert plan(report)["ACT-G001"]["Status"] == "Complete"
    assert plan(report)["ACT-G001"]["Progress update"] == "Done"


def test_a_newer_progress_return_ingested_later_still_counts(planned):  # noqa: F811
    assessment, report = planned
    _two_copies(assessment, first_ingested="older")
    write_report(assessment)
    assert plan(report)["ACT-G001"]["Status"] == "Complete"


def test_the_pmo_may_prefer_the_older_progress_return(planned):  # noqa: F811
    assessment, report = planned
    _two_copies(assessment, first_ingested="older")
    chosen = CliRunner().invoke(cli, ["ingest", str(assessment.folder), "--prefer",
                                      "BV progress Finance-DESKTOP-4F2.xlsx"])
    assert chosen.exit_code == 0, chosen.output
    write_report(assessment)
    assert plan(report)["ACT-G001"]["Status"] == "In progress"


def test_an_older_moderation_return_ingested_later_does_not_undo_a_newer_one(tmp_path):
    from test_moderation_round import CHARACTERISTICS as MODERATED
    from test_moderation_round import moderate, scored_assessment

    assessment = scored_assessment(tmp_path, MODERATED)
    run = CliRunner().invoke
    assert run(cli, ["generate", str(assessment.folder), "--moderation", "--moderators", "R04,R05"]).exit_code == 0
    issued = assessment.outbox / "BV moderation R05 Eve Marsh.xlsx"  # CI001
    moderate(issued, assessment.inbox / "Eve.xlsx", {"CI001": ("Yellow", "Agreed at panel.")},
             dt.datetime(2026, 12, 10, 18, 38, 7))
    assert run(cli, ["ingest", str(assessment.folder)]).exit_code == 0
    moderate(issued, assessment.inbox / "Eve (1).xlsx", {"CI001": ("Red", "First thoughts.")},
             dt.datetime(2026, 12, 10, 18, 38, 0))
    assert run(cli, ["ingest", str(assessment.folder)]).exit_code == 0
    write_report(assessment)
    import openpyxl

    scores = openpyxl.load_workbook(assessment.report)["Scores"]
    headers = [c.value for c in scores[1]]
    row = next(r for r in scores.iter_rows(min_row=2, values_only=True) if r[0] == "CI001")
    assert row[headers.index("Moderated score")] == "Yellow"


def test_an_older_progress_return_ingested_later_is_said_to_be_older_with_both_times(planned):  # noqa: F811
    assessment, _ = planned
    issued = generate_progress(assessment).files["Finance"]
    fill_progress(issued, assessment.inbox / "BV progress Finance.xlsx", {"ACT-G001": ("Complete", "Done", None)},
                  NEWER)
    assert CliRunner().invoke(cli, ["ingest", str(assessment.folder)]).exit_code == 0
    fill_progress(issued, assessment.inbox / "BV progress Finance-DESKTOP-4F2.xlsx",
                  {"ACT-G001": ("In progress", "Started", None)}, OLDER)
    result = CliRunner().invoke(cli, ["ingest", str(assessment.folder)])
    assert ("note: BV progress Finance-DESKTOP-4F2.xlsx: it was saved at 2027-01-05 18:38:00, before BV progress "
            "Finance.xlsx, saved at 2027-01-05 18:38:07, so where both give an update on an action, the update in "
            "BV progress Finance.xlsx counts") in result.output


def test_a_newer_progress_return_ingested_later_is_accepted_without_that_note(planned):  # noqa: F811
    assessment, _ = planned
    issued = generate_progress(assessment).files["Finance"]
    fill_progress(issued, assessment.inbox / "old.xlsx", {"ACT-G001": ("In progress", "Started", None)}, OLDER)
    assert CliRunner().invoke(cli, ["ingest", str(assessment.folder)]).exit_code == 0
    fill_progress(issued, assessment.inbox / "new.xlsx", {"ACT-G001": ("Complete", "Done", None)}, NEWER)
    result = CliRunner().invoke(cli, ["ingest", str(assessment.folder)])
    assert "accepted   new.xlsx" in result.output
    assert "so where both give an update" not in result.output
