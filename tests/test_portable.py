"""Nothing in the package means something else on Windows, where the users are."""

import ast
import concurrent.futures
import functools
import multiprocessing
import shutil
import site
import sys
from pathlib import Path

import pytest
from conftest import answer

import bva_excel.app.ingest as inbox_module
import bva_excel.app.new as assessment_module
from bva_excel.app.ingest import ingest

PACKAGE = Path(__file__).resolve().parents[1] / "bva_excel"
# Modules that exist only on POSIX systems, or whose calls mean something else on Windows.
POSIX_MODULES = {"fcntl", "pwd", "grp", "resource", "termios", "tty", "pty", "posix", "posixpath", "crypt",
                 "syslog", "spwd", "nis", "pipes"}
# Calls that are missing on Windows or do something else there: os.kill(pid, 0) sends Ctrl-C (signal 0 is
# CTRL_C_EVENT) rather than testing that a process exists; os.symlink needs a privilege officers lack.
POSIX_CALLS = {f"os.{name}" for name in (
    "kill", "killpg", "fork", "forkpty", "getuid", "geteuid", "getgid", "getegid", "getgroups", "setuid", "setgid",
    "seteuid", "setegid", "setsid", "setpgid", "getpgid", "getpgrp", "chown", "lchown", "fchown", "fchmod", "lchmod",
    "symlink", "mkfifo", "mknod", "uname", "nice", "statvfs", "fstatvfs", "sync", "fdatasync", "getloadavg",
    "sched_getaffinity", "pipe2", "openpty", "ttyname", "wait3", "wait4", "O_NOFOLLOW", "O_CLOEXEC", "posix_fadvise",
    "sendfile")} | {"shutil.chown", "os.path.ismount"}
# The signal module is on Windows too, with SIGINT (Ctrl-C), SIGTERM, SIG_IGN and signal.signal; these are not.
POSIX_CALLS |= {f"signal.{name}" for name in (
    "SIGKILL", "SIGHUP", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGPIPE", "SIGQUIT", "SIGTSTP", "alarm",
    "setitimer", "getitimer", "pause", "pthread_kill", "pthread_sigmask", "siginterrupt", "sigwait")}


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def text_mode(call: ast.Call) -> bool:
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    return not (isinstance(mode, ast.Constant) and "b" in str(mode.value))


def posix_only(source: str) -> list[str]:
    """What in `source` is POSIX-only, or reads or writes text in the locale's code page (cp1252 on Windows)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in POSIX_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in POSIX_MODULES:
                found.append(node.module)
            found += [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in POSIX_CALLS]
        elif isinstance(node, ast.Attribute) and dotted(node) in POSIX_CALLS:
            found.append(dotted(node))
        elif isinstance(node, ast.Call) and not any(k.arg == "encoding" for k in node.keywords):
            name = dotted(node.func)
            if name.endswith((".read_text", ".write_text")) or (name == "open" and text_mode(node)):
                found.append(f"{name}() without an encoding, line {node.lineno}")
    return found


@pytest.mark.parametrize("source, expected", [
    ("import os\nos.kill(pid, 0)", ["os.kill"]),
    ("import fcntl", ["fcntl"]),
    ("from signal import SIGKILL", ["signal.SIGKILL"]),
    ("import signal\nsignal.alarm(3)", ["signal.alarm"]),
    ("import signal\nsignal.signal(signal.SIGINT, handler)", []),
    ("from os import getuid", ["os.getuid"]),
    ("path.read_text()", ["path.read_text() without an encoding, line 1"]),
    ("open(name, 'w')", ["open() without an encoding, line 1"]),
    ("open(name, 'rb'); path.write_text(t, encoding='utf-8'); os.replace(a, b); os.umask(0)", []),
])
def test_the_rule_finds_what_it_is_meant_to(source, expected):
    assert posix_only(source) == expected


@pytest.mark.parametrize("module", sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")))
def test_the_package_uses_nothing_posix_only(module):
    assert posix_only((PACKAGE / module).read_text(encoding="utf-8")) == []


def test_returns_are_read_in_processes_started_as_windows_starts_them(generated, monkeypatch):
    """Windows starts each reading process afresh (spawn), not as a copy of this one (fork)."""
    assessment, generation = generated
    monkeypatch.setattr(inbox_module, "PARALLEL_FROM", 2)
    monkeypatch.setattr(inbox_module.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", functools.partial(
        concurrent.futures.ProcessPoolExecutor, mp_context=multiprocessing.get_context("spawn")))
    for reviewer_id, path in generation.files.items():
        refs = [ref for ref, ids in generation.allocation.items() if reviewer_id in ids]
        answer(path, assessment.inbox / f"{reviewer_id}.xlsx", {ref: ("Amber", "Weak.", "No plan.") for ref in refs})
    report = ingest(assessment)
    assert [(o.name, o.status) for o in report.outcomes] == [(f"R0{n}.xlsx", "accepted") for n in (1, 2, 3)]


def test_the_template_is_found_after_a_per_user_install(tmp_path, monkeypatch):
    """`py -m pip install .` with the Microsoft Store's Python installs for the user alone: pip puts the
    template under the user's base folder, not beside the package nor under sys.prefix."""
    shipped = assessment_module.builtin_template()
    installed = tmp_path / "user" / "share" / "bva-excel" / "templates" / shipped.name
    installed.parent.mkdir(parents=True)
    shutil.copyfile(shipped, installed)
    monkeypatch.setattr(assessment_module, "__file__", str(tmp_path / "site-packages" / "bva_excel" / "app" / "new.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "python"))
    monkeypatch.setattr(site, "getuserbase", lambda: str(tmp_path / "user"))
    assert assessment_module.builtin_template() == installed
