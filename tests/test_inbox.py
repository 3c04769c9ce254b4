"""Ingesting a folder of returns: nothing lost, nothing changed, every file answered."""

import os
import shutil

from conftest import answer, current

from bva_excel.app.ingest import ingest
from bva_excel.store.files import sha256_of


def fill(generation, reviewer_id, target, rating="Light green"):
    refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
    return answer(generation.files[reviewer_id], target, {ref: (rating, f"{reviewer_id} says") for ref in refs})


def test_valid_returns_are_recorded_even_when_another_file_fails(generated):
    assessment, generation = generated
    good = fill(generation, "R01", assessment.inbox / "RE_ BV return (2).xlsx")
    bad = fill(generation, "R02", assessment.inbox / "R02 return.xlsx", rating="Ambr")
    report = ingest(assessment)
    status = {o.name: o.status for o in report.outcomes}
    assert status == {good.name: "accepted", bad.name: "rejected"}
    assert not report.valid
    assert set(current(assessment)) == {"R01"}


def test_returns_are_never_modified_and_are_archived_with_their_hash(generated):
    assessment, generation = generated
    path = fill(generation, "R03", assessment.inbox / "Réponse ünïcode (1).xlsx")
    before = sha256_of(path), path.stat().st_mtime
    ingest(assessment)
    assert (sha256_of(path), path.stat().st_mtime) == before
    [entry] = assessment.records.returns()
    archived = assessment.folder / entry.archive
    assert sha256_of(archived) == entry.sha256 == before[0]


def test_ingesting_the_same_file_twice_changes_nothing(generated):
    assessment, generation = generated
    fill(generation, "R01", assessment.inbox / "a.xlsx")
    ingest(assessment)
    ledger = assessment.records.returns()
    shutil.copyfile(assessment.inbox / "a.xlsx", assessment.inbox / "a copy.xlsx")
    report = ingest(assessment)
    assert [o.status for o in report.outcomes] == ["unchanged", "unchanged"]
    assert report.valid
    assert assessment.records.returns() == ledger


def test_a_later_return_supersedes_the_earlier_and_both_are_kept(generated):
    assessment, generation = generated
    first = fill(generation, "R01", assessment.inbox / "first.xlsx", rating="Amber")
    os.utime(first, (1_700_000_000, 1_700_000_000))
    ingest(assessment)
    fill(generation, "R01", assessment.inbox / "second.xlsx", rating="Yellow")
    report = ingest(assessment)
    [new] = [o for o in report.outcomes if o.status == "accepted"]
    assert new.name == "second.xlsx"
    assert [p.code for p in new.problems] == ["RETURN_REPLACES"]
    issued = len([ref for ref, ids in generation.allocation.items() if "R01" in ids])
    assert f"its answers replace {issued} earlier answer(s) from first.xlsx ({issued} with another score)" in \
        str(new.problems[0])
    record, responses = current(assessment)["R01"]
    assert record.name == "second.xlsx"
    assert {r.rating for r in responses} == {"Yellow"}
    assert len(list(assessment.archive.iterdir())) == 2


def test_lock_files_and_other_attachments_are_skipped_with_a_note(generated):
    assessment, _ = generated
    (assessment.inbox / "~$return.xlsx").write_bytes(b"lock")
    (assessment.inbox / "Evidence.pdf").write_bytes(b"%PDF")
    report = ingest(assessment)
    assert {(o.name, o.status) for o in report.outcomes} == {("~$return.xlsx", "skipped"),
                                                             ("Evidence.pdf", "skipped")}
    assert report.valid
    said = {o.name: [str(p) for p in o.problems] for o in report.outcomes}
    assert said == {"~$return.xlsx": ["~$return.xlsx: skipped: an Excel or LibreOffice lock file, not a return. "
                                      "Nothing to do."],
                    "Evidence.pdf": ["Evidence.pdf: skipped: not a workbook (.pdf). Nothing to do."]}


def test_deleting_the_inbox_loses_nothing(generated):
    from bva_excel.app.report import write_report

    assessment, generation = generated
    fill(generation, "R02", assessment.inbox / "r.xlsx", rating="Red")
    ingest(assessment)
    shutil.rmtree(assessment.inbox)
    result = write_report(assessment)
    refs = [ref for ref, ids in generation.allocation.items() if ids == ("R02",)]
    assert refs and all(result.decisions[ref].final == "Red" for ref in refs)
