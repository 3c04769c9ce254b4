"""Writes that fail, as on a full disk or a folder one may not write to: through one seam, at every write point.

`FailingWrites` counts every write the code makes into a folder (a file opened for writing, a file created,
renamed or linked, a folder made) and every write to the records (an INSERT, UPDATE, DELETE or COMMIT sent to
SQLite), each by the place in the code that makes it; it can make the first write at any one of those places
fail with OSError(ENOSPC) or OSError(EACCES), or, for SQLite, with the error SQLite gives then.
"""

from __future__ import annotations

import builtins
import errno as errnos
import io
import os
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path

from bva_excel.store.records import Records

SQLITE_SAYS = {errnos.ENOSPC: "database or disk is full", errnos.EACCES: "attempt to write a readonly database"}
_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_HERE = Path(__file__).resolve()


def _site() -> str:
    """Where in the tool a write is made: the innermost line of bva_excel (and, for the file helpers in
    storage.py, the line that called them), with the library that writes for it (XlsxWriter's dozens of parts
    of one workbook are one place: 'xlsxwriter < report.py:837')."""
    frame = sys._getframe(2)
    library, lines = "", []
    while frame and len(lines) < 2:
        name = frame.f_code.co_filename
        if "bva_excel" in name:
            lines.append(f"{Path(name).name}:{frame.f_lineno}")
            if not name.endswith("storage.py"):
                break
        elif not lines:
            for package in ("xlsxwriter", "openpyxl", "matplotlib", "zipfile", "shutil", "tempfile", "filelock"):
                if package in name and not library:
                    library = package
        frame = frame.f_back
    return " < ".join(([library] if library else []) + lines) or "elsewhere"


class _Connection:
    """The records' SQLite connection, with its writes counted (and one failed when asked)."""

    def __init__(self, connection: sqlite3.Connection, faults: "FailingWrites"):
        self._connection, self._faults = connection, faults

    def _check(self, sql: str) -> None:
        word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if word in ("INSERT", "UPDATE", "DELETE", "COMMIT", "CREATE", "ALTER", "RELEASE"):
            self._faults.write(f"records: {word} < {_site()}", sqlite=True)

    def execute(self, sql, *args):
        self._check(sql)
        return self._connection.execute(sql, *args)

    def executemany(self, sql, *args):
        self._check(sql)
        return self._connection.executemany(sql, *args)

    def __getattr__(self, name):
        return getattr(self._connection, name)


class FailingWrites:
    def __init__(self, folder: Path, error: int = errnos.ENOSPC, fail_at: str | None = None):
        self.folder = os.path.realpath(folder)
        self.error, self.fail_at = error, fail_at
        self.sites: list[str] = []  # in the order first met
        self.failed: str | None = None

    def write(self, site: str, path=None, sqlite: bool = False) -> None:
        if path is not None and not os.path.realpath(path).startswith(self.folder):
            return
        if site not in self.sites:
            self.sites.append(site)
            if site == self.fail_at and self.failed is None:
                self.failed = site
                if sqlite:
                    raise sqlite3.OperationalError(SQLITE_SAYS[self.error])
                raise OSError(self.error, os.strerror(self.error), str(path) if path is not None else None)

    @contextmanager
    def installed(self, monkeypatch):
        real_open, real_os_open = builtins.open, os.open
        real_replace, real_rename, real_mkdir, real_link = os.replace, os.rename, os.mkdir, os.link
        real_connect = Records._connect

        def open_(file, mode="r", *args, **kwargs):
            if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
                self.write(f"open < {_site()}", file)
            return real_open(file, mode, *args, **kwargs)

        def os_open(path, flags, *args, **kwargs):
            if flags & _WRITING:
                self.write(f"create < {_site()}", path)
            return real_os_open(path, flags, *args, **kwargs)

        def moved(real, what):
            def move(source, target, *args, **kwargs):
                self.write(f"{what} < {_site()}", target)
                return real(source, target, *args, **kwargs)
            return move

        def mkdir(path, *args, **kwargs):
            self.write(f"mkdir < {_site()}", path)
            return real_mkdir(path, *args, **kwargs)

        def connect(path):
            return _Connection(real_connect(path), self)

        monkeypatch.setattr(builtins, "open", open_)
        monkeypatch.setattr(io, "open", open_)
        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(os, "replace", moved(real_replace, "replace"))
        monkeypatch.setattr(os, "rename", moved(real_rename, "rename"))
        monkeypatch.setattr(os, "link", moved(real_link, "link"))
        monkeypatch.setattr(os, "mkdir", mkdir)
        monkeypatch.setattr(Records, "_connect", staticmethod(connect))
        try:
            yield self
        finally:
            monkeypatch.undo()
