"""The action plan and a progress round with LibreOffice as the people's spreadsheet: actions added by inserting
rows survive re-runs, and a progress workbook filled and saved there comes back through ingest into the report and
the follow-up, each count checked."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest
from progress_helpers import _flagged_once, flagged, plan, planned  # noqa: F401  (fixtures)
from test_libreoffice import office  # noqa: F401  (the one LibreOffice of the session)

from bva_excel.app.follow_up import write_follow_up
from bva_excel.app.ingest import ingest
from bva_excel.app.progress import generate_progress
from bva_excel.app.report import write_report

pytestmark = pytest.mark.libreoffice


def test_actions_added_in_libreoffice_survive_two_re_runs(office, flagged, tmp_path):  # noqa: F811
    assessment, report = flagged
    saved = tmp_path / "report.xlsx"
    # Rows 2 and 3 are ACT-CI001 and ACT-G001; a row is inserted below each, as Insert > Rows Below does.
    office.run(op="fill", path=report, out=saved, sheet="Action plan", via="api", insert_rows=[4, 3],
               cells={"G2": "Write the improvement plan", "G3": "Second action, typed in LibreOffice ✓",
                      "H3": "Siân Jones", "A5": "ACT-G001-5", "G5": "Scrutiny training", "J5": "2027-03-31"})
    shutil.copyfile(saved, report)
    for _ in range(2):
        write_report(assessment)
        actions = plan(report)
        assert list(actions) == ["ACT-CI001", "ACT-CI001-2", "ACT-G001", "ACT-G001-5"]
        assert (actions["ACT-CI001-2"]["Ref"], actions["ACT-CI001-2"]["Action"], actions["ACT-CI001-2"]["Owner"]) == (
            "CI001", "Second action, typed in LibreOffice ✓", "Siân Jones")
        assert actions["ACT-CI001"]["Action"] == "Write the improvement plan"
        assert (actions["ACT-G001-5"]["Ref"], actions["ACT-G001-5"]["Action"]) == ("G001", "Scrutiny training")


def test_a_progress_round_filled_in_libreoffice_reaches_the_report_and_the_follow_up(office, planned,  # noqa: F811
                                                                                       tmp_path):
    assessment, report = planned
    round_ = generate_progress(assessment, dt.date(2027, 1, 15))
    assert {area: len(ids) for area, ids in round_.actions.items()} == {"Finance": 2, "Legal services": 1}
    # Typed through the application's input path into the unlocked cells: J Status, K Progress update,
    # L Revised target date. ACT-G001 (row 3) only gets a new date.
    returned = assessment.inbox / "RE_ progress Finance.xlsx"
    office.run(op="fill", path=round_.files["Finance"], out=returned, sheet="Progress",
               cells={"J2": "Complete", "K2": "Plan adopted by Cabinet ✓", "L3": "2027-05-31"})
    outcome = next(o for o in ingest(assessment).outcomes if o.name == returned.name)
    assert (outcome.status, outcome.answered, outcome.issued, outcome.has_errors) == ("accepted", 2, 2, False), \
        [str(p) for p in outcome.problems]
    write_report(assessment)
    actions = plan(report)
    assert (actions["ACT-CI001"]["Status"], actions["ACT-CI001"]["Progress update"]) == (
        "Complete", "Plan adopted by Cabinet ✓")
    assert actions["ACT-CI001"]["Update from"].startswith(
        f"the progress return from Finance, {returned.name}, cells J2, K2 (")
    assert (actions["ACT-G001"]["Status"], actions["ACT-G001"]["Target date"]) == (None, dt.datetime(2027, 5, 31))
    assert actions["ACT-CI001-2"]["Update from"] == ""  # not returned: unchanged
    history = list(openpyxl.load_workbook(report)["Action history"].iter_rows(min_row=2, values_only=True))
    assert [(row[1], row[4], row[6]) for row in history] == [("ACT-CI001", "Complete", ""),
                                                             ("ACT-G001", "", "2027-05-31")]
    follow_up = write_follow_up(assessment, tmp_path / "follow-up.xlsx", dt.date(2027, 1, 20))
    assert follow_up.by_status == {"Not started": 0, "In progress": 0, "Complete": 1, "Closed": 0,
                                   "No status given": 2}
    assert follow_up.by_area == {"Finance": {"Not started": 0, "In progress": 0, "Complete": 1, "Closed": 0,
                                             "No status given": 1},
                                 "Legal services": {"Not started": 0, "In progress": 0, "Complete": 0, "Closed": 0,
                                                    "No status given": 1}}
    assert [r.action_id for r in follow_up.overdue] == []  # ACT-G001's date moved to 31/05/2027
    assert [n.area for n in follow_up.not_returned] == ["Legal services"]
    assert follow_up.complete_characteristics == []
    summary = openpyxl.load_workbook(follow_up.path)["Summary"]
    assert summary["A4"].value == "3 actions: 1 complete or closed, 0 overdue."
