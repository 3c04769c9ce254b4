"""The README's two commands are the ones CI runs, and the docs speak of real commands."""

import re
from pathlib import Path

from bva_excel.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def setup_commands() -> list[str]:
    return [block.strip() for block in re.findall(r"```\n(pip install[^`]*)```", README)]


def test_readme_carries_exactly_the_two_setup_commands():
    assert setup_commands() == ['pip install -e . && bva demo demo-assessment',
                                'pip install -e ".[test]" && python -m pytest -n auto']


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert setup_commands()[1] in ci.splitlines()


def test_every_command_is_in_the_readme():
    for name in cli.list_commands(None):
        assert f"bva {name}" in README
