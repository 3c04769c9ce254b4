"""Writing files so that a crash or a kill at any moment leaves the last good state.

Every file the tool owns is written beside its target under a temporary name and renamed over it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def new_file_mode() -> int:
    """The permissions the user's umask gives a new file (what colleagues on a shared folder expect)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def replacing(target: Path):
    """Yield a temporary path beside `target`; on success rename it over `target`, else delete it.

    The temporary file is private while it is written (mkstemp makes it 0600); the finished file gets
    the permissions of any new file, so colleagues sharing the folder can open it.
    """
    target = Path(target)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix + ".tmp",
                                         dir=target.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        os.chmod(temp, new_file_mode())
        os.replace(temp, target)
    finally:
        if temp.exists():
            temp.unlink()


def write_bytes(target: Path, data: bytes) -> None:
    with replacing(target) as temp:
        temp.write_bytes(data)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
