"""What was typed into the report elsewhere, folded into what was typed into this one (see model/copies.py): in
another copy of the folder, as its report runs saw it (come with its records, merged), and in a conflict copy of
report.xlsx a sync client kept beside it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bva_excel.errors import BvaError, Code, Problem, problem
from bva_excel.excel.read.copies import copies_of
from bva_excel.excel.read.previous_report import check_is_report, read_previous_edits, saved_by
from bva_excel.excel.read.report_file import ReportFile
from bva_excel.model.copies import Folded, fold_in, fold_in_elsewhere
from bva_excel.model.decisions import PreviousEdits
from bva_excel.store import records as stored  # stored.WRITER: who records here, read when used
from bva_excel.store.folder import Assessment


def fold_in_typed_elsewhere(assessment: Assessment, edits: PreviousEdits,
                            seen) -> tuple[list[Path], list[Problem], dict[tuple, str]]:
    """Fold into `edits` what was typed in another copy of the folder and in conflict copies of the report: the
    copies folded in, what is said of it, and where each value that counts from elsewhere was typed."""
    typed_where: dict[tuple, str] = {}  # (kind, key, field) -> where a value typed elsewhere that counts came from
    said = _fold_in_elsewhere(assessment, edits, seen, typed_where)
    copies, from_copies = _fold_in_copies(assessment, edits, seen, typed_where)
    return copies, said + from_copies, typed_where


def _saved_at(path: Path) -> str:
    """When a file was last saved, to the second (ISO)."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0).isoformat(sep=" ")


def _said(folded: Folded, file: Path, saved: str, report_saved: str, there: str) -> list[Problem]:
    """What is said of the values typed elsewhere that count here, and of each clash."""
    listed = ", ".join(f"{key} {field}" for _, key, field in folded.taken[:8]) + (
        f" and {len(folded.taken) - 8} more" if len(folded.taken) > 8 else "")
    said = [problem(Code.REPORT_TYPED_ELSEWHERE, file, there=there, taken=listed)] if folded.taken else []
    for clash in folded.clashes:
        counts = (f"the value typed {there} counts, being {'saved later' if clash.here else 'the one not blank'}"
                  if clash.there_counts else
                  f"the value in report.xlsx counts, being {'saved later' if clash.there else 'the one not blank'}")
        said.append(problem(Code.REPORT_TYPED_TWICE, file, key=clash.key, field=clash.field, there=there,
                            theirs=repr(clash.there), mine=repr(clash.here), saved=saved, report_saved=report_saved,
                            counts=counts))
    return said


def _where(folded: Folded, typed_where: dict[tuple, str], source: str) -> None:
    """Note where each value from elsewhere that counts was typed, for the change trail."""
    for key in folded.taken + [(c.kind, c.key, c.field) for c in folded.clashes if c.there_counts]:
        typed_where[key] = source


def _fold_in_elsewhere(assessment: Assessment, edits: PreviousEdits, seen, typed_where: dict) -> list[Problem]:
    """Fold into `edits` what was typed on other computers, as their report runs saw it and merged records
    brought it (see model/copies.py); what is said of it."""
    report = assessment.report
    report_saved = _saved_at(report) if report.exists() else ""
    upto = _seen_upto(assessment, seen)
    folded = fold_in_elsewhere(edits, seen, upto, report_saved.replace(" ", "T"), _parted(assessment))
    writers = sorted({v.written_by for v in seen if v.number > upto and v.written_by})
    there = "in another copy of the folder" + (f" ({', '.join(writers)})" if writers else "")
    _where(folded, typed_where, f"typed {there}")
    return _said(folded, report, "when its report ran", report_saved, there)


def _parted(assessment: Assessment) -> int | None:
    """The number of the last value seen by both copies when records were last merged (None if never)."""
    kept = assessment.records.setting("parted_at")
    return int(kept) if kept and kept.isdigit() else None


def _seen_upto(assessment: Assessment, seen) -> int:
    """The number of the last value this copy's report runs had seen when it last wrote the report (values merged
    in from another copy since are numbered after it). Records from before this was kept: the last value this
    computer recorded."""
    try:
        kept = assessment.records.setting("seen_upto")
        if kept:
            return int(kept)
    except ValueError:
        pass
    return max((v.number for v in seen if v.written_by in ("", stored.WRITER)), default=0)


def _fold_in_copies(assessment: Assessment, edits: PreviousEdits, seen,
                    typed_where: dict) -> tuple[list[Path], list[Problem]]:
    """Fold into `edits` what was typed in each conflict copy of the report (see model/copies.py); the copies
    folded in, and what is said of each."""
    report = assessment.report
    if not report.exists():
        return [], []
    folded, said = [], []
    report_saved = _saved_at(report)
    for copy in copies_of(report):
        try:
            read = ReportFile(copy)
            check_is_report(read, assessment.assessment_id)
            theirs = read_previous_edits(read)
        except BvaError as unread:
            said.append(problem(Code.REPORT_COPY_UNREAD, copy, reason=unread.problems[0].what))
            continue
        saved, who = _saved_at(copy), saved_by(read)[1]
        result = fold_in(edits, theirs, seen, _seen_upto(assessment, seen),
                         copy.stat().st_mtime > report.stat().st_mtime, _parted(assessment))
        said.append(problem(Code.REPORT_COPY_FOLDED, copy, saved=f"{saved}{f' by {who}' if who else ''}",
                            outcome="what was typed in it counts as said below" if result.taken or result.clashes
                            else "everything typed in it is here already"))
        _where(result, typed_where, f"typed in {copy.name} (saved {saved}{f' by {who}' if who else ''})")
        said += _said(result, copy, saved, report_saved, "in this copy")
        folded.append(copy)
    return folded, said
