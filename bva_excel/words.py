"""Fixed words as Enums: each member is its text, so that it is stored in the records, written in JSON and shown
in messages as that text, and compares equal to it, while the type checker knows the only values it may take."""

from __future__ import annotations

from enum import Enum


class Text(str, Enum):
    """An enumeration of words: each member is its text."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
