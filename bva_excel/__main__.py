"""The `bva` command, and `python -m bva_excel` where `bva` is not on the PATH.

Kept light on purpose: Ctrl-C is answered from the moment it starts, so the command line itself (click and
every command) is loaded only once that is so.
"""

from __future__ import annotations

import signal
import sys

STOPPED = 130  # the exit code of a command stopped by Ctrl-C, as shells give it


def _stop(signum, frame) -> None:
    """Ctrl-C: stop the command. A second Ctrl-C is ignored, so that what is being tidied up (a temporary file
    deleted, a transaction rolled back, the lock released) is never cut short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def say_stopped() -> None:
    command = next((word for word in sys.argv[1:] if not word.startswith("-")), "")
    again = f"bva {command}" if command else "the command"
    sys.stderr.write(f"Stopped; nothing was half-written: what was finished is kept and the rest is as it was. "
                     f"Run {again} again to finish.\n")
    sys.stderr.flush()


def main() -> None:
    """Run the command line; Ctrl-C at any moment ends it with one line and exit code 130, never a traceback."""
    signal.signal(signal.SIGINT, _stop)
    try:
        from bva_excel.cli import run  # loaded once Ctrl-C is answered: loading it takes a moment

        code = run()
    except KeyboardInterrupt:
        say_stopped()
        code = STOPPED
    sys.exit(code)


if __name__ == "__main__":
    main()
