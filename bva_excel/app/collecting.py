"""Long runs that hold many objects and free none in cycles: the assessment's state (every answer at once), a
report's cells until the workbook is written."""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def without_cycle_collection():
    """Python's collector of reference cycles off for the block: what is held (a report's hundreds of thousands of
    cells until the workbook is written) is none of it garbage, and the collector
    would look through all of it again and again (about a tenth of a report's time at 2,000 returns). What is
    freed is still freed at once; cycles, if any, wait until the block is done. The caller gets the collector back
    as it was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
