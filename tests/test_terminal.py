"""The command line on a terminal, where people run it: bars drawn, the same outcome as through a pipe."""

from __future__ import annotations

import pytest

from conftest import answer, refs_of
from terminal import on_terminal, through_a_pipe

pytestmark = pytest.mark.subprocess


@pytest.mark.parametrize("columns", [100, 40])
def test_ingest_of_many_new_returns_on_a_terminal_draws_a_bar_and_accepts_them(generated, columns):
    assessment, generation = generated
    for reviewer_id, path in generation.files.items():
        answer(path, assessment.inbox / f"{reviewer_id} return.xlsx",
               {ref: ("Yellow", "Fine", "") for ref in refs_of(generation, reviewer_id)})
    assessment.records.close()

    run = on_terminal("ingest", assessment.folder, columns=columns)

    assert "Traceback" not in run.output
    assert run.exit_code == 0, run.text
    assert "3 accepted, 0 rejected" in run.text
    assert "Reading returns" in run.output  # the bar was drawn
