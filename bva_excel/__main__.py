"""The `bva` command, and `python -m bva_excel` where `bva` is not on the PATH.

Kept light on purpose: Ctrl-C is answered from the moment it starts, so the command line itself (click and
every command) is loaded only once that is so.
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading

STOPPED = 130  # the exit code of a command stopped by Ctrl-C, as shells give it


_COMMAND = os.getpid()  # the command's own process; the processes it starts to read returns inherit this handler


def _stop(signum, frame) -> None:
    """Ctrl-C: stop the command. A second Ctrl-C is ignored, so that what is being tidied up (a temporary file
    deleted, a transaction rolled back, the lock released) is never cut short. Ctrl-C reaches every process of
    the command: a reading process leaves it to the command, which stops them all."""
    if os.getpid() != _COMMAND:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def say_stopped() -> None:
    """The one line that says the command was stopped, last: after whatever it had printed so far."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):  # a closed or broken stream: the line still goes to stderr
        pass
    command = next((word for word in sys.argv[1:] if not word.startswith("-")), "")
    again = f"bva {command}" if command else "the command"
    sys.stderr.write(f"Stopped; nothing was half-written: what was finished is kept and the rest is as it was. "
                     f"Run {again} again to finish.\n")
    sys.stderr.flush()


def _unraisable(unraisable) -> None:
    """What Python cannot raise where it happens (in a finalizer, as a library's half-written file is tidied away).

    Ctrl-C met there would be lost, and the command would carry on: it is pressed again, to be met where it
    can stop the command. A failed write met there (a full disk) has been said already, by the write that
    failed first; Python's 'Exception ignored' report of it would only alarm. Anything else is reported as
    usual."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        signal.signal(signal.SIGINT, _stop)
        try:  # from another thread, a moment later: pressed here, it would be met inside this hook and lost too
            threading.Timer(0.01, _thread.interrupt_main, (signal.SIGINT,)).start()
        except RuntimeError:  # Python is shutting down: the command has finished
            pass
        return
    if isinstance(unraisable.exc_value, OSError):
        return
    sys.__unraisablehook__(unraisable)


def main() -> None:
    """Run the command line; Ctrl-C at any moment ends it with one line and exit code 130, never a traceback."""
    signal.signal(signal.SIGINT, _stop)
    sys.unraisablehook = _unraisable
    try:
        from bva_excel.cli import (
            run,  # loaded once Ctrl-C is answered: loading it takes a moment
        )

        code: int | str | None
        try:
            code = run()
        except SystemExit as done:  # a command that ends with its own exit code
            code = done.code
        # Done: a Ctrl-C from now on changes nothing (Python would otherwise answer it, as it shuts down, by
        # ending the process as stopped after all was finished).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        say_stopped()
        code = STOPPED
    sys.exit(code)


if __name__ == "__main__":
    main()
