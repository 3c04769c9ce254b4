"""Conflict copies of the workbooks people edit, which a sync client makes when a file changed on two computers:
`assessment-DESKTOP-4F2.xlsx`, `assessment (1).xlsx`, `assessment (Jane Smith's conflicted copy 2026-12-07).xlsx`,
`Copy of assessment.xlsx`. Found by name beside the workbook, and told apart from it cell by cell."""

from __future__ import annotations

import re
from pathlib import Path

from bva_excel.excel.read.sheets import open_workbook, sheet_rows
from bva_excel.model.text import a1, cell_text


def copies_of(workbook: Path) -> list[Path]:
    """The conflict copies of `workbook` in its folder (not the workbook itself, nor Office's lock files)."""
    stem, suffix = workbook.stem, workbook.suffix.casefold()
    if not workbook.parent.is_dir():
        return []
    return sorted(path for path in workbook.parent.iterdir()
                  if path.is_file() and path.suffix.casefold() == suffix and path.name != workbook.name
                  and made_by_a_sync_client(path.stem, stem))


def made_by_a_sync_client(name: str, stem: str) -> bool:
    """Whether `name` is how a sync client renames a copy of `stem`: 'stem-COMPUTER' (OneDrive, SharePoint: the
    computer's name, in capitals), 'stem (1)' or 'stem(1)' (Google Drive, OneDrive), 'stem (... conflicted copy
    ...)' (Dropbox, Nextcloud), 'Copy of stem'. A name a person chose ('report-final', 'report (draft)') is not."""
    if name.casefold().startswith("copy of ") and name[8:].casefold() == stem.casefold():
        return True
    if not name.casefold().startswith(stem.casefold()) or len(name) == len(stem):
        return False
    rest = name[len(stem):]
    return bool(re.fullmatch(r"-[A-Z0-9][A-Z0-9-]{0,14}", rest)
                or re.fullmatch(r" ?\(\d{1,3}\)", rest)
                or re.fullmatch(r" ?\([^()]*conflict[^()]*\)", rest, re.IGNORECASE))


def differences(first: Path, second: Path, most: int = 12) -> list[str]:
    """Where two workbooks differ, as "sheet 'Reviewers' A10 ('' / 'R09 Kim Poole')" (at most `most`), sheets one
    has and the other not first."""
    one, two = open_workbook(first), open_workbook(second)
    found = [f"sheet '{name}' only in {second.name}" for name in two.sheet_names if name not in one.sheet_names]
    found += [f"sheet '{name}' only in {first.name}" for name in one.sheet_names if name not in two.sheet_names]
    for name in [n for n in one.sheet_names if n in two.sheet_names]:
        rows_one, rows_two = sheet_rows(one, name), sheet_rows(two, name)
        for r in range(max(len(rows_one), len(rows_two))):
            left = rows_one[r] if r < len(rows_one) else []
            right = rows_two[r] if r < len(rows_two) else []
            for c in range(max(len(left), len(right))):
                a = cell_text(left[c]) if c < len(left) else ""
                b = cell_text(right[c]) if c < len(right) else ""
                if a.strip() != b.strip():
                    found.append(f"sheet '{name}' {a1(r, c)} ('{_short(a)}' / '{_short(b)}')")
                    if len(found) > most:
                        return found[:most] + ["and more"]
    return found


def _short(text: str, most: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[:most - 1] + "…"
