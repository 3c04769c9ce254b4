"""What `bva --help` and every command need before any command is loaded: the list of commands with their
one-line help, how a command reads its arguments, and how a problem is printed. Nothing here loads a reading or
writing library, so that `bva --help` answers at once."""

from __future__ import annotations

import errno
from pathlib import Path

import click

from bva_excel.errors import Problem, grouped, said_once

# Each command: the module under bva_excel.cli that defines it, and the line `bva --help` shows for it (kept
# here, so that listing the commands loads none of them; a test holds each to one line). In the order of the
# exercise.
COMMANDS: dict[str, tuple[str, str]] = {
    "new": ("start", "Create an assessment folder: assessment.xlsx, inbox/ and outbox/."),
    "generate": ("issuing", "Write a protected workbook for each reviewer to FOLDER/outbox."),
    "issue": ("issuing", "Issue one round of workbooks: review, moderation or progress."),
    "chase": ("issuing", "Draft reminders for returns missing or incomplete."),
    "ingest": ("returns", "Read the returned workbooks saved in FOLDER/inbox."),
    "report": ("reporting", "Write FOLDER/report.xlsx: the heat map, scores and action plan."),
    "detail": ("reporting", "Write the background on characteristics for committee."),
    "picture": ("reporting", "Draw the heat map and the ratings by theme as pictures."),
    "changes": ("reporting", "List every change seen between report runs, oldest first."),
    "check": ("reporting", "Find inconsistent scoring for the moderators, most serious first."),
    "signoff": ("after", "Record the senior officers' sign-off of every final score."),
    "actions": ("after", "Export the action plan for the business planning tool."),
    "follow-up": ("after", "Write the follow-up report on the action plan for committee."),
    "merge": ("merging", "Bring another copy's records into this assessment's."),
    "demo": ("start", "Run the whole exercise on the built-in template with sample data."),
}

WRITE_ERRORS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EACCES, errno.EPERM, errno.EROFS}


def show(problem: Problem, indent: str = "  ", err: bool = False) -> None:
    click.echo(f"{indent}{problem.severity}: {problem}", err=err)


def verbose() -> bool:
    """Whether --verbose was given: every message on its own line, every list in full."""
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().meta.get("bva.verbose"))


def listed(items: list[str], most: int = 10) -> str:
    """'A, B, C and 7 more' (all of them with --verbose)."""
    if verbose() or len(items) <= most:
        return ", ".join(items)
    return ", ".join(items[:most]) + f" and {len(items) - most} more (--verbose lists them all)"


def show_all(problems, indent: str = "  ", err: bool = False) -> None:
    """Print problems, those saying the same about many refs or actions on one line, unless --verbose was given."""
    for group in grouped(problems, verbose()):
        click.echo(f"{indent}{group[0].severity}: {said_once(group)}", err=err)


def _verbose(ctx, _param, value) -> None:
    if value:
        ctx.find_root().meta["bva.verbose"] = True


class BvaCommand(click.Command):
    """A command that spots a folder name with spaces typed without quotes, and says how to quote it, and that
    takes --verbose (every message in full, none said once for many refs)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params.append(click.Option(["--verbose"], is_flag=True, expose_value=False, callback=_verbose,
                                        is_eager=True, help="Print every message on its own line (messages alike "
                                                            "for many refs or actions are otherwise said once)."))

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, list(args))
        except click.UsageError as error:
            words = [a for a in args if not a.startswith("-")]
            for end in range(len(words), 1, -1):
                joined = " ".join(words[:end])
                if Path(joined).exists():
                    error.message += (f"\nA folder name with spaces needs quotes: bva {ctx.info_name} \"{joined}\" "
                                      "(in PowerShell and cmd as well).")
                    break
            raise


def command(name: str, **settings):
    """Declare the command `name` of the registry above, with its one-line help from there."""
    return click.command(name, cls=BvaCommand, short_help=COMMANDS[name][1], **settings)


class Round(click.Group):
    """A command made of commands (bva issue review|moderation|progress), each reading its arguments as above."""

    command_class = BvaCommand

    def list_commands(self, ctx):
        return list(self.commands)  # in the order of the exercise


def group(name: str):
    """Declare the command `name` of the registry above that holds commands of its own."""
    return click.group(name, cls=Round, short_help=COMMANDS[name][1])
