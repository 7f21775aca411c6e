"""Running the workers of one probe: place the user's files, send each worker its job,
read their events until they end, the time limit does or the caller cancels, and
assemble each stack's record and runs (parent side).

Before stopping a worker that still runs the script, the runner asks it where the
user's code is (`schema.WHERE_COMMAND`) and waits up to `WHERE_WAIT_S` for its
`stopped-at`. Besides the workers' events, `on_event` hears the engine's own
"stack-launch": a stack's worker was chosen (`warm`: from the pool; `ready`: past its
TensorFlow import, else `starting_s`, the seconds its import should still take;
`time_limit_s`, counted from now).
"""

from __future__ import annotations

import json
import queue
import secrets
import threading
import time
from dataclasses import dataclass

from diagnostics.engine.assemble import StackAssembler, not_started
from diagnostics.engine.isolation import Worker
from diagnostics.engine.pool import IMPORT_TIMES
from diagnostics.engine.sandbox import bindable
from diagnostics.report.labels import locate
from diagnostics.schema import WHERE_COMMAND, Placement, ProbeOptions, job

__all__ = ["StackRunner"]

PIPE_GRACE_S = 3.0  # how long to read a dead worker's pipes before giving up on them
POLL_S = 0.25  # how often the runner looks at the clock and at a cancel
WHERE_WAIT_S = 1.0  # how long a worker being stopped has to say where the user's code is


@dataclass
class Prepared:
    """What a probe runs: the user's file read once, its data attached, whether its
    folder is the user's own (a script beside its helpers) or a scratch copy."""

    user_file: object  # inputs.UserFile
    attached: object | None  # attach.AttachedData
    own_folder: bool = True


class StackRunner:
    """The workers of one probe, one per stack, started together."""

    def __init__(
        self,
        prepared: Prepared,
        options: ProbeOptions,
        on_event,
        pool=None,
        cancel: threading.Event | None = None,
    ):
        """`cancel`: once set, the workers are stopped (and none is started)."""
        self.prepared, self.options, self.on_event, self.pool = prepared, options, on_event, pool
        self.cancel = cancel
        cells = (
            {"notebook": prepared.user_file.notebook.to_dict()}
            if prepared.user_file.notebook
            else {}
        )
        self.where = lambda line: locate(cells, line)
        self.lines: queue.Queue = queue.Queue()
        self.workers: dict[str, Worker] = {}
        self.assemblers: dict[str, StackAssembler] = {}
        self.launched = time.monotonic()
        self.stopped_after: dict[str, float] = {}  # stack -> seconds run when it was stopped

    def run(self, stacks: list[str]) -> dict:
        """{stack: (record, runs)} once every worker of `stacks` has ended."""
        if self._cancelled():
            return {stack: (not_started(stack), []) for stack in stacks}
        try:
            for stack in stacks:
                self._start(stack)
            self._read_until_done(set(stacks))
            return {stack: self._finish(stack) for stack in stacks}
        finally:
            for worker in self.workers.values():
                worker.close()

    # --- starting ---------------------------------------------------------------------
    def _start(self, stack: str) -> None:
        worker, placement = self._worker_for(stack)
        self.workers[stack] = worker
        self.assemblers[stack] = StackAssembler(stack, self.where)
        worker.listen(lambda s, line: self.lines.put((s, line)))
        worker.send(job(stack, self.options, placement, secrets.token_bytes(32)))
        launch = {
            "type": "stack-launch",
            "stack": stack,
            "warm": worker.warm,
            "ready": worker.ready.is_set(),
            "time_limit_s": float(self.options.timeout),
        }
        if not launch["ready"]:  # TensorFlow is still being imported: about how long still
            left = IMPORT_TIMES.estimate(stack) - (time.monotonic() - worker.started_at)
            launch["starting_s"] = round(max(1.0, left), 1)
        tell(self.on_event, launch)

    def _worker_for(self, stack: str) -> tuple[Worker, Placement]:
        """A worker for `stack`, and where it sees the user's files.

        A script the worker gets a copy of (a warm worker's inbox; a pasted script) has
        the data beside it in that inbox, hard-linked where it can be: a path built from
        `__file__` finds it there, as on the user's machine. Otherwise the script's folder
        and the data are seen where they are, read-only. A notebook (which has no
        `__file__`) runs as the Python it was converted to, from the inbox."""
        options, user_file, attached = self.options, self.prepared.user_file, self.prepared.attached
        own_data = attached is None or attached.owned  # unpacked here: cheap to link
        pooled = self.pool and own_data and not options.local  # the pool is sandboxed
        warm = self.pool.take(stack, options.device) if pooled else None
        path = user_file.path.resolve()
        folder = str(path.parent)
        in_place = warm is None and (
            options.local or (self.prepared.own_folder and bindable(folder))
        )
        notebook = user_file.notebook is not None
        beside = attached is not None and not notebook and not in_place
        worker = warm or self._cold(
            stack, [folder] if in_place else [], None if beside else attached
        )
        if in_place and not notebook:
            script = str(path)
        elif notebook:
            script = worker.place_text(user_file.text, user_file.script_name)
        else:
            script = worker.place(path, path.name)
        data_dir = (
            worker.place_data(attached.path) if beside else attached.path if attached else None
        )
        return worker, Placement(
            path=script,
            display_name=user_file.name,
            notebook=notebook,
            import_dirs=(folder,) if notebook and in_place else (),
            data_dir=data_dir,
        )

    def _cold(self, stack: str, visible: list[str], attached) -> Worker:
        if attached is not None:
            visible = [*visible, attached.path]
        return Worker(
            stack,
            self.options.device,
            memory_mb=self.options.memory_mb,
            visible=visible,
            local=self.options.local,
        )

    # --- reading ------------------------------------------------------------------------
    def _cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def _read_until_done(self, open_streams: set[str]) -> None:
        self.launched = time.monotonic()
        deadline = self.launched + float(self.options.timeout)
        exited_at: dict[str, float] = {}
        stopping: str | None = None  # why the workers are being stopped: timeout, cancelled
        asked: set[str] = set()  # workers asked where the user's code is, not answered yet
        kill_at = float("inf")
        while open_streams:
            now = time.monotonic()
            if stopping is None and (now >= deadline or self._cancelled()):
                stopping = "cancelled" if self._cancelled() else "timeout"
                asked = self._ask_where(open_streams)
                kill_at = now + WHERE_WAIT_S if asked else now
            asked = {s for s in asked if s in open_streams and not self.assemblers[s].stopped}
            if now >= kill_at or (kill_at < float("inf") and not asked):
                for stack in open_streams:
                    self.workers[stack].kill(stopping)
                    self.stopped_after.setdefault(stack, round(now - self.launched, 1))
                kill_at = float("inf")  # killed: what is left in the pipes still counts
            for stack in list(open_streams):
                # A worker that exited may have left children holding its pipes open:
                # end its process group, then stop waiting for escaped (setsid) ones.
                if not self.workers[stack].alive:
                    self.workers[stack].kill_leftovers()
                    exited_at.setdefault(stack, now)
                    if now - exited_at[stack] > PIPE_GRACE_S:
                        open_streams.discard(stack)
            try:
                stack, line = self.lines.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if line is None:
                open_streams.discard(stack)
            else:
                self._dispatch(stack, line)
        while not self.lines.empty():  # events read before a stream was given up on
            stack, line = self.lines.get_nowait()
            if line is not None:
                self._dispatch(stack, line)

    def _ask_where(self, open_streams: set[str]) -> set[str]:
        """Ask each worker whose script still runs where it is; the ones asked."""
        asked = set()
        for stack in open_streams:
            worker, assembler = self.workers[stack], self.assemblers[stack]
            if worker.alive and assembler.info and assembler.end is None:
                worker.ask(WHERE_COMMAND)
                asked.add(stack)
        return asked

    def _dispatch(self, stack: str, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        if not isinstance(event, dict):  # valid JSON, but not an event
            return
        event["stack"] = stack
        try:
            self.assemblers[stack].feed(event)
        except (KeyError, TypeError, AttributeError, ValueError):
            return  # not an event of the worker's: user code wrote to the event pipe
        if event.get("type") == "stack-start":
            IMPORT_TIMES.add(stack, event.get("import_s"))
        tell(self.on_event, event)

    def _finish(self, stack: str) -> tuple[dict, list[dict]]:
        worker, assembler = self.workers[stack], self.assemblers[stack]
        code = worker.finish()
        record = assembler.finish(code, worker.killed_for, worker.stderr.text()[-2000:])
        record["stdout"] = worker.stdout.to_dict()
        record["stderr"] = worker.stderr.to_dict()
        record["isolation"] = worker.isolation.label
        record["warm"] = worker.warm
        record["channel"] = worker.channel.to_dict()
        record["limits"] = worker.limits_words or None
        record["memory_kills"] = worker.oom_kills  # processes ended at the memory limit
        if record["status"] in ("timeout", "cancelled"):
            record["stopped_after_s"] = self.stopped_after.get(stack)
        return record, assembler.runs


def tell(on_event, event: dict) -> None:
    """Hand an event to a display callback, which must not break the probe."""
    if on_event is not None:
        try:
            on_event(event)
        except Exception:
            pass
