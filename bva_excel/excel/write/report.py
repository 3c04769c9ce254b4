"""excel.write.report"""

from __future__ import annotations

import datetime as dt
import re

from bva_excel.errors import BvaError, Code, problem
from bva_excel.excel.read.carried import (
    Carried,
    write_cell_notes,
    write_extra_columns,
    write_extra_sheets,
)
from bva_excel.excel.write.action_plan import write_action_plan
from bva_excel.excel.write.heat_map import (
    CHANGED,
    DISAGREEMENT,
    MODERATED,
    Tile,
    tile_note,
    write_heat_map,
)
from bva_excel.excel.write.progress import write_action_history
from bva_excel.excel.write.review import score_validation
from bva_excel.excel.write.styles import (
    NOT_ANSWERED_COLOUR,
    add_rating_colours,
    countifs_criterion,
    finish_printing,
    fit_row,
    header_format,
    new_workbook,
    print_landscape,
    text_colour_on,
)
from bva_excel.layout import (
    ACTION_HEADERS,
    ACTION_SHEET,
    ASSESSMENT_PROPERTY,
    CHANGES_SHEET,
    HEAT_MAP_SHEET,
    NOTES_SHEET,
    REVIEWER_COLUMNS,
    SCORES_FIXED,
    SCORES_SHEET,
)
from bva_excel.model.changes import ACTION, Change
from bva_excel.model.consistency import ConsistencyReport
from bva_excel.model.consolidation import Consolidation
from bva_excel.model.decisions import ScoreDecision, signed_off
from bva_excel.model.framework import Framework
from bva_excel.model.recorded import NOTE_KINDS, ReturnNote, SignOff
from bva_excel.model.state import AssessmentState
from bva_excel.model.summary import NOT_ANSWERED, ThemeCounts, theme_counts
from bva_excel.model.text import column_letter
from bva_excel.store.files import FilesPlaced, replacing
from bva_excel.store.folder import Assessment
from bva_excel.tracking import Tracker

SCORES_WIDTHS = [8, 18, 40, 14, 14, 30, 13, 13]


REVIEWER_WIDTHS = [18, 13, 40, 40]


RESPONSE_HEADERS = ["Ref", "Reviewer ID", "Reviewer", "Score", "Commentary", "Gaps and areas to address",
                    "File", "Sheet", "Cell", "Round", "Received"]


RESPONSE_WIDTHS = [8, 11, 22, 13, 45, 45, 30, 11, 7, 11, 20]


RETURN_WIDTHS = [34, 26, 22, 20, 12, 18, 80, 22, 40]


# 'Saved by' and 'From email' last: the columns people and tests know by position stay where they were.
RETURN_HEADERS = ["File", "SHA-256", "Reviewer", "Received", "Status", "Answers that count", "Problems", "Saved by",
                  "From email"]


NOTE_HEADERS = ["Who", "File", "Received", "Sheet", "Cell", "What", "Text"]


NOTE_WIDTHS = [22, 30, 18, 12, 8, 32, 70]


CONSISTENCY_HEADERS = ["Ref", "Theme", "Finding", "Severity", "Reviewers", "Evidence", "Status"]


CONSISTENCY_WIDTHS = [8, 20, 40, 9, 14, 60, 40]


SEVERITY_COLOURS = {"high": "#F8CBAD", "medium": "#FFE699", "low": "#DDEBF7", "info": "#EDEDED"}


CHANGE_HEADERS = ["Seen", "Ref or action", "Characteristic", "Field", "Before", "After", "Where it came from"]


CHANGE_WIDTHS = [16, 14, 40, 17, 22, 22, 50]


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
    sheet.set_column(1, len(columns) + 1, SUMMARY_COLUMN_WIDTH)
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
        status = ("Received" if progress.received else "Outstanding") + refused
        # Wrapped within its column: the date beside it would otherwise hide the end of it.
        sheet.write_string(row, 3, status, formats["wrap"])
        fit_row(sheet, row, [status], [SUMMARY_COLUMN_WIDTH])
        received = dt.datetime.fromisoformat(progress.received).strftime("%d %b %Y %H:%M") if progress.received else ""
        sheet.write_string(row, 4, received)
        sheet.write_string(row, 5, progress.file)
    print_landscape(sheet, pages_high=1, header_row=False)


SUMMARY_COLUMN_WIDTH = 12  # each rating's count, and the status of a reviewer's returns under them


SUMMARY_FIRST_ROW = 4  # the header row of "Final scores by theme" on Summary (0-based)


SUMMARY_CHART_ROWS = 22  # rows of the sheet the ratings chart stands over


def _write_theme_counts(workbook, sheet, formats, framework: Framework, counts: ThemeCounts, header_row: int) -> int:
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
    for row, (theme, values) in enumerate(counts.rows.items(), start=first):
        excel_row = row + 1
        sheet.write_string(row, 0, theme)
        for index, name in enumerate(columns, start=1):
            if name == NOT_ANSWERED:
                rated = f"{column_letter(1)}{excel_row}:{column_letter(len(columns) - 1)}{excel_row}"
                formula = f"={column_letter(total_col)}{excel_row}-SUM({rated})"
            else:
                formula = f"=COUNTIFS({themes},{countifs_criterion(theme)},{finals},{countifs_criterion(name)})"
            sheet.write_formula(row, index, formula, centre, values[name])
        sheet.write_formula(row, total_col, f"=COUNTIFS({themes},{countifs_criterion(theme)})", centre, sum(values.values()))
    total_row = first + len(counts.rows)
    totals = counts.column_totals()
    sheet.write_string(total_row, 0, "All themes", formats["bold"])
    for index in range(1, total_col + 1):
        letter = column_letter(index)
        cached = counts.total() if index == total_col else totals[columns[index - 1]]
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
                  entry.status, entry.counted, "\n".join(entry.problems), entry.saved_by, entry.email]
        for col, value in enumerate(values):
            if col == RETURN_HEADERS.index("Received"):
                _write_when(sheet, row, col, entry.received, formats["when"])
            elif isinstance(value, int):  # answers (or progress updates) of this file in the report now
                sheet.write_number(row, col, value, formats["count"])
            else:
                sheet.write_string(row, col, value, formats["wrap"])
        fit_row(sheet, row, [str(v) for v in values], RETURN_WIDTHS)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, max(len(consolidation.returns), 1), len(RETURN_HEADERS) - 1)
    print_landscape(sheet)


def _write_notes(workbook, formats, notes: list[ReturnNote], framework: Framework) -> None:
    """What people typed in their returns where bva reads nothing, one row a cell, so that none of it is lost."""
    sheet = workbook.add_worksheet(NOTES_SHEET)
    _headers(sheet, NOTE_HEADERS, NOTE_WIDTHS, formats["header"])
    for row, note in enumerate(notes, start=1):
        reviewer = framework.reviewer(note.reviewer_id)
        values = [reviewer.label if reviewer else note.reviewer_id, note.file, note.received, note.sheet, note.cell,
                  NOTE_KINDS.get(note.kind, note.kind), note.text]
        for col, value in enumerate(values):
            if col == NOTE_HEADERS.index("Received"):
                _write_when(sheet, row, col, note.received, formats["when"])
            else:
                sheet.write_string(row, col, value, formats["wrap"])
        fit_row(sheet, row, values, NOTE_WIDTHS)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(notes), 1), len(NOTE_HEADERS) - 1)
    print_landscape(sheet)


SCALE_HEADERS = ["Rating", "Value", "Meaning", "On the heat map"]


def scale_ranges(scale) -> tuple[str, str]:
    """The ratings' names and their tiles' labels on 'Scale', as absolute ranges."""
    last = len(scale.ratings) + 1
    label = column_letter(SCALE_HEADERS.index("On the heat map"))
    return f"Scale!$A$2:$A${last}", f"Scale!${label}$2:${label}${last}"


def _write_scale(workbook, formats, scale) -> None:
    sheet = workbook.add_worksheet("Scale")
    _headers(sheet, SCALE_HEADERS, [16, 8, 80, 12], formats["header"])
    for row, rating in enumerate(scale.ratings, start=1):
        sheet.write_string(row, 0, rating.name, workbook.add_format(
            {"bg_color": rating.colour, "font_color": text_colour_on(rating.colour), "bold": True}))
        if rating.scored:
            sheet.write_number(row, 1, rating.value)
        sheet.write_string(row, 2, rating.meaning, formats["wrap"])
        sheet.write_string(row, 3, scale.labels[rating.name], formats["count"])
        fit_row(sheet, row, [rating.meaning], [80])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(scale.ratings), len(SCALE_HEADERS) - 1)
    print_landscape(sheet)


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


def _tiles(gathered: AssessmentState) -> dict[str, Tile]:
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
        signoff = gathered.signoff
        if signoff and signoff.finals.get(characteristic.ref, "") != decision.final:
            marker += CHANGED
        tiles[characteristic.ref] = Tile(marker, tile_note(characteristic, scores, decision.final, how,
                                                          disputed.get(characteristic.ref, [])))
    return tiles


# What writing the report tells its tracker after gathering: what people added read, the change trail kept, each
# of the sheets below written, and the workbook saved.
REPORT_SHEET_STEPS = ["Summary", SCORES_SHEET, HEAT_MAP_SHEET, ACTION_SHEET, "Consistency", CHANGES_SHEET,
                      "Responses", "Returns", "Action history", "Scale"]


def _write_workbook(assessment: Assessment, gathered: AssessmentState, carried: Carried, actions: list, updates: list,
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
                           _tiles(gathered), scale_ranges(framework.scale))
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
            if gathered.notes:  # from the first return with something typed where bva reads nothing
                _write_notes(workbook, formats, gathered.notes, framework)
            tracker.advance("wrote Returns" + (f" and {NOTES_SHEET}" if gathered.notes else ""))
            if updates:  # from the first progress round on
                write_action_history(workbook, updates, actions, formats)
            tracker.advance("wrote Action history" if updates else "")
            _write_scale(workbook, formats, framework.scale)
            write_extra_sheets(workbook, carried.sheets)
            tracker.advance("wrote Scale" + (" and your own sheets" if carried.sheets else ""))
            workbook.worksheets()[2].activate()
            finish_printing(workbook, title)
            workbook.close()
    except PermissionError as exc:  # the folder itself may not be written to; replacing() says a refused replace
        raise BvaError(problem(Code.FILE_BUSY, str(path), reason=exc.strerror or str(exc))) from None
    assessment.records.keep_setting("report_written", repr(path.stat().st_mtime))
    return lost


