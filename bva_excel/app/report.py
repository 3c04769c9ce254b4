"""report.xlsx: Summary, Scores, Heat map, Action plan, Responses and Returns.

The report is written whole to a temporary file and renamed over the old one, and what people typed
into the old one (moderated scores, notes, actions) is read first and written back.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import xlsxwriter

from bva_excel.excel.write.action_plan import write_action_plan
from bva_excel.layout import ACTION_HEADERS
from bva_excel.store.folder import Assessment
from bva_excel.excel.read.carried import (Carried, drawn_by_people, read_cell_notes, read_extra_columns, read_extra_sheets,
                               report_sheets, unplaced, write_cell_notes, write_extra_columns, write_extra_sheets)
from bva_excel.model.changes import ACTION, Change, changes, current_values, new_values, restore_missing
from bva_excel.model.consistency import ConsistencyReport, check
from bva_excel.model.consolidation import Consolidation, consolidate
from bva_excel.errors import BvaError, Problem, problem
from bva_excel.excel.write.heat_map import DISAGREEMENT, HEAT_MAP_SHEET, MODERATED, Tile, tile_note, write_heat_map
from bva_excel.model.framework import Framework
from bva_excel.model.recorded import IssueRecord, SignOff
from bva_excel.app.progress import current_actions, write_action_history
from bva_excel.excel.read.previous_report import read_previous_edits
from bva_excel.model.decisions import PreviousEdits, ScoreDecision, decide
from bva_excel.layout import ACTION_INPUT_HEADERS, ACTION_SHEET, SCORES_SHEET
from bva_excel.app.issue import score_validation
from bva_excel.excel.read.sheets import open_workbook
from bva_excel.model.text import column_letter
from bva_excel.model.text import normalise_label, suggest
from bva_excel.store.files import FilesPlaced, check_path_length, replacing, sha256_of
from bva_excel.app.tracking import QUIET, Tracker
from bva_excel.excel.write.styles import (add_rating_colours, countifs_criterion, fit_row, header_format, new_workbook,
                              print_landscape, text_colour_on)

SCORES_FIXED = ["Ref", "Theme", "Characteristic", "Consolidated score", "Moderated score",
                "Moderation note", "Final score", "Signed-off score"]
SCORES_WIDTHS = [8, 18, 40, 14, 14, 30, 13, 13]
REVIEWER_COLUMNS = ["Reviewer {k}", "Score {k}", "Commentary {k}", "Gaps {k}"]
REVIEWER_WIDTHS = [18, 13, 40, 40]
RESPONSE_HEADERS = ["Ref", "Reviewer ID", "Reviewer", "Score", "Commentary", "Gaps and areas to address",
                    "File", "Sheet", "Cell", "Round", "Received"]
RESPONSE_WIDTHS = [8, 11, 22, 13, 45, 45, 30, 11, 7, 11, 20]
RETURN_WIDTHS = [34, 26, 22, 20, 12, 18, 80]
RETURN_HEADERS = ["File", "SHA-256", "Reviewer", "Received", "Status", "Answers that count", "Problems"]


CONSISTENCY_HEADERS = ["Ref", "Theme", "Finding", "Severity", "Reviewers", "Evidence", "Status"]
CONSISTENCY_WIDTHS = [8, 20, 40, 9, 14, 60, 40]
SEVERITY_COLOURS = {"high": "#F8CBAD", "medium": "#FFE699", "low": "#DDEBF7", "info": "#EDEDED"}


CHANGES_SHEET = "Changes"
CHANGE_HEADERS = ["Seen", "Ref or action", "Characteristic", "Field", "Before", "After", "Where it came from"]
CHANGE_WIDTHS = [16, 14, 40, 17, 22, 22, 50]

DEFAULT_SPREAD = 2  # reviewers this many scale steps apart disagree, unless the PMO chose otherwise

# The sheets bva writes; any other sheet in report.xlsx was added by a person, and is carried. The two added
# since the first reports are known by the words in A1 too (None: by name alone), so that a sheet a person
# had given one of those names before is carried, not taken for the tool's.
TOOL_SHEETS = {"Summary": None, SCORES_SHEET: None, HEAT_MAP_SHEET: None, ACTION_SHEET: None, "Consistency": None,
               CHANGES_SHEET: "Seen", "Responses": None, "Returns": None, "Action history": "Received", "Scale": None}
HISTORY_FOLDER = "history"
ASSESSMENT_PROPERTY = "bva assessment"  # a custom document property: which assessment a report belongs to
_REVIEWER_COLUMN = re.compile(r"^(reviewer|score|commentary|gaps) \d+$")


@dataclass
class Gathered:
    """Everything the report and the checks are made from, read once."""

    framework: Framework
    consolidation: Consolidation
    decisions: dict[str, ScoreDecision]
    warnings: list[Problem]
    edits: PreviousEdits
    issues: list[IssueRecord]
    consistency: ConsistencyReport
    signoff: SignOff | None = None  # the latest sign-off, if any
    threshold: str | None = None  # the action threshold judged by (None: the scale's middle)
    spread: int = DEFAULT_SPREAD  # the disagreement judged by


@dataclass
class ReportResult:
    path: Path
    warnings: list[Problem]
    decisions: dict[str, ScoreDecision]
    actions: int
    consistency: ConsistencyReport
    gathered: Gathered
    history: Path | None = None  # where the previous report was kept
    carried: Carried = field(default_factory=Carried)
    new_changes: list[Change] = field(default_factory=list)  # changes this run saw for the first time


def _final_scores_not_on_scale(framework: Framework, decisions: dict, file: str) -> list[Problem]:
    """A Final score typed over the formula that is no rating: it stays as typed (nothing typed is replaced),
    and the spreadsheet, like the report, then counts the characteristic as not answered: said, by cell."""
    column = column_letter(SCORES_FIXED.index("Final score"))
    said = []
    for row, characteristic in enumerate(framework.characteristics, start=2):
        typed = decisions[characteristic.ref].final_typed.strip()
        if typed and framework.scale.find(typed) is None:
            said.append(problem("FINAL_SCORE_INVALID", file, SCORES_SHEET, f"{column}{row}", ref=characteristic.ref,
                                value=typed, hint=suggest(typed, framework.scale.names),
                                ratings=", ".join(framework.scale.names)))
    return said


GATHER_STEPS = 5  # what `gather` tells its tracker: the steps a command's progress bar counts for it


def gather(assessment: Assessment, threshold_name: str | None = None, spread: int | None = None,
           tracker: Tracker = QUIET) -> Gathered:
    """Read the framework, every current return and what was typed into the last report; check them.

    `threshold_name` and `spread` given are kept for the assessment, so that report, check and sign-off
    judge alike; not given, the last ones kept (or the defaults) are used. `tracker` is told of each of
    GATHER_STEPS steps as it is done.
    """
    framework = assessment.framework()
    tracker.advance(f"read {assessment.workbook.name}")
    check_threshold(framework, threshold_name)
    check_is_report(assessment.report, assessment.assessment_id)
    threshold_name, spread = _kept_choices(assessment, framework, threshold_name, spread)
    edits = read_previous_edits(assessment.report)
    tracker.advance(f"read {assessment.report.name}")
    records = assessment.records
    restored = _restore_missing(assessment, edits)
    _not_typed_by_a_person(edits, records.seen_values())
    issues = records.issues()
    returns = records.returns()
    responses = records.responses_by_return(r.return_id for r in returns if r.status == "accepted")
    tracker.advance("read the records")
    consolidation = consolidate(framework, returns, responses, issues, records.preferences())
    consolidated = {c.ref: consolidation.consolidated(c.ref) for c in framework.characteristics}
    report_saved = (dt.datetime.fromtimestamp(assessment.report.stat().st_mtime).replace(microsecond=0).isoformat()
                    if assessment.report.exists() else "")
    decisions, warnings = decide(framework.scale, consolidated, edits, assessment.report.name,
                                 consolidation.moderations, report_saved)
    warnings += _final_scores_not_on_scale(framework, decisions, assessment.report.name)
    warnings += restored + [problem("RESPONSE_ORPHANED", r.file, r.sheet, r.cell, ref=r.ref, reviewer=r.reviewer_id)
                            for r in consolidation.orphans]
    tracker.advance("consolidated the answers")
    signoffs = records.signoffs()
    signoff = signoffs[-1] if signoffs else None
    consistency = check(consolidation, decisions, [i for i in issues if i.kind == "review"], spread, threshold_name,
                        signoff)
    tracker.advance("checked consistency")
    return Gathered(framework, consolidation, decisions, warnings, edits, issues, consistency, signoff,
                    threshold_name, spread)


def _not_typed_by_a_person(edits: PreviousEdits, seen) -> None:
    """Leave out of `edits` a moderated score and note that bva itself wrote into the report from a moderation
    return (as the change trail shows), so that a different return chosen since (bva ingest --prefer) is not
    overruled by them as if a person had typed them later."""
    last: dict[tuple, object] = {}
    for value in seen:
        if value.kind == "characteristic" and value.field in ("Moderated score", "Moderation note"):
            last[(value.key, value.field)] = value
    for ref, moderation in list(edits.moderation.items()):
        score, note = last.get((ref, "Moderated score")), last.get((ref, "Moderation note"))
        written = (score is not None and score.source.startswith("from ")
                   and score.value.casefold() == moderation.moderated.strip().casefold()
                   and (note.value if note else "") == moderation.note.strip())
        if written:
            edits.moderation[ref] = type(moderation)("", "", moderation.final_override)


def _restore_missing(assessment: Assessment, edits: PreviousEdits) -> list[Problem]:
    """What people typed in rows no longer on the report (or in a report gone missing), kept from the change
    trail in the records; a warning for each sheet concerned."""
    written = assessment.records.setting("report_written")
    if not written:
        return []
    refs, actions = restore_missing(edits, assessment.records.seen_values())
    path = assessment.report
    if not path.exists():
        when = dt.datetime.fromtimestamp(float(written)).strftime("%d %b %Y %H:%M")
        what = "; ".join(part for part in [f"moderations of {_listed(refs)}" if refs else "",
                                           f"actions {_listed(actions)}" if actions else ""] if part)
        return [problem("REPORT_MISSING", path, when=when, what=f" ({what})" if what else "")]
    warnings = []
    if refs:
        warnings.append(problem("REPORT_ROWS_RESTORED", path, SCORES_SHEET, refs=_listed(refs)))
    if actions:
        warnings.append(problem("ACTION_ROWS_RESTORED", path, ACTION_SHEET, actions=_listed(actions)))
    return warnings


def _listed(keys: list[str], most: int = 8) -> str:
    shown = ", ".join(keys[:most])
    return shown + (f" and {len(keys) - most} more" if len(keys) > most else "")


def signed_off(signoff: SignOff | None, finals: dict[str, str] | None = None) -> str:
    """The words for the title: who signed off and when, or that nobody has yet; with `finals` (ref -> final
    score now), how many final scores differ from those signed off, so a changed map is never shown as signed."""
    if signoff is None:
        return "not signed off yet"
    when = dt.datetime.fromisoformat(signoff.signed_at).strftime("%d %B %Y %H:%M")
    accepted = (f" with {signoff.open_high} high-severity finding{'s' * (signoff.open_high != 1)} still open"
                if signoff.open_high else "")
    changed = sorted(ref for ref, final in (finals or {}).items() if signoff.finals.get(ref, "") != final)
    since = (f"; {len(changed)} final score{'s' * (len(changed) != 1)} changed since ({_listed(changed, 5)}), "
             "not signed off" if changed else "")
    return f"signed off by {signoff.signed_by} on {when}{accepted}{since}"


def _kept_choices(assessment: Assessment, framework: Framework, threshold_name: str | None, spread: int | None):
    """The action threshold and spread to judge by: those given (and kept), else those kept, else defaults."""
    records = assessment.records
    if threshold_name is not None:
        records.keep_setting("action_threshold", framework.scale.find(threshold_name).name)
    if spread is not None:
        records.keep_setting("spread", str(spread))
    kept = records.setting("action_threshold")
    rating = framework.scale.find(kept) if kept else None
    return (rating.name if rating and rating.scored else None), int(records.setting("spread") or DEFAULT_SPREAD)


def check_threshold(framework: Framework, threshold_name: str | None) -> None:
    rating = framework.scale.find(threshold_name) if threshold_name else None
    if threshold_name and (rating is None or not rating.scored):
        raise BvaError(problem("THRESHOLD_UNKNOWN", value=threshold_name,
                               hint=suggest(threshold_name, [r.name for r in framework.scale.scored]),
                               ratings=", ".join(r.name for r in framework.scale.scored)))


def lock_holder(lock: Path) -> str:
    """Who an Excel or LibreOffice lock file says has the file open ('' if it does not say)."""
    try:
        data = lock.read_bytes()[:512]
    except OSError:
        return ""
    if lock.name.startswith(".~lock."):  # LibreOffice: ",user,machine,date,profile;"
        fields = data.decode("utf-8", "replace").split(",")
        user, host, when = (fields + ["", "", "", ""])[1:4]
        return " ".join(part for part in [user.strip(), f"on {host.strip()}" if host.strip() else "",
                                          f"since {when.strip()}" if when.strip() else ""] if part)
    if data:  # Excel: a length byte, then the user's name
        return data[1:1 + data[0]].decode("cp1252", "replace").strip()
    return ""


def check_not_open(path: Path) -> None:
    """Refuse to replace a report that Excel or LibreOffice has open (they leave lock files)."""
    for lock, program in [(path.with_name(f"~${path.name}"), "Excel"),
                          (path.with_name(f".~lock.{path.name}#"), "LibreOffice")]:
        if lock.exists():
            holder = lock_holder(lock)
            raise BvaError(problem("REPORT_OPEN", path, program=program,
                                   holder=f" by {holder}" if holder else "", lock=lock.name))


def _package_part(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        try:
            return archive.read(name)
        except KeyError:
            return b""


def check_is_report(path: Path, assessment_id: str) -> None:
    """Refuse a report.xlsx that bva did not write for this assessment: it is never replaced.

    A report is known by its sheets (an Excel or LibreOffice save keeps them) and, since this version, by
    a document property naming its assessment. A file that cannot be read at all is REPORT_UNREADABLE.
    """
    if not path.exists():
        return
    try:
        sheets = report_sheets(path)
        custom = _package_part(path, "docProps/custom.xml")
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as exc:
        reason = "it is not a workbook, or it is damaged" if not isinstance(exc, OSError) else (exc.strerror or str(exc))
        raise BvaError(problem("REPORT_UNREADABLE", path, reason=reason)) from None
    if not {SCORES_SHEET, ACTION_SHEET} <= set(sheets):
        raise BvaError(problem("REPORT_FOREIGN", path, sheets=", ".join(f"'{s}'" for s in sheets) or "none"))
    if custom:
        try:
            root = ElementTree.fromstring(custom)
        except ElementTree.ParseError:
            return
        for prop in root:
            if prop.get("name") == ASSESSMENT_PROPERTY:
                other = "".join(prop.itertext()).strip()
                if other and other != assessment_id:
                    raise BvaError(problem("REPORT_OTHER_ASSESSMENT", path, other=other, assessment=assessment_id))


def saved_by(path: Path) -> tuple[str, str]:
    """When the report at `path` was last saved (local time, to the minute) and by whom, if a person."""
    when = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%d %b %Y %H:%M")
    who = ""
    try:
        core = ElementTree.fromstring(_package_part(path, "docProps/core.xml") or b"<x/>")
        who = next(("".join(e.itertext()).strip() for e in core if e.tag.endswith("}lastModifiedBy")), "")
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError):
        pass
    return when, ("" if who == "bva-excel" else who)


def keep_history(path: Path, placed: FilesPlaced | None = None) -> Path | None:
    """Copy the report at `path` into history/ as 'report YYYY-MM-DD HHMMSS.xlsx' (when it was last saved; a
    name that ends in that date already gets only the time), never over another copy; None when an identical
    copy is already there. With `placed`, the copy is undone with the rest of the change if it fails."""
    saved = dt.datetime.fromtimestamp(path.stat().st_mtime)
    folder = path.parent / HISTORY_FOLDER
    folder.mkdir(exist_ok=True)
    day = f"{saved:%Y-%m-%d}"
    stem = f"{path.stem} {saved:%H%M%S}" if path.stem.endswith(day) else f"{path.stem} {day} {saved:%H%M%S}"
    digest = None
    for number in range(1, 1000):
        target = folder / (f"{stem}{path.suffix}" if number == 1 else f"{stem} ({number}){path.suffix}")
        if not target.exists():
            break
        digest = digest or sha256_of(path)
        if sha256_of(target) == digest:
            return None
    check_path_length(target)
    with replacing(target, placed) as temp:
        shutil.copyfile(path, temp)
        stat = path.stat()
        os.utime(temp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return target


def read_carried(path: Path) -> Carried:
    """What people added to the report at `path`: sheets of their own and columns inserted on Scores and
    Action plan (stops, changing nothing, on a sheet that cannot be carried)."""
    carried = Carried()
    if not path.exists():
        return carried
    workbook = open_workbook(path)
    carried.sheets = read_extra_sheets(path, workbook, TOOL_SHEETS)
    fixed = {normalise_label(h) for h in SCORES_FIXED}
    scores, warnings = read_extra_columns(
        path, workbook, SCORES_SHEET, "Ref",
        lambda h: normalise_label(h) in fixed or bool(_REVIEWER_COLUMN.match(normalise_label(h))))
    plan_headers = {normalise_label(h) for h in ACTION_HEADERS}
    plan, more = read_extra_columns(path, workbook, ACTION_SHEET, "Action ID",
                                    lambda h: normalise_label(h) in plan_headers)
    carried.columns, carried.warnings = scores + plan, warnings + more
    carried.notes = (read_cell_notes(path, workbook, SCORES_SHEET, "Ref")
                     + read_cell_notes(path, workbook, ACTION_SHEET, "Action ID"))
    carried.warnings += [problem("REPORT_DRAWING_NOT_KEPT", path, name) for name in drawn_by_people(path, TOOL_SHEETS)]
    return carried


def _wording_edited(path: Path, framework: Framework) -> list[Problem]:
    """A warning when a characteristic's words were typed over on Scores: they come from assessment.xlsx."""
    if not path.exists():
        return []
    from bva_excel.excel.read.sheets import read_table
    from bva_excel.model.text import normalise_ref

    table = read_table(open_workbook(path), path.name, SCORES_SHEET, ["Ref", "Characteristic"], [],
                       blank_headers_allowed=True)
    texts = {c.ref: " ".join(c.text.split()) for c in framework.characteristics}
    edited = [ref for _, values in (table.rows if table else [])
              if (ref := normalise_ref(table.get(values, "Ref"))) in texts
              and " ".join(table.text(values, "Characteristic").split()) != texts[ref]]
    return [problem("REPORT_WORDING_EDITED", path, SCORES_SHEET, refs=_listed(edited))] if edited else []


def _write_changes(workbook, formats, trail: list[Change], framework: Framework, ref_of_action: dict[str, str]) -> None:
    sheet = workbook.add_worksheet(CHANGES_SHEET)
    _headers(sheet, CHANGE_HEADERS, CHANGE_WIDTHS, formats["header"])
    texts = {c.ref: c.text for c in framework.characteristics}
    if not trail:
        sheet.write_string(1, 0, "No changes yet: each run of bva report lists here what changed since the run "
                                 "before in moderated and final scores, moderation notes and the action plan.",
                           formats["subtitle"])
    for row, change in enumerate(trail, start=1):
        ref = change.key if change.kind != ACTION else ref_of_action.get(change.key) or _action_ref(change.key)
        seen = dt.datetime.fromisoformat(change.seen_at).strftime("%d %b %Y %H:%M:%S")
        values = [seen, change.key, texts.get(ref, ""), change.field, change.before or "(blank)",
                  change.after or "(blank)", change.source]
        for col, value in enumerate(values):
            sheet.write_string(row, col, value, formats["wrap"])
        fit_row(sheet, row, values, CHANGE_WIDTHS)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(trail), 1), len(CHANGE_HEADERS) - 1)
    print_landscape(sheet)


def _action_ref(action_id: str) -> str:
    match = re.match(r"^ACT-([A-Za-z]+\d+)", action_id)
    return match.group(1) if match else ""


def change_trail(assessment: Assessment) -> list[Change]:
    """Every change the report runs have seen, oldest first (from the records)."""
    return changes(assessment.records.seen_values())


def saved_since_written(assessment: Assessment) -> bool:
    """Whether report.xlsx was saved (by a person) after bva last wrote it: changes in it not yet seen."""
    written = assessment.records.setting("report_written")
    path = assessment.report
    return bool(written) and path.exists() and path.stat().st_mtime > float(written) + 1


def _formats(workbook) -> dict:
    return {"header": header_format(workbook),
            "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
            "bold": workbook.add_format({"bold": True, "valign": "top"}),
            "title": workbook.add_format({"bold": True, "font_size": 16}),
            "subtitle": workbook.add_format({"italic": True, "font_color": "#595959"}),
            "date": workbook.add_format({"num_format": "dd/mm/yyyy", "valign": "top"}),
            "when": workbook.add_format({"num_format": "d mmm yyyy hh:mm:ss", "valign": "top", "align": "left"}),
            "count": workbook.add_format({"valign": "top", "align": "center"}),  # clear of the text beside it
            "input": workbook.add_format({"text_wrap": True, "valign": "top", "bg_color": "#FFF8DC"})}


def _headers(sheet, headers, widths, fmt) -> None:
    for col, (title, width) in enumerate(zip(headers, widths)):
        sheet.write_string(0, col, title, fmt)
        sheet.set_column(col, col, width)


def _write_summary(workbook, formats, consolidation: Consolidation, final: dict[str, str], title: str,
                   subtitle: str) -> None:
    sheet = workbook.add_worksheet("Summary")
    framework = consolidation.framework
    sheet.write_string(0, 0, title, formats["title"])
    sheet.write_string(1, 0, subtitle, formats["subtitle"])
    sheet.write_string(3, 0, "Final scores by theme", formats["bold"])
    counts = theme_counts(framework, final)
    columns = list(counts.columns)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, len(columns) + 1, 12)
    sheet.set_column(4, 4, 17)
    total_row = _write_theme_counts(workbook, sheet, formats, framework, counts, SUMMARY_FIRST_ROW)
    chart_row = total_row + 2
    _add_ratings_chart(workbook, sheet, framework, columns, SUMMARY_FIRST_ROW + 1, total_row - 1, chart_row)
    centre = workbook.add_format({"align": "center"})

    start = chart_row + SUMMARY_CHART_ROWS + 2
    sheet.write_string(start - 1, 0, "Returns by reviewer", formats["bold"])
    headers = ["Reviewer", "Issued", "Answered", "Status", "Received", "File"]
    for col, name in enumerate(headers):
        sheet.write_string(start, col, name, formats["header"])
    for row, progress in enumerate(consolidation.progress, start=start + 1):
        sheet.write_string(row, 0, f"{progress.reviewer_id} {progress.name}" if progress.listed
                           else f"{progress.reviewer_id} (no longer listed)")
        sheet.write_number(row, 1, progress.issued, centre)
        sheet.write_number(row, 2, progress.answered, centre)
        refused = f" ({progress.rejected} file{'s' * (progress.rejected != 1)} rejected)" if progress.rejected else ""
        sheet.write_string(row, 3, ("Received" if progress.received else "Outstanding") + refused)
        received = dt.datetime.fromisoformat(progress.received).strftime("%d %b %Y %H:%M") if progress.received else ""
        sheet.write_string(row, 4, received)
        sheet.write_string(row, 5, progress.file)
    print_landscape(sheet, header_row=False)


SUMMARY_FIRST_ROW = 4  # the header row of "Final scores by theme" on Summary (0-based)
SUMMARY_CHART_ROWS = 22  # rows of the sheet the ratings chart stands over
NOT_ANSWERED = "Not answered"
NOT_ANSWERED_COLOUR = "#E7E6E6"  # a light neutral, apart from every rating's colour (Grey included)


def theme_counts(framework: Framework, final: dict[str, str]):
    """Final scores counted per theme: a row per theme, a column per rating and "Not answered".

    "Not answered" is the theme's characteristics less those with a rating on the scale, as the
    sheet's formulas count it (so a final score typed that is not on the scale is not answered).
    """
    import pandas as pd

    scale = framework.scale

    def column(score: str) -> str:
        rating = scale.find(score) if score else None
        return rating.name if rating else NOT_ANSWERED

    table = pd.DataFrame([{"theme": c.theme.name, "rating": column(final.get(c.ref, ""))}
                          for c in framework.characteristics])
    return pd.crosstab(table["theme"], table["rating"]).reindex(
        index=[t.name for t in framework.themes], columns=scale.names + [NOT_ANSWERED], fill_value=0)


def _write_theme_counts(workbook, sheet, formats, framework: Framework, counts, header_row: int) -> int:
    """Write the counts as formulas over the final scores on Scores, each with its value cached for viewers
    that do not recalculate; return the row of "All themes".

    A moderated score typed on Scores in Excel then moves the counts (and the chart drawn from them).
    "Not answered" is the theme's total less its rated counts, not COUNTIFS(...,"") over the final scores:
    those are mostly formulas returning "", and Excel and LibreOffice document different handling of empty
    formula results (LibreOffice 7.4 happens to count them under "" as Excel does), while a count of the
    theme's rows and a subtraction read the same in both; each row then adds up to its Total by construction.
    """
    scale = framework.scale
    last = len(framework.characteristics) + 1
    col = {name: column_letter(SCORES_FIXED.index(name)) for name in ("Theme", "Final score")}
    themes = f"{SCORES_SHEET}!${col['Theme']}$2:${col['Theme']}${last}"
    finals = f"{SCORES_SHEET}!${col['Final score']}$2:${col['Final score']}${last}"
    columns = list(counts.columns)
    total_col = len(columns) + 1
    sheet.write_string(header_row, 0, "Theme", formats["header"])
    for index, name in enumerate(columns, start=1):
        rating = scale.find(name) if name != NOT_ANSWERED else None
        colour = rating.colour if rating else NOT_ANSWERED_COLOUR
        sheet.write_string(header_row, index, name, workbook.add_format({
            "bold": True, "text_wrap": True, "align": "center", "border": 1, "bg_color": colour,
            "font_color": text_colour_on(colour)}))
    sheet.write_string(header_row, total_col, "Total", formats["header"])
    centre = workbook.add_format({"align": "center"})
    bold = workbook.add_format({"bold": True, "align": "center"})
    first = header_row + 1
    for row, (theme, values) in enumerate(counts.iterrows(), start=first):
        excel_row = row + 1
        sheet.write_string(row, 0, theme)
        for index, name in enumerate(columns, start=1):
            if name == NOT_ANSWERED:
                rated = f"{column_letter(1)}{excel_row}:{column_letter(len(columns) - 1)}{excel_row}"
                formula = f"={column_letter(total_col)}{excel_row}-SUM({rated})"
            else:
                formula = f"=COUNTIFS({themes},{countifs_criterion(theme)},{finals},{countifs_criterion(name)})"
            sheet.write_formula(row, index, formula, centre, int(values[name]))
        sheet.write_formula(row, total_col, f"=COUNTIFS({themes},{countifs_criterion(theme)})", centre, int(values.sum()))
    total_row = first + len(counts)
    sheet.write_string(total_row, 0, "All themes", formats["bold"])
    for index in range(1, total_col + 1):
        letter = column_letter(index)
        cached = int(counts.values.sum()) if index == total_col else int(counts[columns[index - 1]].sum())
        sheet.write_formula(total_row, index, f"=SUM({letter}{first + 1}:{letter}{total_row})", bold, cached)
    return total_row


def _add_ratings_chart(workbook, sheet, framework: Framework, columns: list[str], first_row: int, last_row: int,
                       at_row: int) -> None:
    """A stacked bar per theme, a series per rating in the scale's colours, drawn from the count cells
    (so that it redraws when a moderated score is typed on Scores); placed under the counts."""
    chart = workbook.add_chart({"type": "bar", "subtype": "stacked"})
    for index, name in enumerate(columns, start=1):
        rating = framework.scale.find(name) if name != NOT_ANSWERED else None
        colour = rating.colour if rating else NOT_ANSWERED_COLOUR
        chart.add_series({
            "name": ["Summary", SUMMARY_FIRST_ROW, index],
            "categories": ["Summary", first_row, 0, last_row, 0],
            "values": ["Summary", first_row, index, last_row, index],
            "fill": {"color": colour}, "border": {"color": "#FFFFFF", "width": 0.75}, "gap": 40,
            "data_labels": {"value": True, "num_format": "0;;;",  # a zero gets no label
                            "font": {"color": text_colour_on(colour), "size": 9}},
        })
    # A theme's total does not move with moderation, so the largest is the axis' end for good.
    most = max(sum(1 for c in framework.characteristics if c.theme == t) for t in framework.themes)
    chart.set_title({"name": "Final scores by theme", "name_font": {"size": 13, "bold": True}})
    chart.set_legend({"position": "bottom", "font": {"size": 9}})
    # Bar charts draw the first category at the bottom: reversed, the themes read top to bottom as in the
    # table, and crossing at the maximum keeps the value axis along the bottom.
    chart.set_y_axis({"reverse": True, "crossing": "max", "num_font": {"size": 9}})
    chart.set_x_axis({"name": "Characteristics", "name_font": {"size": 9, "bold": False},
                      "num_font": {"size": 9}, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
                      "min": 0, "max": most, "major_unit": _major_unit(most)})
    chart.set_chartarea({"border": {"none": True}})
    chart.set_size({"width": 900, "height": SUMMARY_CHART_ROWS * 20})
    sheet.insert_chart(at_row, 0, chart, {"x_offset": 2, "y_offset": 4, "object_position": 1})


def _major_unit(most: int) -> int:
    """Gridlines every 1, 2 or 5 characteristics: enough to count by, not so many as to clutter."""
    return 1 if most <= 10 else 2 if most <= 20 else 5


def _write_scores(workbook, formats, consolidation: Consolidation, decisions: dict[str, ScoreDecision],
                  signoff: SignOff | None = None, extra: list | None = None, notes: list | None = None) -> list:
    """The Scores sheet; `extra` columns people added and `notes` they put on cells are written back (the notes
    that found no cell are returned)."""
    sheet = workbook.add_worksheet(SCORES_SHEET)
    slots = consolidation.max_reviewers
    headers = list(SCORES_FIXED) + [h.format(k=k) for k in range(1, slots + 1) for h in REVIEWER_COLUMNS]
    widths = SCORES_WIDTHS + REVIEWER_WIDTHS * slots
    _headers(sheet, headers, widths, formats["header"])
    framework = consolidation.framework
    col = {name: i for i, name in enumerate(SCORES_FIXED)}
    for row, characteristic in enumerate(framework.characteristics, start=1):
        decision = decisions[characteristic.ref]
        sheet.write_string(row, 0, characteristic.ref, formats["bold"])
        sheet.write_string(row, 1, characteristic.theme.name, formats["wrap"])
        sheet.write_string(row, 2, characteristic.text, formats["wrap"])
        sheet.write_string(row, col["Consolidated score"], decision.consolidated, formats["wrap"])
        sheet.write_string(row, col["Moderated score"], decision.moderated, formats["input"])
        sheet.write_string(row, col["Moderation note"], decision.note, formats["input"])
        sheet.write_string(row, col["Signed-off score"], signoff.finals.get(characteristic.ref, "") if signoff else "",
                           formats["wrap"])
        final_cell = col["Final score"]
        if decision.final_typed:
            sheet.write_string(row, final_cell, decision.final, formats["wrap"])
        else:
            excel_row = row + 1
            moderated = f"{column_letter(col['Moderated score'])}{excel_row}"
            consolidated = f"{column_letter(col['Consolidated score'])}{excel_row}"
            ratings = f"Scale!$A$2:$A${len(framework.scale.ratings) + 1}"
            sheet.write_formula(row, final_cell,
                                f'=IF(COUNTIF({ratings},{moderated})>0,{moderated},{consolidated}&"")',
                                formats["wrap"], decision.final)
        for slot, response in enumerate(consolidation.responses.get(characteristic.ref, [])):
            base = len(SCORES_FIXED) + slot * len(REVIEWER_COLUMNS)
            reviewer = framework.reviewer(response.reviewer_id)
            sheet.write_string(row, base, reviewer.label if reviewer else response.reviewer_id, formats["wrap"])
            sheet.write_string(row, base + 1, response.rating, formats["wrap"])
            sheet.write_string(row, base + 2, response.commentary, formats["wrap"])
            sheet.write_string(row, base + 3, response.gaps, formats["wrap"])
        row_texts = [characteristic.ref, characteristic.theme.name, characteristic.text, "", "", decision.note, ""]
        for response in consolidation.responses.get(characteristic.ref, []):
            row_texts += ["", "", response.commentary, response.gaps]
        fit_row(sheet, row, row_texts, widths)
    last = len(framework.characteristics)
    for column in (col["Moderated score"], col["Final score"]):  # a typed Final score replaces the formula
        sheet.data_validation(1, column, last, column, score_validation(framework.scale))
    add_rating_colours(workbook, sheet, 1, col["Consolidated score"], last, col["Moderated score"], framework.scale)
    add_rating_colours(workbook, sheet, 1, col["Final score"], last, col["Signed-off score"], framework.scale)
    for slot in range(slots):
        score_col = len(SCORES_FIXED) + slot * len(REVIEWER_COLUMNS) + 1
        add_rating_colours(workbook, sheet, 1, score_col, last, score_col, framework.scale)
    rows = {c.ref: row for row, c in enumerate(framework.characteristics, start=1)}
    end = write_extra_columns(sheet, extra or [], len(headers), rows, formats)
    columns = {name: col for col, name in enumerate(headers)}
    columns.update({column.header: len(headers) + index for index, column in enumerate(extra or [])})
    sheet.freeze_panes(1, 3)
    sheet.autofilter(0, 0, last, max(end, len(headers) - 1))
    print_landscape(sheet)
    return write_cell_notes(sheet, notes or [], rows, columns)


def _write_responses(workbook, formats, consolidation: Consolidation) -> None:
    sheet = workbook.add_worksheet("Responses")
    _headers(sheet, RESPONSE_HEADERS, RESPONSE_WIDTHS, formats["header"])
    row = 0
    received = {r.name: r.received for r in consolidation.returns}
    for characteristic in consolidation.framework.characteristics:
        moderation = consolidation.moderations.get(characteristic.ref)
        rounds = [(r, "Review") for r in consolidation.responses.get(characteristic.ref, [])]
        for response, kind in rounds + ([(moderation[0], "Moderation")] if moderation else []):
            row += 1
            reviewer = consolidation.framework.reviewer(response.reviewer_id)
            values = [response.ref, response.reviewer_id, reviewer.name if reviewer else "", response.rating,
                      response.commentary, response.gaps, response.file, response.sheet, response.cell, kind]
            for col, value in enumerate(values):
                sheet.write_string(row, col, value, formats["wrap"])
            _write_when(sheet, row, len(values), received.get(response.file, ""), formats["when"])
            fit_row(sheet, row, values, RESPONSE_WIDTHS)
    add_rating_colours(workbook, sheet, 1, 3, max(row, 1), 3, consolidation.framework.scale)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(row, 1), len(RESPONSE_HEADERS) - 1)
    print_landscape(sheet)


def _write_when(sheet, row: int, col: int, iso: str, fmt) -> None:
    """A time the tool recorded (ISO text, local time) as a date and time Excel sorts and filters as one."""
    if iso:
        sheet.write_datetime(row, col, dt.datetime.fromisoformat(iso), fmt)
    else:
        sheet.write_blank(row, col, None, fmt)


def _write_returns(workbook, formats, consolidation: Consolidation) -> None:
    sheet = workbook.add_worksheet("Returns")
    _headers(sheet, RETURN_HEADERS, RETURN_WIDTHS, formats["header"])
    for row, entry in enumerate(consolidation.returns, start=1):
        reviewer = consolidation.framework.reviewer(entry.reviewer_id)
        values = [entry.name, entry.sha256, reviewer.label if reviewer else entry.reviewer_id, entry.received,
                  entry.status, entry.counted, "\n".join(entry.problems)]
        for col, value in enumerate(values):
            if col == RETURN_HEADERS.index("Received"):
                _write_when(sheet, row, col, value, formats["when"])
            elif isinstance(value, int):  # answers (or progress updates) of this file in the report now
                sheet.write_number(row, col, value, formats["count"])
            else:
                sheet.write_string(row, col, value, formats["wrap"])
        fit_row(sheet, row, [str(v) for v in values], RETURN_WIDTHS)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, max(len(consolidation.returns), 1), len(RETURN_HEADERS) - 1)
    print_landscape(sheet)


def _write_scale(workbook, formats, scale) -> None:
    sheet = workbook.add_worksheet("Scale")
    _headers(sheet, ["Rating", "Value", "Meaning"], [16, 8, 80], formats["header"])
    for row, rating in enumerate(scale.ratings, start=1):
        sheet.write_string(row, 0, rating.name, workbook.add_format(
            {"bg_color": rating.colour, "font_color": text_colour_on(rating.colour), "bold": True}))
        if rating.scored:
            sheet.write_number(row, 1, rating.value)
        sheet.write_string(row, 2, rating.meaning, formats["wrap"])


def _write_consistency(workbook, formats, consistency: ConsistencyReport) -> None:
    sheet = workbook.add_worksheet("Consistency")
    _headers(sheet, CONSISTENCY_HEADERS, CONSISTENCY_WIDTHS, formats["header"])
    severity_formats = {severity: workbook.add_format({"text_wrap": True, "valign": "top", "bg_color": colour})
                        for severity, colour in SEVERITY_COLOURS.items()}
    for row, finding in enumerate(consistency.findings, start=1):
        status = f"Resolved: {finding.resolved}" if finding.resolved else "Open"
        values = [finding.ref, finding.theme, finding.finding, finding.severity, ", ".join(finding.reviewers),
                  finding.evidence, status]
        for col, value in enumerate(values):
            open_severity = col == 3 and not finding.resolved
            sheet.write_string(row, col, value, severity_formats[finding.severity] if open_severity else formats["wrap"])
        fit_row(sheet, row, values, CONSISTENCY_WIDTHS)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(consistency.findings), 1), len(CONSISTENCY_HEADERS) - 1)
    print_landscape(sheet)


def _tiles(gathered: Gathered) -> dict[str, Tile]:
    """Each heat-map tile's marker and note: reviewers' scores, the final score and how it was set."""
    framework = gathered.framework
    disputed: dict[str, list[str]] = {}
    for finding in gathered.consistency.findings:
        if finding.ref and not finding.resolved and finding.kind in ("DISAGREEMENT", "GREY_VS_SCORE"):
            disputed.setdefault(finding.ref, []).append(f"{finding.finding} ({finding.evidence})")
    tiles = {}
    for characteristic in framework.characteristics:
        decision = gathered.decisions[characteristic.ref]
        moderated = bool(decision.final_typed) or framework.scale.find(decision.moderated) is not None
        if decision.final_typed:
            how = "set by a senior officer" + ("" if framework.scale.find(decision.final_typed) else
                                               ", but not a rating on the scale")
        elif moderated:
            how = f"moderated from {decision.consolidated or 'blank'}" + (f": {decision.note.strip()}" if decision.note.strip() else "")
        else:
            how = "consolidated from the reviewers' scores" if decision.final else ""
        scores = []
        for response in gathered.consolidation.responses.get(characteristic.ref, []):
            reviewer = framework.reviewer(response.reviewer_id)
            scores.append((reviewer.label if reviewer else response.reviewer_id, response.rating))
        marker = MODERATED if moderated else (DISAGREEMENT if characteristic.ref in disputed else "")
        tiles[characteristic.ref] = Tile(marker, tile_note(characteristic, scores, decision.final, how,
                                                          disputed.get(characteristic.ref, [])))
    return tiles


# What writing the report tells its tracker after gathering: what people added read, the change trail kept, each
# of the sheets below written, and the workbook saved.
REPORT_SHEET_STEPS = ["Summary", SCORES_SHEET, HEAT_MAP_SHEET, ACTION_SHEET, "Consistency", CHANGES_SHEET,
                      "Responses", "Returns", "Action history", "Scale"]
REPORT_STEPS = GATHER_STEPS + 2 + len(REPORT_SHEET_STEPS) + 1


def write_report(assessment: Assessment, threshold_name: str | None = None, spread: int | None = None,
                 tracker: Tracker = QUIET) -> ReportResult:
    """Consolidate everything ingested and write DIR/report.xlsx in one piece; `tracker` is told of each of
    REPORT_STEPS steps."""
    with assessment.locked("report"):
        tracker.start(REPORT_STEPS, "steps")
        return _write_report(assessment, threshold_name, spread, tracker)


def _write_report(assessment: Assessment, threshold_name: str | None, spread: int, tracker: Tracker) -> ReportResult:
    path = assessment.report
    check_not_open(path)
    for stale in path.parent.glob(f".{path.stem}-*{path.suffix}.tmp"):  # half-written by a report killed before
        stale.unlink(missing_ok=True)
    gathered = gather(assessment, threshold_name, spread, tracker)  # refuses a report bva did not write
    carried = read_carried(path)  # refuses, before anything changes, a sheet it cannot carry
    tracker.advance("read what people added to the report")
    framework, consolidation, decisions = gathered.framework, gathered.consolidation, gathered.decisions
    carried.warnings += _wording_edited(path, framework)
    final = {ref: d.final for ref, d in decisions.items()}
    actions = current_actions(assessment, gathered)
    updates = assessment.records.progress_updates()
    now = dt.datetime.now().replace(microsecond=0)

    # The change trail: what differs from what the last run saw, recorded before the report is replaced.
    records = assessment.records
    seen = records.seen_values()
    when, who = saved_by(path) if path.exists() else ("", "")
    typed_source = f"typed in {path.name} (saved {when}{f' by {who}' if who else ''})" if when else f"typed in {path.name}"
    shown = {row.action_id: {h: row.inputs[h] for h in ACTION_INPUT_HEADERS if row.inputs.get(h) is not None}
             for row in actions}
    returned = {row.action_id: row.source for row in actions if row.source and not row.source.startswith("Typed in")}
    found = new_values(seen, current_values(decisions, shown, typed_source, returned),
                       dt.datetime.now().isoformat(timespec="microseconds"))
    trail = changes(seen + found)
    new_changes = trail[len(changes(seen)):] if found else []  # the changes this run saw first
    # The change trail, the copy of the previous report and the new report: recorded and put in place as one.
    with records.together() as placed:
        if found:
            records.record_seen_values(found)
        history = keep_history(path, placed) if path.exists() else None
        tracker.advance("kept the change trail")
        lost = _write_workbook(assessment, gathered, carried, actions, updates, trail, now, tracker, placed)
    tracker.advance(f"saved {path.name}")
    warnings = list(gathered.warnings) + carried.warnings
    plan_columns = carried.columns_of(ACTION_SHEET)
    action_rows = {row.action_id: index for index, row in enumerate(actions, start=1)}
    warnings += unplaced(carried.columns_of(SCORES_SHEET), {c.ref: 1 for c in framework.characteristics}, path.name)
    warnings += unplaced(plan_columns, action_rows, path.name)
    warnings += [problem("REPORT_NOTE_NOT_PLACED", path, note.sheet, key=note.key, header=note.header,
                         text=note.text[:80]) for note in lost]
    return ReportResult(path, warnings, decisions, len(actions), gathered.consistency, gathered, history, carried,
                        new_changes)


def _write_workbook(assessment: Assessment, gathered: Gathered, carried: Carried, actions: list, updates: list,
                    trail: list[Change], now: dt.datetime, tracker: Tracker, placed: FilesPlaced) -> list:
    """report.xlsx itself, written whole to a temporary file and put in place through `placed`; the moment it
    was written is recorded, to tell a report saved since by a person. Returns the notes people put on cells that
    found no cell."""
    path, framework = assessment.report, gathered.framework
    consolidation, decisions = gathered.consolidation, gathered.decisions
    final = {ref: d.final for ref, d in decisions.items()}

    title = assessment.title
    subtitle = f"Assessment {assessment.assessment_id}, report of {now:%d %B %Y %H:%M}; {signed_off(gathered.signoff, final)}"
    action_rows = {row.action_id: index for index, row in enumerate(actions, start=1)}
    plan_columns = carried.columns_of(ACTION_SHEET)
    try:
        with replacing(path, placed) as temp:
            workbook = new_workbook(temp, f"{title}: report")
            workbook.set_custom_property(ASSESSMENT_PROPERTY, assessment.assessment_id)
            formats = _formats(workbook)
            _write_summary(workbook, formats, consolidation, final, title, subtitle)
            tracker.advance("wrote Summary")
            lost = _write_scores(workbook, formats, consolidation, decisions, gathered.signoff,
                                 carried.columns_of(SCORES_SHEET), carried.notes_of(SCORES_SHEET))
            tracker.advance(f"wrote {SCORES_SHEET}")
            last = len(framework.characteristics) + 1
            final_col = column_letter(SCORES_FIXED.index("Final score"))
            write_heat_map(workbook, framework, final, f"{title}: heat map", subtitle,
                           f"{SCORES_SHEET}!$A$2:$A${last}", f"{SCORES_SHEET}!${final_col}$2:${final_col}${last}",
                           _tiles(gathered))
            tracker.advance(f"wrote {HEAT_MAP_SHEET}")
            write_action_plan(workbook, actions, formats, framework.scale)
            plan = workbook.get_worksheet_by_name(ACTION_SHEET)
            if plan_columns:
                end = write_extra_columns(plan, plan_columns, len(ACTION_HEADERS), action_rows, formats)
                plan.autofilter(0, 0, max(len(actions), 1), end)
            plan_headers = {name: col for col, name in enumerate(ACTION_HEADERS)}
            plan_headers.update({c.header: len(ACTION_HEADERS) + i for i, c in enumerate(plan_columns)})
            lost += write_cell_notes(plan, carried.notes_of(ACTION_SHEET), action_rows, plan_headers)
            tracker.advance(f"wrote {ACTION_SHEET}")
            _write_consistency(workbook, formats, gathered.consistency)
            tracker.advance("wrote Consistency")
            _write_changes(workbook, formats, trail, framework, {row.action_id: row.ref for row in actions})
            tracker.advance(f"wrote {CHANGES_SHEET}")
            _write_responses(workbook, formats, consolidation)
            tracker.advance("wrote Responses")
            _write_returns(workbook, formats, consolidation)
            tracker.advance("wrote Returns")
            if updates:  # from the first progress round on
                write_action_history(workbook, updates, actions, formats)
            tracker.advance("wrote Action history" if updates else "")
            _write_scale(workbook, formats, framework.scale)
            write_extra_sheets(workbook, carried.sheets)
            tracker.advance("wrote Scale" + (" and your own sheets" if carried.sheets else ""))
            workbook.worksheets()[2].activate()
            workbook.close()
    except PermissionError as exc:  # the folder itself may not be written to; replacing() says a refused replace
        raise BvaError(problem("FILE_BUSY", str(path), reason=exc.strerror or str(exc))) from None
    assessment.records.keep_setting("report_written", repr(path.stat().st_mtime))
    return lost
