"""Writing files so that a crash or a kill at any moment leaves the last good state, named and placed
so that Windows and Excel can open them.

Every file the tool owns is written beside its target under a temporary name and renamed over it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from filelock import FileLock, Timeout

from bva_excel.errors import AssessmentBusy, BvaError, Code, LockUnavailable, Problem, problem
from bva_excel.layout import (
    HISTORY_FOLDER,
)

FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')  # what Windows refuses in a file name
# Device names Windows reserves, alone or with any extension ("NUL.xlsx"), in any case.
RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
                     | {f"{port}{n}" for port in ("COM", "LPT") for n in "123456789\u00b9\u00b2\u00b3"})
NAME_LIMIT = 60  # a file name the tool makes, extension included: leaves room for a deep network folder
PATH_LIMIT = 259  # Windows' MAX_PATH less its closing NUL: the longest path every Windows program opens
TEMP_ROOM = len(".-12345678.tmp")  # what `replacing` adds to a name while the file is written
LOCK_FILE = "lock"  # in the records folder: held by the one command at a time that changes the assessment
LOCK_HOLDER = "lock-holder.json"  # beside it: who holds it, so that a refusal can say so


def windows_length(text: str) -> int:
    """Length as Windows counts it, in UTF-16 units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def safe_file_name(text: str, suffix: str = "", fallback: str = "file") -> str:
    """A file name Windows accepts, made from `text` (a reviewer's name, say) and `suffix` (".xlsx").

    Forbidden and control characters become spaces and runs of spaces one; there is no leading or
    trailing dot or space; a device name such as CON or LPT1 gets a leading '_'; and the whole name is
    at most NAME_LIMIT long.
    """
    stem = " ".join(FORBIDDEN.sub(" ", text).split()).strip(" .") or fallback
    if stem.split(".")[0].rstrip(" ").upper() in RESERVED:
        stem = f"_{stem}"
    while windows_length(stem + suffix) > NAME_LIMIT:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def file_name_keeping_its_end(text: str, suffix: str = "") -> str:
    """Like `safe_file_name`, but a name too long loses its middle ('…'), not its end: two service areas that
    differ only at the end ('... (North)', '... (South)') keep what tells them apart."""
    whole = safe_file_name(text, suffix)
    stem = " ".join(FORBIDDEN.sub(" ", text).split()).strip(" .")
    if windows_length(stem + suffix) <= NAME_LIMIT or not stem:
        return whole
    tail = stem[-max(12, len(stem) // 3):].lstrip()
    head = stem[:NAME_LIMIT]
    while head and windows_length(f"{head}…{tail}{suffix}") > NAME_LIMIT:
        head = head[:-1]
    return f"{head.rstrip(' .')}…{tail}{suffix}" if head else whole


def numbered_file_name(name: str, number: int) -> str:
    """`name` (made by `safe_file_name`) with " (number)" before its extension, still within NAME_LIMIT: the
    stem is shortened, never the number."""
    stem, dot, extension = name.rpartition(".")
    stem, suffix = (stem, f".{extension}") if dot else (name, "")
    mark = f" ({number})"
    while windows_length(stem + mark + suffix) > NAME_LIMIT:
        stem = stem[:-1]
    return stem.rstrip(" .") + mark + suffix


def check_path_length(path: Path, room: int = 0, what: str = "its path would be", hint: str = "") -> None:
    """Refuse, before writing anything, a path Windows could not open: longer than PATH_LIMIT when made
    absolute, with `room` for what is still to be added to it."""
    length = windows_length(os.path.abspath(path)) + room
    if length > PATH_LIMIT:
        raise BvaError(problem(Code.PATH_TOO_LONG, os.path.abspath(path), what=what, length=length, limit=PATH_LIMIT,
                               hint=hint))


def new_file_mode() -> int:
    """The permissions the user's umask gives a new file (what colleagues on a shared folder expect)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_problem(error: OSError, file: str | Path) -> Problem:
    """What a failed write means for the person running the command, naming `file`: a full disk, a file or
    folder they may not change, or another failure of the drive."""
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return problem(Code.DISK_FULL, str(file))
    reason = error.strerror or str(error) or type(error).__name__
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return problem(Code.NOT_WRITABLE, str(file), reason=reason)
    return problem(Code.WRITE_FAILED, str(file), reason=reason)


@contextlib.contextmanager
def writing(file: Path):
    """Say a failure to write (a full disk, no permission) as a problem naming `file`, the file the person knows:
    never the temporary file, or the part of a workbook, that was being written for it."""
    try:
        yield
    except OSError as exc:
        raise BvaError(write_problem(exc, file)) from None
    except Exception as exc:
        # The OSError met while XlsxWriter zipped a workbook comes wrapped; XlsxWriter is not loaded by a command
        # that writes no workbook (a reading process of ingest), and then nothing can have raised its error.
        exceptions = sys.modules.get("xlsxwriter.exceptions")
        if exceptions is not None and isinstance(exc, exceptions.FileCreateError):
            raise BvaError(write_problem(exc.args[0], file)) from None
        raise


class FilesPlaced:
    """The files one change to the assessment has put in place (a report, a history copy), so that the change
    can be undone whole when a later step fails (the records' commit on a full disk): each file replaced is kept
    aside, as a second name for the same bytes where the drive allows, until the change is done."""

    def __init__(self) -> None:
        self._placed: list[tuple[Path, Path | None]] = []

    def put(self, source: Path, target: Path) -> None:
        """Rename `source` over `target`, keeping what `target` held aside."""
        aside = None
        if target.exists():
            aside = target.with_name(f".{target.stem}-kept-{os.getpid()}{target.suffix}.tmp")
            aside.unlink(missing_ok=True)
            try:
                os.link(target, aside)
            except OSError:  # a drive without hard links: a copy (which may itself fail, before anything changed)
                shutil.copy2(target, aside)
        try:
            refused = move_over(source, target, Code.FILE_BUSY)
            if refused:
                raise BvaError(refused)
        except BaseException:
            if aside:
                aside.unlink(missing_ok=True)
            raise
        self._placed.append((target, aside))

    def undo(self) -> None:
        """Put back what each file held before (a file that was new is removed)."""
        for target, aside in reversed(self._placed):
            try:
                if aside:
                    os.replace(aside, target)
                else:
                    target.unlink(missing_ok=True)
            except OSError:
                pass  # the failure that made us undo is what is said; the next run finds a whole file either way
        self._placed.clear()

    @contextlib.contextmanager
    def together(self):
        """Files put in place in this block all stay, or (if the block fails) none does."""
        try:
            yield self
        except BaseException:
            self.undo()
            raise
        self.done()

    def done(self) -> None:
        """The change is recorded: what was kept aside is no longer needed."""
        for _, aside in self._placed:
            if aside:
                aside.unlink(missing_ok=True)
        self._placed.clear()


def _temporary_beside(target: Path) -> tuple[int, Path]:
    """A new temporary file beside `target`, private while it is written (mkstemp makes it 0600): its open handle
    and its path. A failure to make it is said naming `target`."""
    check_path_length(target, TEMP_ROOM)
    with writing(target):
        handle, name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix + ".tmp", dir=target.parent)
    return handle, Path(name)


def _put_in_place(temp: Path, target: Path, placed: FilesPlaced | None) -> None:
    """Give the finished `temp` the permissions of any new file (so colleagues sharing the folder can open it) and
    rename it over `target`: through `placed`, so that it can be undone with the rest of a change, when given."""
    with writing(target):
        os.chmod(temp, new_file_mode())
    if placed is not None:
        placed.put(temp, target)
        return
    refused = move_over(temp, target, Code.FILE_BUSY)
    if refused:
        raise BvaError(refused)


@contextlib.contextmanager
def replacing(target: Path, placed: FilesPlaced | None = None):
    """Yield a temporary path beside `target`; on success put it in place over `target` (`_put_in_place`), else
    delete it. A failure to write is said naming `target`."""
    target = Path(target)
    handle, temp = _temporary_beside(target)
    os.close(handle)
    try:
        with writing(target):
            yield temp
        _put_in_place(temp, target, placed)
    finally:
        temp.unlink(missing_ok=True)


def move_over(source: Path, target: Path, code: Code, busy: Path | None = None) -> Problem | None:
    """Rename `source` to `target`, replacing it; None once done, else the problem `code` naming `busy`
    (by default `target`: the file someone may have open).

    Windows refuses to replace or move a file that Excel has open (PermissionError), and leaves both as
    they were; so does any system where the user may not change the folder.
    """
    try:
        os.replace(source, target)
    except PermissionError as exc:
        return problem(code, str(busy or target), reason=exc.strerror or str(exc))
    return None


def write_bytes(target: Path, data: bytes) -> None:
    """`data` written whole to `target`, as `replacing` does, with the temporary file opened once: ingest writes
    one for every return it archives."""
    target = Path(target)
    handle, temp = _temporary_beside(target)
    try:
        with writing(target), os.fdopen(handle, "wb") as out:
            out.write(data)
        _put_in_place(temp, target, None)
    finally:
        temp.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def holding_lock(records_dir: Path, command: str, folder: Path, wait: float = 0):
    """One writer at a time, through an OS-level lock (released by the system if the holder dies); refused
    (AssessmentBusy) if another command holds it for more than `wait` seconds.

    Who holds it is written beside the lock, so that the refusal can say so.
    """
    lock = FileLock(str(records_dir / LOCK_FILE), timeout=wait)
    holder = records_dir / LOCK_HOLDER
    try:
        lock.acquire()
    except Timeout:
        raise AssessmentBusy(problem(Code.ASSESSMENT_BUSY, str(folder), holder=_describe_holder(holder))) from None
    except OSError as exc:  # a read-only share, a folder one may not change: said as such
        raise LockUnavailable(write_problem(exc, folder)) from None  # the folder the person knows
    try:
        try:
            holder.write_text(json.dumps({"command": f"bva {command}", "pid": os.getpid(), "host": socket.gethostname(),
                                          "user": _user(),
                                          "since": dt.datetime.now().replace(microsecond=0).isoformat()}),
                              encoding="utf-8")
        except OSError:  # only to say who holds the lock: a full disk is met, and said, by the command's own writes
            holder.unlink(missing_ok=True)
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no user name on this system: the holder is still named by machine
        return ""


def _describe_holder(path: Path) -> str:
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
        who = f"{held['user']} on {held['host']}" if held.get("user") else held["host"]
        return f"{held['command']}, run by {who} since {held['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


SCRATCH = "tmp"  # in the records folder: each run's temporary files, in a folder of its own
_IN_USE, _READY = ".in-use", ".ready"


def clear_abandoned_scratch(records_dir: Path) -> None:
    """Delete the temporary folders of runs that ended without clearing up (killed, or the machine stopped).

    A run holds an OS lock on its folder's `.in-use` file for as long as it lives, so a folder whose lock can
    be taken is abandoned. A folder not yet marked `.ready` is being made by a run starting now, and is left.
    """
    root = records_dir / SCRATCH
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if not (folder / _READY).exists():
            continue
        lock = FileLock(str(folder / _IN_USE), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            continue  # a run that is still going
        except OSError:
            continue  # not ours to judge (a folder we may not write to)
        lock.release()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def scratch_space(records_dir: Path):
    """A folder of this run's own inside the assessment's records for temporary files (XlsxWriter's parts of a
    workbook being written, a LibreOffice profile), yielded as a Path; deleted when the run ends, and by the next
    run if this one is killed. Nothing is left in the system's temporary folder."""
    records_dir = Path(os.path.abspath(records_dir))  # the same folder, whatever the current folder becomes
    clear_abandoned_scratch(records_dir)
    root = records_dir / SCRATCH
    root.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    lock = FileLock(str(folder / _IN_USE), timeout=0)
    lock.acquire()
    (folder / _READY).touch()
    try:
        yield folder
    finally:
        lock.release()
        shutil.rmtree(folder, ignore_errors=True)


def keep_history(path: Path, placed: FilesPlaced | None = None, content: bytes | None = None) -> Path | None:
    """Copy the report at `path` into history/ as 'report YYYY-MM-DD HHMMSS.xlsx' (when it was last saved; a
    name that ends in that date already gets only the time), never over another copy; None when an identical
    copy is already there. With `placed`, the copy is undone with the rest of the change if it fails. With
    `content` (the file's bytes as the command read them), the copy is exactly what was read."""
    stat = path.stat()
    saved = dt.datetime.fromtimestamp(stat.st_mtime)
    folder = path.parent / HISTORY_FOLDER
    folder.mkdir(exist_ok=True)
    day = f"{saved:%Y-%m-%d}"
    stem = f"{path.stem} {saved:%H%M%S}" if path.stem.endswith(day) else f"{path.stem} {day} {saved:%H%M%S}"
    digest = None
    for number in range(1, 1000):
        target = folder / (f"{stem}{path.suffix}" if number == 1 else f"{stem} ({number}){path.suffix}")
        if not target.exists():
            break
        digest = digest or (hashlib.sha256(content).hexdigest() if content is not None else sha256_of(path))
        if sha256_of(target) == digest:
            return None
    check_path_length(target)
    with replacing(target, placed) as temp:
        if content is None:
            shutil.copyfile(path, temp)
        else:
            temp.write_bytes(content)
        os.utime(temp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return target


