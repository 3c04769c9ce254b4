"""Text as people type it into workbooks: labels and ratings compared as a person would, refs as prefix and
number, a cell's value as the text it shows, and "did you mean" for a near miss."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Callable, Iterable


def normalise_label(text: str) -> str:
    """Compare headers and ratings as a person would: case and spacing do not matter."""
    return _normalised(text) if type(text) is str else " ".join(str(text).split()).casefold()


@functools.lru_cache(maxsize=4096)
def _normalised(text: str) -> str:
    # The same few headers and ratings are compared for every row of every return.
    return " ".join(text.split()).casefold()


def has_text(value: object) -> bool:
    """Whether a cell shows something: `cell_text(value).strip()` is not empty, found without making the text."""
    if isinstance(value, str):
        return not value.isspace() and value != ""
    return value is not None


def suggest(text: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)': the choices that hold every word typed, or a word a letter or so from it ("Green"
    or "Gren" -> 'Dark green' or 'Light green'; "Owner" -> 'Action owner'), else a close match by edit
    distance, else ''."""
    by_label = {normalise_label(c): c for c in choices}
    typed = normalise_label(text)
    words = typed.split()
    if words and len(typed) >= 3:
        matchers: tuple[Callable[[str, list[str]], bool], ...] = (
            lambda w, held: w in held,
            lambda w, held: len(w) >= 4 and any(difflib.SequenceMatcher(None, w, h).ratio() >= 0.8 for h in held))
        for near in matchers:
            holding = [choice for label, choice in by_label.items()
                       if label != typed and all(near(w, label.split()) for w in words)]
            if 1 <= len(holding) <= 3:
                return " (did you mean " + " or ".join(f"'{c}'" for c in holding) + "?)"
    close = difflib.get_close_matches(typed, list(by_label), n=1, cutoff=0.6)
    return f" (did you mean '{by_label[close[0]]}'?)" if close else ""


_REF = re.compile(r"^\s*([A-Za-z]{1,4})\s*-?\s*0*(\d{1,6})\s*$")


def normalise_ref(text: object) -> str | None:
    """'L0010', ' l10 ', 'L010' -> 'L010'; anything that is not prefix + number -> None."""
    match = _REF.match(cell_text(text))
    if not match:
        return None
    return f"{match.group(1).upper()}{int(match.group(2)):03d}"




def cell_text(value: object) -> str:
    """The text a person sees in a cell, for a text field (numbers without a stray '.0')."""
    if type(value) is str:  # most cells, asked for many times a return
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """0-based row and column -> A1 reference."""
    return f"{column_letter(col)}{row + 1}"

def short_list(keys: list[str], most: int = 8) -> str:
    shown = ", ".join(keys[:most])
    return shown + (f" and {len(keys) - most} more" if len(keys) > most else "")
