"""An earlier report as one command reads it: its bytes read from disk once, its parts and sheets each parsed once.

Several readers look into the last report (what people typed, the sheets and columns they added, their notes
and pictures, whether bva wrote it): through one `ReportFile` they all see the same bytes, even if someone
saves the report while the command runs, and the file is opened once instead of once for each of them.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from functools import cached_property
from pathlib import Path

from python_calamine import CalamineWorkbook

from bva_excel.excel.read.sheets import open_workbook


class _Sheet:
    def __init__(self, rows: list[list]) -> None:
        self._rows = rows

    def to_python(self, skip_empty_area: bool = True) -> list[list]:
        # A copy each time: a reader may change the rows it was given.
        return [list(row) for row in self._rows]


class _Sheets:
    """The report's sheets as calamine reads them (the part of its workbook API the readers use), each sheet
    read once."""

    def __init__(self, workbook: CalamineWorkbook) -> None:
        self._workbook = workbook
        self._rows: dict[str, list[list]] = {}
        self.sheet_names: list[str] = list(workbook.sheet_names)

    def get_sheet_by_name(self, name: str) -> _Sheet:
        if name not in self._rows:
            self._rows[name] = self._workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        return _Sheet(self._rows[name])


class ReportFile:
    """The report at `path`, read when first asked for. `exists` says whether there is one; the rest may be
    asked for only when there is (a damaged file raises what zipfile, calamine or openpyxl raise)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def exists(self) -> bool:
        return self.path.exists()

    @cached_property
    def content(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def modified(self) -> dt.datetime:
        """When the file was last saved, as this computer's clock says (to the second)."""
        return dt.datetime.fromtimestamp(self.path.stat().st_mtime).replace(microsecond=0)

    @cached_property
    def archive(self) -> zipfile.ZipFile:
        return zipfile.ZipFile(io.BytesIO(self.content))

    def part(self, name: str) -> bytes:
        """A part of the workbook's package, b"" if it has none of that name."""
        try:
            return self.archive.read(name)
        except KeyError:
            return b""

    @cached_property
    def sheets(self) -> _Sheets:
        """Its sheets' values as calamine reads them, for `read_table` and `sheet_rows`."""
        return _Sheets(open_workbook(io.BytesIO(self.content)))

    def openpyxl(self, **options):
        """The workbook as openpyxl reads it (styles, formulas), from the same bytes."""
        import openpyxl  # heavy: loaded only when needed

        return openpyxl.load_workbook(io.BytesIO(self.content), **options)
