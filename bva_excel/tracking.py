"""How far a long command has got, for the progress bar the command line draws: the library never prints.

A command that may take more than a moment (ingest, report, check, generate, follow-up, detail) is given a
`Tracker`. It says how much work there is (`start`) and each unit done (`advance`), naming the step just
finished where the units are steps rather than files or workbooks. `QUIET` is the tracker that shows nothing.
"""

from __future__ import annotations

from typing import Protocol


class Tracker(Protocol):
    def start(self, total: int, unit: str, done: int = 0) -> None:
        """Work of `total` units ('files', 'workbooks', 'steps') begins, `done` of them already done."""

    def advance(self, finished: str = "") -> None:
        """One more unit is done; `finished` says what (shown for steps)."""


class _Quiet:
    def start(self, total: int, unit: str, done: int = 0) -> None:
        pass

    def advance(self, finished: str = "") -> None:
        pass


QUIET: Tracker = _Quiet()
