"""report.xlsx: Summary, Scores, Heat map, Action plan, Responses and Returns.

The report is written whole to a temporary file and renamed over the old one, and what people typed
into the old one (moderated scores, notes, actions) is read first and written back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from bva_excel.action_plan import write_action_plan
from bva_excel.assessment import Assessment
from bva_excel.consistency import ConsistencyReport, check
from bva_excel.consolidation import Consolidation, consolidate
from bva_excel.errors import BvaError, Problem, problem
from bva_excel.heatmap import DISAGREEMENT, MODERATED, Tile, tile_note, write_heat_map
from bva_excel.framework import Framework
from bva_excel.records import IssueRecord, SignOff
from bva_excel.progress import current_actions, write_action_history
from bva_excel.moderation import SCORES_SHEET, PreviousEdits, ScoreDecision, decide, read_previous_edits
from bva_excel.reviewer_workbook import score_validation
from bva_excel.sheets import column_letter, suggest
from bva_excel.storage import replacing
from bva_excel.styles import (add_rating_colours, fit_row, header_format, print_landscape, text_colour_on,
                              workbook_options)

SCORES_FIXED = ["Ref", "Theme", "Characteristic", "Consolidated score", "Moderated score",
                "Moderation note", "Final score", "Signed-off score"]
SCORES_WIDTHS = [8, 18, 40, 14, 14, 30, 13, 13]
REVIEWER_COLUMNS = ["Reviewer {k}", "Score {k}", "Commentary {k}", "Gaps {k}"]
REVIEWER_WIDTHS = [18, 13, 40, 40]
RESPONSE_HEADERS = ["Ref", "Reviewer ID", "Reviewer", "Score", "Commentary", "Gaps and areas to address",
                    "File", "Sheet", "Cell", "Round", "Received"]
RESPONSE_WIDTHS = [8, 11, 22, 13, 45, 45, 30, 11, 7, 11, 17]
RETURN_WIDTHS = [34, 20, 22, 19, 12, 80]
RETURN_HEADERS = ["File", "SHA-256", "Reviewer", "Received", "Status", "Problems"]


CONSISTENCY_HEADERS = ["Ref", "Theme", "Finding", "Severity", "Reviewers", "Evidence", "Status"]
CONSISTENCY_WIDTHS = [8, 20, 40, 9, 14, 60, 40]
SEVERITY_COLOURS = {"high": "#F8CBAD", "medium": "#FFE699", "low": "#DDEBF7", "info": "#EDEDED"}


DEFAULT_SPREAD = 2  # reviewers this many scale steps apart disagree, unless the PMO chose otherwise


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


def gather(assessment: Assessment, threshold_name: str | None = None, spread: int | None = None) -> Gathered:
    """Read the framework, every current return and what was typed into the last report; check them.

    `threshold_name` and `spread` given are kept for the assessment, so that report, check and sign-off
    judge alike; not given, the last ones kept (or the defaults) are used.
    """
    framework = assessment.framework()
    check_threshold(framework, threshold_name)
    threshold_name, spread = _kept_choices(assessment, framework, threshold_name, spread)
    edits = read_previous_edits(assessment.report)
    records = assessment.records
    issues = records.issues()
    returns = records.returns()
    responses = records.responses_by_return(r.return_id for r in returns if r.status == "accepted")
    consolidation = consolidate(framework, returns, responses, issues, records.preferences())
    consolidated = {c.ref: consolidation.consolidated(c.ref) for c in framework.characteristics}
    report_saved = (dt.datetime.fromtimestamp(assessment.report.stat().st_mtime).replace(microsecond=0).isoformat()
                    if assessment.report.exists() else "")
    decisions, warnings = decide(framework.scale, consolidated, edits, assessment.report.name,
                                 consolidation.moderations, report_saved)
    warnings += [problem("RESPONSE_ORPHANED", r.file, r.sheet, r.cell, ref=r.ref, reviewer=r.reviewer_id)
                 for r in consolidation.orphans]
    signoffs = records.signoffs()
    signoff = signoffs[-1] if signoffs else None
    consistency = check(consolidation, decisions, [i for i in issues if i.kind == "review"], spread, threshold_name,
                        signoff)
    return Gathered(framework, consolidation, decisions, warnings, edits, issues, consistency, signoff,
                    threshold_name, spread)


def signed_off(signoff: SignOff | None) -> str:
    """The words for the title: who signed off and when, or that nobody has yet."""
    if signoff is None:
        return "not signed off yet"
    when = dt.datetime.fromisoformat(signoff.signed_at).strftime("%d %B %Y %H:%M")
    accepted = (f" with {signoff.open_high} high-severity finding{'s' * (signoff.open_high != 1)} still open"
                if signoff.open_high else "")
    return f"signed off by {signoff.signed_by} on {when}{accepted}"


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


def _formats(workbook) -> dict:
    return {"header": header_format(workbook),
            "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
            "bold": workbook.add_format({"bold": True, "valign": "top"}),
            "title": workbook.add_format({"bold": True, "font_size": 16}),
            "subtitle": workbook.add_format({"italic": True, "font_color": "#595959"}),
            "date": workbook.add_format({"num_format": "dd/mm/yyyy", "valign": "top"}),
            "input": workbook.add_format({"text_wrap": True, "valign": "top", "bg_color": "#FFF8DC"})}


def _headers(sheet, headers, widths, fmt) -> None:
    for col, (title, width) in enumerate(zip(headers, widths)):
        sheet.write_string(0, col, title, fmt)
        sheet.set_column(col, col, width)


def _write_summary(workbook, formats, consolidation: Consolidation, final: dict[str, str], title: str,
                   subtitle: str) -> None:
    import pandas as pd

    sheet = workbook.add_worksheet("Summary")
    framework = consolidation.framework
    scale = framework.scale
    sheet.write_string(0, 0, title, formats["title"])
    sheet.write_string(1, 0, subtitle, formats["subtitle"])
    sheet.write_string(3, 0, "Final scores by theme", formats["bold"])
    table = pd.DataFrame([{"theme": c.theme.name, "rating": final.get(c.ref) or "Not answered"}
                          for c in framework.characteristics])
    columns = scale.names + ["Not answered"]
    counts = pd.crosstab(table["theme"], table["rating"]).reindex(
        index=[t.name for t in framework.themes], columns=columns, fill_value=0)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, len(columns) + 1, 12)
    sheet.set_column(4, 4, 17)
    sheet.write_string(4, 0, "Theme", formats["header"])
    for col, name in enumerate(columns, start=1):
        rating = scale.find(name)
        fmt = workbook.add_format({"bold": True, "text_wrap": True, "align": "center", "border": 1,
                                   "bg_color": rating.colour if rating else "#FFFFFF",
                                   "font_color": text_colour_on(rating.colour) if rating else "#000000"})
        sheet.write_string(4, col, name, fmt)
    sheet.write_string(4, len(columns) + 1, "Total", formats["header"])
    centre = workbook.add_format({"align": "center"})
    for row, (theme, values) in enumerate(counts.iterrows(), start=5):
        sheet.write_string(row, 0, theme)
        for col, value in enumerate(values, start=1):
            sheet.write_number(row, col, int(value), centre)
        sheet.write_number(row, len(columns) + 1, int(values.sum()), centre)
    total_row = 5 + len(counts)
    sheet.write_string(total_row, 0, "All themes", formats["bold"])
    for col, value in enumerate(counts.sum(), start=1):
        sheet.write_number(total_row, col, int(value), workbook.add_format({"bold": True, "align": "center"}))
    sheet.write_number(total_row, len(columns) + 1, int(counts.values.sum()),
                       workbook.add_format({"bold": True, "align": "center"}))

    start = total_row + 3
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


def _write_scores(workbook, formats, consolidation: Consolidation, decisions: dict[str, ScoreDecision],
                  signoff: SignOff | None = None) -> None:
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
    sheet.data_validation(1, col["Moderated score"], last, col["Moderated score"], score_validation(framework.scale))
    add_rating_colours(workbook, sheet, 1, col["Consolidated score"], last, col["Moderated score"], framework.scale)
    add_rating_colours(workbook, sheet, 1, col["Final score"], last, col["Signed-off score"], framework.scale)
    for slot in range(slots):
        score_col = len(SCORES_FIXED) + slot * len(REVIEWER_COLUMNS) + 1
        add_rating_colours(workbook, sheet, 1, score_col, last, score_col, framework.scale)
    sheet.freeze_panes(1, 3)
    sheet.autofilter(0, 0, last, len(headers) - 1)
    print_landscape(sheet)


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
                      response.commentary, response.gaps, response.file, response.sheet, response.cell, kind,
                      received.get(response.file, "").replace("T", " ")]
            for col, value in enumerate(values):
                sheet.write_string(row, col, value, formats["wrap"])
            fit_row(sheet, row, values, RESPONSE_WIDTHS)
    add_rating_colours(workbook, sheet, 1, 3, max(row, 1), 3, consolidation.framework.scale)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(row, 1), len(RESPONSE_HEADERS) - 1)
    print_landscape(sheet)


def _write_returns(workbook, formats, consolidation: Consolidation) -> None:
    sheet = workbook.add_worksheet("Returns")
    _headers(sheet, RETURN_HEADERS, RETURN_WIDTHS, formats["header"])
    for row, entry in enumerate(consolidation.returns, start=1):
        reviewer = consolidation.framework.reviewer(entry.reviewer_id)
        values = [entry.name, entry.sha256, reviewer.label if reviewer else entry.reviewer_id, entry.received,
                  entry.status, "\n".join(entry.problems)]
        for col, value in enumerate(values):
            sheet.write_string(row, col, value, formats["wrap"])
        fit_row(sheet, row, values, RETURN_WIDTHS)
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
            how = "set by a senior officer"
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


def write_report(assessment: Assessment, threshold_name: str | None = None, spread: int | None = None) -> ReportResult:
    """Consolidate everything ingested and write DIR/report.xlsx in one piece."""
    with assessment.locked("report"):
        return _write_report(assessment, threshold_name, spread)


def _write_report(assessment: Assessment, threshold_name: str | None, spread: int) -> ReportResult:
    path = assessment.report
    check_not_open(path)
    for stale in path.parent.glob(f".{path.stem}-*{path.suffix}.tmp"):  # half-written by a report killed before
        stale.unlink(missing_ok=True)
    gathered = gather(assessment, threshold_name, spread)
    framework, consolidation, decisions = gathered.framework, gathered.consolidation, gathered.decisions
    final = {ref: d.final for ref, d in decisions.items()}
    actions = current_actions(assessment, gathered)
    updates = assessment.records.progress_updates()
    now = dt.datetime.now().replace(microsecond=0)
    title = assessment.title
    subtitle = f"Assessment {assessment.assessment_id}, report of {now:%d %B %Y %H:%M}; {signed_off(gathered.signoff)}"
    try:
        with replacing(path) as temp:
            workbook = xlsxwriter.Workbook(str(temp), workbook_options())
            workbook.set_properties({"title": f"{title}: report", "author": "bva-excel"})
            formats = _formats(workbook)
            _write_summary(workbook, formats, consolidation, final, title, subtitle)
            _write_scores(workbook, formats, consolidation, decisions, gathered.signoff)
            last = len(framework.characteristics) + 1
            final_col = column_letter(SCORES_FIXED.index("Final score"))
            write_heat_map(workbook, framework, final, f"{title}: heat map", subtitle,
                           f"{SCORES_SHEET}!$A$2:$A${last}", f"{SCORES_SHEET}!${final_col}$2:${final_col}${last}",
                           _tiles(gathered))
            write_action_plan(workbook, actions, formats, framework.scale)
            _write_consistency(workbook, formats, gathered.consistency)
            _write_responses(workbook, formats, consolidation)
            _write_returns(workbook, formats, consolidation)
            if updates:  # from the first progress round on
                write_action_history(workbook, updates, actions, formats)
            _write_scale(workbook, formats, framework.scale)
            workbook.worksheets()[2].activate()
            try:
                workbook.close()
            except xlsxwriter.exceptions.FileCreateError as exc:  # the OSError met while zipping, said as such
                raise exc.args[0] from None
    except PermissionError as exc:  # the folder itself may not be written to; replacing() says a refused replace
        raise BvaError(problem("FILE_BUSY", str(path), reason=exc.strerror or str(exc))) from None
    return ReportResult(path, gathered.warnings, decisions, len(actions), gathered.consistency, gathered)
