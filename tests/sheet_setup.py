"""How each sheet of a workbook is set up, apart from its cells: what a reader meets when they open, filter and
print it (frozen panes, filter, print setup), and what a reviewer may change (protection, dropdowns, locked
input cells are in the cells' style and not here)."""

from __future__ import annotations

from pathlib import Path

import openpyxl


def setup(sheet) -> dict:
    page = sheet.page_setup
    fit = sheet.sheet_properties.pageSetUpPr
    footer = sheet.HeaderFooter.oddFooter
    return {
        "state": sheet.sheet_state,
        "frozen": sheet.freeze_panes,
        "filter": sheet.auto_filter.ref,
        "print": {"orientation": page.orientation, "paper": page.paperSize, "fit to page": bool(fit and fit.fitToPage),
                  "pages wide": page.fitToWidth, "pages tall": page.fitToHeight, "titles": sheet.print_title_rows,
                  "area": sheet.print_area, "footer": footer.center.text if footer and footer.center else None},
        "protected": bool(sheet.protection.sheet),
        "dropdowns and checks": sorted([str(v.sqref), v.type, v.formula1 or "", bool(v.showDropDown)]
                                       for v in sheet.data_validations.dataValidation),
        "colour rules": sorted([str(rules.sqref), sorted(rule.type for rule in rules.rules)]
                               for rules in sheet.conditional_formatting),
        "merged": sorted(str(merged) for merged in sheet.merged_cells.ranges)[:50],
    }


def workbook_setup(path: Path) -> list:
    """[sheet name, its set-up] for every sheet, in order."""
    workbook = openpyxl.load_workbook(path)
    return [[sheet.title, setup(sheet)] for sheet in workbook.worksheets]
