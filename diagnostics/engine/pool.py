"""The warm pool: probe workers started ahead of time, one job each.

Importing TensorFlow is most of a small probe's time, so the app keeps a few
`isolation.Worker`s per stack started, each already past its import and waiting for
a job (in the same sandbox as any other worker). `take()` hands one to a probe,
which sends it the job; the worker runs that one job and exits. The pool refills in
the background: a worker is never reused, so nothing one user's code did can reach
the next user's probe. `take()` never waits: with no worker left (a burst of probes),
the probe starts a worker of its own, as the command line always does. While running
probes keep half the cores busy, refilling waits: an import beside a probe slows it.

Workers are never forked from the app process (forking from a process that has run a
TensorFlow op hangs the child): each is a fresh `python -m diagnostics.worker`.

`IMPORT_TIMES` keeps how long a worker's import takes per stack, from what workers
measured (`import_s` of their `stack-start`): a probe that found no ready worker says
how long its own start will take.
"""

from __future__ import annotations

import atexit
import os
import threading

from diagnostics.engine.isolation import Worker
from diagnostics.schema import DEFAULT_MEMORY_MB, STACKS

__all__ = ["IMPORT_TIMES", "POOL_SIZE_ENV", "ImportTimes", "WorkerPool", "default_size"]

POOL_SIZE_ENV = "FITPROBE_POOL_SIZE"
REFILL_EVERY_S = 0.5
DEFAULT_IMPORT_S = 10.0  # a TensorFlow import on 2 cores, before any was measured here


class ImportTimes:
    """Seconds a worker's TensorFlow import takes, per stack: a running mean of the
    imports measured here (recent ones weigh `weight`), `default` before the first."""

    def __init__(self, default: float = DEFAULT_IMPORT_S, weight: float = 0.3):
        self.default, self.weight = default, weight
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, stack: str, seconds) -> None:
        try:
            seconds = float(seconds)
        except (TypeError, ValueError):
            return
        if not 0 < seconds < 3600:
            return
        with self._lock:
            known = self._seconds.get(stack)
            self._seconds[stack] = (
                seconds if known is None else known + self.weight * (seconds - known)
            )

    def estimate(self, stack: str) -> float:
        with self._lock:
            return self._seconds.get(stack, self.default)


IMPORT_TIMES = ImportTimes()


def default_size() -> int:
    """Workers kept ready per stack: 1 suits 2 cores (2 idle TensorFlow processes)."""
    if os.environ.get(POOL_SIZE_ENV):
        return max(0, int(os.environ[POOL_SIZE_ENV]))
    return max(1, (os.cpu_count() or 2) // 4)


class WorkerPool:
    def __init__(
        self,
        size: int | None = None,
        *,
        stacks: list[str] = STACKS["both"],
        device: str = "cpu",
        memory_mb: int | None = None,
    ):
        self.size = default_size() if size is None else size
        self.stacks, self.device = list(stacks), device
        self.memory_mb = DEFAULT_MEMORY_MB if memory_mb is None else memory_mb
        self._idle: dict[str, list[Worker]] = {s: [] for s in self.stacks}
        self._busy: list[Worker] = []  # taken, still running their job
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self.started = self.taken = 0
        self._thread = threading.Thread(target=self._refill, name="fitprobe-pool", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def take(self, stack: str, device: str) -> Worker | None:
        """A started worker for `stack` (a ready one first), or None: start your own."""
        if device != self.device or stack not in self._idle:
            return None
        with self._lock:
            idle = [w for w in self._idle[stack] if w.alive]
            dead = [w for w in self._idle[stack] if not w.alive]
            idle.sort(key=lambda w: not w.ready.is_set())
            worker = idle.pop(0) if idle else None
            self._idle[stack] = idle
            if worker is not None:
                self.taken += 1
        for w in dead:  # died while waiting (killed from outside, say)
            w.close()
        self._wake.set()
        if worker is not None:
            worker.warm = True
            with self._lock:
                self._busy.append(worker)
        return worker

    def ready(self, stack: str) -> int:
        """Workers of `stack` past their import, waiting for a job."""
        with self._lock:
            return sum(1 for w in self._idle[stack] if w.ready.is_set() and w.alive)

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Until every stack has `size` workers ready (for tests and benchmarks)."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                if all(self.ready(s) >= self.size for s in self.stacks):
                    return True
                deadline.wait(0.1)
            return False
        finally:
            timer.cancel()

    def _crowded(self) -> bool:
        """Whether running jobs already use half the cores: a TensorFlow import started now
        would slow them down (on 2 cores, a probe runs 1.5x slower beside one)."""
        with self._lock:
            self._busy = [w for w in self._busy if w.alive]
            return len(self._busy) >= max(1, (os.cpu_count() or 1) // 2)

    def _refill(self) -> None:
        while not self._closed:
            if self._crowded():  # refill once the running probes are done
                self._wake.wait(REFILL_EVERY_S)
                self._wake.clear()
                continue
            for stack in self.stacks:
                with self._lock:
                    missing = self.size - sum(1 for w in self._idle[stack] if w.alive)
                for _ in range(max(0, missing)):
                    if self._closed:
                        return
                    try:
                        worker = Worker(stack, self.device, memory_mb=self.memory_mb)
                    except OSError:  # out of processes or files: try again later
                        break
                    with self._lock:
                        self._idle[stack].append(worker)
                        self.started += 1
            self._wake.wait(REFILL_EVERY_S)
            self._wake.clear()

    def close(self) -> None:
        """Stop refilling and end every idle worker (their stdin closes: they exit)."""
        self._closed = True
        self._wake.set()
        with self._lock:
            idle = [w for workers in self._idle.values() for w in workers]
            self._idle = {s: [] for s in self.stacks}
        for worker in idle:
            worker.close()
