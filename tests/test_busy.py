"""While a command works on an assessment, another one run meanwhile is refused, told which command is at work."""

from __future__ import annotations

import datetime as dt

import pytest
from progress_helpers import _flagged_once, flagged, planned  # noqa: F401  (fixtures)

import bva_excel.app.export
import bva_excel.app.follow_up
import bva_excel.app.picture
import bva_excel.app.progress
import bva_excel.app.report
import bva_excel.app.signoff
import bva_excel.app.state
from bva_excel.app.report import write_report
from bva_excel.errors import AssessmentError
from bva_excel.store.folder import open_assessment


@pytest.mark.parametrize("command, run", [
    ("signoff", lambda a: bva_excel.app.signoff.sign_off(a, "Jane Smith, ACE", accept_open=True)),
    ("picture", lambda a: bva_excel.app.picture.write_pictures(a)),
    ("generate --progress", lambda a: bva_excel.app.progress.generate_progress(a)),
    ("follow-up", lambda a: bva_excel.app.follow_up.write_follow_up(a)),
    ("actions", lambda a: bva_excel.app.export.export_actions(a, a.folder / "actions.csv"))])
def test_a_report_run_while_a_command_works_is_refused_naming_that_command(planned, monkeypatch, command, run):  # noqa: F811
    assessment, _ = planned
    refused = []
    load_state = bva_excel.app.state.load_state

    def report_meanwhile(*args, **kwargs):  # someone runs bva report while the command works
        try:
            write_report(open_assessment(assessment.folder))
        except AssessmentError as error:
            refused.append(str(error))
        return load_state(*args, **kwargs)

    for module in (bva_excel.app.state, bva_excel.app.report, bva_excel.app.signoff, bva_excel.app.picture,
                   bva_excel.app.progress, bva_excel.app.follow_up, bva_excel.app.export):
        if hasattr(module, "load_state"):  # wherever the command looks it up
            monkeypatch.setattr(module, "load_state", report_meanwhile)
    run(assessment)
    [said] = refused
    assert said.startswith(f"{assessment.folder}: another bva command is working on this assessment (bva {command}, "
                           f"run by ")
    assert f" since {dt.date.today().isoformat()}T" in said
    assert said.endswith("Wait for it to finish and run this command again. The lock ends with that command, even if "
                         "it crashes, so there is nothing to delete.")


def test_a_folder_that_may_not_be_written_is_named_as_the_person_knows_it_not_by_the_lock_inside(generated,
                                                                                              monkeypatch):
    import errno

    from click.testing import CliRunner
    from filelock import FileLock

    from bva_excel.cli import cli

    assessment, _ = generated

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(FileLock, "acquire", read_only)
    result = CliRunner().invoke(cli, ["report", str(assessment.folder)])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {assessment.folder}: it may not be written (Read-only file system)")
    assert ".bva" not in result.output and "Traceback" not in result.output
