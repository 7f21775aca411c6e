"""What a dead fitprobe process leaves behind, and clearing it at the next start.

A server killed with `kill -9` cannot clean up: the temporary folders holding copies of
users' scripts and data, and its workers' cgroups, stay. So every temporary folder
fitprobe makes is named after the process that made it (`temp_folder`: `fitprobe-KIND-
PID-…`), and a process is known by more than its pid (`process_id`: host, pid and the
pid's start time, which a reused pid does not share). `reap` removes the folders of
processes that are gone and the cgroups no process is in any more; another live
fitprobe's folders and groups are left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

from diagnostics.engine.sandbox import cgroup_parents, read_text

__all__ = ["alive", "process_id", "reap", "temp_folder"]

SETTLE_S = 60.0
FOLDER = re.compile(r"^fitprobe-[a-z]+-(\d+)-")


def temp_folder(kind: str) -> str:
    """A new temporary folder of this process's, `kind` saying what it holds."""
    return tempfile.mkdtemp(prefix=f"fitprobe-{kind}-{os.getpid()}-")


def _started(pid: int) -> str | None:
    """The pid's start time (clock ticks since boot), or None when there is no such pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, after the command's name


def process_id(pid: int | None = None) -> str:
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid)}"


def alive(owner: str) -> bool | None:
    """Whether the process `process_id` named is still running; None for another host's."""
    host, pid, started = (owner.split(":") + ["", "", ""])[:3]
    if host != socket.gethostname():
        return None
    return pid.isdigit() and _started(int(pid)) == started


def reap() -> dict:
    """Remove the temporary folders of dead fitprobe processes and empty fitprobe cgroups;
    returns how many of each."""
    folders = 0
    temp = Path(tempfile.gettempdir())
    for entry in temp.glob("fitprobe-*"):
        match = FOLDER.match(entry.name)
        if match and entry.is_dir() and _started(int(match.group(1))) is None:
            shutil.rmtree(entry, ignore_errors=True)
            folders += 1
    groups = 0
    for parent in cgroup_parents():
        for group in parent.glob("*"):
            if _unused(group):
                try:
                    group.rmdir()
                    groups += 1
                except OSError:
                    pass  # its last processes are still exiting, or it is in use
    return {"folders": folders, "cgroups": groups}


def _unused(group: Path) -> bool:
    """An empty group old enough that no starting worker is about to join it."""
    try:
        settled = time.time() - group.stat().st_mtime > SETTLE_S
    except OSError:
        return False
    return settled and group.is_dir() and not read_text(group / "cgroup.procs").split()
