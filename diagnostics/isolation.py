"""Starting and containing a probe worker (first cut; the sandbox issue hardens it).

Each worker gets: its own session and process group (a timeout kills the
whole group), a scratch working directory that also serves as HOME and TMPDIR,
a scrubbed environment (nothing of the app's own environment leaks in), its
stdin closed, its stdout/stderr captured with a bound, and resource limits
that the worker applies to itself before importing TensorFlow (see
`worker.apply_limits`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ISOLATION_LEVEL = "process-group+rlimits"
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LD_LIBRARY_PATH", "CUDA_HOME", "OPENBLAS_CORETYPE")


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


def worker_env(stack: str, scratch: str, device: str, event_fd: int) -> dict:
    env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        HOME=scratch,
        TMPDIR=os.path.join(scratch, "tmp"),
        KERAS_HOME=os.path.join(scratch, ".keras"),
        MPLBACKEND="Agg",
        PYTHONPATH=PACKAGE_ROOT,
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
        TF_CPP_MIN_LOG_LEVEL="1",
        FITPROBE_EVENT_FD=str(event_fd),
    )
    env.setdefault("LANG", "C.UTF-8")
    if stack == "keras2":
        env["TF_USE_LEGACY_KERAS"] = "1"  # must be set before TensorFlow is imported
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    elif "CUDA_VISIBLE_DEVICES" in os.environ:
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


class Worker:
    """One running worker process and the threads draining its pipes."""

    def __init__(self, stack: str, job_path: str, workdir: str, scratch: str, device: str, on_line):
        read_fd, write_fd = os.pipe()
        self.stack = stack
        self.scratch = scratch
        self.stdout = BoundedCapture()
        self.stderr = BoundedCapture()
        self.killed_for: str | None = None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "diagnostics.worker", job_path],
            cwd=workdir,
            env=worker_env(stack, scratch, device, write_fd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
        os.close(write_fd)
        self._threads = [
            threading.Thread(
                target=self._drain, args=(self.process.stdout, self.stdout), daemon=True
            ),
            threading.Thread(
                target=self._drain, args=(self.process.stderr, self.stderr), daemon=True
            ),
            threading.Thread(target=self._events, args=(read_fd, on_line), daemon=True),
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _drain(pipe, capture: BoundedCapture) -> None:
        with pipe:
            for chunk in iter(lambda: pipe.read1(65536), b""):
                capture.feed(chunk)

    def _events(self, fd: int, on_line) -> None:
        with os.fdopen(fd, "rb") as pipe:
            for line in pipe:
                on_line(self.stack, line)
        on_line(self.stack, None)

    def kill(self, reason: str) -> None:
        self.killed_for = self.killed_for or reason
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self) -> int:
        """Wait for the process and its pipes; clean up whatever it left running."""
        code = self.process.wait()
        self.kill_leftovers()
        for t in self._threads:
            t.join(timeout=5)
        return code

    def kill_leftovers(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def make_scratch() -> str:
    scratch = tempfile.mkdtemp(prefix="fitprobe-")
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
