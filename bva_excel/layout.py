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


REVIEW_SHEET = "Review"


REVIEW_HEADERS = ["Ref", "Theme", "Characteristic", "Position statement", "Evidence", "Score",
                  "Commentary", "Gaps and areas to address"]


PROGRESS_SHEET = "Progress"


PROGRESS_HEADERS = ["Action ID", "Ref", "Characteristic", "Gap identified", "Action", "Owner", "Target date",
                    "Current status", "Last update", "Status", "Progress update", "Revised target date"]


MODERATION_SHEET = "Moderation"


MODERATION_HEADERS = ["Ref", "Theme", "Characteristic", "Position statement", "Reviewers' scores",
                      "Consolidated score", "Findings", "Moderated score", "Moderation note"]


NOTES_SHEET = "Notes from returns"  # what people typed in a return where bva reads nothing, kept


HISTORY_SHEET = "Action history"


HEAT_MAP_SHEET = "Heat map"


SCORES_FIXED = ["Ref", "Theme", "Characteristic", "Consolidated score", "Moderated score",
                "Moderation note", "Final score", "Signed-off score"]


REVIEWER_COLUMNS = ["Reviewer {k}", "Score {k}", "Commentary {k}", "Gaps {k}"]


CHANGES_SHEET = "Changes"


# The sheets bva writes; any other sheet in report.xlsx was added by a person, and is carried. The two added
# since the first reports are known by the words in A1 too (None: by name alone), so that a sheet a person
# had given one of those names before is carried, not taken for the tool's.
TOOL_SHEETS = {"Summary": None, SCORES_SHEET: None, HEAT_MAP_SHEET: None, ACTION_SHEET: None, "Consistency": None,
               CHANGES_SHEET: "Seen", "Responses": None, "Returns": None, "Action history": "Received", "Scale": None,
               NOTES_SHEET: "Who"}


HISTORY_FOLDER = "history"


ASSESSMENT_PROPERTY = "bva assessment"  # a custom document property: which assessment a report belongs to


TOOL_AUTHOR = "bva-excel"  # the author (and so the 'last saved by') of every workbook bva writes


