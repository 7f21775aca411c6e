"""Starting and containing a probe worker, parent side.

A `Worker` is one process of `diagnostics.worker` for one stack and device, started in the
sandbox `sandbox.detect()` found (bubblewrap, or resource limits and a process group
of its own), with its stdin a pipe that will carry its one job (and, while the job
runs, the engine's `where` before it stops the worker: `ask`), its stdout/stderr
captured with a bound, and its events read from a pipe of their own. It is started
either for a job at hand (a cold probe) or ahead of time (the warm pool, `pool.py`);
either way it imports TensorFlow, says `worker-ready`, and waits for `send(job)`.

What a worker gets, whatever the sandbox: its own session and process group (a
timeout kills the whole group, and with bubblewrap the whole PID namespace, `setsid`
grandchildren included), a scratch working directory and HOME, a cleared
environment (nothing of the app's own environment leaks in), a pids cgroup where one
is writable, and the limits `worker.main.apply_limits` sets before TensorFlow is imported.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from diagnostics.engine import sandbox
from diagnostics.engine.channel import EventChannel
from diagnostics.engine.leftovers import temp_folder
from diagnostics.engine.sandbox import BWRAP, Isolation, PidsCgroup
from diagnostics.schema import job_key

__all__ = ["BoundedCapture", "Worker", "describe_exit", "make_scratch", "remove_scratch"]

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding diagnostics/
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LD_LIBRARY_PATH", "CUDA_HOME", "OPENBLAS_CORETYPE")
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
# Keras 2 is `tf_keras`, selected by TF_USE_LEGACY_KERAS=1, where it is installed
# (TensorFlow 2.16 and newer); an older TensorFlow's own tf.keras is Keras 2, and the
# variable would break it. Workers run in this environment: the parent can tell.
LEGACY_KERAS = importlib.util.find_spec("tf_keras") is not None


class BoundedCapture:
    """Keeps the head and the tail of a stream, counts the rest."""

    def __init__(self, head: int = 32_768, tail: int = 32_768):
        self.head_limit, self.tail_limit = head, tail
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        if not self.tail:
            return head
        skipped = self.total - len(self.head) - len(self.tail)
        middle = f"\n… [{skipped} bytes not kept] …\n" if skipped > 0 else ""
        return head + middle + self.tail.decode("utf-8", "replace")

    def to_dict(self) -> dict:
        kept = len(self.head) + len(self.tail)
        return {"text": self.text(), "bytes": self.total, "truncated": self.total > kept}


def worker_env(stack: str, device: str, home: str, tmp: str) -> dict:
    """The whole environment of a worker: a few harmless host settings, nothing else."""
    env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    env.setdefault("PATH", SANDBOX_PATH)
    env.update(
        HOME=home,
        TMPDIR=tmp,
        KERAS_HOME=os.path.join(home, ".keras"),
        MPLBACKEND="Agg",
        PYTHONPATH=PACKAGE_ROOT,
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
        TF_CPP_MIN_LOG_LEVEL="1",
    )
    env.setdefault("LANG", "C.UTF-8")
    if stack == "keras2" and LEGACY_KERAS:
        env["TF_USE_LEGACY_KERAS"] = "1"  # must be set before TensorFlow is imported
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    elif "CUDA_VISIBLE_DEVICES" in os.environ:
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


def local_env(stack: str, device: str) -> dict:
    """Local mode: the user's own environment, with what the worker needs on top. The
    checkout's folder comes after the user's own PYTHONPATH (an installed fitprobe needs
    none), so nothing of fitprobe's shadows a module of theirs."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (env.get("PYTHONPATH"), PACKAGE_ROOT) if p),
        PYTHONUNBUFFERED="1",
        FITPROBE_LOCAL="1",  # the user's own machine: the worker sets no limits
        MPLBACKEND=env.get("MPLBACKEND", "Agg"),
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    if stack == "keras2" and LEGACY_KERAS:
        env["TF_USE_LEGACY_KERAS"] = "1"
    else:
        env.pop("TF_USE_LEGACY_KERAS", None)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    return env


def _tasks_of(uid: int) -> int:
    """Processes and threads this machine runs for `uid` (what RLIMIT_NPROC counts)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            count += int(fields.get("Threads", "1").strip() or 1)
    return count


class Worker:
    """One worker process for `stack` and `device`, waiting for its one job."""

    def __init__(
        self,
        stack: str,
        device: str = "cpu",
        *,
        memory_mb: int | None = None,
        file_mb: int = 1024,
        visible: list[str] = (),
        isolation: Isolation | None = None,
        local: bool = False,
    ):
        """`visible`: host folders the job reads where they are (the script's folder, the
        data), read-only in the sandbox; jobs started ahead of time have none. `local`:
        the user's own machine (local mode): this environment and working directory, no
        sandbox, no limits."""
        self.stack, self.device = stack, device
        if local:
            from diagnostics.engine.local import LOCAL

            isolation = LOCAL
        self.isolation = isolation or sandbox.detect()
        self.stdout, self.stderr = BoundedCapture(), BoundedCapture()
        self.channel = EventChannel()
        self.killed_for: str | None = None
        self.warm = False  # started ahead of time by the pool
        self.ready = threading.Event()
        self.started_at = time.monotonic()  # its TensorFlow import began about now
        self.inbox = temp_folder("inbox")
        self.scratch: str | None = None
        self.cgroup: PidsCgroup | None = None
        self.limits: list = []  # its memory and CPU-share cgroups (sandbox.resource_cgroups)
        self.limits_words = ""  # how its memory and CPU are bounded, for the report
        self.oom_kills = 0  # its processes the kernel ended at the memory limit
        self._listener = None
        self._early: list = []
        self._lock = threading.Lock()

        read_fd, write_fd = os.pipe()
        cmd, outer_env, cwd = self._command(write_fd, memory_mb, file_mb, visible, local)
        self.process = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=outer_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
        os.close(write_fd)
        self._threads = [
            threading.Thread(target=self._drain, args=(self.process.stdout, self.stdout)),
            threading.Thread(target=self._drain, args=(self.process.stderr, self.stderr)),
            threading.Thread(target=self._events, args=(read_fd,)),
        ]
        for t in self._threads:
            t.daemon = True
            t.start()

    def _command(self, write_fd: int, memory_mb, file_mb, visible, local: bool):
        """(command, its environment, its working directory) for this worker."""
        stack, device = self.stack, self.device
        argv = [
            sys.executable,
            "-P",  # the working directory (the user's folder, locally) is not on sys.path
            "-m",
            "diagnostics.worker",
            stack,
            device,
            str(0 if local else memory_mb or 0),
            str(0 if local else file_mb),
            str(write_fd),  # the event pipe, which the worker moves before any user code
        ]
        if local:
            cmd, outer_env, cwd = argv, local_env(stack, device), os.getcwd()
        elif self.isolation.level == BWRAP:
            env = worker_env(stack, device, sandbox.HOME, "/tmp")
            cmd = sandbox.bwrap_command(
                argv, env=env, inbox=self.inbox, extra_ro=list(visible), gpu=device != "cpu"
            )
            outer_env, cwd = {"PATH": SANDBOX_PATH}, self.inbox
        else:
            self.scratch = make_scratch()
            env = worker_env(stack, device, self.scratch, f"{self.scratch}/tmp")
            cmd, outer_env, cwd = argv, env, self.scratch
            if self.isolation.process_cap == "rlimit-nproc":
                env["FITPROBE_NPROC"] = str(_tasks_of(os.getuid()) + sandbox.MAX_TASKS)
        if self.isolation.process_cap == "pids-cgroup":
            root = PidsCgroup.writable_root()
            if root is not None:
                self.cgroup = PidsCgroup(root)
                cmd = self.cgroup.wrap(cmd)
        if not local:
            self.limits, self.limits_words = sandbox.resource_cgroups(memory_mb)
            for group in self.limits:
                cmd = group.wrap(cmd)
        return cmd, outer_env, cwd

    # --- the job --------------------------------------------------------------------
    def place(self, path: Path, name: str) -> str:
        """Copy the user's file into the inbox; returns its path as the worker sees it."""
        target = Path(self.inbox) / name
        shutil.copyfile(path, target)
        os.chmod(target, 0o644)
        return self._inside(name)

    def place_text(self, text: str, name: str) -> str:
        """Write a script (a converted notebook, say) into the inbox, like `place`."""
        target = Path(self.inbox) / name
        target.write_text(text, encoding="utf-8")
        os.chmod(target, 0o644)
        return self._inside(name)

    def place_data(self, folder: str) -> str:
        """Link (or copy, across file systems) attached data into the inbox beside the
        user's file, read-only in the sandbox; returns the inbox as the worker sees it.
        An entry named like the user's file is left out: the script is the user's."""

        def link(src, dst):
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

        inbox = Path(self.inbox)
        for entry in sorted(Path(folder).iterdir()):
            target = inbox / entry.name
            if target.exists():
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, target, copy_function=link, symlinks=False)
                for root, _dirs, _files in os.walk(target):
                    os.chmod(root, 0o755)
            elif entry.is_file():
                link(entry, target)
        return self._inside("").rstrip("/")

    def _inside(self, name: str) -> str:
        inside = sandbox.INBOX if self.isolation.level == BWRAP else self.inbox
        return f"{inside}/{name}"

    def workdir(self) -> str:
        """The working directory the worker starts in (a scratch directory of its own)."""
        return sandbox.WORKDIR if self.isolation.level == BWRAP else self.scratch

    def listen(self, on_line) -> None:
        """Hand every event line from now on (and any that came early) to `on_line`."""
        with self._lock:
            self._listener = on_line
            early, self._early = self._early, []
        for line in early:
            on_line(self.stack, line)

    def send(self, job: dict) -> None:
        """The worker's one job. Its stdin stays open for `ask` until `close`. From now
        on only events framed under the job's key count (`channel`)."""
        self.channel.key = job_key(job)
        self.ask(json.dumps(job))

    def ask(self, command: str) -> None:
        """One line to the worker (`schema.WHERE_COMMAND`, once its job runs)."""
        try:
            self.process.stdin.write((command + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass  # it died already: its exit status and stderr tell why

    # --- pipes ----------------------------------------------------------------------
    @staticmethod
    def _drain(pipe, capture: BoundedCapture) -> None:
        with pipe:
            for chunk in iter(lambda: pipe.read1(65536), b""):
                capture.feed(chunk)

    def _events(self, fd: int) -> None:
        try:
            for line in self.channel.lines(fd):
                event = self.channel.accept(line)
                if event is None:
                    continue
                if not self.ready.is_set() and b'"worker-ready"' in event:
                    self.ready.set()
                    continue
                self._deliver(event)
        finally:
            os.close(fd)
        if self.channel.flooded:  # its pipe is not read any more: end it
            self.kill("event-flood")
        self.ready.set()  # a worker that died before it was ready wakes its waiters too
        self._deliver(None)

    def _deliver(self, line) -> None:
        with self._lock:
            listener = self._listener
            if listener is None:
                self._early.append(line)
                return
        listener(self.stack, line)

    # --- the end ----------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self, reason: str) -> None:
        self.killed_for = self.killed_for or reason
        self.kill_leftovers()

    def kill_leftovers(self) -> None:
        """The process group, and (in bubblewrap) the PID namespace with it."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for group in [self.cgroup, *self.limits]:
            if group is not None:
                group.kill()  # escaped `setsid` children too

    def finish(self) -> int:
        """Wait for the process and its pipes; clean up whatever it left. Returns the
        worker's exit status, negative for a signal (as `subprocess` has it)."""
        code = self.process.wait()
        self.oom_kills = sum(group.oom_kills() for group in self.limits)
        self.kill_leftovers()
        for t in self._threads:
            t.join(timeout=5)
        if self.isolation.level == BWRAP and code > 128 and not self.killed_for:
            code = 128 - code  # bubblewrap exits 128 + N when its child died of signal N
        if self.oom_kills and code == -9 and not self.killed_for:
            self.killed_for = "memory-cap"  # the kernel's, at the worker's memory limit
        return code

    def close(self) -> None:
        """Kill it if it still runs and remove its inbox, scratch and cgroup."""
        try:
            self.process.stdin.close()  # a worker still waiting reads no job: it exits
        except OSError:
            pass
        self.kill_leftovers()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for group in [self.cgroup, *self.limits]:
            if group is not None:
                group.remove()
        shutil.rmtree(self.inbox, ignore_errors=True)
        if self.scratch:
            remove_scratch(self.scratch)


def make_scratch() -> str:
    scratch = temp_folder("scratch")
    os.makedirs(os.path.join(scratch, "tmp"))
    return scratch


def remove_scratch(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"
