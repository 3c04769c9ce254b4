"""Recognising people as officers type them: "Sian Roberts", "Roberts, Siân", "Siân Roberts (Finance)".

Accents, case, "Surname, First" order, titles and text in brackets do not matter. Several people in
one cell are separated by `;`, `/`, `&`, "and" or new lines; a comma separates people only when every
part is someone known (so "Roberts, Siân" stays one person).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

_SEPARATORS = re.compile(r"\s*(?:;|/|&|\n|\r|\band\b)\s*", re.IGNORECASE)
_BRACKETS = re.compile(r"[(\[{][^)\]}]*[)\]}]")
_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "cllr", "prof", "sir", "dame"}
CLOSE = 0.8  # how alike two names must be to ask "did you mean"
# Letters that Unicode does not split into a base letter and an accent, as people type them without one.
_UNDECOMPOSED = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h",
                               "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th",
                               "Ð": "D", "ð": "d", "ı": "i"})


def person_key(text: str) -> tuple[str, ...]:
    """A name reduced to what identifies the person: words without accents, case or order."""
    text = _BRACKETS.sub(" ", str(text))
    if text.count(",") == 1:  # "Roberts, Siân" -> "Siân Roberts"
        surname, first = text.split(",")
        text = f"{first} {surname}"
    text = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = re.sub(r"[^\w\s@.-]", " ", text.casefold()).replace(".", " ").split()
    return tuple(sorted(w for w in words if w not in _TITLES))


def split_people(text: str, known: Callable[[str], bool]) -> list[str]:
    """The people named in one cell; `known(part)` says whether a part names someone known."""
    parts = [p.strip() for p in _SEPARATORS.split(str(text)) if p and p.strip()]
    people = []
    for part in parts:
        pieces = [p.strip() for p in part.split(",") if p.strip()]
        if len(pieces) > 1 and all(known(p) for p in pieces):
            people.extend(pieces)
        else:
            people.append(part)
    return people


def closeness(typed: str, name: str) -> float:
    """How alike two names are (1.0: the same person), ignoring accents, case and order."""
    a, b = " ".join(person_key(typed)), " ".join(person_key(name))
    if not a or not b:
        return 0.0
    typed_words, name_words = person_key(typed), person_key(name)
    initials = [w for w in typed_words if len(w) == 1]
    rest = [w for w in typed_words if len(w) > 1]
    if initials and rest and all(w in name_words for w in rest) and all(
            any(n.startswith(i) and n not in rest for n in name_words) for i in initials):
        return CLOSE  # "Ł. Wójcik" for Łukasz Wójcik: the same surname and initial, close but not certain
    return difflib.SequenceMatcher(None, a, b).ratio()


def _words(text: str) -> set[str]:
    """The words of a file name or a property, as `person_key` reduces them, brackets kept (a sync client's
    "(Ann Lee's conflicted copy)" names who saved it)."""
    text = unicodedata.normalize("NFKD", str(text).translate(_UNDECOMPOSED))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return set(re.sub(r"[^\w\s@.-]|_", " ", text.casefold()).replace(".", " ").split())


class NameIndex:
    """People (each with reviewer_id, name and email) by the key of their name, by email and by each word of
    their name, each as its place in the list: made once for a list of people (ingest asks for every return), so
    that each look-up costs what it finds, not the length of the list. (Places, not the objects' identities: the
    index goes to reading processes with the framework, which may copy the people.)"""

    def __init__(self, people: Iterable[Any]) -> None:
        self.people = tuple(people)
        self.by_key: dict[tuple[str, ...], list[int]] = {}
        self.by_email: dict[str, list[int]] = {}
        self.by_word: dict[str, list[int]] = {}
        self.words_of: dict[str, set[str]] = {}  # an ID -> the words of the names listed under it
        self.keys = [person_key(person.name) for person in self.people]
        for place, (person, key) in enumerate(zip(self.people, self.keys)):
            self.by_key.setdefault(key, []).append(place)
            if person.email:
                self.by_email.setdefault(person.email.strip().casefold(), []).append(place)
            for word in set(key):
                self.by_word.setdefault(word, []).append(place)
            self.words_of.setdefault(person.reviewer_id, set()).update(key)


def others_named(sources: list[tuple[str, str]], index: NameIndex, issued_to: str) -> list[tuple[str, Any]]:
    """Who else than `issued_to` (an ID) `sources` name among the people of `index`:
    [(how it is named, the person)], one per person. `sources` are (how, text): a workbook's 'last saved by' or
    author names a person by the whole name (in any order, case or accents) or email; a file name by every word
    of a name of two words or more appearing in it. A name of nobody listed names nobody."""
    found: dict[str, tuple[str, object]] = {}
    own = index.words_of.get(issued_to, set())
    for how, text in sources:
        if not text.strip():
            continue
        if how == "file name":
            words = _words(text)
            places = {place for w in words for place in index.by_word.get(w, ())}
        else:
            places = {*index.by_key.get(person_key(text), ()), *index.by_email.get(text.strip().casefold(), ())}
        for place in sorted(places):
            person, name = index.people[place], index.keys[place]
            if person.reviewer_id == issued_to or person.reviewer_id in found:
                continue
            # ("Ann Lee" is not named by "Ann Lee Smith return.xlsx" from Ann Lee Smith herself)
            if how != "file name" or (len(name) >= 2 and set(name) <= words and not set(name) <= own):
                found[person.reviewer_id] = (how, person)
    return list(found.values())
