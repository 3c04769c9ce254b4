"""The `bva` command: parsing and output only. Each command makes one call to a use case in `bva_excel.app` and
prints what it did; the commands are loaded only when run (see `base.COMMANDS`).

Exit codes: 0 ok, 1 the input has problems, 2 usage error. No traceback unless --debug.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from bva_excel import __version__
from bva_excel.cli.base import COMMANDS, WRITE_ERRORS, BvaCommand, show, show_all
from bva_excel.errors import BvaError, CommandLineError


class BvaGroup(click.Group):
    """Lists commands in the order of the exercise; turns the library's errors into messages and exit code 1."""

    command_class = BvaCommand

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        """Load a command's module only when that command is run (or its help asked for)."""
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"bva_excel.cli.{COMMANDS[name][0]}")
        return getattr(module, name.replace("-", "_"))

    def format_commands(self, ctx, formatter):
        """The list of commands, from the registry, without loading any of them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, short_help) for name, (_, short_help) in COMMANDS.items()])

    def invoke(self, ctx):
        wants_json = "--json" in ctx.args  # (click hands the command its arguments, and forgets them here)
        try:
            return super().invoke(ctx)
        except BvaError as error:
            if ctx.params.get("debug"):
                raise
            show_all(error.problems, indent="", err=True)
            if wants_json:  # a script reading the command's JSON gets the problems as JSON too
                from bva_excel.cli.common import echo_json

                echo_json({"valid": False, "errors": [p.as_dict() for p in error.problems]})
            ctx.exit(2 if isinstance(error, CommandLineError) else 1)
        except BrokenPipeError:
            # Output piped into a command that stopped reading (e.g. head): not an error of the input.
            sys.stdout = open(os.devnull, "w", encoding="utf-8")
            ctx.exit(0)
        except OSError as error:
            if ctx.params.get("debug"):
                raise
            if error.filename and error.errno in WRITE_ERRORS:  # a full disk, a file or folder one may not change
                from bva_excel.store.files import write_problem  # only after a failed write: help stays quick

                show(write_problem(error, error.filename), indent="", err=True)
            else:
                name = f"{error.filename}: " if error.filename else ""
                click.echo(f"error: {name}{error.strerror or error}. Check the path and its permissions.", err=True)
            ctx.exit(1)


@click.group(cls=BvaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bva")
@click.option("--debug", is_flag=True, help="Show the full traceback when something goes wrong (before the "
                                           "command: bva --debug report FOLDER).")
def cli(debug):
    """Run a council's Best Value self-assessment in Excel.

    \b
    The exercise, one command a step:
      bva new 2026            create an assessment folder from the template
      (fill in 2026/assessment.xlsx: reviewers, position statements, evidence)
      bva generate 2026       one protected workbook per reviewer, in 2026/outbox
      bva ingest 2026         read the returns saved in 2026/inbox
      bva report 2026         heat map, action plan and every score in 2026/report.xlsx
      bva changes 2026        what changed in moderated and final scores and actions, run by run
      bva check 2026          inconsistent scoring for the moderators
      bva generate 2026 --moderation --moderators "R05,R06"   a moderation round by workbook
      bva signoff 2026 --by "Name, Role"   senior officers sign off the final scores
      bva picture 2026        the heat map and ratings by theme as pictures, in 2026/pictures
      bva detail 2026 SD006   the background on one characteristic, for a councillor (--pdf)
      bva actions 2026        the action plan as CSV for the business planning tool
      bva generate 2026 --progress   a progress workbook per service area
      bva follow-up 2026      the follow-up report on the action plan for committee

    Try it all on sample data first: bva demo demo-assessment
    """


def _never_fail_on_a_character() -> None:
    """Write a character the output's encoding lacks as an escape (\\u738b), never a traceback.

    On Windows, output redirected to a file or another program is in the legacy code page (cp1252),
    which has no Chinese, Cyrillic, Arabic or emoji. Python already escapes them on stderr; the same is
    done here for stdout, whose encoding is left as it is.
    """
    if hasattr(sys.stdout, "reconfigure"):  # a text stream (not None, as under pythonw)
        sys.stdout.reconfigure(errors="backslashreplace")


def run() -> int:
    """The command line, as `bva` runs it (see `bva_excel.__main__`): the exit code. Click's own answer to Ctrl-C
    ('Aborted!', exit code 1) is left to the caller, which says what became of the work."""
    _never_fail_on_a_character()
    try:
        code = cli.main(prog_name="bva", standalone_mode=False)
    except click.exceptions.Abort as stopped:
        if isinstance(stopped.__cause__, KeyboardInterrupt):
            raise stopped.__cause__ from None
        click.echo("Aborted!", err=True)
        return 1
    except click.ClickException as error:  # a usage error: said with the usage, exit code 2
        error.show()
        return error.exit_code
    return code if isinstance(code, int) else 0

