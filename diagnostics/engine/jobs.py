"""Probe jobs: run probes on background threads so the app stays responsive.

A page submits a job (`JOBS.submit(...)`) and keeps only its id in session
state; the job runs `probe` / `probe_code` on a thread of its own, turns the
probe's events into progress (per-epoch lines, a fraction done), saves the
finished report to the history store, and is polled by id. With the warm pool
(`ensure_pool`, which the app starts), probes take workers that have already
imported TensorFlow, and as many jobs probe at once as the pool keeps workers per
stack; without it, `FITPROBE_MAX_PROBES` (default 2). The rest wait in submission
order, and a waiting job knows its place in the queue. Each job's probe runs in
worker processes of its own, used for that job only, so two browser tabs probing at
the same time share nothing but the queue. `cancel` ends a job: a waiting one never
starts; a running one's workers are stopped at once, and its report (status
"cancelled", with where the user's code was) is saved like any other.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from diagnostics.engine.attach import ARCHIVE_SUFFIXES
from diagnostics.engine.leftovers import temp_folder
from diagnostics.engine.probe import probe, probe_code
from diagnostics.report.labels import STACK_LABELS
from diagnostics.schema import ProbeOptions

__all__ = ["JOBS", "Job", "JobRunner", "progress_line"]

MAX_PROBES_ENV = "FITPROBE_MAX_PROBES"
QUEUE_URL_ENV = "FITPROBE_QUEUE_URL"  # a Redis URL: probes go to a job queue (workqueue)
MAX_LINES = 200  # progress lines kept per job (the report keeps everything)
FORGET_AFTER_S = 3600.0  # finished jobs are dropped from memory after this long


def progress_line(event: dict) -> str | None:
    """One human line for a probe event worth showing live, else None."""
    label = STACK_LABELS.get(event.get("stack"), event.get("stack") or "")
    kind = event.get("type")
    if kind == "stack-launch" and not event.get("ready", True):
        about = event.get("starting_s")
        about = f"about {about:.0f} s: " if isinstance(about, int | float) else ""
        return f"starting {label} ({about}importing TensorFlow)"
    if kind == "stack-start":
        return f"{label}: Keras {event.get('keras_version')} started on {event.get('device')}"
    if kind == "fit-start":
        fit = event.get("fit") or {}
        steps = fit.get("steps_per_epoch")
        asked = f", steps_per_epoch={steps}" if steps is not None else ""
        return f"{label}: fit() call {event['call']} (epochs={fit.get('epochs')}{asked})"
    if kind == "epoch-end":
        return (
            f"{label}, fit() call {event['call']}, epoch {event['epoch']}: "
            f"{event['observed_batches']} batches trained"
        )
    if kind == "fit-end":
        return f"{label}: fit() call {event.get('call')} ended ({event.get('stopped_by')})"
    if kind == "stack-skipped":
        return f"{label}: not run ({event.get('reason', '').removeprefix('not applicable: ')})"
    return None


@dataclass
class Job:
    id: str
    options: ProbeOptions  # what the user asked, as it travels to the worker
    target: dict  # {"path"} of a file to probe, and the {"name"} to show it by
    code: str | None  # source text for probe_code, else target["path"] is probed
    origin: str
    sample: str | None = None
    variant: str | None = None
    attachment: tuple[str, bytes] | None = None  # an uploaded data archive: (name, bytes)
    label: str | None = None  # a ticket number, a student's name: listed and searched
    note: str | None = None
    before: str | None = None  # the report this probe's code was edited from
    probed_by: str | None = None  # who submitted it, where users sign in
    probed_on: str | None = None  # the queue worker that ran it (none without a queue)
    source: object | None = None  # what it probes, as history keeps it (store.ProbedSource)
    state: str = "queued"  # queued | running | done | failed | cancelled
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    lines: deque = field(default_factory=lambda: deque(maxlen=MAX_LINES))
    report: dict | None = None
    error: str | None = None  # a fitprobe failure (never the user's code), in one line
    saved: bool = False
    _epochs: dict = field(default_factory=dict)  # stack -> (epochs done, epochs asked)
    _progress: dict = field(default_factory=dict)  # stack -> highest fraction reached
    _ended: set = field(default_factory=set)
    cancel: threading.Event = field(default_factory=threading.Event)  # set by JobRunner.cancel
    _launched: dict = field(default_factory=dict)  # stack -> when its worker got the job

    @property
    def stacks(self) -> list[str]:
        return self.options.stacks

    @property
    def fraction(self) -> float:
        """How far the probe is, 0..1: a stack that ended (or will not run) counts whole,
        the others by the epochs of their current fit() call, never going back."""
        if self.state in ("done", "failed", "cancelled"):
            return 1.0
        parts = [1.0 if s in self._ended else self._progress.get(s, 0.0) for s in self.stacks]
        return sum(parts) / len(parts)

    @property
    def elapsed_s(self) -> float:
        """Seconds since the job started (until it finished); 0 while it waits."""
        if self.started is None:
            return 0.0
        return max(0.0, (self.finished or time.time()) - self.started)

    @property
    def remaining_s(self) -> float | None:
        """Seconds left of the time limit per stack, for the stack that started first of
        those still running (a stack's limit counts from when its worker got the job);
        never below 0; None before any stack started."""
        running = [t for s, t in self._launched.items() if s not in self._ended]
        if not running:
            return None
        return max(0.0, float(self.options.timeout) - (time.monotonic() - min(running)))

    def clock(self) -> str:
        """The job's time in words: "12 s elapsed · 8 s left of the 20 s time limit per
        stack"; "stopping…" once the limit is reached, "cancelling…" once cancelled."""
        elapsed = f"{self.elapsed_s:.0f} s elapsed"
        if self.state != "running":
            return elapsed
        if self.cancel.is_set():
            return f"{elapsed} · cancelling…"
        left = self.remaining_s
        if left is None:
            return elapsed
        if left <= 0:
            return f"{elapsed} · stopping…"
        limit = float(self.options.timeout)
        return f"{elapsed} · {left:.0f} s left of the {limit:g} s time limit per stack"

    def on_event(self, event: dict) -> None:
        stack, kind = event.get("stack"), event.get("type")
        cap = self.options.epochs
        if kind == "stack-launch":
            self._launched[stack] = time.monotonic()
        elif kind == "fit-start":
            asked = (event.get("fit") or {}).get("epochs") or cap
            self._epochs[stack] = (0, max(1, min(int(asked), cap)))
        elif kind == "epoch-end" and stack in self._epochs:
            done, asked = self._epochs[stack]
            self._epochs[stack] = (done + 1, asked)
            reached = min((done + 1) / asked, 0.99)
            self._progress[stack] = max(self._progress.get(stack, 0.0), reached)
        elif kind in ("stack-end", "stack-skipped"):
            self._ended.add(stack)
        line = progress_line(event)
        if line:
            self.lines.append(line)


class JobRunner:
    def __init__(self, max_parallel: int | None = None, store=None, pool=None):
        if max_parallel is None:
            max_parallel = int(os.environ.get(MAX_PROBES_ENV) or 2)
        self.max_parallel = max(1, max_parallel)
        self.pool = pool
        self._store = store
        self._jobs: dict[str, Job] = {}
        self._waiting: deque[str] = deque()
        self._running = 0
        self._lock = threading.Lock()
        self.recovered: dict = {}  # what `recover` found at start

    @property
    def store(self):
        if self._store is None:
            from diagnostics.engine.store import default_store

            self._store = default_store()
        return self._store

    def submit(
        self,
        options: ProbeOptions | None = None,
        *,
        code: str | None = None,
        path: str | None = None,
        name: str | None = None,
        origin: str = "probe",
        sample: str | None = None,
        variant: str | None = None,
        attachment: tuple[str, bytes] | None = None,
        label: str | None = None,
        note: str | None = None,
        before: str | None = None,
        probed_by: str | None = None,
        **option_kwargs,
    ) -> str:
        """Queue a probe of `code` (source text) or of the file at `path`, shown as `name`,
        with `options` (or the same as keywords), and `attachment` (an uploaded archive's
        name and bytes) as its data; returns the job id. The report carries `label` and
        `note`, and `before`: the id of the report whose code this one edits. Options the
        probe cannot run with raise ValueError here, before anything is queued."""
        if options is not None and option_kwargs:
            raise ValueError("give ProbeOptions or option keywords, not both")
        options = options or ProbeOptions.of(**option_kwargs)
        target = {k: v for k, v in (("path", path), ("name", name)) if v is not None}
        job = Job(uuid.uuid4().hex[:12], options, target, code, origin, sample, variant)
        job.attachment = attachment
        job.label, job.note, job.before = label, note, before
        job.probed_by = probed_by
        self._record(job)
        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job
            self._waiting.append(job.id)
            self._start_waiting()
        return job.id

    def ensure_pool(self):
        """Start the warm pool (once per process): the app's probes use its workers, and
        as many probes run at once as it keeps workers per stack; the rest queue."""
        from diagnostics.engine.pool import WorkerPool

        with self._lock:
            if self.pool is None:
                try:
                    self.recovered = self.recover()
                except Exception as exc:  # a history that cannot be read: said on the pages
                    self.recovered = {"error": str(exc)}
                self.pool = WorkerPool()
                if not os.environ.get(MAX_PROBES_ENV):
                    self.max_parallel = max(1, self.pool.size)
                self._start_waiting()
            return self.pool

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def cancel(self, job_id: str) -> bool:
        """End a job: a waiting one never starts; a running one's workers are stopped at
        once (within `stacks.POLL_S` and the `WHERE_WAIT_S` its workers have to say where
        the user's code is), and its report, status "cancelled", is saved like any other.
        False when there is nothing to cancel (unknown, or ended already)."""
        with self._lock:
            job = self._jobs.get(job_id) if job_id else None
            if job is None or job.state not in ("queued", "running"):
                return False
            job.cancel.set()
            if job.state == "queued":
                self._waiting.remove(job_id)
                job.state, job.finished = "cancelled", time.time()
                job.lines.append("cancelled before it started")
                self._mark(job)
        return True

    def queue_position(self, job_id: str) -> int | None:
        """1 for the next job to start; None once it runs (or is unknown)."""
        with self._lock:
            try:
                return self._waiting.index(job_id) + 1
            except ValueError:
                return None

    def _start_waiting(self) -> None:  # under the lock
        while self._waiting and self._running < self.max_parallel:
            job = self._jobs[self._waiting.popleft()]
            job.state, job.started = "running", time.time()  # recorded by `execute`
            self._running += 1
            threading.Thread(target=self._run, args=(job,), daemon=True, name=job.id).start()

    def _run(self, job: Job) -> None:
        try:
            self.execute(job)
        finally:
            with self._lock:
                self._running -= 1
                self._start_waiting()

    def execute(self, job: Job) -> None:
        """Run `job` on this thread: probe, save its report, record how it ended (a queue
        worker runs each job it pulls this way)."""
        folder = None
        job.state, job.started = "running", job.started or time.time()
        self._mark(job)
        try:
            options = job.options
            if job.attachment is not None:  # the archive as a file, for as long as the probe
                name, data = job.attachment
                folder = temp_folder("upload")
                archive = os.path.join(folder, "data" + _suffix(name))
                with open(archive, "wb") as f:
                    f.write(data)
                options = dataclasses.replace(options, data=archive, data_name=name)
            run = {"on_event": job.on_event, "pool": self.pool, "options": options}
            run["cancel"] = job.cancel
            if job.code is not None:
                report = probe_code(job.code, **run, **job.target)
            else:
                report = probe(job.target["path"], name=job.target.get("name"), **run)
            try:
                self._save(job, report)
                job.saved = True
            except Exception as exc:  # the report is still shown; only history misses it
                job.lines.append(f"history: the report could not be saved ({exc})")
            job.report = report
            job.state = "cancelled" if report.get("status") == "cancelled" else "done"
        except Exception as exc:  # a fitprobe bug: one line for the page, never a traceback
            job.error = f"fitprobe failed ({type(exc).__name__}: {exc}); please report it"
            job.state = "failed"
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            job.attachment = job.source = None  # the job lets go of the bytes (history keeps them)
            job.finished = time.time()
            self._mark(job)

    def kept_source(self, job: Job):
        """What the job probes, as history keeps it (`store.ProbedSource`)."""
        from diagnostics.engine.store import ProbedSource

        text = job.code
        if text is None:  # a file (a gallery sample): keep its text as it was probed
            with open(job.target["path"], encoding="utf-8") as f:
                text = f.read()
        name = job.target.get("name") or os.path.basename(job.target.get("path") or "script.py")
        return ProbedSource.of(
            name,
            text,
            job.options.to_dict(),
            sample=job.sample,
            variant=job.variant,
            attachment=job.attachment,
        )

    def _save(self, job: Job, report: dict) -> None:
        """Into the history, with its label, what it was made after, and what it probed."""
        for key in ("label", "note", "before", "probed_by", "probed_on"):
            if getattr(job, key):
                report[key] = getattr(job, key)
        self.store.save(
            report,
            origin=job.origin,
            sample=job.sample,
            variant=job.variant,
            source=job.source,
        )

    def owner(self) -> str:
        """Who answers for the jobs submitted here, as recorded with them: this process
        (`leftovers.process_id`), so that its death marks them interrupted."""
        from diagnostics.engine.leftovers import process_id

        return process_id()

    def _record(self, job: Job) -> None:
        """The probe, in the history as soon as it is submitted: a crash loses none."""
        try:
            job.source = self.kept_source(job)  # once: the job's record and its report share it
            self.store.record_job(
                job.id,
                name=job.target.get("name") or os.path.basename(job.target.get("path") or ""),
                label=job.label,
                origin=job.origin,
                owner=self.owner(),
                source=job.source,
            )
        except Exception as exc:  # the probe still runs; only its record is missing
            job.lines.append(f"history: the probe could not be recorded ({exc})")

    def _mark(self, job: Job) -> None:
        report = job.report["id"] if job.report is not None and job.saved else None
        try:
            self.store.job_state(job.id, job.state, report=report, error=job.error)
        except Exception:
            pass  # as in _record

    def recover(self) -> dict:
        """At start: probes whose process died before they ended are marked interrupted,
        and what dead fitprobe processes left behind is removed. Returns what was done."""
        from diagnostics.engine import leftovers

        interrupted = self.store.interrupt_orphans(leftovers.alive)
        return {"interrupted": len(interrupted), **leftovers.reap()}

    def _forget_old(self) -> None:  # under the lock
        now = time.time()
        for job_id in [
            j.id
            for j in self._jobs.values()
            if j.finished is not None and now - j.finished > FORGET_AFTER_S
        ]:
            del self._jobs[job_id]


def _suffix(name: str) -> str:
    lowered = name.lower()
    return next((s for s in ARCHIVE_SUFFIXES if lowered.endswith(s)), "")


def _from_environment() -> JobRunner:
    """The app's runner: a queue's (`workqueue.QueueRunner`) with FITPROBE_QUEUE_URL set,
    else probes on this process's own threads."""
    url = os.environ.get(QUEUE_URL_ENV, "").strip()
    if not url:
        return JobRunner()
    from diagnostics.engine.workqueue import QueueRunner

    return QueueRunner(url)


JOBS = _from_environment()
