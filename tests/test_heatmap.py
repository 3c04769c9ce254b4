"""The heat map as a reader sees it, without LibreOffice: every tile's colour found by evaluating its
conditional-format rules the way a spreadsheet does (formulas relative to the rule's first cell, text
compared without regard to case, a lookup that fails is an error that IFERROR catches), with the Final
score formulas on 'Scores' evaluated too, after a moderator has typed into the report.

test_libreoffice.py checks the same thing in a real spreadsheet application; this one is quick enough
to run on every change and in the mutation run.
"""

from __future__ import annotations

import re

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string

from bva_excel.inbox import ingest
from bva_excel.report import write_report
from conftest import answer

NO_COLOUR = "F2F2F2"  # the tile's own background: not answered yet


class NotAvailable(Exception):
    """Excel's #N/A: a lookup that found nothing."""


class Blank:
    """An empty cell: "" in text, 0 as a number, and 0 when a formula's result is the empty cell itself."""

    def __repr__(self):
        return "Blank"


BLANK = Blank()


_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"]|"")*")|(?P<number>\d+(?:\.\d+)?)|'
                    r"(?P<ref>(?:(?:'[^']+'|[A-Za-z_][\w ]*)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)|"
                    r"(?P<bool>TRUE|FALSE)(?![\w(])|(?P<name>[A-Z][A-Z0-9.]*)(?=\()|(?P<op><>|>=|<=|[=<>&(),]))")


class Spreadsheet:
    """Just enough of a spreadsheet to evaluate the formulas the report writes."""

    def __init__(self, workbook):
        self.workbook = workbook
        self._tokens, self._at, self._sheet, self._shift = [], 0, "", (0, 0)

    def tokens(self, formula: str) -> list[tuple[str, str]]:
        found, position, text = [], 0, formula.lstrip("=")
        while position < len(text):
            match = _TOKEN.match(text, position)
            assert match and match.end() > position, f"cannot read {text[position:]!r} in {formula!r}"
            kind = match.lastgroup
            found.append((kind, match.group(kind)))
            position = match.end()
        return found

    def evaluate(self, formula: str, sheet: str, shift: tuple[int, int] = (0, 0)):
        """The value of `formula` written on `sheet`, its relative references moved by `shift` (rows, cols)."""
        self._tokens, self._at, self._sheet, self._shift = self.tokens(formula), 0, sheet, shift
        value = self._comparison()
        assert self._at == len(self._tokens), f"left over in {formula!r}"
        return 0.0 if value is BLANK else value  # a formula that yields an empty cell shows 0

    # A recursive descent over: comparison := concat [op concat]; concat := primary {& primary}.

    def _peek(self):
        return self._tokens[self._at] if self._at < len(self._tokens) else (None, None)

    def _take(self, expected=None):
        token = self._peek()
        assert expected is None or token[1] == expected, f"expected {expected}, found {token}"
        self._at += 1
        return token

    def _comparison(self):
        left = self._concat()
        kind, op = self._peek()
        if kind == "op" and op in ("=", "<>", ">", "<", ">=", "<="):
            self._take()
            right = self._concat()
            if isinstance(left, NotAvailable) or isinstance(right, NotAvailable):
                return NotAvailable()
            if isinstance(left, (str, Blank)) and isinstance(right, (str, Blank)):
                left, right = self._text(left).casefold(), self._text(right).casefold()  # without regard to case
            else:
                left, right = (0.0 if v is BLANK else v for v in (left, right))  # a blank is 0 against a number
            return {"=": left == right, "<>": left != right, ">": left > right, "<": left < right,
                    ">=": left >= right, "<=": left <= right}[op]
        return left

    def _concat(self):
        value = self._primary()
        while self._peek() == ("op", "&"):
            self._take()
            right = self._primary()
            if isinstance(value, NotAvailable) or isinstance(right, NotAvailable):
                value = NotAvailable()
            else:
                value = self._text(value) + self._text(right)
        return value

    @staticmethod
    def _text(value) -> str:
        if value is None or value is BLANK:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def _primary(self):
        kind, text = self._take()
        if kind == "string":
            return text[1:-1].replace('""', '"')
        if kind == "number":
            return float(text)
        if kind == "bool":
            return text == "TRUE"
        if kind == "ref":
            return self._reference(text)
        if kind == "name":
            self._take("(")
            args = []
            while self._peek() != ("op", ")"):
                args.append(self._comparison())
                if self._peek() == ("op", ","):
                    self._take()
            self._take(")")
            return self._call(text, args)
        if (kind, text) == ("op", "("):
            value = self._comparison()
            self._take(")")
            return value
        raise AssertionError(f"unexpected {text!r}")

    def _reference(self, text: str):
        sheet, _, cells = text.rpartition("!")
        sheet = sheet.strip("'") or self._sheet
        corners = [self._cell(corner) for corner in cells.split(":")]
        if len(corners) == 1:
            return self.value(sheet, *corners[0])
        (top, left), (bottom, right) = corners
        return [self.value(sheet, row, col) for row in range(top, bottom + 1) for col in range(left, right + 1)]

    def _cell(self, text: str) -> tuple[int, int]:
        col_fixed, col, row_fixed, row = re.fullmatch(r"(\$?)([A-Z]+)(\$?)(\d+)", text).groups()
        return (int(row) + (0 if row_fixed else self._shift[0]),
                column_index_from_string(col) + (0 if col_fixed else self._shift[1]))

    def value(self, sheet: str, row: int, col: int):
        cell = self.workbook[sheet].cell(row, col)
        if cell.data_type == "f":
            saved = self._tokens, self._at, self._sheet, self._shift
            try:
                return self.evaluate(str(cell.value), sheet)
            finally:
                self._tokens, self._at, self._sheet, self._shift = saved
        return BLANK if cell.value is None or cell.value == "" else cell.value

    def _call(self, name: str, args: list):
        if name == "IFERROR":
            return args[1] if isinstance(args[0], NotAvailable) else args[0]
        if isinstance(next((a for a in args if isinstance(a, NotAvailable)), None), NotAvailable):
            return NotAvailable()
        if name == "IF":
            return args[1] if args[0] else args[2]
        if name == "SUBSTITUTE":
            return self._text(args[0]).replace(args[1], args[2])
        if name == "COUNTIF":
            return float(sum(1 for v in args[0] if self._text(v).casefold() == self._text(args[1]).casefold()
                             and self._text(args[1]) != ""))
        if name == "MATCH":
            assert args[2] == 0, "only exact matches are written"
            wanted = self._text(args[0]).casefold()
            found = [i for i, v in enumerate(args[1], start=1) if self._text(v).casefold() == wanted]
            return float(found[0]) if found and wanted else NotAvailable()
        if name == "INDEX":
            position = int(args[1])
            return args[0][position - 1] if 1 <= position <= len(args[0]) else NotAvailable()
        raise AssertionError(f"the spreadsheet here does not know {name}")

    def seen_colour(self, sheet: str, row: int, col: int) -> str:
        """The background a reader sees: the first conditional format whose rule holds, else the cell's own."""
        worksheet = self.workbook[sheet]
        rules = []
        for formatting in worksheet.conditional_formatting:
            for cells in formatting.sqref.ranges:
                if cells.min_row <= row <= cells.max_row and cells.min_col <= col <= cells.max_col:
                    rules += [(rule, (row - cells.min_row, col - cells.min_col)) for rule in formatting.rules]
        for rule, shift in sorted(rules, key=lambda pair: pair[0].priority):
            assert rule.type == "expression"
            if self.evaluate(rule.formula[0], sheet, shift) is True:
                return rule.dxf.fill.bgColor.rgb[-6:].upper()
        fill = worksheet.cell(row, col).fill
        return fill.fgColor.rgb[-6:].upper() if fill.fill_type == "solid" else "FFFFFF"


def refs_of(generation, reviewer_id):
    return [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]


def tiles(workbook) -> dict[str, tuple[int, int]]:
    """Each tile's text -> its (row, column), found as a reader would: the cells right of a theme name."""
    sheet = workbook["Heat map"]
    found = {}
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row, 1).value == "Key":
            break
        if sheet.cell(row, 1).value in (None, "Theme") or row < 4:
            continue
        for col in range(2, sheet.max_column + 1):
            if sheet.cell(row, col).value:
                found[sheet.cell(row, col).value] = (row, col)
    return found


def colours(workbook) -> dict[str, str]:
    spreadsheet = Spreadsheet(workbook)
    return {text: spreadsheet.seen_colour("Heat map", row, col) for text, (row, col) in tiles(workbook).items()}


@pytest.fixture
def report(generated):
    """Whoever reviews them: CI001 Amber, CI002 Yellow, G001 Grey, R001 blank, SD001 Light green; L001 (listed
    for R01 and R03) Dark green from R01 and Amber from R03."""
    assessment, generation = generated
    given = {"CI001": ("Amber", "Weak", "No plan"), "CI002": ("Yellow", "Partly", "Embed it"),
             "G001": ("Grey", "Outside our control", ""), "R001": ("", "Cannot judge", ""),
             "SD001": ("Light green", "Fine", "")}
    for reviewer_id in generation.files:
        answers = {ref: given[ref] for ref in refs_of(generation, reviewer_id) if ref in given}
        if "L001" in refs_of(generation, reviewer_id):
            answers["L001"] = ("Dark green", "Strong", "") if reviewer_id == "R01" else ("Amber", "Weak", "No plan")
        answer(generation.files[reviewer_id], assessment.inbox / f"{reviewer_id}.xlsx", answers)
    ingest(assessment)
    return assessment, write_report(assessment).path


def type_into_scores(path, typed: dict[str, dict[str, str]]) -> None:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Scores"]
    headers = [c.value for c in sheet[1]]
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    for ref, cells in typed.items():
        for header, text in cells.items():
            sheet.cell(rows[ref], headers.index(header) + 1, text)
    workbook.save(path)


def scale_colours(assessment) -> dict[str, str]:
    return {r.name: r.colour.lstrip("#").upper() for r in assessment.framework().scale.ratings}


def shown_final_scores(workbook) -> dict[str, object]:
    """The Final score column as a reader sees it, every formula evaluated."""
    sheet = workbook["Scores"]
    column = [c.value for c in sheet[1]].index("Final score") + 1
    spreadsheet = Spreadsheet(workbook)
    return {sheet.cell(row, 1).value: spreadsheet.value("Scores", row, column) for row in range(2, sheet.max_row + 1)}


def test_each_tile_has_the_colour_of_its_final_score_as_written(report):
    assessment, path = report
    colour = scale_colours(assessment)
    workbook = openpyxl.load_workbook(path)
    assert colours(workbook) == {
        "CI001": colour["Amber"], "CI002": colour["Yellow"], "L001!": colour["Amber"], "G001": colour["Grey"],
        "R001": NO_COLOUR, "SD001": colour["Light green"]}
    assert shown_final_scores(workbook) == {"CI001": "Amber", "CI002": "Yellow", "L001": "Amber", "G001": "Grey",
                                            "R001": "", "SD001": "Light green"}  # blank, never 0
    # The cells of the grid with no tile stay plain: no rule colours them.
    placed = tiles(workbook)
    rows = {row for row, _ in placed.values()}
    spreadsheet = Spreadsheet(workbook)
    empty = [(row, col) for row in rows for col in range(2, max(c for _, c in placed.values()) + 1)
             if (row, col) not in placed.values()]
    assert empty and {spreadsheet.seen_colour("Heat map", row, col) for row, col in empty} == {"FFFFFF"}


def test_each_tile_follows_what_a_moderator_types_before_the_report_is_written_again(report):
    assessment, path = report
    type_into_scores(path, {"CI002": {"Moderated score": "Red", "Moderation note": "No evidence at all"},
                            "SD001": {"Moderated score": " grey "},  # any case and spacing, as typed
                            "CI001": {"Moderated score": "Greeen"},  # not a rating: the consolidated score stands
                            "R001": {"Moderated score": "Dark green", "Final score": "Yellow"},  # the typed Final wins
                            "G001": {"Final score": "light green"}})
    colour = scale_colours(assessment)
    seen = colours(openpyxl.load_workbook(path))
    # Excel's COUNTIF ignores case, but not spaces: ' grey ' is no rating until the report is written again.
    assert seen == {"CI001": colour["Amber"], "CI002": colour["Red"], "L001!": colour["Amber"],
                    "G001": colour["Light green"], "R001": colour["Yellow"], "SD001": colour["Light green"]}
    write_report(assessment)
    again = colours(openpyxl.load_workbook(path))
    assert again == {"CI001": colour["Amber"], "CI002*": colour["Red"], "L001!": colour["Amber"],
                     "G001*": colour["Light green"], "R001*": colour["Yellow"], "SD001*": colour["Grey"]}


def test_the_key_shows_every_rating_in_its_colour_and_the_blank_tile(report):
    assessment, path = report
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Heat map"]
    key = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "Key")
    swatches = {}
    for row in range(key + 1, key + 8):
        cell = sheet.cell(row, 1)
        swatches[cell.value] = (cell.fill.fgColor.rgb[-6:].upper(), sheet.cell(row, 2).value)
    ratings = assessment.framework().scale.ratings
    assert swatches == {**{r.name if r.scored else f"{r.name} (not scored)": (r.colour.lstrip("#").upper(), r.meaning)
                           for r in ratings}, "No colour": (NO_COLOUR, "Not answered yet.")}
    summary = [sheet.cell(r, 1).value for r in range(key, sheet.max_row + 1) if sheet.cell(r, 1).value]
    assert summary[-1] == "6 characteristics: 1 light green, 1 yellow, 2 amber, 1 grey, 1 not answered."


def test_the_spreadsheet_here_behaves_as_excel_does_where_it_matters(report):
    """The evaluator itself: a failed lookup is an error IFERROR catches, text compares without regard to
    case, and a formula whose result is an empty cell shows 0 (the trap a blank score must avoid)."""
    _, path = report
    spreadsheet = Spreadsheet(openpyxl.load_workbook(path))
    assert spreadsheet.evaluate('IFERROR(MATCH("nothing",Scores!$A$2:$A$7,0),"none")', "Scores") == "none"
    assert spreadsheet.evaluate('MATCH("l001",Scores!$A$2:$A$7,0)', "Scores") == 3
    assert spreadsheet.evaluate('COUNTIF(Scale!$A$2:$A$7,"GREY")', "Scores") == 1
    assert spreadsheet.evaluate('"Dark GREEN"="dark green"', "Scores") is True
    assert spreadsheet.evaluate("IF(FALSE,A2,Z2)", "Scores") == 0  # an empty cell, shown as 0 ...
    assert spreadsheet.evaluate('IF(FALSE,A2,Z2&"")', "Scores") == ""  # ... unless made text
    assert spreadsheet.evaluate("SUBSTITUTE(A2,\"CI\",\"X\")", "Scores", (1, 0)) == "X002"  # A3, moved a row
