"""LibreOffice headless, where it is installed: turning a workbook into a PDF.

LibreOffice is never needed by the tool; it is used when an officer asks for a PDF (`bva detail --pdf`)
and by the rendering script. Each run has its own temporary profile, so it works while the user has
LibreOffice open, and parallel runs do not collide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bva_excel.store.files import replacing

TIMEOUT = 300  # seconds: a first start with a fresh profile is slow on a shared machine
# Calc's PDF export, tagged: the structure a screen reader follows, which public bodies' published PDFs need
# (filter options in LibreOffice's JSON form, read from 7.4 on). Given options, the export takes its own defaults
# for the rest, which would put every cell's note on the page as an icon over the cell: notes are left out.
TAGGED_PDF = ('pdf:calc_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"},'
              '"ExportNotes":{"type":"boolean","value":"false"}}')


class OfficeError(Exception):
    """LibreOffice is there but did not make the file; the message says why."""


def _install_folders() -> list[Path]:
    """Where LibreOffice's installers put soffice on Windows and macOS (it is not on the PATH there)."""
    folders = []
    for variable in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "LOCALAPPDATA"):
        base = os.environ.get(variable)
        if base:
            folders.append(Path(base) / "LibreOffice" / "program")
            if variable == "LOCALAPPDATA":
                folders.append(Path(base) / "Programs" / "LibreOffice" / "program")
    folders += [Path("/Applications/LibreOffice.app/Contents/MacOS"),
                Path.home() / "Applications" / "LibreOffice.app" / "Contents" / "MacOS"]
    return folders


def find_soffice() -> str | None:
    """The LibreOffice program: `soffice` or `libreoffice` on the PATH, else in the usual install folders."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    names = ["soffice.com", "soffice.exe"] if sys.platform == "win32" else ["soffice"]  # .com waits for the result
    for folder in _install_folders():
        for name in names:
            candidate = folder / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def convert_to_pdf(source: Path, target: Path, soffice: str, timeout: int = TIMEOUT) -> Path:
    """Write `source` (a workbook) as the tagged PDF `target`, through LibreOffice headless; `target` is replaced
    whole or not at all. Raises OfficeError when LibreOffice fails."""
    source, target = Path(source), Path(target)
    # A LibreOffice that outlived a timeout may still hold its profile: leave that for the system to clear.
    with tempfile.TemporaryDirectory(prefix="bva-office-", ignore_cleanup_errors=True) as temp_name:
        temp = Path(temp_name)
        out = temp / "out"
        command = [soffice, f"-env:UserInstallation={(temp / 'profile').as_uri()}", "--headless", "--norestore",
                   "--nologo", "--convert-to", TAGGED_PDF, "--outdir", str(out), str(source)]
        try:
            done = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise OfficeError(f"LibreOffice did not finish within {timeout} seconds") from None
        except OSError as exc:
            raise OfficeError(f"LibreOffice could not be started ({exc.strerror or exc})") from None
        produced = out / f"{source.stem}.pdf"
        if not produced.is_file():
            said = (done.stderr or done.stdout or b"").decode("utf-8", "replace").strip().splitlines()
            raise OfficeError(f"LibreOffice made no PDF (exit code {done.returncode}"
                              + (f": {said[-1]}" if said else "") + ")")
        with replacing(target) as part:
            shutil.copyfile(produced, part)
    return target
