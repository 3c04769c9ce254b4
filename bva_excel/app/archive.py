"""The archive of accepted returns kept whole: every command looks for each recorded return's copy in
`.bva/archive/` (a stat per file) and puts back one that has gone from a copy of the inbox's file with the same
bytes. A folder copied file by file (as a sync client does, while ingest runs) can arrive with records of returns
whose archive copy is not there yet; a file known by its hash is never read again by ingest, so without this the
archive would never be made whole, and deleting the inbox would lose those files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bva_excel.errors import BvaError
from bva_excel.store.files import replacing, sha256_of
from bva_excel.store.folder import Assessment


@dataclass
class ArchiveCheck:
    restored: list[str] = field(default_factory=list)  # returns whose archive copy was put back from the inbox
    missing: list[str] = field(default_factory=list)  # returns with no archive copy and no copy in the inbox


def check_archive(assessment: Assessment) -> ArchiveCheck:
    """Put back, from the inbox, each accepted return's archive copy that is missing; name those that cannot be."""
    gone = [(name, sha256, assessment.folder / archive)
            for name, sha256, archive in assessment.records.archived() if not (assessment.folder / archive).exists()]
    found = ArchiveCheck()
    if not gone:
        return found
    in_inbox = _inbox_by_hash(assessment.inbox, {sha256 for _, sha256, _ in gone}, {name for name, _, _ in gone})
    try:
        with assessment.locked("restore the archive"):
            for name, sha256, copy in gone:
                source = in_inbox.get(sha256)
                if source is None or copy.exists():
                    (found.missing if source is None else found.restored).append(name)
                    continue
                copy.parent.mkdir(parents=True, exist_ok=True)
                with replacing(copy) as temp:
                    shutil.copyfile(source, temp)
                if sha256_of(copy) != sha256:  # changed while being copied: not put back
                    copy.unlink()
                    found.missing.append(name)
                else:
                    found.restored.append(name)
    except BvaError:  # another command holds the lock, or the folder may only be read: said, restored next time
        found.missing = [name for name, _, _ in gone]
    return found


def _inbox_by_hash(inbox: Path, wanted: set[str], names: set[str]) -> dict[str, Path]:
    """sha256 -> a file in the inbox with those bytes, for the hashes wanted; files of the names recorded first."""
    if not inbox.is_dir():
        return {}
    files = sorted((p for p in inbox.iterdir() if p.is_file()), key=lambda p: p.name not in names)
    found: dict[str, Path] = {}
    for path in files:
        if wanted <= set(found):
            break
        try:
            digest = sha256_of(path)
        except OSError:
            continue
        if digest in wanted:
            found.setdefault(digest, path)
    return found
