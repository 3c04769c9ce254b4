"""Two officers, one synced folder: conflict copies of the records merged, so that nothing either did is lost.

A sync client (OneDrive, SharePoint, Dropbox, Google Drive, Nextcloud) that meets a file changed on two laptops keeps
both, renaming one: `records-LAPTOP-12.sqlite`, `records (1).sqlite`, `records (Jane Smith's conflicted copy
2026-12-07).sqlite`, `Copy of records.sqlite`. Every command looks for such copies in `.bva/` first and merges each
into the records by union (every record is kept as written, so a row is in both copies or in one), in one
transaction, then moves the copy to `.bva/merged/`; `bva merge` does the same for a file named by hand.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.errors import BvaError, Problem
from bva_excel.excel.read.copies import made_by_a_sync_client
from bva_excel.store.files import replacing
from bva_excel.store.folder import MERGED_FOLDER, Assessment
from bva_excel.store.records import DATABASE, Records

# What each kind of record is called when a merge says what it brought in.
_SAID = {"return_file": ("return", "returns"), "issue": ("workbook issued", "workbooks issued"),
         "signoff": ("sign-off", "sign-offs"), "seen_value": ("change typed in report.xlsx",
                                                            "changes typed in report.xlsx"),
         "progress_update": ("progress update", "progress updates"), "follow_up": ("follow-up", "follow-ups"),
         "preference": ("choice of return (--prefer)", "choices of return (--prefer)"),
         "setting": ("setting", "settings")}


@dataclass
class Merged:
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    moved_to: Path | None = None
    problems: list[Problem] = field(default_factory=list)  # why it was not merged (it is left where it was)
    archived: int = 0  # returned files copied into the archive from the other copy's

    def said(self) -> str:
        parts = [f"{count} {_SAID[kind][count != 1]}" for kind, count in self.counts.items() if kind in _SAID]
        if self.archived:
            parts.append(f"{self.archived} returned file{'s' * (self.archived != 1)} into the archive")
        return ", ".join(parts) or "nothing new"


def conflict_copies(records_dir: Path) -> list[Path]:
    """The copies of the records a sync client made beside them, oldest first."""
    if not records_dir.is_dir():
        return []
    database = Path(DATABASE)
    found = [path for path in records_dir.iterdir()
             if path.is_file() and path.suffix.casefold() == database.suffix and path.name != DATABASE
             and made_by_a_sync_client(path.stem, database.stem)]
    return sorted(found, key=lambda path: (path.stat().st_mtime, path.name))


def merge_conflict_copies(assessment: Assessment) -> list[Merged]:
    """Merge every conflict copy of the records into them, moving each to .bva/merged/ once merged."""
    copies = conflict_copies(assessment.records_dir)
    if not copies:
        return []
    with assessment.locked("merge conflict copies of the records"):
        return [merge_records(assessment, copy, move=True) for copy in copies]


def merge_records(assessment: Assessment, other: Path, move: bool = False, archive: Path | None = None,
                  name: str = "") -> Merged:
    """Merge the records at `other` into the assessment's, in one transaction (`move`: then move `other` to
    .bva/merged/; `archive`: the other copy's archive of returns, whose files this one lacks are copied in first;
    `name`: what to call them, by default the file's name). Records that are damaged, newer or of another
    assessment are left as they are, with why."""
    merged = Merged(name or other.name)
    with tempfile.TemporaryDirectory(prefix=".merge-", dir=assessment.records_dir) as scratch:
        copy = Path(scratch) / DATABASE  # a copy, brought up to this version if older; the file is only read
        shutil.copyfile(other, copy)
        try:
            theirs = Records.open(copy)
        except BvaError as refused:
            merged.problems = refused.problems
            return merged
        theirs.close()
        try:
            merged.counts = assessment.records.merge(copy)
        except BvaError as refused:
            merged.problems = refused.problems
            return merged
    if archive is not None and archive.is_dir():
        merged.archived = _copy_archive(archive, assessment.archive)
    if move:
        merged.moved_to = move_aside(other, assessment.records_dir / MERGED_FOLDER)
    return merged


def _copy_archive(source: Path, target: Path) -> int:
    """Copy each archived return of another copy that this archive lacks (files are named by their SHA-256, so a
    file of the same name is the same file); how many."""
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in source.iterdir():
        if path.is_file() and not path.name.startswith(".") and not (target / path.name).exists():
            with replacing(target / path.name) as temp:
                shutil.copyfile(path, temp)
            copied += 1
    return copied


def move_aside(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem} (merged {dt.datetime.now():%Y-%m-%d %H%M%S}){path.suffix}"
    os.replace(path, target)
    return target
