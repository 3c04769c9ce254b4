"""bva merge: another copy's records brought into this assessment's, by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bva_excel.app.merge import merge_records
from bva_excel.cli.base import command
from bva_excel.cli.common import EXISTING_FOLDER, open_folder, quote, say_merged
from bva_excel.store.records import DATABASE


@command("merge")
@click.argument("folder", type=EXISTING_FOLDER)
@click.argument("other", type=click.Path(exists=True, path_type=Path))
def merge(folder, other):
    """Bring into FOLDER's records everything OTHER's hold: a copy of the records, or another copy of the folder.

    Every command already merges the conflict copies a sync client leaves in FOLDER/.bva (records-LAPTOP-12.sqlite,
    records (1).sqlite, ...); use this for a copy kept elsewhere, such as a colleague's copy of the folder. Nothing
    recorded is lost or changed: what both hold is kept once, what only OTHER holds is added, and OTHER is only read.
    Merging the same copy again brings in nothing.

    Example: bva merge "BV 2026" "D:/Jane's copy/BV 2026"
    """
    records = other / ".bva" / DATABASE if other.is_dir() else other
    if not records.is_file():
        raise click.BadParameter(f"{other} holds no records ({Path('.bva') / DATABASE} is not there).",
                                 param_hint="OTHER")
    assessment = open_folder(folder)
    if records.resolve() == assessment.records.path.resolve():
        raise click.BadParameter("these are FOLDER's own records.", param_hint="OTHER")
    with assessment.locked("merge"):
        # named as the person gave it: a folder, not the records file inside it
        merged = merge_records(assessment, records, archive=other / ".bva" / "archive" if other.is_dir() else None,
                               name=f"the records of {other}" if other.is_dir() else "")
    say_merged([merged])
    if merged.problems:
        sys.exit(1)
    if merged.counts:
        click.echo(f"Next: run bva report {quote(folder)} to show what was merged.")
