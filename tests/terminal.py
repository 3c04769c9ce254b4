"""Run `bva` as a person does: on a terminal (a pseudo-terminal), where progress bars are drawn.

Every other test runs the command line through a pipe, where nothing is drawn; a terminal is where
people are, and where a bar that crashes would be seen first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

import pexpect

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Run:
    """What a run printed (stdout and stderr together, as a terminal shows them) and its exit code."""

    exit_code: int
    output: str

    @property
    def bars(self) -> list[str]:
        """Every frame of every progress bar drawn."""
        frames = re.split(r"[\r\n]+", ANSI.sub("", self.output))
        return [frame.strip() for frame in frames if BAR.search(frame)]

    @property
    def facts(self) -> list[str]:
        """What the command said, bars left out, times of day as HH:MM, in order of their text (a terminal shows
        stdout and stderr interleaved)."""
        return sorted(re.sub(r"\b\d\d:\d\d(:\d\d)?\b", "HH:MM", line).rstrip()
                      for line in self.text.split("\n") if line.strip() and not BAR.search(line))

    @property
    def text(self) -> str:
        """The output with terminal escapes and bar redraws taken out: what is left on the screen."""
        lines = []
        for line in ANSI.sub("", self.output).replace("\r\n", "\n").split("\n"):
            lines.append(line.rsplit("\r", 1)[-1])
        return "\n".join(lines)


def command(*args: str) -> list[str]:
    """`bva ARGS` as this Python runs it."""
    return [sys.executable, "-m", "bva_excel", *map(str, args)]


BAR = re.compile(r"\[[#-]*\]\s+\d+/\d+")  # a progress bar as click draws it: "[####----]  3/18"


def on_terminal(*args, columns: int = 100, timeout: float = 120, interrupt_after: float | None = None,
                once: str | None = None, env: dict | None = None, cwd=None) -> Run:
    """Run `bva ARGS` on a pseudo-terminal `columns` wide; with `interrupt_after`, press Ctrl-C after that
    many seconds (as a person does, through the terminal, to the whole foreground process group), counted from
    when the command says `once` (a regular expression) if given, else from its start."""
    argv = command(*args)
    child = pexpect.spawn(argv[0], argv[1:], dimensions=(40, columns), encoding="utf-8", codec_errors="replace",
                          timeout=timeout, env={**os.environ, "COLUMNS": str(columns), **(env or {})},
                          cwd=None if cwd is None else str(cwd))
    if interrupt_after is not None:
        try:
            if once is not None:
                child.expect(once)
            child.expect(pexpect.EOF, timeout=interrupt_after)
        except pexpect.TIMEOUT:
            child.sendintr()
        except pexpect.EOF:
            pass  # finished before it said so
    child.expect(pexpect.EOF)
    child.close()
    code = child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus
    return Run(code, child.before if isinstance(child.before, str) else "")


def through_a_pipe(*args, env: dict | None = None, cwd=None) -> Run:
    """Run `bva ARGS` with its output piped, as the other tests and scripts do."""
    done = subprocess.run(command(*args), capture_output=True, text=True, encoding="utf-8",
                          env={**os.environ, **(env or {})}, cwd=None if cwd is None else str(cwd))
    return Run(done.returncode, done.stdout + done.stderr)
