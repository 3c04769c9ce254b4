"""Every problem the tool can report, with a stable code, shaped where -> what -> how to fix.

A stage collects `Problem`s in one pass and hands them back; it raises `BvaError` only when it
cannot go on at all. The CLI turns both into messages and exit codes; nothing here prints.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import Enum, unique
from pathlib import Path
from string import Formatter
from typing import NamedTuple

from bva_excel.words import Text


class Level(Text):
    """How much a problem matters: an error stops what it is about, a warning is said and the work goes on, a note
    is worth knowing."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


ERROR, WARNING, NOTE = Level.ERROR, Level.WARNING, Level.NOTE

class Entry(NamedTuple):
    """A problem's severity, what is wrong and how to fix it; placeholders are filled from `Problem.fields`."""

    severity: Level
    what: str
    fix: str

    @property
    def fields(self) -> frozenset[str]:
        """The fields its words need, each given where the problem is made (who sent a return, `sender`, has a
        default: the reviewer)."""
        return _placeholders(self.what, self.fix) - {"sender"}


@functools.cache
def _placeholders(*texts: str) -> frozenset[str]:
    """The names of the fields `texts` are filled from (read once for each entry: a problem is made many times)."""
    return frozenset(name for text in texts for _, name, _, _ in Formatter().parse(text) if name)


@unique
class Code(Enum):
    """Every problem the tool can report, by its stable code (the member's name), with its catalogue entry."""

    # The framework: the template or an assessment's workbook as officers edit it.
    FRAMEWORK_UNREADABLE = Entry(ERROR, "cannot be read as a workbook ({reason})",
                                 "Open it in Excel and save it as an .xlsx workbook.")
    SHEET_MISSING = Entry(ERROR, "sheet '{name}' is missing{hint}",
                          "Add the sheet or restore its name; the template shows the expected layout.")
    HEADER_MISSING = Entry(ERROR, "header '{name}' is missing from row 1{hint}",
                           "Type the header exactly as '{name}' in row 1.")
    HEADER_BLANK = Entry(ERROR, "this header cell is blank but the column is between named columns",
                         "Give the column a header or delete the column.")
    HEADER_DUPLICATE = Entry(ERROR, "header '{name}' appears twice (also in {other})",
                             "Keep one column called '{name}'.")
    RATING_MISSING = Entry(ERROR, "this scale row has a colour or value but no rating name",
                           "Type the rating's name in the 'Rating' column or clear the row.")
    RATING_DUPLICATE = Entry(ERROR, "rating '{name}' is listed twice (also at {other})",
                             "Give every rating its own name.")
    RATING_COLOUR_INVALID = Entry(ERROR, "colour '{value}' is not a hex colour",
                                  "Use six hex digits such as #00B050.")
    RATING_VALUE_INVALID = Entry(ERROR, "value '{value}' is not a whole number",
                                 "Use a whole number, or leave it blank for a rating that is not a score.")
    RATING_VALUE_DUPLICATE = Entry(ERROR, "value {value} is used by two ratings (also at {other})",
                                   "Give every scored rating its own value.")
    SCALE_TOO_SHORT = Entry(ERROR, "the scale has fewer than two scored ratings",
                            "List at least two ratings with a value on the 'Scale' sheet.")
    REF_INVALID = Entry(ERROR, "ref '{value}' is not a theme prefix followed by a number",
                        "Use a ref such as CI001 or SD006.")
    REF_DUPLICATE = Entry(ERROR, "ref {ref} is listed twice (also at {other})",
                          "Give each characteristic its own ref.")
    THEME_UNKNOWN = Entry(ERROR, "theme '{value}' is not one of the seven Best Value themes",
                          "Use one of: {themes}.")
    THEME_REF_MISMATCH = Entry(ERROR, "ref {ref} has the prefix of '{ref_theme}' but its theme is '{theme}'",
                               "Change the ref or the theme so that they agree.")
    CHARACTERISTIC_BLANK = Entry(ERROR, "characteristic {ref} has no text",
                                 "Describe the characteristic in the 'Characteristic' column.")
    REVIEWER_UNKNOWN = Entry(ERROR, "reviewer '{value}' is not listed on the 'Reviewers' sheet{hint}",
                             "Add the reviewer to 'Reviewers' or correct the ID.")
    REVIEWER_ID_BLANK = Entry(ERROR, "this reviewer row has no 'Reviewer ID'",
                              "Give every reviewer a short unique ID such as R01.")
    REVIEWER_ID_DUPLICATE = Entry(ERROR, "reviewer ID '{value}' is listed twice (also at {other})",
                                  "Give every reviewer their own ID.")
    REVIEWER_NAME_BLANK = Entry(ERROR, "reviewer '{value}' has no name",
                                "Type the reviewer's name in the 'Name' column.")
    DRAFTER_UNKNOWN = Entry(NOTE, "'{value}' drafted {ref} but is not a reviewer",
                            "Nothing to do unless '{value}' is a reviewer spelt differently.")
    DRAFTER_UNCERTAIN = Entry(ERROR, "'{value}' drafted {ref}: did you mean '{reviewer}'?",
                              "If so, type their ID or name exactly in 'Drafted by', so that nobody reviews their own "
                              "statement; if it is someone else, write '(not a reviewer)' after the name.")
    NO_CHARACTERISTICS = Entry(ERROR, "no characteristics are listed",
                               "List the characteristics to assess on the 'Characteristics' sheet.")
    SERVICE_AREA_BLANK = Entry(ERROR, "this service area row has a head of service or email but no 'Service area'",
                               "Type the service area's name, or clear the row.")
    SERVICE_AREA_DUPLICATE = Entry(ERROR, "service area '{value}' is listed twice (also at {other})",
                                   "List each service area once.")
    SERVICE_AREAS_ADDED = Entry(NOTE, "this assessment was made before service areas were kept, so a 'Service areas' sheet was "
                                "added{areas}; nothing else in the workbook was changed, and a copy of it as it was is "
                                "in {backup}",
                                "Fill in 'Service area', 'Head of service' and 'Email' on 'Service areas', one row per service "
                                "area that delivers actions.")
    SERVICE_AREAS_WORKBOOK_OPEN = Entry(ERROR, "the workbook is open (its lock file {lock} is beside it), so the "
                                        "'Service areas' sheet this command needs could not be added",
                                        "Close it and run the command again. If nobody has it open, delete {lock}.")
    SERVICE_AREAS_BY_HAND = Entry(ERROR, "a 'Service areas' sheet could not be added to it safely: {reason}",
                                  "Add a sheet called 'Service areas' by hand, with the headers 'Service area', "
                                  "'Head of service' and 'Email' in row 1, and run the command again.")
    # Allocation.
    NOT_INDEPENDENT = Entry(ERROR, "{reviewer} is listed to review {ref}, which they drafted",
                            "Choose another reviewer: reviewers must not score their own statements.")
    ALLOCATION_SHORT = Entry(ERROR, "{ref} needs {wanted} independent reviewers but only {available} are available",
                             "Add reviewers, lower --per-characteristic or list reviewers for {ref} by hand.")
    NO_REVIEWERS = Entry(ERROR, "no reviewers are listed",
                         "Add the reviewers on the 'Reviewers' sheet of assessment.xlsx.")
    MODERATION_SHORT = Entry(ERROR, "no moderator who had no part in them can be given {refs} ({count} of the {total} "
                             "characteristics to moderate; moderators: {moderators}; a moderator may not have drafted "
                             "a characteristic, or scored it or been sent it to score)",
                             "Name more moderators with --moderators, people on 'Reviewers' who did not review these "
                             "(add them to 'Reviewers' first if they are not there). Nothing was issued.")
    NOTHING_TO_MODERATE = Entry(ERROR, "no characteristic has an open finding that needs moderating",
                                "Nothing to do; to send every characteristic for moderation anyway, add --all.")
    # The assessment folder.
    ASSESSMENT_EXISTS = Entry(ERROR, "an assessment already exists here",
                              "Choose another folder; an assessment is never overwritten.")
    NOT_AN_ASSESSMENT = Entry(ERROR, "this folder is not an assessment (no {missing})",
                              "Create one with: bva new {folder}")
    NOT_GENERATED = Entry(ERROR, "no reviewer workbooks have been generated yet",
                          "Run: bva generate {folder}")
    ASSESSMENT_BUSY = Entry(ERROR, "another bva command is working on this assessment ({holder})",
                            "Wait for it to finish and run this command again. The lock ends with that command, even if it "
                            "crashes, so there is nothing to delete.")
    RECORDS_DAMAGED = Entry(ERROR, "the assessment's records cannot be read ({reason})",
                            "Nothing was changed. Restore the folder's .bva/records.sqlite from a backup of {folder}, "
                            "or ask whoever looks after the tool.")
    RECORDS_EMPTY = Entry(ERROR, "the assessment's records are an empty file (0 bytes): a copy or a sync that did not "
                          "finish, or a full disk. It was left as it is",
                          "Restore .bva/records.sqlite from a backup of {folder} (or from the synced folder's version "
                          "history), then run the command again.")
    RECORDS_TOO_NEW = Entry(ERROR, "the assessment's records were written by {writer} (records version {version}; "
                            "this version reads up to {supported})",
                            "Nothing was changed. Upgrade this computer's copy: pip install --upgrade bva-excel")
    RECORDS_MIGRATED = Entry(NOTE, "the records of this assessment were moved from JSON files made by an earlier "
                             "version into {database}; the JSON files are kept in {backup}",
                             "Nothing to do; this happens once.")
    PATH_TOO_LONG = Entry(ERROR, "{what} {length} characters long, more than Windows can open ({limit})",
                          "Put the assessment folder nearer the top of the drive (or map a drive letter to the network "
                          "folder) so that its path is shorter{hint}, then run the command again.")
    TEMPLATE_NOT_FOUND = Entry(ERROR, "the template cannot be found",
                               "Pass one with --template PATH.")
    DISK_FULL = Entry(ERROR, "the disk is full, so it could not be written; nothing was half-written: what this command "
                      "had finished is kept and the rest is as it was",
                      "Free some space on the drive that holds it (or ask IT for more), then run the command again.")
    NOT_WRITABLE = Entry(ERROR, "it may not be written ({reason}); nothing was half-written: what this command had "
                         "finished is kept and the rest is as it was",
                         "Ask for permission to change files in its folder, or work on a copy of the assessment folder "
                         "that you may change; then run the command again.")
    WRITE_FAILED = Entry(ERROR, "it could not be written ({reason}); nothing was half-written: what this command had "
                         "finished is kept and the rest is as it was",
                         "Check the drive or the network connection, then run the command again.")
    FILE_BUSY = Entry(ERROR, "cannot be replaced, so it was left as it was: it is open in Excel or another program, or "
                      "you may not change it ({reason})",
                      "Close it (in Excel, or wherever it is open) and run the command again; if it is not open, ask for "
                      "permission to change files in its folder.")
    OUTBOX_BUSY = Entry(ERROR, "the new workbook cannot be put in the outbox: the file there is open in Excel or another "
                        "program, or you may not change it ({reason})",
                        "Close it and run the command again: the new workbook is recorded, and waits to be moved into the "
                        "outbox then. Until then the file there is the earlier one; do not send it.")
    OUTBOX_NOT_PLACED = Entry(ERROR, "the new workbook is recorded but could not be put in the outbox ({reason})",
                              "Free some space on the drive, or check it, then run any bva command on this folder "
                              "(bva ingest, say): it moves the recorded workbook into the outbox. Until then the file there "
                              "is the earlier one, if any; do not send it.")
    WITHDRAW_BUSY = Entry(ERROR, "this workbook is no longer current, but it cannot be moved out of the outbox: it is open "
                          "in Excel or another program, or you may not change it ({reason})",
                          "Close it and delete it from the outbox, so that nobody sends it; its returns still count.")
    DEMO_BUSY = Entry(ERROR, "the earlier demo cannot be replaced: a file in it is open in Excel or another program, or "
                      "you may not change it ({reason})",
                      "Close the demo's workbooks and run the command again, or give another folder.")
    REPORT_OPEN = Entry(ERROR, "the report is open in {program}{holder} (its lock file {lock} is beside it), so it "
                        "cannot be replaced",
                        "Close it there and run the command again. If nobody has it open (the program crashed), delete "
                        "{lock} from the folder.")
    FILE_NOT_FOUND = Entry(ERROR, "no such file",
                           "Check the path.")
    FILE_UNREADABLE = Entry(ERROR, "the file cannot be read ({reason})",
                            "Check that it is not open in another program and that you may read it, then run the command again.")
    # Returns.
    FILE_SKIPPED = Entry(NOTE, "skipped: {reason}", "Nothing to do.")
    CHASE_NOTHING_ISSUED = Entry(ERROR, "no {kind} workbook has been issued, so there is nobody to chase",
                                 "Issue them first (bva issue {kind} FOLDER), or choose another round with --kind.")
    # Saved emails in the inbox.
    EMAIL_NO_WORKBOOK = Entry(WARNING, "no workbook is attached to this email{holding}",
                              "If a return was meant to come with it, ask the sender to send the workbook attached; "
                              "otherwise move the email out of the inbox.")
    EMAIL_TOO_LARGE = Entry(ERROR, "refused unread: the email is {size}, larger than any email a server passes "
                            "(limit {limit})",
                            "Open it in your email program and save the workbook attached to it into the inbox.")
    EMAIL_TOO_MANY_ATTACHMENTS = Entry(ERROR, "refused unread: the email holds more than {limit} attachments "
                                       "(nested emails' included)",
                                       "Open it in your email program and save the workbook attached to it into the "
                                       "inbox.")
    EMAIL_TOO_DEEP = Entry(ERROR, "refused unread: it nests emails in emails more than {limit} deep",
                           "Open it in your email program and save the workbook attached to it into the inbox.")
    EMAIL_UNREADABLE = Entry(ERROR, "cannot be read as a saved email ({reason})",
                             "Open it in your email program; save the workbook attached to it into the inbox, or save "
                             "the email again (as .msg or .eml).")
    EMAIL_SENDER_NOT_ISSUED = Entry(WARNING, "the email it came with was sent by {sender}, but the workbook was issued "
                                    "to {issued} ({address}); its answers are credited to {issued}",
                                    "If {sender} sent it for {issued} (forwarded it, or sent it from another address), "
                                    "nothing to do; if not, ask {issued} whether these are their answers.")
    RETURN_UNREADABLE = Entry(ERROR, "cannot be read as a workbook ({reason})",
                              "Ask {sender} to save it again as an Excel workbook (.xlsx) and resend it.")
    RETURN_EMPTY = Entry(ERROR, "the file is empty (0 bytes)",
                         "Ask {sender} to attach the workbook again; the attachment may not have saved.")
    RETURN_TOO_LARGE = Entry(ERROR, "the file is {size}, far larger than a return can be (limit {limit})",
                             "Check what was sent; ask {sender} for the workbook they were issued.")
    RETURN_TRUNCATED = Entry(ERROR, "the workbook is damaged or incomplete (perhaps a partly downloaded attachment)",
                             "Save the attachment again from the email; if it still fails, ask {sender} to resend it.")
    RETURN_NOT_A_WORKBOOK = Entry(ERROR, "this is {what}, not an Excel workbook, whatever its name says",
                                  "Ask {sender} to send the .xlsx workbook they were issued.")
    RETURN_CSV = Entry(ERROR, "this is text (such as a CSV export), not a workbook: it has none of the workbook's "
                       "identity, dropdowns and layout",
                       "Ask {sender} to send the .xlsx workbook itself, not an export of it.")
    RETURN_LEGACY_XLS = Entry(ERROR, "this is an old-style .xls workbook, which cannot carry the issued identity",
                              "Ask {sender} to fill in the .xlsx workbook they were sent and save it as .xlsx.")
    RETURN_XLSB = Entry(ERROR, "this is a binary workbook (.xlsb), which cannot carry the issued identity",
                        "Ask {sender} to fill in the .xlsx workbook they were sent and save it as .xlsx.")
    RETURN_ENCRYPTED = Entry(ERROR, "the workbook is protected with a password (encrypted), so it cannot be read",
                             "Ask {sender} to remove the password (File > Info > Protect Workbook) and resend it.")
    RETURN_BOMB = Entry(ERROR, "refused unread: {reason}, far beyond any real workbook (a decompression bomb?)",
                        "Do not open it; ask {sender} to resend the workbook they were issued.")
    RETURN_UNSAFE_XML = Entry(ERROR, "refused unread: part {part} is unsafe ({reason}); workbooks never need this",
                              "Do not open it; ask {sender} to resend the workbook they were issued.")
    RETURN_MACROS = Entry(WARNING, "the workbook contains macros; they were not run, only the cell values were read",
                          "Ask {sender} to save as an ordinary .xlsx workbook next time.")
    RETURN_ODS = Entry(NOTE, "an OpenDocument spreadsheet (.ods), read as it is", "Nothing to do.")
    RETURN_CONTENT_CHANGED = Entry(WARNING, "the {column} of {ref} differs from the text issued; the scores are kept",
                                   "Read it as the reviewer's suggested wording; assessment.xlsx is unchanged.")
    RETURN_TEXT_TOO_LONG = Entry(ERROR, "the cell holds {length:,} characters, more than an Excel cell can hold (32,767)",
                                 "Ask {sender} to shorten it, or to put the detail in a separate document.")
    RETURN_FORMULA = Entry(WARNING, "the cell holds a formula ({formula}); it was not run, and {kept} was kept as text",
                           "Check the text in the report; ask {sender} to type plain text next time.")
    RETURN_NOT_ISSUED = Entry(ERROR, "this is not a reviewer workbook issued by bva ({reason})",
                              "Ask {sender} to fill in the workbook they were sent, not a copy or the template.")
    RETURN_OTHER_ASSESSMENT = Entry(ERROR, "this workbook belongs to assessment {found}, not {expected}",
                                    "Check that it was meant for this exercise; ingest it into its own assessment folder.")
    RETURN_TAMPERED = Entry(ERROR, "the workbook's identity does not match what was issued ({reason})",
                            "Do not accept it: ask the reviewer to fill in the workbook they were sent.")
    RETURN_REVIEWER_REMOVED = Entry(WARNING, "reviewer {reviewer} is no longer listed on 'Reviewers'; their answers "
                                    "are kept and counted",
                                    "Nothing to do if that is meant; restore them on 'Reviewers' to name them again.")
    RETURN_DUPLICATE_ROW = Entry(ERROR, "ref {ref} appears twice (also at row {other})",
                                 "Ask {sender} to keep one row per characteristic.")
    RETURN_REF_NOT_ISSUED = Entry(ERROR, "ref {ref} was not issued to this reviewer",
                                  "Ask {sender} to score only the characteristics they were sent.")
    RETURN_REF_MISSING = Entry(WARNING, "ref {ref} was issued but its row is missing",
                               "It counts as not answered; ask {sender} if that was meant.")
    SCORE_INVALID = Entry(ERROR, "'{value}' is not a rating on the scale{hint}",
                          "Choose one of: {ratings}.")
    RETURN_NOTHING_ANSWERED = Entry(ERROR, "no score, commentary or gaps are filled in for any of its {issued} "
                                    "characteristics (the unfilled workbook?)",
                                    "Ask {sender} to fill it in and send it again; nothing was taken from this file.")
    RETURN_REPLACES = Entry(NOTE, "its answers replace {count} earlier answer(s) from {files} ({changed} with another "
                                  "score)",
                            "Nothing to do; the earlier files are kept in the archive.")
    RETURN_EARLIER_ANSWERS_STAND = Entry(NOTE, "it leaves blank the score of {refs} ({count} in all), which {files} "
                                         "answered: those answers still count",
                                         "Nothing to do, unless the reviewer meant to withdraw them: then ask them.")
    RETURN_OLDER = Entry(NOTE, "it was {this}, before {other}, {that}, so for {refs} the answers of {other} still count",
                         "Nothing to do if that is right; to make this file count, run bva ingest with --prefer and "
                         "this file.")
    PROGRESS_RETURN_OLDER = Entry(NOTE, "it was {this}, before {other}, {that}, so where both give an update on an "
                                  "action, the update in {other} counts",
                                  "Nothing to do if that is right; to make this file count, run bva ingest with --prefer "
                                  "and this file.")
    PROGRESS_OTHER_PREFERRED = Entry(NOTE, "{other} was chosen with --prefer, so where both give an update on an action, "
                                     "the update in {other} counts",
                                     "Nothing to do if that is right; to make this file count, run bva ingest with "
                                     "--prefer and this file.")
    RETURN_OTHER_PREFERRED = Entry(NOTE, "{other} was chosen with --prefer, so for {refs} its answers still count over "
                                   "this file's",
                                   "Nothing to do if that is right; to make this file count, run bva ingest with "
                                   "--prefer and this file.")
    RETURN_ORDER_UNCLEAR = Entry(WARNING, "it was saved at the same moment as {other} ({saved}), so which is the later "
                                 "return is unclear; {later} is taken as the later one",
                                 "If that is wrong, choose: bva ingest FOLDER --prefer \"{name}\" (or the other file).")
    RETURN_ROW_NOT_READ = Entry(NOTE, "this row has no {key}, so what is typed in it is not read: {texts}; it is kept "
                                "on the report's 'Notes from returns' sheet",
                                "Nothing to do if it is a note; if it answers one of the rows, {sender} should type it "
                                "in that row and send the workbook again.")
    RETURN_SCORE_IN_ROW_WITHOUT_KEY = Entry(WARNING, "the {score} '{value}' is typed in a row with no {key}, so it is "
                                            "not counted; what is typed in the row ({texts}) is kept on the report's "
                                            "'Notes from returns' sheet",
                                            "Ask {sender} to type it in the {score} cell of its own row (the row with "
                                            "the {key} it is about) and send the workbook again.")
    RETURN_COLUMN_NOT_READ = Entry(NOTE, "column {column}{header} is not one the workbook was issued with, so bva does "
                                   "not read it: {texts}; it is kept on the report's 'Notes from returns' sheet",
                                   "Nothing to do if these are notes; an answer belongs in the workbook's own columns.")
    RETURN_COMMENT_NOT_READ = Entry(NOTE, "a comment on this cell says '{text}'; bva does not read comments, so it is "
                                    "kept on the report's 'Notes from returns' sheet",
                                    "Nothing to do if it is a note; an answer belongs in the workbook's own cells.")
    RETURN_COMMENTS_UNREADABLE = Entry(WARNING, "it holds comments on cells that cannot be read, so they are not kept",
                                       "Open it in Excel to read them (the file is kept in the archive).")
    RETURN_SAVED_BY_OTHER = Entry(WARNING, "this workbook was issued to {issued}, but its {how} names {other}; its "
                                  "answers are credited to {issued}",
                                  "If {other} filled it in for {issued}, nothing to do; if not, ask {issued} whether "
                                  "these are their answers (and {other} to fill in the workbook issued to them).")
    RETURN_PREFERRED = Entry(NOTE, "its answers now count over {reviewer}'s other returns",
                             "Nothing to do; choose again with --prefer to change it.")
    PREFER_NOT_ACCEPTED = Entry(ERROR, "this file {state}, so it cannot be preferred",
                                "Give a return that was accepted: see the Returns sheet of report.xlsx.")
    ALREADY_INGESTED = Entry(NOTE, "already ingested (same content as {other})", "Nothing to do.")
    REJECTED_SINCE_REPLACED = Entry(NOTE, "rejected when it was first read; {reviewer} has since sent {later}, which "
                                    "was accepted", "Nothing to do; you may move this file out of the inbox.")
    # Sign-off.
    SIGNOFF_NOBODY = Entry(ERROR, "--by names nobody", "Say who signs off: --by \"Name, Role\".")
    SIGNOFF_OPEN_FINDINGS = Entry(ERROR, "{count} high-severity findings are still open (the first: {first}), so the "
                                  "scores are not signed off",
                                  "Moderate them (bva check \"{folder}\" lists them), or sign off anyway with "
                                  "--accept-open: their number is recorded with the sign-off.")
    # The report.
    REPORT_UNREADABLE = Entry(ERROR, "the previous report cannot be read ({reason}), so the moderated scores and "
                              "actions typed into it cannot be kept",
                              "Repair it in Excel, or move it out of the folder if nothing typed in it matters.")
    ACTION_SERVICE_AREA_UNKNOWN = Entry(ERROR, "{action} for service area '{value}', which is not on the "
                                        "'Service areas' sheet of assessment.xlsx{hint}",
                                        "Correct it on the Action plan, or add '{value}' to 'Service areas' (listed now: "
                                        "{areas}).")
    ACTION_SERVICE_AREA_NOT_LISTED = Entry(WARNING, "{action} for service area '{value}', which is not on the "
                                           "'Service areas' sheet of assessment.xlsx{hint}",
                                           "Correct it on the Action plan, or add '{value}' to 'Service areas' (listed "
                                           "now: {areas}); until then no progress workbook can be sent for it.")
    ACTION_STATUS_UNKNOWN = Entry(WARNING, "the status '{value}' of {action} is not one of the plan's statuses{hint}",
                                  "Choose one of: {statuses} from the cell's list; until then the follow-up counts it "
                                  "apart, and as not done.")
    ACTION_NO_CHARACTERISTIC = Entry(WARNING, "action {action} on row {row} is under no characteristic (it was typed "
                                     "above the first one), so it is kept with a blank Ref",
                                     "Type its characteristic's Ref (such as CI001) in 'Ref', then run the command "
                                     "again.")
    ACTION_ID_REUSED = Entry(WARNING, "'{typed}' on this row is already the ID of the action on row {first}, so this "
                             "row's action was given the ID {given}",
                             "If the two rows are one action, delete one of them; otherwise nothing to do.")
    ACTION_DETAILS_MISSING = Entry(WARNING, "action {action} ({ref}) has no {missing}, and the scores are signed off",
                                   "Fill in what is missing on the Action plan, so that someone is answerable for the action by a date.")
    ACTION_ID_COMMA = Entry(ERROR, "action ID '{action}' holds a comma, which a progress workbook cannot carry",
                            "Type the ID without the comma (or clear it: the next free ID is given).")
    NO_PROGRESS_TO_ASK = Entry(ERROR, "no open action has a service area, so there is no progress to ask for",
                               "Type each action's 'Service area' (one of the 'Service areas' sheet of assessment.xlsx) "
                               "on the Action plan, then run the command again.")
    PROGRESS_ACTION_NOT_ISSUED = Entry(ERROR, "action {action} was not sent to {area}",
                                       "Ask them to report only on the actions they were sent.")
    PROGRESS_ACTION_MISSING = Entry(WARNING, "action {action} was sent but its row is missing",
                                    "It is left as it was; ask the service area if that was meant.")
    PROGRESS_STATUS_INVALID = Entry(ERROR, "'{value}' is not a status{hint}",
                                    "Choose one of: {statuses}.")
    PROGRESS_DATE_INVALID = Entry(ERROR, "'{value}' is not a date",
                                  "Type the revised target date as a date, such as 31/03/2027.")
    PROGRESS_NOTHING_RETURNED = Entry(ERROR, "no status, progress update or revised target date is filled in for any "
                                      "of its {issued} actions (the unfilled workbook?)",
                                      "Ask the service area to fill it in and send it again; nothing was taken from "
                                      "this file.")
    ACTION_PLAN_NO_REPORT = Entry(ERROR, "there is no report yet, and the action plan lives in it, so bva {command} has "
                                  "nothing to work from",
                                  "Run bva report \"{folder}\" first, type the actions on its 'Action plan', then run "
                                  "bva {command} again.")
    ACTION_PLAN_EMPTY = Entry(WARNING, "the action plan is empty: no characteristic is scored at or below the action "
                              "threshold or has gaps listed, and no action has been typed",
                              "Type the actions on the report's 'Action plan', then run bva {command} again.")
    ACTION_NOT_REOPENED = Entry(WARNING, "action {action} stays {status}: '{update}' from {source} would reopen it, "
                                "but it was made {status} since that workbook was issued",
                                "If it should be reopened, type its Status on the Action plan.")
    PROGRESS_WORKBOOK_REPLACED = Entry(WARNING, "this return was made on the progress workbook issued to {area} on "
                                       "{issued}, and a newer one ({newer}, issued {newer_at}) had replaced it before "
                                       "this came back; its updates are kept in the records and on 'Action history' but "
                                       "do not change the action plan",
                                       "Ask them to use the newer workbook, or type the update into the Action plan.")
    EXPORT_SERVICE_AREA_UNKNOWN = Entry(ERROR, "no action is for service area '{value}', and it is not on the "
                                        "'Service areas' sheet{hint}",
                                        "Give one of: {areas}.")
    REPORT_INPUT_LOST = Entry(ERROR, "{what}; that column carries what people typed, so the report was not written "
                              "again (nothing was changed)",
                              "Restore the header exactly as it was (Ctrl+Z in Excel, or type it back in row 1) and run the "
                              "command again.")
    REPORT_FOREIGN = Entry(ERROR, "this is not a report written by bva (its sheets are {sheets}), so it was neither "
                           "read nor replaced",
                           "Move it out of the assessment folder or rename it (it may be a workbook saved over the report "
                           "by mistake), then run the command again; copies of earlier reports are in history/.")
    REPORT_SHEET_RENAMED = Entry(ERROR, "the report's {missing} sheet{are} missing{guess}; bva reads what people "
                                 "typed there, so the report was neither read nor replaced (nothing was changed)",
                                 "Rename the sheet back to {back} (right-click its tab, Rename), save, and run the "
                                 "command again. Keep the report in the folder: it holds what people typed.")
    RECORDS_JOURNAL_SET_ASIDE = Entry(WARNING, "a journal of unfinished changes to the records, left by {holder} (a sync "
                                      "client copies it without the records it belongs to), was moved to {target} "
                                      "unused, so that it cannot roll these records back",
                                      "Nothing to do: the records are as this computer last wrote them, and what the "
                                      "other computer finished comes with its copy of the records, merged when it "
                                      "arrives.")
    RECORDS_OTHER_ASSESSMENT = Entry(ERROR, "these records belong to another assessment ({other}, not {assessment}), "
                                     "so nothing was taken from them",
                                     "Move the file out of this assessment's .bva folder (it was copied from another "
                                     "assessment's folder).")
    ASSESSMENT_CONFLICT_COPY = Entry(ERROR, "a second copy of {workbook} (a sync client keeps both when the workbook was "
                                     "changed on two computers), which differs from it: {cells}; nothing was done, so "
                                     "that neither officer's changes are lost",
                                     "Open both, bring into {workbook} what should be kept from this copy, then move "
                                     "the copy out of the assessment folder (or delete it) and run the command again.")
    REPORT_COPY_FOLDED = Entry(WARNING, "a second copy of the report (a sync client keeps both when it was changed on "
                               "two computers), saved {saved}: {outcome}, and it is kept whole",
                               "bva report writes what counts into report.xlsx and moves the copy to history/; sheets "
                               "or columns added only in the copy stay in that history copy.")
    REPORT_TYPED_ELSEWHERE = Entry(WARNING, "typed {there} and not changed in report.xlsx, so it counts: {taken}",
                                   "Nothing to do, unless it should not count: then type the value on report.xlsx.")
    REPORT_TYPED_TWICE = Entry(WARNING, "{key} '{field}' was typed differently {there} ({theirs}, saved {saved}) "
                               "and in report.xlsx ({mine}, saved {report_saved}); {counts}",
                               "If the other is right, type it on report.xlsx and run the command again; both are in "
                               "the change trail or in history/.")
    REPORT_COPY_UNREAD = Entry(WARNING, "a second copy of the report that cannot be read as one ({reason}), so nothing "
                               "typed in it counts",
                               "Open it and bring what should be kept into report.xlsx by hand, then move it out of the "
                               "assessment folder.")
    REPORT_OTHER_ASSESSMENT = Entry(ERROR, "this report belongs to another assessment ({other}, not {assessment}), so "
                                    "it was neither read nor replaced",
                                    "Move it out of this folder (it was copied from another assessment's folder), then "
                                    "run the command again.")
    REPORT_MISSING = Entry(WARNING, "the report is missing (bva last wrote it on {when}); what people had typed into "
                           "it, as bva last saw it, is kept from the records{what}",
                           "If it was moved or renamed, put it back as report.xlsx and run the command again: anything "
                           "typed since is only in that file. Sheets and columns people added are in the newest copy in "
                           "history/.")
    REPORT_ROWS_RESTORED = Entry(WARNING, "the rows of {refs} are missing; their moderated score, moderation note and "
                                 "typed final score, as bva last saw them, are kept",
                                 "To clear a moderation, empty its cells instead of deleting the row.")
    ACTION_ROWS_RESTORED = Entry(WARNING, "the rows of {actions} are missing; what was typed in them, as bva last saw "
                                 "it, is kept",
                                 "They are back on the plan, and an open one is sent in progress workbooks like any "
                                 "other. To drop an action, set its Status to Closed (or empty its cells) instead of "
                                 "deleting the row.")
    REPORT_DRAWING_NOT_KEPT = Entry(WARNING, "a picture or shape was added to this sheet, which bva writes anew each "
                                    "time, so it is not in the new report",
                                    "It is kept in the copy of the previous report in history/; put pictures on a sheet "
                                    "of your own, which bva keeps.")
    REPORT_NOTE_NOT_PLACED = Entry(WARNING, "a note on {key}, column '{header}', has no cell in the new report (the row "
                                   "or column is gone): “{text}”",
                                   "It is kept in the copy of the previous report in history/.")
    REPORT_WORDING_EDITED = Entry(WARNING, "the wording of {refs} was changed here, but the report takes the "
                                  "characteristics' words from assessment.xlsx, so the change is not in the new report",
                                  "Change the wording on the 'Characteristics' sheet of assessment.xlsx (the copy of "
                                  "the previous report in history/ keeps what was typed).")
    REPORT_SHEET_NOT_CARRIED = Entry(ERROR, "this sheet, added to the report by a person, holds {what}, which bva "
                                     "cannot carry into the new report, so the report was not written again (nothing "
                                     "was changed)",
                                     "Keep the sheet in a workbook of its own (right-click its tab, Move or Copy, "
                                     "'(new book)', and save that), or delete it from the report if it is no longer "
                                     "needed, then run the command again.")
    REPORT_VALUE_NO_KEY = Entry(WARNING, "a value in the column '{header}', added by a person, is in a row with no "
                                "{key}, so it has no row in the new report",
                                "It is kept in the copy of the previous report in history/; type it again in the "
                                "characteristic's or action's row if it is still needed.")
    REPORT_VALUE_ROW_GONE = Entry(WARNING, "the column '{header}', added by a person, has a value for {key}, which is "
                                  "no longer on the sheet, so it has no row in the new report",
                                  "It is kept in the copy of the previous report in history/.")
    THRESHOLD_UNKNOWN = Entry(ERROR, "'{value}' is not a scored rating on the scale{hint}",
                              "Choose one of: {ratings}.")
    RESPONSE_ORPHANED = Entry(WARNING, "{reviewer} answered {ref}, which is no longer in assessment.xlsx, so the "
                              "answer is left out of the report",
                              "Restore {ref} on 'Characteristics' (refs are matched as prefix and number) if it was renamed.")
    # The background detail on a characteristic (bva detail).
    REF_UNKNOWN = Entry(ERROR, "there is no characteristic '{value}'{hint}",
                        "Give a ref from 'Characteristics' such as {example} (in any case), all, or a theme prefix "
                        "({prefixes}); nothing was written.")
    PDF_NO_LIBREOFFICE = Entry(WARNING, "not made: a PDF needs LibreOffice, which is not installed",
                               "Open {workbook} in Excel and print it to PDF (File, Print, Microsoft Print to PDF; "
                               "its pages are set up for A4), or install LibreOffice and run the command again.")
    PDF_FAILED = Entry(ERROR, "not made: {reason}",
                       "{workbook} is written: open it in Excel and print it to PDF, or run the command again.")
    MODERATED_SCORE_INVALID = Entry(WARNING, "the moderated score '{value}' for {ref} is not a rating on the scale{hint}",
                                    "Choose one of: {ratings}; until then the consolidated score is used.")
    FINAL_SCORE_INVALID = Entry(WARNING, "the final score '{value}' typed for {ref} is not a rating on the scale{hint}, "
                                "so the heat map and the Summary show {ref} as not answered",
                                "Choose one of: {ratings} from the cell's list, or clear the cell to let the moderated or "
                                "consolidated score count.")


# code -> its entry, for what reads problems back by their code (the records keep the code's name).
CATALOGUE: dict[str, Entry] = {code.name: code.value for code in Code}


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth knowing) about one place in one file."""

    code: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    fields: dict = field(default_factory=dict, compare=False)

    @property
    def severity(self) -> Level:
        return CATALOGUE[self.code].severity

    @property
    def what(self) -> str:
        return CATALOGUE[self.code][1].format(**self.fields)

    @property
    def fix(self) -> str:
        # Who sent a return: a reviewer unless its workbook says otherwise (a service area's progress return).
        return CATALOGUE[self.code][2].format(**{"sender": "the reviewer", **self.fields})

    @property
    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.cell:
            parts.append(f"{'cells' if ',' in self.cell else 'cell'} {self.cell}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        what = self.what
        return f"{where}{what}{'' if what.endswith(('?', '.', '!')) else '.'} {self.fix}"

    @property
    def key(self) -> str:
        """What this problem is about among problems alike (a ref or an action ID; else its cell)."""
        return next((str(self.fields[name]) for name in _KEY_FIELDS if self.fields.get(name)), self.cell)

    def alike(self) -> tuple:
        """Problems with the same alike() say the same thing about different refs or actions."""
        masked = {**self.fields, **{name: "…" for name in _KEY_FIELDS if name in self.fields}}
        return (self.code, self.file, self.sheet, CATALOGUE[self.code][1].format(**masked),
                CATALOGUE[self.code][2].format(**{"sender": "the reviewer", **masked}))

    def as_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "file": self.file,
                "sheet": self.sheet, "cell": self.cell, "message": self.what, "fix": self.fix}


def problem(code: Code, file: str | Path = "", sheet: str = "", cell: str = "", **fields) -> Problem:
    """Build a catalogued problem; `file` may be a path, shown by its name. Every field its words need must be
    given here, so that a problem made without one fails where it is made (in the tests), never later as a
    message that cannot be written."""
    missing = code.value.fields - set(fields)
    if missing:
        raise TypeError(f"problem {code.name} needs {', '.join(sorted(missing))}")
    name = Path(file).name if isinstance(file, Path) else file
    return Problem(code.name, name, sheet, cell, fields)


_KEY_FIELDS = ("action", "ref", "row")  # what problems alike differ by
REPEATS = 3  # this many problems alike or more are said on one line (all of them with --verbose)


def grouped(problems, verbose: bool = False) -> list[list[Problem]]:
    """The problems in order, those saying the same thing about different refs or actions together (each its own
    group with `verbose`, or when fewer than REPEATS are alike)."""
    if verbose:
        return [[p] for p in problems]
    groups: dict[tuple, list[Problem]] = {}
    for found in problems:
        groups.setdefault(found.alike(), []).append(found)
    shown, done = [], set()
    for found in problems:
        group = groups[found.alike()]
        if len(group) < REPEATS:
            shown.append([found])
        elif id(group) not in done:
            done.add(id(group))
            shown.append(group)
    return shown


def said_once(group: list[Problem]) -> str:
    """A group of problems alike in one line: the first in full, then which others say the same."""
    first = group[0]
    if len(group) == 1:
        return str(first)
    where = f"{first.where}: " if first.where else ""
    what = first.what.rstrip(".")
    others = [p.key for p in group[1:]]
    named = ", ".join(others)  # every one named: the count alone would not say which
    same = " The same for" if what.endswith(("?", "!")) else "; the same for"
    return (f"{where}{what}{same} {len(others)} more ({named}). {first.fix} "
            "(--verbose lists each on its own line.)")


def errors_in(problems) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


class BvaError(Exception):
    """A problem (or several) that stops a command. Carries the catalogued problems."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CommandLineError(BvaError):
    """A value given on the command line that the assessment has no use for (a rating not on its scale): a
    mistake in the command line, exit code 2, as click's own."""


class FrameworkError(BvaError):
    """The framework (template or assessment.xlsx) breaks the rules."""


class AssessmentError(BvaError):
    """The assessment folder is missing, already there, or busy."""


class AssessmentBusy(AssessmentError):
    """Another command holds the assessment's lock."""


class LockUnavailable(AssessmentError):
    """The assessment's lock cannot be taken because its folder may not be written to (a read-only share)."""


class AllocationError(BvaError):
    """Reviewers cannot be allocated independently."""
