"""The sandbox a probe worker runs in, and how strong it is on this machine.

A probe runs strangers' code. Where bubblewrap works (`bwrap`, Debian package
`bubblewrap`), each worker runs inside it: every namespace unshared (no network, its
own PIDs, so a timeout takes `setsid` grandchildren down with it), an unprivileged
uid/gid, no capabilities, a cleared environment, a private size-limited `/tmp`, and
read-only binds of only what the job needs (system libraries, the Python install,
the venv, fitprobe's worker code, the job's inbox); everything else is a read-only
empty root. Where a pids cgroup is writable, each worker gets its own and a process
cap that holds for root too (RLIMIT_NPROC does not). Where bubblewrap or namespaces
are unavailable (some CI runners, macOS), workers fall back to resource limits and a
process group of their own (see `isolation.py`); `detect()` says which level is in
force, and every report carries it.

`FITPROBE_SANDBOX=none` forces the fallback (to compare, say); `=bwrap` makes a
missing bubblewrap an error instead of a fallback.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "BWRAP",
    "FALLBACK",
    "INBOX",
    "Isolation",
    "PidsCgroup",
    "bindable",
    "bwrap_command",
    "cgroup_parents",
    "detect",
    "read_text",
    "system_binds",
]

SANDBOX_ENV = "FITPROBE_SANDBOX"
BWRAP = "bubblewrap"
FALLBACK = "rlimits+process-group"
INBOX = "/job"  # where a sandboxed worker finds its job and the user's file
HOME = "/tmp/home"  # a sandboxed worker's HOME (KERAS_HOME below it)
WORKDIR = "/tmp/work"  # and its working directory
SANDBOX_UID = SANDBOX_GID = 65534  # nobody / nogroup
TMP_BYTES = 1024 * 1024 * 1024  # the private /tmp: scratch, HOME, the user's writes
SHM_BYTES = 512 * 1024 * 1024  # a private /dev/shm, not the host's (memory, counted as such)
CPU_SHARE = 0.25  # a worker's CPU weight next to the server's (which has the default)
MAX_TASKS = 1024  # processes and threads per worker (TensorFlow alone runs dozens)
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding diagnostics/
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/libx32")
ETC_FILES = (  # what the dynamic loader, Python and TensorFlow read from /etc
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/alternatives",
)
CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")  # cgroup v1 pids, cgroup v2
CGROUP_V2 = "/sys/fs/cgroup"
# Where a worker's memory and CPU groups may be made, in order of preference:
# (version, hierarchy, controller).
MEMORY_HIERARCHIES = (("v2", CGROUP_V2, "memory"), ("v1", "/sys/fs/cgroup/memory", "memory"))
CPU_HIERARCHIES = (("v2", CGROUP_V2, "cpu"), ("v1", "/sys/fs/cgroup/cpu", "cpu"))


@dataclass(frozen=True)
class Isolation:
    """How a probe worker is contained here; `label` is what reports and the app show."""

    level: str  # BWRAP | FALLBACK | "local" (engine/local.py: no sandbox)
    process_cap: str | None  # "pids-cgroup" | "rlimit-nproc" | None
    network: bool  # whether user code can reach a network
    filesystem: str
    reason: str | None = None  # why bubblewrap is not in force, when it is not

    @property
    def label(self) -> str:
        if self.level == "local":
            return "local (the user's own machine and environment, no sandbox)"
        parts = [self.level]
        if self.process_cap:
            parts.append(self.process_cap)
        text = "+".join(parts)
        if self.process_cap is None:
            text += " (no process cap: " + (
                "root ignores RLIMIT_NPROC and no pids cgroup is writable)"
                if os.geteuid() == 0
                else "none set)"
            )
        if self.reason:
            text += f" ({self.reason})"
        return text

    def to_dict(self) -> dict:
        return {**asdict(self), "label": self.label}


def system_binds() -> list[str]:
    """Host paths a worker needs, read-only: system libraries, Python, the venv, fitprobe."""
    paths = [p for p in SYSTEM_DIRS + ETC_FILES if os.path.exists(p)]
    for prefix in {sys.base_prefix, sys.prefix, sys.exec_prefix}:
        if not any(prefix == p or prefix.startswith(p + "/") for p in SYSTEM_DIRS):
            paths.append(prefix)
    paths.append(str(PACKAGE_ROOT / "diagnostics"))
    return paths


def bwrap_command(
    argv: list[str],
    *,
    env: dict,
    inbox: str,
    extra_ro: list[str] = (),
    chdir: str = "/tmp/work",
    gpu: bool = False,
) -> list[str]:
    """The bubblewrap command line that runs `argv` in the sandbox."""
    cmd = [
        "bwrap",
        "--unshare-all",  # no network, own PIDs, IPC, UTS and cgroup namespaces
        "--unshare-user",  # and a user namespace (required, not just tried)
        "--disable-userns",  # and no namespaces of its own inside
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_GID),
        "--clearenv",
        # The private /tmp comes first: binds below may land under /tmp.
        "--size",
        str(TMP_BYTES),
        "--tmpfs",
        "/tmp",
        "--dir",
        HOME,
        "--dir",
        WORKDIR,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(SHM_BYTES),
        "--tmpfs",
        "/dev/shm",
    ]
    for path in [*system_binds(), *extra_ro]:
        cmd += ["--ro-bind", path, path]
    if gpu:  # the driver's device nodes (its libraries are under /usr, bound already)
        for node in sorted(Path("/dev").glob("nvidia*")):
            cmd += ["--dev-bind", str(node), str(node)]
    cmd += ["--ro-bind", inbox, INBOX, "--remount-ro", "/", "--chdir", chdir]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", *argv]


def bindable(folder: str) -> bool:
    """Whether a host folder can be shown in the sandbox where it is: not one of the
    sandbox's own mount points (`/tmp`, `/proc`, ...) or a folder above one."""
    folder = os.path.abspath(folder).rstrip("/") or "/"
    own = ("/tmp", "/proc", "/dev", INBOX, *SYSTEM_DIRS)
    return not any(p == folder or p.startswith(folder + "/") or folder == "/" for p in own)


class Cgroup:
    """One worker's group in a cgroup hierarchy (a v1 controller's, or the v2 one), with
    `settings` written into it: every process the worker starts is in it too."""

    def __init__(self, root: str, settings: dict[str, str]):
        self.path = Path(root) / "fitprobe" / uuid.uuid4().hex[:12]
        self.path.mkdir(parents=True)
        try:
            for name, value in settings.items():
                (self.path / name).write_text(value)
        except OSError:
            self.path.rmdir()
            raise

    @property
    def procs(self) -> str:
        return str(self.path / "cgroup.procs")

    def wrap(self, cmd: list[str]) -> list[str]:
        """`cmd`, started from inside the cgroup: a shell joins it, then execs `cmd`."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', self.procs, *cmd]

    def kill(self) -> bool:
        """SIGKILL every process in it (escaped `setsid` ones too); True once it is empty."""
        try:
            pids = (self.path / "cgroup.procs").read_text().split()
        except OSError:
            return True
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, ValueError):
                pass
        return not pids

    def oom_kills(self) -> int:
        """Processes the kernel ended because the group went over its memory limit (a
        memory group's `memory.events` in v2, `memory.oom_control` in v1; 0 otherwise)."""
        for name in ("memory.events", "memory.oom_control"):
            for line in read_text(self.path / name).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value)
        return 0

    def remove(self, wait_s: float = 5.0) -> None:
        """Kill what is left in it, wait for the kernel to reap it, and delete it."""
        deadline = time.monotonic() + wait_s
        while not self.kill() and time.monotonic() < deadline:
            time.sleep(0.02)
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # busy: its last tasks are still exiting
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.02)



class PidsCgroup(Cgroup):
    """A pids cgroup of one worker: `pids.max` caps its processes and threads, root's too."""

    def __init__(self, root: str, limit: int = MAX_TASKS):
        super().__init__(root, {"pids.max": str(limit)})

    @staticmethod
    def writable_root() -> str | None:
        for root in CGROUP_ROOTS:
            base = Path(root)
            if root == "/sys/fs/cgroup" and "pids" not in read_text(base / "cgroup.controllers"):
                continue
            if not (base / "cgroup.procs").exists():
                continue
            try:
                probe = PidsCgroup(root, limit=8)
            except OSError:
                continue
            probe.remove()
            return root
        return None


def read_text(path: Path) -> str:
    """A kernel file's text (cgroup, /proc), or "" where there is none."""
    try:
        return path.read_text()
    except OSError:
        return ""


def _bwrap_works() -> str | None:
    """None when bubblewrap runs a program here with every flag fitprobe uses, else why not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed"
    inbox = os.path.dirname(os.path.abspath(__file__))  # any readable directory will do
    cmd = bwrap_command([sys.executable, "-c", "print('ok')"], env={}, inbox=inbox)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap failed to start: {exc}"
    if done.returncode != 0 or done.stdout.strip() != "ok":
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"bubblewrap cannot sandbox here: {last}"
    return None


@functools.cache
def detect() -> Isolation:
    """The strongest isolation that works here (checked once per process)."""
    wanted = os.environ.get(SANDBOX_ENV, "auto").lower()
    why_not = "turned off by FITPROBE_SANDBOX=none" if wanted == "none" else _bwrap_works()
    if why_not and wanted == "bwrap":
        raise RuntimeError(f"FITPROBE_SANDBOX=bwrap, but {why_not}")
    cgroup = PidsCgroup.writable_root()
    if why_not is None:
        return Isolation(
            BWRAP,
            "pids-cgroup" if cgroup else None,
            network=False,
            filesystem="read-only, but for a private /tmp of 1 GiB",
            reason=None,
        )
    cap = "pids-cgroup" if cgroup else ("rlimit-nproc" if os.geteuid() != 0 else None)
    return Isolation(
        FALLBACK,
        cap,
        network=True,
        filesystem="the host's, with a scratch directory as working directory and HOME",
        reason=why_not,
    )


def resource_cgroups(memory_mb: int | None) -> tuple[list[Cgroup], str]:
    """A worker's memory and CPU-share groups, where a cgroup hierarchy lets us make them
    (v2 where it has the controller, else v1), and words for the report: memory counted
    for all the worker's processes together, its /dev/shm and /tmp included."""
    groups, words = [], []
    if memory_mb:
        limit = str(int(memory_mb) * 1024 * 1024)
        memory = _first_cgroup(
            MEMORY_HIERARCHIES,
            {"v2": {"memory.max": limit, "memory.swap.max": "0"},
             "v1": {"memory.limit_in_bytes": limit}},
        )  # fmt: skip
        if memory is not None:
            groups.append(memory[1])
            words.append(
                f"memory: cgroup {memory[0]}, {memory_mb} MB for all its processes together"
            )
        else:
            words.append(f"memory: RLIMIT_DATA, {memory_mb} MB per process (no memory cgroup)")
    cpu = _first_cgroup(
        CPU_HIERARCHIES,
        {"v2": {"cpu.weight": str(max(1, int(100 * CPU_SHARE)))},
         "v1": {"cpu.shares": str(int(1024 * CPU_SHARE))}},
    )  # fmt: skip
    if cpu is not None:
        groups.append(cpu[1])
        words.append(f"CPU: cgroup {cpu[0]} weight {CPU_SHARE:g} of the server's")
    return groups, "; ".join(words)


def _first_cgroup(hierarchies, settings: dict) -> tuple[str, Cgroup] | None:
    """(version, group) of the first hierarchy where the group can be made and set (with
    `settings[version]`), below this process's own group there (so the limits above it
    still hold)."""
    for version, root, controller in hierarchies:
        base = _own_base(version, root, controller)
        if base is None:
            continue
        if version == "v2":
            if controller not in read_text(base / "cgroup.controllers"):
                continue
            for parent in (base, base / "fitprobe"):  # the controller must reach our groups
                try:
                    parent.mkdir(exist_ok=True)
                    (parent / "cgroup.subtree_control").write_text(f"+{controller}")
                except OSError:
                    pass
        if not (base / "cgroup.procs").exists():
            continue
        try:
            return version, Cgroup(str(base), settings[version])
        except OSError:
            continue
    return None


def _own_base(version: str, root: str, controller: str) -> Path | None:
    """This process's own group in that hierarchy, as a folder, or None."""
    own = _own_group(version, controller)
    return None if own is None else Path(root) / own.lstrip("/")


def cgroup_parents() -> list[Path]:
    """Every folder fitprobe makes its workers' groups in (each `.../fitprobe`), for a
    later start to clear what a killed server left (`leftovers.reap`)."""
    parents = [Path(root) / "fitprobe" for root in CGROUP_ROOTS]
    for version, root, controller in (*MEMORY_HIERARCHIES, *CPU_HIERARCHIES):
        base = _own_base(version, root, controller)
        if base is not None:
            parents.append(base / "fitprobe")
    return list(dict.fromkeys(parents))


def _own_group(version: str, controller: str) -> str | None:
    """This process's group in that hierarchy, from /proc/self/cgroup."""
    for line in read_text(Path("/proc/self/cgroup")).splitlines():
        number, names, path = (line.split(":", 2) + ["", ""])[:3]
        if version == "v2" and number == "0" and names == "":
            return path
        if version == "v1" and controller in names.split(","):
            return path
    return None
