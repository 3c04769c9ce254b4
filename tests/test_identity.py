"""The signed identity inside a reviewer workbook: every field is covered by the signature, so a
change to any one of them is refused with its own code and message, and an issue the records do not
know is said plainly."""

from __future__ import annotations

import hashlib
import hmac
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import answer, make_framework, shared

from bva_excel.app.issue import generate
from bva_excel.app.new import create_assessment
from bva_excel.cli import cli
from bva_excel.excel.read.framework import load_framework
from bva_excel.excel.read.returns import read_return
from bva_excel.model.identity import FORMAT, IDENTITY_SHEET, IssueIdentity

TAMPERED = ("r.xlsx, sheet 'bva_identity': the workbook's identity does not match what was issued ({reason}). "
            "Do not accept it: ask the reviewer to fill in the workbook they were sent.")
SIGNATURE = "its signature does not match its reviewer and characteristics"


@pytest.fixture(scope=shared("module"))
def issued(tmp_path_factory):
    """An assessment with its workbooks issued, and R01's return filled in (as bytes)."""
    base = tmp_path_factory.mktemp("identity")
    assessment = create_assessment(base / "BV 2026", make_framework(base / "f.xlsx"), "Identity")
    generation = generate(assessment)
    refs = [ref for ref, ids in generation.allocation.items() if "R01" in ids]
    filled = answer(generation.files["R01"], base / "filled.xlsx", {ref: ("Amber", "Weak.", "Gap.") for ref in refs})
    return assessment, generation, filled.read_bytes()


def identity_rows(path: Path) -> dict[str, str]:
    sheet = openpyxl.load_workbook(path)[IDENTITY_SHEET]
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}


def with_identity(filled: bytes, target: Path, change) -> Path:
    """R01's return with its identity sheet changed by `change(rows)` (key -> value; None deletes the row)."""
    target.write_bytes(filled)
    workbook = openpyxl.load_workbook(target)
    sheet = workbook[IDENTITY_SHEET]
    rows = {row[0].value: row[1].value for row in sheet.iter_rows()}
    change(rows)
    sheet.delete_rows(1, sheet.max_row)
    for key, value in rows.items():
        if value is not None:
            sheet.append([key, value])
    workbook.save(target)
    return target


def read(assessment, path):
    return read_return(path, load_framework(assessment.workbook), assessment.assessment_id, assessment.secret(),
                       {i.issue_id: i for i in assessment.records.issues()})


def messages(assessment, path) -> list[str]:
    return [str(p) for p in read(assessment, path).problems]


def test_the_identity_as_issued_is_accepted_and_its_signature_is_made_with_the_assessment_s_secret(issued, tmp_path):
    assessment, generation, filled = issued
    rows = identity_rows(generation.files["R01"])
    issue = next(i for i in assessment.records.issues() if i.reviewer_id == "R01")
    assert rows == {"format": FORMAT, "assessment_id": assessment.assessment_id, "reviewer_id": "R01",
                    "issue_id": issue.issue_id, "issued_at": issue.issued_at, "refs": ",".join(issue.refs),
                    "signature": rows["signature"]}
    identity, signature = IssueIdentity.from_rows(rows)
    assert identity.verify(assessment.secret(), signature)
    assert not identity.verify(b"another assessment's secret", signature)
    reading = read(assessment, with_identity(filled, tmp_path / "r.xlsx", lambda rows: None))
    assert reading.accepted and reading.problems == [] and reading.identity == identity


def other(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


TAMPERINGS = {
    "reviewer": lambda rows: rows.update(reviewer_id="R02"),
    "issue": lambda rows: rows.update(issue_id=other(rows["issue_id"])),
    "issue date": lambda rows: rows.update(issued_at=other(rows["issued_at"])),
    "a ref added": lambda rows: rows.update(refs=rows["refs"] + ",SD001"),
    "a ref removed": lambda rows: rows.update(refs=rows["refs"].rsplit(",", 1)[0]),
    "refs reordered": lambda rows: rows.update(refs=",".join(reversed(rows["refs"].split(",")))),
    "signature": lambda rows: rows.update(signature=other(rows["signature"])),
}


@pytest.mark.parametrize("field", list(TAMPERINGS))
def test_a_change_to_any_signed_field_is_refused(issued, tmp_path, field):
    assessment, _, filled = issued
    path = with_identity(filled, tmp_path / "r.xlsx", TAMPERINGS[field])
    assert identity_rows(path) != identity_rows(with_identity(filled, tmp_path / "same.xlsx", lambda rows: None))
    reading = read(assessment, path)
    assert [str(p) for p in reading.problems] == [TAMPERED.format(reason=SIGNATURE)]
    assert not reading.accepted and reading.responses == []


def test_another_assessment_is_named_as_such(issued, tmp_path):
    assessment, _, filled = issued
    path = with_identity(filled, tmp_path / "r.xlsx", lambda rows: rows.update(assessment_id="BV-2026-0A0A0A"))
    assert messages(assessment, path) == [
        f"r.xlsx: this workbook belongs to assessment BV-2026-0A0A0A, not {assessment.assessment_id}. Check that it "
        "was meant for this exercise; ingest it into its own assessment folder."]


def test_an_identity_of_another_format_is_refused(issued, tmp_path):
    assessment, _, filled = issued
    path = with_identity(filled, tmp_path / "r.xlsx", lambda rows: rows.update(format="bva-excel reviewer workbook 2"))
    assert messages(assessment, path) == [TAMPERED.format(
        reason="its format is 'bva-excel reviewer workbook 2', not one this version writes")]


@pytest.mark.parametrize("key", ["format", "assessment_id", "reviewer_id", "issue_id", "issued_at", "refs",
                                 "signature"])
def test_an_identity_missing_a_field_is_refused_naming_it(issued, tmp_path, key):
    assessment, _, filled = issued
    path = with_identity(filled, tmp_path / "r.xlsx", lambda rows: rows.update({key: None}))
    assert messages(assessment, path) == [TAMPERED.format(reason=f"its identity has no {key}")]


def test_a_signature_in_capitals_or_with_spaces_around_it_is_the_same_signature(issued, tmp_path):
    assessment, _, filled = issued
    path = with_identity(filled, tmp_path / "r.xlsx", lambda rows: rows.update(signature=f" {rows['signature'].upper()} "))
    reading = read(assessment, path)
    assert reading.accepted and reading.problems == []


def test_a_workbook_without_its_identity_sheet_is_not_an_issued_workbook(issued, tmp_path):
    assessment, _, filled = issued
    path = tmp_path / "r.xlsx"
    path.write_bytes(filled)
    workbook = openpyxl.load_workbook(path)
    del workbook[IDENTITY_SHEET]
    workbook.save(path)
    assert messages(assessment, path) == [
        "r.xlsx: this is not a reviewer workbook issued by bva (it carries no issue identity; it may be the template "
        "or a copy). Ask the reviewer to fill in the workbook they were sent, not a copy or the template."]


def signed_for_an_issue_not_recorded(assessment, filled: bytes, target: Path) -> tuple[Path, str]:
    """A return whose identity is properly signed with the assessment's secret but names an issue the
    records do not hold (records restored from a backup older than the issue, say)."""
    def change(rows):
        rows["issue_id"] = "0123456789ab"
        payload = "\n".join([FORMAT, rows["assessment_id"], rows["reviewer_id"], rows["issue_id"], rows["issued_at"],
                             rows["refs"]]).encode("utf-8")
        rows["signature"] = hmac.new(assessment.secret(), payload, hashlib.sha256).hexdigest()
    return with_identity(filled, target, change), "0123456789ab"


def test_a_properly_signed_return_for_an_issue_missing_from_the_records_is_refused_plainly(issued, tmp_path):
    assessment, _, filled = issued
    path, issue_id = signed_for_an_issue_not_recorded(assessment, filled, tmp_path / "r.xlsx")
    assert messages(assessment, path) == [
        f"r.xlsx, sheet 'bva_identity': this is not a reviewer workbook issued by bva (issue {issue_id} is not in "
        "this assessment's records). Ask the reviewer to fill in the workbook they were sent, not a copy or the "
        "template."]


def test_ingest_says_so_for_an_issue_missing_from_the_records_and_records_the_rest(issued, tmp_path):
    assessment, generation, filled = issued
    folder = Path(shutil.copytree(assessment.folder, tmp_path / "BV 2026"))
    signed_for_an_issue_not_recorded(assessment, filled, folder / "inbox" / "r.xlsx")
    refs = [ref for ref, ids in generation.allocation.items() if "R02" in ids]
    answer(generation.files["R02"], folder / "inbox" / "R02.xlsx", {ref: ("Yellow", "Seen.", "Gap.") for ref in refs})
    result = CliRunner().invoke(cli, ["ingest", str(folder)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert "rejected   r.xlsx" in lines
    assert "  error: r.xlsx, sheet 'bva_identity': this is not a reviewer workbook issued by bva (issue " \
           "0123456789ab is not in this assessment's records). Ask the reviewer to fill in the workbook they were " \
           "sent, not a copy or the template." in lines
    assert f"accepted   R02.xlsx  (R02 Bob Stone, answered {len(refs)}/{len(refs)})" in lines
    assert "1 accepted, 1 rejected, 0 already ingested, 0 skipped." in lines
