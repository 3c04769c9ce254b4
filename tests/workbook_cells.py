"""What a workbook holds, cell by cell, with what differs from one run to the next made alike (times, dates,
assessment and issue IDs, hashes and signatures): to compare the workbooks two versions of the tool write."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl

VOLATILE = [
    (re.compile(r"BV-\d{4}-[0-9A-F]{6}"), "BV-ID"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "HASH"),  # a return's SHA-256, an identity's signature
    (re.compile(r"\b[0-9a-f]{12}\b"), "ISSUE"),  # an issue ID
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:?\d\d(:?\d\d(\.\d+)?)?"), "WHEN"),
    (re.compile(r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December"
                r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}( \d\d:\d\d(:\d\d)?)?"), "DATE"),
    (re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) DATE"), "DATE"),
    (re.compile(r"\b\d{4}-\d\d-\d\d\b"), "DAY"),
    (re.compile(r"\b\d\d:\d\d(:\d\d)?\b"), "TIME"),
    (re.compile(r"\b\d\d/\d\d/\d{4}\b"), "DAY"),
]


def alike(value):
    """A cell's value with what changes from run to run made alike."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return "WHEN"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        for pattern, replacement in VOLATILE:
            value = pattern.sub(replacement, value)
    return value


def cells(path: Path) -> dict[str, dict[str, object]]:
    """sheet -> cell -> value (formulas as written), every cell with something in it, made alike."""
    workbook = openpyxl.load_workbook(path)
    return {sheet.title: {cell.coordinate: alike(cell.value) for row in sheet.iter_rows() for cell in row
                          if cell.value is not None}
            for sheet in workbook.worksheets}


def folder_cells(folder: Path, names: list[str]) -> dict[str, dict]:
    """file (as named in the folder, dates made alike) -> its cells, for each workbook matching `names` (globs)."""
    found = {}
    for pattern in names:
        for path in sorted(folder.glob(pattern)):
            found[alike(path.relative_to(folder).as_posix())] = cells(path)
    return found
