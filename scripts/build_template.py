"""Build templates/assessment_template.xlsx from the readable source data in templates/source/.

    python scripts/build_template.py            # rewrite the committed template
    python scripts/build_template.py --out X    # write elsewhere (the tests compare the two)
"""

import argparse
import csv
from pathlib import Path

from bva_excel.excel.read.framework import (
    CHARACTERISTIC_HEADERS,
    REVIEWER_HEADERS,
    SCALE_HEADERS,
    SERVICE_AREA_HEADERS,
)
from bva_excel.excel.write.template import write_framework_workbook

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "templates" / "source"


def read_rows(name: str, headers: list[str]) -> list[list]:
    with open(SOURCE / name, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # Only the scale's 'Value' is a number; every other cell stays text as written.
    return [[int(row[h]) if h == "Value" and row[h].strip() else row.get(h, "") for h in headers]
            for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "templates" / "assessment_template.xlsx")
    args = parser.parse_args()
    guide = (SOURCE / "guide.txt").read_text(encoding="utf-8").splitlines()
    reviewers = read_rows("reviewers.csv", REVIEWER_HEADERS) if (SOURCE / "reviewers.csv").exists() else []
    areas = read_rows("service_areas.csv", SERVICE_AREA_HEADERS) if (SOURCE / "service_areas.csv").exists() else []
    write_framework_workbook(args.out, read_rows("scale.csv", SCALE_HEADERS),
                             read_rows("characteristics.csv", CHARACTERISTIC_HEADERS), reviewers, guide, areas)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
