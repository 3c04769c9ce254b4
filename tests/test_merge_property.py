"""For any work done by two officers on two copies of the records, merging keeps everything either did, merging
A into B gives what merging B into A gives, and merging again changes nothing."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bva_excel.model.recorded import FollowUp, IssueRecord, Response, ReturnRecord, SeenValue, SignOff
from bva_excel.store.records import AssessmentMeta, Records

REFS = ["CI001", "L001", "G001"]
WHO = ["A", "B"]

operations = st.lists(st.tuples(
    st.sampled_from(WHO),
    st.sampled_from(["issue", "return", "signoff", "seen", "prefer", "follow_up"]),
    st.integers(0, 5),  # which (so that both officers sometimes do the very same thing: ingest one file, say)
    st.sampled_from(["Amber", "Yellow", "Light green", ""])), max_size=14)


def _apply(records: Records, who: str, kind: str, which: int, value: str, step: int) -> tuple:
    """Do one thing to `records`; what it leaves there, to look for after the merge."""
    at = f"2026-12-0{1 + which % 7}T10:{step:02}:00"  # each step at its own time, as one person's steps are
    if kind == "issue":
        issue_id = f"{who}{step:02}"  # an issue's ID is a random token: never the same on two computers
        records.record_issues([IssueRecord(issue_id, f"R0{which}", at, f"BV review R0{which}.xlsx", "",
                                           tuple(REFS[: 1 + which % 3]))])
        return ("issue", issue_id)
    if kind == "return":
        sha = f"{which:064x}"
        if any(r.sha256 == sha for r in records.returns()):
            return ("return", sha)
        name = f"R0{which} from {who}.xlsx"  # one file, saved under a name of each officer's choosing
        rating = ["Amber", "Yellow", "Light green"][which % 3]  # the same file holds the same answers
        saved = f"2026-11-2{which}T09:00:00"  # inside the file: the same wherever it is ingested
        records.record_return(ReturnRecord(sha, name, "inbox", at, at, "accepted", f"R0{which}", saved=saved),
                              [Response(ref, f"R0{which}", rating, "Seen.", "", name, "Review", "E2")
                               for ref in REFS[: 1 + which % 3]])
        return ("return", sha)
    if kind == "signoff":
        records.record_signoff(SignOff(f"Officer {which}", at, 0, {ref: value for ref in REFS}))
        return ("signoff", f"Officer {which}", at)
    if kind == "seen":
        records.record_seen_values([SeenValue(f"{at}.{step:06}", "characteristic", REFS[which % 3],
                                              "Moderation note", f"{value} {which}", "typed in report.xlsx")])
        return ("seen", f"{at}.{step:06}", f"{value} {which}")
    if kind == "prefer":
        returns = records.returns()
        if not returns:
            return ()
        chosen = returns[which % len(returns)]
        records.prefer(chosen.return_id, at)
        return ("prefer", chosen.sha256, at)
    records.record_follow_up(FollowUp(at, f"follow-up {which}.xlsx", {"ACT-CI001": {"status": value}}))
    return ("follow_up", at, f"follow-up {which}.xlsx")


def _holds(records: Records, done: tuple) -> bool:
    kind = done[0] if done else ""
    if kind == "issue":
        return any(i.issue_id == done[1] for i in records.issues())
    if kind == "return":
        return any(r.sha256 == done[1] for r in records.returns())
    if kind == "signoff":
        return any((s.signed_by, s.signed_at) == done[1:] for s in records.signoffs())
    if kind == "seen":
        return any((v.seen_at, v.value) == done[1:] for v in records.seen_values())
    if kind == "prefer":
        by_sha = {r.return_id: r.sha256 for r in records.returns()}
        return any(by_sha[i] == done[1] and at >= done[2] for i, at in records.preferences().items())
    if kind == "follow_up":
        return any((f.written_at, f.file) == done[1:] for f in records.follow_ups())
    return True


def _contents(path: Path) -> dict:
    """Every row as written, with each copy's own row numbers replaced by what they stand for."""
    with sqlite3.connect(path) as db:
        sha = dict(db.execute("SELECT return_id, sha256 FROM return_file"))
        signed = {i: (b, a) for i, b, a in db.execute("SELECT signoff_id, signed_by, signed_at FROM signoff")}
        found = {}
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            if table in ("inbox_file", "setting"):
                continue
            cursor = db.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            rows = []
            for row in cursor:
                item = dict(zip(names, row))
                item.pop("follow_up_id", None)
                for where in ("name", "source", "received", "modified", "written_by", "file"):
                    if table in ("return_file", "response"):  # where and when each computer met the same file
                        item.pop(where, None)
                if table in ("return_file", "signoff"):
                    item.pop("return_id" if table == "return_file" else "signoff_id")
                elif "return_id" in item:
                    item["return_id"] = sha[item["return_id"]]
                elif "signoff_id" in item:
                    item["signoff_id"] = signed[item["signoff_id"]]
                rows.append(repr(sorted(item.items())))
            found[table] = sorted(rows)
    return found


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """New records, made once (making them runs every migration) and copied for each example."""
    path = tmp_path_factory.mktemp("merge") / "base.sqlite"
    Records.create(path, AssessmentMeta("BV-2026-TEST", "Test", "2026-12-01T09:00:00", "test")).close()
    return path


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_merging_two_copies_keeps_all_either_did_and_is_the_same_either_way(base, steps):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        copies = {who: folder / who / "records.sqlite" for who in WHO}
        for path in copies.values():
            path.parent.mkdir()
            shutil.copyfile(base, path)
        opened = {who: Records.open(path) for who, path in copies.items()}
        done = []
        for step, (who, kind, which, value) in enumerate(steps):
            done.append(_apply(opened[who], who, kind, which, value, step))
        for records in opened.values():
            records.close()
        merged = {}
        for into, other in (("A", "B"), ("B", "A")):
            target = folder / f"{into} merged" / "records.sqlite"
            target.parent.mkdir()
            shutil.copyfile(copies[into], target)
            records = Records.open(target)
            records.merge(copies[other])
            assert records.merge(copies[other]) == {}  # again: nothing new
            assert all(_holds(records, item) for item in done)
            records.close()
            merged[into] = _contents(target)
        assert merged["A"] == merged["B"]
