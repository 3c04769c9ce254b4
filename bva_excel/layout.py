"""The names of sheets and the headers of the fields people type, shared by every layer that needs them: the
readers and writers of the workbooks, and the rules that name a sheet when they say where a problem is.

Nothing here imports anything: any module may use it.
"""

from __future__ import annotations

ASSESSMENT_FILE = "assessment.xlsx"  # the PMO's workbook: the framework, reviewers and service areas
REPORT_FILE = "report.xlsx"
SCORES_SHEET = "Scores"
ACTION_SHEET = "Action plan"
# What people type into the report, by header: on 'Action plan' (service areas and the PMO) and on 'Scores'.
ACTION_INPUT_HEADERS = ["Action", "Owner", "Service area", "Target date", "Status", "Progress update"]
SCORES_INPUT_HEADERS = ["Moderated score", "Moderation note", "Final score"]
ACTION_HEADERS = (["Action ID", "Ref", "Theme", "Characteristic", "Score", "Gap identified"] + ACTION_INPUT_HEADERS
                  + ["Last updated", "Update from"])  # the columns of 'Action plan', in order
