"""The background on a characteristic, for committee: one printable A4 page (or more) per ref.

Everything on it comes from what the report is made of (`report.load_state`) and the records: the
statement and who drafted it, every reviewer's answer with the return it came from (earlier answers a
later return replaced too), the consistency findings and how they were settled, how the final score was
reached, the sign-off and the actions. It only reads the assessment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.app.state import STATE_STEPS, load_state
from bva_excel.errors import BvaError, Code, problem
from bva_excel.excel.read.sheets import open_workbook, read_table
from bva_excel.excel.write.styles import (
    HEADER_COLOUR,
    LINE_HEIGHT,
    lines_needed,
    new_workbook,
    text_colour_on,
)
from bva_excel.model.action_plan import ActionRow, plan_actions
from bva_excel.model.consistency import INFO, Finding
from bva_excel.model.consolidation import (
    current_answers,
    in_order,
    latest_issues,
    lists_gaps,
)
from bva_excel.model.decisions import ScoreDecision
from bva_excel.model.framework import THEMES, Characteristic, Framework, find_theme, present
from bva_excel.model.kinds import IssueKind
from bva_excel.model.recorded import Response, ReturnRecord, SignOff
from bva_excel.model.state import AssessmentState
from bva_excel.model.text import normalise_ref, suggest
from bva_excel.render.office import OfficeError, convert_to_pdf, find_soffice
from bva_excel.store.files import replacing, safe_file_name
from bva_excel.store.folder import Assessment
from bva_excel.tracking import QUIET, Tracker

NO_GAPS = "No gaps identified by the reviewers"
NO_ACTIONS = "No actions recorded"
NOT_SIGNED_OFF = "Not signed off yet"
MANY = 3  # more refs than this and the default file name counts them instead of listing them


@dataclass
class Answer:
    """One reviewer's answer to one characteristic, with the return it came from."""

    reviewer: str  # "R03 Siân Roberts"
    rating: str
    commentary: str
    gaps: str
    file: str
    cell: str
    received: str  # ISO
    why_not: str = ""  # for an answer that does not count: why


@dataclass
class Detail:
    """All that is known about one characteristic, in words, ready to be laid out."""

    characteristic: Characteristic
    drafted_as_written: str
    drafters: list[str]  # reviewers the drafter text was matched to
    answers: list[Answer]
    earlier: list[Answer]
    findings: list[Finding]
    reviewer_findings: list[Finding]  # about the reviewers of this ref, across all their scores
    decision: ScoreDecision
    consolidated_how: str
    moderated_how: str
    final_how: str
    signed_off: str  # the signed-off score, '' if none
    signed_off_how: str
    actions: list[ActionRow] = field(default_factory=list)
    not_on_plan: str = ""  # why there is no action, when there is none
    unanswered: list[str] = field(default_factory=list)  # reviewers it was issued to who have not answered it

    @property
    def answered(self) -> list:
        """The answers that say something: a score, commentary or gaps (a blank row is no view on gaps)."""
        return [a for a in self.answers if a.rating or a.commentary.strip() or a.gaps.strip()]

    @property
    def gaps_listed(self) -> bool:
        return any(lists_gaps(a.gaps) for a in self.answered)


def resolve_refs(framework: Framework, wanted: list[str], file: str = "assessment.xlsx") -> list[str]:
    """The refs asked for, in the order given, once each: refs in any case ("sd6"), `all`, or a theme
    (prefix "SD" or name). Every unknown one is said at once, with "did you mean"."""
    known = [c.ref for c in framework.characteristics]
    refs: list[str] = []
    unknown = []
    for word in wanted:
        ref = normalise_ref(word)
        theme = find_theme(word)
        if word.strip().casefold() == "all":
            found = known
        elif ref and framework.characteristic(ref):
            found = [ref]
        elif theme and any(c.theme == theme for c in framework.characteristics):
            found = [c.ref for c in framework.characteristics if c.theme == theme]
        else:
            unknown.append(problem(Code.REF_UNKNOWN, file, "Characteristics", value=word.strip(),
                                   hint=suggest(word, known),
                                   example=known[0] if known else "SD006",
                                   prefixes=", ".join(t.prefix for t in THEMES)))
            continue
        refs += [r for r in found if r not in refs]
    if unknown:
        raise BvaError(unknown)
    return refs


def default_name(framework: Framework, wanted: list[str], refs: list[str]) -> str:
    """'detail SD006.xlsx', 'detail SD006 SD007.xlsx', 'detail Service delivery.xlsx',
    'detail all characteristics.xlsx' or 'detail 12 characteristics.xlsx'."""
    words = [w.strip() for w in wanted]
    if len(words) == 1 and words[0].casefold() == "all":
        stem = "detail all characteristics"
    elif (len(words) == 1 and not framework.characteristic(normalise_ref(words[0]) or "")
          and (theme := find_theme(words[0])) is not None):
        stem = f"detail {theme.name}"
    elif len(refs) <= MANY:
        stem = "detail " + " ".join(refs)
    else:
        stem = f"detail {len(refs)} characteristics"
    return safe_file_name(stem, ".xlsx")


def when(iso: str) -> str:
    """'29 Nov 2026 06:34' from an ISO time, '' from ''."""
    if not iso:
        return ""
    try:
        return dt.datetime.fromisoformat(iso).strftime("%d %b %Y %H:%M")
    except ValueError:
        return iso


def _label(framework: Framework, reviewer_id: str) -> str:
    reviewer = framework.reviewer(reviewer_id)
    return reviewer.label if reviewer else f"{reviewer_id} (no longer listed)"


def _drafted_as_written(assessment: Assessment) -> dict[str, str]:
    """ref -> 'Drafted by' exactly as typed on 'Characteristics' (the framework keeps only the matches)."""
    problems: list = []
    table = read_table(open_workbook(assessment.workbook), assessment.workbook.name, "Characteristics",
                       ["Ref", "Drafted by"], problems, blank_headers_allowed=True)
    if table is None:
        return {}
    return {ref: table.text(values, "Drafted by") for _, values in table.rows
            if (ref := normalise_ref(table.text(values, "Ref")))}


def _history(assessment: Assessment, gathered: AssessmentState):
    """The reviewers' accepted returns in the order they count, every answer in them, and the answer that
    counts for each (reviewer, ref), as consolidation decides it."""
    records = assessment.records
    moderation = {issue.issue_id for issue in gathered.issues if issue.kind == IssueKind.MODERATION}
    ordered = in_order([r for r in records.returns() if r.issue_id not in moderation], records.preferences())
    responses = records.responses_by_return(r.return_id for r in ordered)
    return ordered, responses, current_answers(ordered, responses)


def _answer(framework: Framework, response: Response, record: ReturnRecord, why_not: str = "") -> Answer:
    return Answer(_label(framework, response.reviewer_id), response.rating, response.commentary, response.gaps,
                  record.name, response.cell, record.received, why_not)


def _consolidated_how(framework: Framework, answers: list[Answer], consolidated: str) -> str:
    scale = framework.scale
    ratings = {a.rating: scale.find(a.rating) for a in answers}
    scored = [a for a in answers if (rating := ratings[a.rating]) is not None and rating.scored]
    unscored = [a for a in answers if (rating := ratings[a.rating]) is not None and not rating.scored]
    aside = (f" {', '.join(f'{a.rating} from {a.reviewer}' for a in unscored)} is not a score and is never averaged."
             if unscored and scored else "")
    if not consolidated:
        return "No reviewer has scored it yet."
    if len(scored) == 1:
        return f"The only reviewer's score: {scored[0].reviewer}.{aside}"
    if scored:
        listed = ", ".join(f"{a.reviewer} {a.rating}" for a in scored)
        even = " (the lower of the two middle ratings, as their number is even)" if len(scored) % 2 == 0 else ""
        return f"The median of {len(scored)} reviewers' scores{even}: {listed}.{aside}"
    return f"{consolidated}: not scored ({', '.join(a.reviewer for a in unscored)}); it is never averaged."


def _moderated_how(gathered: AssessmentState, ref: str, decision: ScoreDecision, report_name: str, report_saved: str) -> str:
    scale = gathered.framework.scale
    if decision.moderated_by and ref in gathered.consolidation.moderations:
        response, record = gathered.consolidation.moderations[ref]
        how = (f"Set by {_label(gathered.framework, response.reviewer_id)} in the moderation round: return "
               f"{record.name}, cell {response.cell}, received {when(record.received)}.")
    elif decision.moderated and scale.find(decision.moderated):
        how = (f"Typed into {report_name} ('Scores', Moderated score)"
               + (f"; the report was last saved {when(report_saved)}" if report_saved else "")
               + ". Who typed it is not recorded.")
    elif decision.moderated:
        how = (f"'{decision.moderated}' was typed into {report_name}, but it is not a rating on the scale, so it is "
               "not used.")
    else:
        return "Not moderated."
    if not decision.note.strip():
        how += " No note says why."
    if decision.overruled:
        how += f" Earlier: {decision.overruled}."
    return how


def _final_how(framework: Framework, decision: ScoreDecision) -> str:
    if decision.final_typed:
        return "Typed over the formula on 'Scores' by a senior officer: this is their final assessment."
    if framework.scale.find(decision.moderated):
        return "The moderated score."
    if decision.final:
        return "The consolidated score (not moderated)."
    return "Not scored yet."


def _signed_off(signoffs: list[SignOff], ref: str, final: str) -> tuple[str, str]:
    if not signoffs:
        return "", NOT_SIGNED_OFF + "."
    latest = signoffs[-1]
    score = latest.finals.get(ref, "")
    how = f"Signed off by {latest.signed_by} on {when(latest.signed_at)}"
    if latest.open_high:
        how += (f", with {latest.open_high} high-severity finding{'s' * (latest.open_high != 1)} still open "
                "across the assessment (accepted)")
    how += "."
    if ref not in latest.finals:
        how += " This characteristic was not in the framework then."
    elif score != final:
        how += f" The final score has changed since: it is now {final or 'blank'}."
    for earlier in reversed(signoffs[:-1]):
        how += (f" Earlier sign-off: {earlier.finals.get(ref, '') or 'blank'} by {earlier.signed_by} on "
                f"{when(earlier.signed_at)}.")
    return score, how


def build_details(assessment: Assessment, gathered: AssessmentState, refs: list[str], tracker: Tracker = QUIET) -> list[Detail]:
    """What the committee is told about each of `refs`, from what the report is made of; `tracker` is told of each."""
    framework = gathered.framework
    ordered, responses, current = _history(assessment, gathered)
    drafted = _drafted_as_written(assessment)
    final = {ref: d.final for ref, d in gathered.decisions.items()}
    threshold = framework.scale.action_threshold(gathered.threshold)
    plan = plan_actions(framework, final, gathered.consolidation.responses, threshold, gathered.edits.actions)
    signoffs = assessment.records.signoffs()
    report = assessment.report
    report_saved = (dt.datetime.fromtimestamp(report.stat().st_mtime).replace(microsecond=0).isoformat()
                    if report.exists() else "")
    issued = latest_issues([i for i in gathered.issues if i.kind == IssueKind.REVIEW])
    details = []
    for ref in refs:
        tracker.advance(f"gathered {ref}")
        characteristic = present(framework.characteristic(ref), ref)
        decision = gathered.decisions[ref]
        answers, counted = [], set()
        for response in gathered.consolidation.responses.get(ref, []):
            counts = current.get((response.reviewer_id, ref))
            record = counts[1] if counts else None
            counted.add((response.reviewer_id, record.return_id if record else None))
            answers.append(_answer(framework, response, record) if record else
                           Answer(_label(framework, response.reviewer_id), response.rating, response.commentary,
                                  response.gaps, response.file, response.cell, ""))
        earlier = []
        for record in ordered:
            for response in responses.get(record.return_id, []):
                if response.ref != ref or (response.reviewer_id, record.return_id) in counted:
                    continue
                if not (response.rating or response.commentary or response.gaps):
                    continue
                _, counting = current.get((response.reviewer_id, ref), (None, None))
                if counting is not None and ordered.index(record) < ordered.index(counting):
                    why = f"replaced by the later return {counting.name}"
                else:
                    why = "its score was left blank, so the earlier answer stands"
                earlier.append(_answer(framework, response, record, why))
        reviewer_ids = {r.reviewer_id for r in gathered.consolidation.responses.get(ref, [])}
        findings = [f for f in gathered.consistency.findings if f.ref == ref]
        about_reviewers = [f for f in gathered.consistency.findings
                           if not f.ref and f.reviewers and reviewer_ids & set(f.reviewers) and f.severity != INFO]
        unanswered = [_label(framework, reviewer_id) for reviewer_id, issue in issued.items()
                      if ref in issue.refs and reviewer_id not in reviewer_ids]
        signed, signed_how = _signed_off(signoffs, ref, decision.final)
        actions = [row for row in plan if row.ref == ref]
        rating = framework.scale.find(decision.final)
        not_on_plan = "" if actions else (
            f"Not on the action plan: the final score ({decision.final or 'blank'}) is above "
            f"{threshold.name} and no reviewer listed a gap." if rating and rating.scored
            else "Not on the action plan: no score at or below " + threshold.name + " and no gap listed.")
        details.append(Detail(
            characteristic, drafted.get(ref, ""), [_label(framework, r) for r in characteristic.drafted_by],
            answers, earlier, findings, about_reviewers, decision,
            _consolidated_how(framework, answers, decision.consolidated),
            _moderated_how(gathered, ref, decision, report.name, report_saved), _final_how(framework, decision),
            signed, signed_how, actions, not_on_plan, unanswered))
    return details


@dataclass
class DetailResult:
    path: Path
    refs: list[str]
    pages: int = 0  # sheets written (each at least a page)
    pdf: Path | None = None
    warnings: list = field(default_factory=list)


def write_detail(assessment: Assessment, wanted: list[str], output: Path | None = None,
                 tracker: Tracker = QUIET) -> DetailResult:
    """Write the detail workbook for the refs `wanted` (see `resolve_refs`); nothing is written if any is
    unknown. Default: FOLDER/detail/detail <refs>.xlsx. `tracker` counts the steps of gathering, each ref
    gathered and written, and the save."""
    tracker.start(STATE_STEPS, "steps")
    gathered = load_state(assessment, tracker=tracker)
    refs = resolve_refs(gathered.framework, wanted, assessment.workbook.name)
    tracker.start(STATE_STEPS + 2 * len(refs) + 1, "steps", done=STATE_STEPS)
    details = build_details(assessment, gathered, refs, tracker)
    if output is None:
        folder = assessment.folder / "detail"
        folder.mkdir(exist_ok=True)
        output = folder / default_name(gathered.framework, wanted, refs)
    title = assessment.title or "Best Value self-assessment"
    with replacing(output) as temp:
        write_sheets(temp, details, gathered.framework.scale, title, assessment.assessment_id, tracker)
    return DetailResult(Path(output), refs, len(details), warnings=list(gathered.warnings))


def add_pdf(result: DetailResult) -> DetailResult:
    """Make the PDF beside the workbook through LibreOffice; where it is not installed, a warning says how
    else to get one. A failure of LibreOffice itself stops with an error (the workbook is already written)."""
    soffice = find_soffice()
    pdf = result.path.with_suffix(".pdf")
    if soffice is None:
        result.warnings.append(problem(Code.PDF_NO_LIBREOFFICE, pdf, workbook=result.path.name))
        return result
    try:
        result.pdf = convert_to_pdf(result.path, pdf, soffice)
    except OfficeError as exc:
        raise BvaError(problem(Code.PDF_FAILED, pdf, reason=str(exc), workbook=result.path.name)) from None
    return result



# The page: A4 portrait, five columns about 95 characters wide in all, one page wide when printed.
WIDTHS = [17, 13, 21.5, 21.5, 21.5]
LABEL, VALUE = WIDTHS[0], sum(WIDTHS[1:])
AFTER_SCORE = sum(WIDTHS[2:])
MOST_LINES = 24  # lines in one row; longer text goes on to further rows, so nothing is cut off
LAST = len(WIDTHS) - 1
BOLD = 0.85  # bold text is wider: a column holds about this much of it


def _chunks(text: str, width: float) -> list[str]:
    """`text` in pieces short enough for one row each, cut between paragraphs, else between words; within a
    piece the text is as written (the application wraps it)."""
    per_line = max(int(width * 1.2) - 1, 1)
    pieces: list[list[str]] = [[]]
    lines = 0
    for paragraph in text.split("\n"):
        words, length = paragraph.split(" "), 0
        taken: list[str] = []
        for word in words:
            if taken and length + 1 + len(word) > per_line:
                lines += 1
                length = 0
                if lines >= MOST_LINES:  # this row is full: what is taken so far stays in it
                    pieces[-1].append(" ".join(taken))
                    pieces.append([])
                    taken, lines = [], 0
            taken.append(word)
            length += len(word) + (1 if length else 0)
        pieces[-1].append(" ".join(taken))
        lines += 1
    return ["\n".join(piece).strip("\n") for piece in pieces if "".join(piece).strip()] or [""]


class _Page:
    """Writes one characteristic's sheet from the top down."""

    def __init__(self, sheet, formats: dict, scale):
        self.sheet, self.formats, self.scale = sheet, formats, scale
        self.row = 0

    def _height(self, texts: list[str], widths: list[float], scale: float = 1.0, line: float = 0) -> None:
        """Set the row tall enough for its wrapped text (`scale`: how much of a column's width a larger
        font gets; `line`: the height of its line); applications do not do it on load."""
        lines = max([1] + [lines_needed(t, w * scale) for t, w in zip(texts, widths) if t])
        self.sheet.set_row(self.row, (line or LINE_HEIGHT) * min(lines, MOST_LINES + 2) + 3)

    def title(self, text: str, subtitle: str) -> None:
        self.sheet.merge_range(self.row, 0, self.row, LAST, text, self.formats["title"])
        self._height([text], [LABEL + VALUE], scale=0.7, line=21)  # 15pt bold: about 0.7 of an 11pt line
        self.row += 1
        self.sheet.merge_range(self.row, 0, self.row, LAST, subtitle, self.formats["subtitle"])
        self._height([subtitle], [VALUE + LABEL])
        self.row += 1

    def heading(self, text: str) -> None:
        self.row += 1
        self.sheet.merge_range(self.row, 0, self.row, LAST, text, self.formats["heading"])
        self.sheet.set_row(self.row, 20)
        self.row += 1

    def subheading(self, text: str, small: bool = False) -> None:
        self.sheet.merge_range(self.row, 0, self.row, LAST, text,
                               self.formats["small heading" if small else "subheading"])
        self._height([text], [LABEL + VALUE], scale=0.9, line=16 if small else 17)
        self.row += 1

    def field(self, label: str, text: str, style: str = "value") -> None:
        """A label and its text across the rest of the page; long text over several rows."""
        for index, piece in enumerate(_chunks(text or "", VALUE * 0.92)):
            self.sheet.write_string(self.row, 0, label if index == 0 else "", self.formats["label"])
            self.sheet.merge_range(self.row, 1, self.row, LAST, piece, self.formats[style])
            self._height([label if index == 0 else "", piece], [LABEL * BOLD, VALUE])
            self.row += 1

    def score(self, label: str, rating: str, text: str) -> None:
        """A label, the rating in its colour, and how it came about."""
        found = self.scale.find(rating)
        pieces = _chunks(text or "", AFTER_SCORE * 0.92)
        for index, piece in enumerate(pieces):
            self.sheet.write_string(self.row, 0, label if index == 0 else "", self.formats["label"])
            if index == 0:
                self.sheet.write_string(self.row, 1, found.name if found else (rating or "none"),
                                        self.formats[f"rating {found.name}"] if found else self.formats["no rating"])
            else:
                self.sheet.write_blank(self.row, 1, None, self.formats["value"])
            self.sheet.merge_range(self.row, 2, self.row, LAST, piece, self.formats["beside score"])
            self._height([label if index == 0 else "", rating, piece], [LABEL * BOLD, WIDTHS[1] * BOLD, AFTER_SCORE])
            self.row += 1

    def sentence(self, text: str, style: str = "value") -> None:
        for piece in _chunks(text, (LABEL + VALUE) * 0.92):
            self.sheet.merge_range(self.row, 0, self.row, LAST, piece, self.formats[style])
            self._height([piece], [LABEL + VALUE])
            self.row += 1

    def space(self) -> None:
        self.sheet.set_row(self.row, 6)
        self.row += 1


def _formats(workbook, scale) -> dict:
    base = {"text_wrap": True, "valign": "top", "font_size": 11}
    formats = {
        "title": workbook.add_format({**base, "bold": True, "font_size": 15, "font_color": HEADER_COLOUR}),
        "subtitle": workbook.add_format({**base, "italic": True, "font_color": "#595959", "font_size": 10}),
        "heading": workbook.add_format({**base, "bold": True, "font_size": 12, "font_color": "#FFFFFF",
                                        "bg_color": HEADER_COLOUR, "valign": "vcenter"}),
        "subheading": workbook.add_format({**base, "bold": True, "bottom": 1, "bottom_color": "#8EA9DB"}),
        "small heading": workbook.add_format({**base, "bold": True, "italic": True, "font_size": 10,
                                              "font_color": "#404040", "bottom": 1, "bottom_color": "#BFBFBF"}),
        "label": workbook.add_format({**base, "bold": True, "font_color": "#404040"}),
        "value": workbook.add_format(base),
        "beside score": workbook.add_format({**base, "indent": 1}),
        "small": workbook.add_format({**base, "font_size": 10, "font_color": "#404040"}),
        "conclusion": workbook.add_format({**base, "bold": True, "font_size": 12, "font_color": "#375623",
                                           "bg_color": "#E2EFDA", "border": 1, "border_color": "#A9D08E"}),
        "open": workbook.add_format({**base, "bold": True, "font_color": "#C00000"}),
        "no rating": workbook.add_format({**base, "italic": True, "font_color": "#595959", "border": 1,
                                          "align": "center"}),
    }
    for rating in scale.ratings:
        formats[f"rating {rating.name}"] = workbook.add_format(
            {**base, "bold": True, "align": "center", "border": 1, "bg_color": rating.colour,
             "font_color": text_colour_on(rating.colour)})
    return formats


def _header_text(text: str) -> str:
    """Text for an Excel header or footer: '&' doubled (a lone '&' starts a code), and short enough."""
    return text.replace("&", "&&")[:90]


def _finding_text(finding: Finding) -> str:
    evidence = finding.evidence.strip()
    return f"{finding.finding}. {evidence[:1].upper()}{evidence[1:]}" if evidence else f"{finding.finding}."


def _date(value) -> str:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%d %B %Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _write_one(workbook, formats: dict, detail: Detail, scale, title: str, prepared: str) -> None:
    characteristic = detail.characteristic
    ref = characteristic.ref
    sheet = workbook.add_worksheet(ref)
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    sheet.hide_gridlines(2)
    sheet.set_portrait()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.6, right=0.6, top=0.75, bottom=0.75)
    sheet.set_header(f"&L&8{_header_text(title)}&R&8{ref}", {"margin": 0.3})
    sheet.set_footer(f"&L&8Prepared {prepared}&R&8Page &P of &N", {"margin": 0.3})
    page = _Page(sheet, formats, scale)

    page.title(f"{ref}  {characteristic.text}", f"{characteristic.theme.name} · {title} · prepared {prepared}")

    page.heading("The characteristic and the council's position")
    page.field("Theme", characteristic.theme.name)
    page.field("Characteristic", f"{ref}: {characteristic.text}")
    page.field("Position statement", characteristic.position_statement or "(none written)")
    page.field("Evidence", characteristic.evidence or "(none listed)")
    drafted = detail.drafted_as_written or "(not recorded)"
    if detail.drafters:
        drafted += f"  (matched to reviewer {', '.join(detail.drafters)})"
    elif detail.drafted_as_written:
        drafted += "  (not one of the reviewers)"
    page.field("Drafted by", drafted)

    page.heading("The independent reviewers")
    if not detail.answers:
        page.sentence("No reviewer has answered yet.")
    for answer in detail.answers:
        page.subheading(answer.reviewer)
        page.score("Score", answer.rating, "" if answer.rating else "Not answered")
        page.field("Commentary", answer.commentary or "(blank)")
        page.field("Gaps and areas to address", answer.gaps or "(blank)")
        page.field("Return", f"{answer.file}, cell {answer.cell}"
                   + (f", received {when(answer.received)}" if answer.received else ""), "small")
        page.space()
    for reviewer in detail.unanswered:
        page.field(reviewer, "Sent this characteristic to score; no answer received yet.")
    if detail.earlier:
        page.subheading("Earlier answers that no longer count (kept, so that nothing is hidden)", small=True)
        for answer in detail.earlier:
            text = (f"{answer.rating or 'No score'}. Commentary: {answer.commentary or '(blank)'} "
                    f"Gaps: {answer.gaps or '(blank)'}\nFrom {answer.file}, cell {answer.cell}, received "
                    f"{when(answer.received)}; {answer.why_not}.")
            page.field(answer.reviewer, text, "small")

    page.heading("Gaps identified")
    if detail.answered and not detail.gaps_listed:
        page.sentence(NO_GAPS, "conclusion")
        page.sentence("What each reviewer wrote under 'Gaps and areas to address':", "small")
        for answer in detail.answered:
            page.field(answer.reviewer, f"“{answer.gaps}”" if answer.gaps.strip() else "(left blank)")
        for answer in detail.answers:
            if answer not in detail.answered:
                page.field(answer.reviewer, "Did not answer, so not counted in this conclusion.", "small")
    elif not detail.answered:
        page.sentence("No reviewer has answered yet, so no conclusion on gaps can be drawn.")
    else:
        for answer in detail.answered:
            listed = lists_gaps(answer.gaps)
            page.field(answer.reviewer, answer.gaps if listed else
                       (f"No gap listed (“{answer.gaps}”)" if answer.gaps.strip() else "No gap listed (left blank)"))

    page.heading("Consistency findings")
    if not detail.findings:
        page.sentence("None for this characteristic.")
    for finding in detail.findings:
        page.field(finding.severity.capitalize(), _finding_text(finding))
        if finding.resolved:
            page.field("Settled", finding.resolved[0].upper() + finding.resolved[1:])
        else:
            page.field("Settled", "Open", "open")
        page.space()
    if detail.reviewer_findings:
        page.subheading("About these reviewers' scoring across the whole assessment", small=True)
        for finding in detail.reviewer_findings:
            page.field(", ".join(finding.reviewers), _finding_text(finding), "small")

    page.heading("How the score was reached")
    decision = detail.decision
    page.score("Consolidated score", decision.consolidated, detail.consolidated_how)
    page.score("Moderated score", decision.moderated, detail.moderated_how)
    if decision.note.strip():
        page.field("Moderation note", decision.note.strip())
    page.score("Final score", decision.final, detail.final_how)
    page.score("Signed-off score", detail.signed_off, detail.signed_off_how)

    page.heading("Actions")
    typed = [row for row in detail.actions if any(_date(value) for value in row.inputs.columns().values())]
    if not typed and detail.actions:
        page.sentence(f"On the action plan as {detail.actions[0].action_id}, but no action has been typed against "
                      "it yet.", "label")
        page.field("Why it is there", detail.actions[0].gap, "small")
    elif not typed:
        page.sentence(NO_ACTIONS + ".", "label")
        page.sentence(detail.not_on_plan, "small")
    for row in typed:
        page.subheading(f"{row.action_id}: {_date(row.inputs.action) or '(no action text)'}")
        for header, label in [("Owner", "Owner"), ("Service area", "Service area"), ("Target date", "Target date"),
                              ("Status", "Status"), ("Progress update", "Latest progress")]:
            page.field(label, _date(row.inputs.column(header)) or "(blank)")
        page.field("Why it is there", row.gap, "small")
        page.space()
    sheet.print_area(0, 0, page.row, LAST)


def write_sheets(path: Path, details: list[Detail], scale, title: str, assessment_id: str,
                 tracker: Tracker = QUIET) -> None:
    """The workbook itself: one sheet per characteristic, in the order asked; `tracker` is told of each, and of the
    workbook saved."""
    import xlsxwriter  # heavy: loaded only when needed

    workbook = new_workbook(path, f"{title}: background detail", comments=f"Assessment {assessment_id}")
    formats = _formats(workbook, scale)
    prepared = dt.datetime.now().strftime("%d %B %Y %H:%M")
    for detail in details:
        _write_one(workbook, formats, detail, scale, title, prepared)
        tracker.advance(f"wrote {detail.characteristic.ref}")
    try:
        workbook.close()
    except xlsxwriter.exceptions.FileCreateError as exc:  # the OSError met while zipping, said as such
        raise exc.args[0] from None
    tracker.advance("saved the workbook")
