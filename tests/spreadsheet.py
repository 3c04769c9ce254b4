"""Just enough of a spreadsheet to see a report as a reader does without LibreOffice: the formulas the
report writes evaluated as Excel evaluates them (relative references moved with the cell, text compared
without regard to case, a failed lookup an error that IFERROR catches, an empty cell 0 as a result),
and the background a conditional format gives a cell."""

from __future__ import annotations

import datetime as dt
import re

from openpyxl.utils import column_index_from_string


class NotAvailable(Exception):
    """Excel's #N/A: a lookup that found nothing."""


class Blank:
    """An empty cell: "" in text, 0 as a number, and 0 when a formula's result is the empty cell itself."""

    def __repr__(self):
        return "Blank"


BLANK = Blank()


_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"]|"")*")|(?P<number>\d+(?:\.\d+)?)|'
                    r"(?P<ref>(?:(?:'[^']+'|[A-Za-z_][\w ]*)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)|"
                    r"(?P<bool>TRUE|FALSE)(?![\w(])|(?P<name>[A-Z][A-Z0-9.]*)(?=\()|(?P<op><>|>=|<=|[=<>&(),+-]))")


def _serial(value):
    """A date as the number a spreadsheet keeps it as (days since 30 December 1899)."""
    if isinstance(value, dt.date):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        return (moment - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    return value


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

    # A recursive descent over: comparison := concat [op concat]; concat := sum {& sum};
    # sum := primary {(+|-) primary}.

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
                left, right = (0.0 if v is BLANK else _serial(v) for v in (left, right))  # a blank is 0 against a number
            return {"=": left == right, "<>": left != right, ">": left > right, "<": left < right,
                    ">=": left >= right, "<=": left <= right}[op]
        return left

    def _concat(self):
        value = self._sum()
        while self._peek() == ("op", "&"):
            self._take()
            right = self._sum()
            if isinstance(value, NotAvailable) or isinstance(right, NotAvailable):
                value = NotAvailable()
            else:
                value = self._text(value) + self._text(right)
        return value

    def _sum(self):
        value = self._primary()
        while self._peek() in (("op", "+"), ("op", "-")):
            sign = 1 if self._take()[1] == "+" else -1
            right = self._primary()
            if isinstance(value, NotAvailable) or isinstance(right, NotAvailable):
                value = NotAvailable()
            else:
                value = self._number(value) + sign * self._number(right)
        return value

    @staticmethod
    def _number(value) -> float:
        """A value in arithmetic: a blank is 0; text that is not a number is Excel's #VALUE!, a failed test."""
        if value is BLANK:
            return 0.0
        assert isinstance(value, (int, float)) and not isinstance(value, bool), f"#VALUE!: {value!r} in arithmetic"
        return float(value)

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
        if name == "COUNTIFS":  # pairs of (range, criterion); only "=text" criteria, with ~ escapes, are written
            ranges, criteria = args[0::2], [self._criterion(c) for c in args[1::2]]
            return float(sum(1 for values in zip(*ranges)
                             if all(self._text(v).casefold() == c for v, c in zip(values, criteria))))
        if name == "ROWS":
            return float(len(args[0]))  # the ranges written are one column wide
        if name == "CHAR":
            return chr(int(args[0]))
        if name == "FIND":  # case-sensitive; text not found is #VALUE!, an error IFERROR catches
            at = self._text(args[1]).find(self._text(args[0]))
            return float(at + 1) if at >= 0 else NotAvailable()
        if name == "LEN":
            return float(len(self._text(args[0])))
        if name == "LEFT":
            assert args[1] >= 0, "#VALUE!: LEFT of a negative length"
            return self._text(args[0])[: int(args[1])]
        if name == "SUM":
            return sum(self._number(v) for arg in args for v in (arg if isinstance(arg, list) else [arg])
                       if not isinstance(v, str))  # text in a range is left out, as Excel's SUM does
        if name == "MATCH":
            assert args[2] == 0, "only exact matches are written"
            wanted = self._text(args[0]).casefold()
            found = [i for i, v in enumerate(args[1], start=1) if self._text(v).casefold() == wanted]
            return float(found[0]) if found and wanted else NotAvailable()
        if name == "INDEX":
            position = int(args[1])
            return args[0][position - 1] if 1 <= position <= len(args[0]) else NotAvailable()
        if name == "ISNUMBER":  # a date is a number to a spreadsheet
            return isinstance(args[0], (int, float, dt.date)) and not isinstance(args[0], bool)
        if name == "TODAY":
            return dt.datetime.combine(dt.date.today(), dt.time())
        if name in ("AND", "OR"):
            return (all if name == "AND" else any)(bool(a) and a is not BLANK for a in args)
        if name == "NOT":
            return not args[0] or args[0] is BLANK
        raise AssertionError(f"the spreadsheet here does not know {name}")

    @staticmethod
    def _criterion(criterion) -> str:
        """The text a COUNTIFS criterion "=text" matches (any case), its ~* ~? ~~ escapes undone."""
        assert isinstance(criterion, str) and criterion.startswith("="), f"criterion {criterion!r} not understood"
        return re.sub(r"~([*?~])", r"\1", criterion[1:]).casefold()

    def seen_colour(self, sheet: str, row: int, col: int) -> str:
        """The background a reader sees: the first conditional format whose rule holds, else the cell's own."""
        worksheet = self.workbook[sheet]
        rules = []
        for formatting in worksheet.conditional_formatting:
            for cells in formatting.sqref.ranges:
                if cells.min_row <= row <= cells.max_row and cells.min_col <= col <= cells.max_col:
                    rules += [(rule, (row - cells.min_row, col - cells.min_col)) for rule in formatting.rules]
        for rule, shift in sorted(rules, key=lambda pair: pair[0].priority):
            if rule.type == "expression":
                holds = self.evaluate(rule.formula[0], sheet, shift) is True
            else:  # "cell value equal to ...", the only other kind the report writes
                assert (rule.type, rule.operator) == ("cellIs", "equal"), (rule.type, rule.operator)
                shown = self._text(self.value(sheet, row, col)).casefold()
                holds = shown == self._text(self.evaluate(rule.formula[0], sheet, shift)).casefold()
            if holds:
                return rule.dxf.fill.bgColor.rgb[-6:].upper()
        fill = worksheet.cell(row, col).fill
        return fill.fgColor.rgb[-6:].upper() if fill.fill_type == "solid" else "FFFFFF"
