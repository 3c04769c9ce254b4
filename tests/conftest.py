"""Small assessments built inside the tests from tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bva_excel.assessment import create_assessment
from bva_excel.demo import fill_return
from bva_excel.template import write_framework_workbook

SCALE = [["Dark green", "#00703C", 5, "Strong"], ["Light green", "#92D050", 4, "Broad alignment"],
         ["Yellow", "#FFD966", 3, "Work to do"], ["Amber", "#F4A300", 2, "Significant gaps"],
         ["Red", "#C00000", 1, "Not in place"], ["Grey", "#BFBFBF", "", "Not scored"]]
REVIEWERS = [["R01", "Ann Lee", "ann@example.gov.uk", "Finance"],
             ["R02", "Bob Stone", "bob@example.gov.uk", "Legal"],
             ["R03", "Cai Wyn", "cai@example.gov.uk", "Housing"]]
# Ref, Theme, Characteristic, Position statement, Evidence, Drafted by, Reviewers
CHARACTERISTICS = [
    ["CI001", "Continuous improvement", "Services improve", "We improve.", "Plan A", "R01", ""],
    ["CI002", "Continuous improvement", "Peer challenge", "We invite it.", "Report B", "Ann Lee", ""],
    ["L001", "Leadership", "Clear vision", "We have one.", "Plan C", "R02", "R01, R03"],
    ["G001", "Governance", "Robust scrutiny", "It is robust.", "Minutes", "", ""],
    ["R001", "Use of resources", "Internal control", "It works.", "Audit", "R03", ""],
    ["SD001", "Service delivery", "Customer focus", "We listen.", "Survey", "", ""],
]


def make_framework(path: Path, scale=None, characteristics=None, reviewers=None) -> Path:
    write_framework_workbook(path, SCALE if scale is None else scale,
                             CHARACTERISTICS if characteristics is None else characteristics,
                             REVIEWERS if reviewers is None else reviewers, ["# Guide", "Test framework."])
    return path


@pytest.fixture
def framework_file(tmp_path) -> Path:
    return make_framework(tmp_path / "framework.xlsx")


@pytest.fixture
def assessment(tmp_path, framework_file):
    return create_assessment(tmp_path / "Assessment 2026 (ü)", framework_file, "Test assessment")


@pytest.fixture
def generated(assessment):
    """An assessment with its reviewer workbooks written to the outbox."""
    from bva_excel.reviewer_workbook import generate

    return assessment, generate(assessment, per_characteristic=1)


def answer(source: Path, target: Path, answers: dict) -> Path:
    """Fill a reviewer workbook as a reviewer would: ref -> (score, commentary, gaps)."""
    fill_return(source, target, {ref: tuple(a) + ("",) * (3 - len(a)) for ref, a in answers.items()})
    return target


def copy(path: Path, target: Path) -> Path:
    shutil.copyfile(path, target)
    return target


def current(assessment) -> dict:
    """reviewer ID -> (their current return's record, its responses), read back from the records."""
    from bva_excel.consolidation import current_returns

    records = assessment.records
    found = current_returns(records.returns())
    responses = records.responses(r.return_id for r in found.values())
    return {reviewer_id: (record, [r for r in responses if r.reviewer_id == reviewer_id])
            for reviewer_id, record in found.items()}
