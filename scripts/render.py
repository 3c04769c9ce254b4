"""Render sheets of a workbook to PNG through LibreOffice, to see what a person will see.

    python scripts/render.py demo-assessment/report.xlsx                  # Heat map and Action plan
    python scripts/render.py FILE.xlsx --sheet Review --out renders/

Each sheet is exported on its own (the others hidden in a temporary copy) to PDF by LibreOffice
headless, then to PNG by pdftoppm. Needs soffice and pdftoppm (Debian: libreoffice-calc-nogui,
poppler-utils).
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's bva_excel, installed or not

from bva_excel.render.office import OfficeError, convert_to_pdf, find_soffice  # noqa: E402


def only_sheet(source: Path, target: Path, sheet: str) -> None:
    """Copy the workbook with every sheet but `sheet` hidden, and `sheet` active."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = _hide_others(data.decode("utf-8"), sheet).encode("utf-8")
            zout.writestr(item, data)


def _hide_others(xml: str, sheet: str) -> str:
    elements = re.findall(r"<sheet\b[^>]*/>", xml)
    names = [re.search(r'name="([^"]*)"', e).group(1) for e in elements]
    escaped = sheet.replace("&", "&amp;").replace("'", "&apos;").replace('"', "&quot;")
    if escaped not in names:
        raise SystemExit(f"error: no sheet '{sheet}' (sheets: {', '.join(names)})")
    for element, name in zip(elements, names):
        cleaned = re.sub(r'\sstate="[^"]*"', "", element)
        if name != escaped:
            cleaned = cleaned.replace("<sheet ", '<sheet state="hidden" ', 1)
        xml = xml.replace(element, cleaned, 1)
    index = names.index(escaped)
    xml = re.sub(r'\s(activeTab|firstSheet)="\d+"', "", xml)
    return re.sub(r"<workbookView\b", f'<workbookView activeTab="{index}" firstSheet="{index}"', xml, count=1)


def render(workbook: Path, sheets: list[str], out: Path, dpi: int = 80) -> list[Path]:
    soffice = find_soffice()
    if not soffice or not shutil.which("pdftoppm"):
        raise SystemExit("error: soffice and pdftoppm are needed "
                         "(apt-get install libreoffice-calc-nogui poppler-utils)")
    out.mkdir(parents=True, exist_ok=True)
    pictures = []
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        for sheet in sheets:
            slug = re.sub(r"[^A-Za-z0-9]+", "-", sheet).strip("-").lower()
            copy = temp / f"{workbook.stem}-{slug}.xlsx"
            only_sheet(workbook, copy, sheet)
            try:
                convert_to_pdf(copy, copy.with_suffix(".pdf"), soffice)
            except OfficeError as exc:
                raise SystemExit(f"error: {workbook.name}, sheet '{sheet}': {exc}") from None
            prefix = out / f"{workbook.stem}-{slug}"
            subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(copy.with_suffix(".pdf")), str(prefix)],
                           check=True, timeout=120)
            pictures += sorted(out.glob(f"{prefix.name}*.png"))
    return pictures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path)
    parser.add_argument("--sheet", action="append", dest="sheets",
                        help="sheet to render (repeatable; default: 'Heat map' and 'Action plan')")
    parser.add_argument("--out", type=Path, default=Path("renders"), help="folder for the PNGs")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args()
    if not args.workbook.is_file():
        sys.exit(f"error: {args.workbook}: no such file")
    for picture in render(args.workbook, args.sheets or ["Heat map", "Action plan"], args.out, args.dpi):
        print(picture)


if __name__ == "__main__":
    main()
