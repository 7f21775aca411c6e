"""Probes through a job queue (RQ on Redis): fitprobe past one machine.

With `FITPROBE_QUEUE_URL` (a Redis URL) set, the app's `JOBS` is a `QueueRunner`: a
probe is recorded in the history as it is submitted (as without a queue), then put on
the queue instead of run on the app's own thread. `fitprobe worker` processes, on any
number of machines, pull jobs one at a time and run them with a warm, sandboxed pool of
their own (`serve`: RQ's SimpleWorker, so the pool outlives each job), save the report
in the shared history (`FITPROBE_DATABASE_URL`), and stream the job's progress events
back over Redis; the app replays them into its own copy of the job, so the pages show
a queued probe exactly as a local one. Cancel is a Redis key the worker watches.

A worker that dies mid-probe (kill -9, the machine lost) stops its heartbeat; once
`HEARTBEAT_TTL_S` passes, RQ's registry cleanup (run by idle workers and by the app as
it follows a job) puts the job back on the queue once, and marks it failed, with a
reason in the history, the second time. Nothing is lost either way.

Why RQ rather than Celery: one Redis and plain functions, no broker plus result backend
to configure; its worker is a class we extend by a few methods (the warm pool, the
heartbeat while a probe runs), and its retry of abandoned jobs is built in.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time

from rq.serializers import JSONSerializer

from diagnostics.engine.jobs import QUEUE_URL_ENV, Job, JobRunner
from diagnostics.schema import ProbeOptions

__all__ = ["QUEUE_URL_ENV", "QueueRunner", "abandoned", "run_job", "serve"]

QUEUE_NAME = "fitprobe"
HEARTBEAT_S = 2.0  # a worker running a probe says so this often...
HEARTBEAT_TTL_S = 20  # ...and is taken for dead after this long without it
MAINTENANCE_S = 5  # how often an idle worker looks for abandoned jobs
KEEP_S = 3600  # progress, cancel requests and results stay in Redis this long
REFRESH_S = 0.25  # the app reads a job's news from Redis at most this often
MAX_EVENTS = 5000  # progress events kept per job (epochs and fit() calls are capped)
PROGRESS_KEYS = (  # what `Job.on_event` reads of an event; nothing else travels
    "type", "stack", "ready", "starting_s", "keras_version", "device", "fit", "call",
    "epoch", "observed_batches", "stopped_by", "reason",
)  # fmt: skip

_RUNNER = None  # the worker process's runner (WorkerRunner), with its warm pool


def _events_key(job_id: str, attempt: int) -> str:
    return f"fitprobe:events:{job_id}:{attempt}"


def _attempt_key(job_id: str) -> str:
    return f"fitprobe:attempt:{job_id}"


def _cancel_key(job_id: str) -> str:
    return f"fitprobe:cancel:{job_id}"


def _data_key(job_id: str) -> str:  # an attached archive, beside the job (not inside it)
    return f"fitprobe:data:{job_id}"


def _connect(url: str):
    from redis import Redis

    # Bounded waits: a Redis host that drops packets must not hang the app's sessions.
    return Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)


def _queue(connection):
    from rq import Queue

    return Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)


# --- the app's side ---------------------------------------------------------------------
class QueueRunner(JobRunner):
    """`JobRunner`'s interface over the queue: `submit` records and enqueues; `get`
    returns the app's copy of the job, brought up to date from Redis."""

    def __init__(self, url: str, store=None):
        super().__init__(max_parallel=1, store=store)
        self.url = url
        self.connection = _connect(url)
        self.queue = _queue(self.connection)
        self._offsets: dict[str, int] = {}
        self._attempts: dict[str, int] = {}  # which try of a job its progress comes from
        self._refreshed: dict[str, float] = {}
        self._refreshing: set[str] = set()  # one refresh per job at a time
        self._cleaned = 0.0  # when this process last looked for abandoned jobs

    def owner(self) -> str:
        return f"queue:{QUEUE_NAME}"  # not a process of this host: the queue answers for it

    def ensure_pool(self):
        """No pool here (the workers keep theirs): only what a restart leaves behind."""
        with self._lock:
            if not self.recovered:
                try:
                    self.recovered = self.recover()
                except Exception as exc:
                    self.recovered = {"error": str(exc)}
        return None

    def submit(self, *args, **kwargs) -> str:
        job_id = super().submit(*args, **kwargs)  # recorded, and waiting here
        with self._lock:
            waiting = [self._jobs[i] for i in self._waiting]
            self._waiting.clear()
        for job in waiting:  # outside the lock: other sessions' pages go on meanwhile
            self._enqueue(job)
        return job_id

    def _start_waiting(self) -> None:  # under the lock: `submit` enqueues, after it
        pass

    def _enqueue(self, job: Job) -> None:
        from rq import Callback, Retry

        try:
            if job.attachment is not None:
                self.connection.set(_data_key(job.id), job.attachment[1], ex=KEEP_S)
            self.queue.enqueue(
                run_job,
                _payload(job),
                job_id=job.id,
                job_timeout=-1,  # the probe keeps its own time limits
                retry=Retry(max=1),
                on_failure=Callback(abandoned),
                result_ttl=KEEP_S,
                failure_ttl=KEEP_S,
            )
        except Exception as exc:  # Redis away: the job is recorded, and fails visibly
            job.state, job.finished = "failed", time.time()
            job.error = f"the probe could not be queued ({type(exc).__name__}: {exc})"
            self._mark(job)
        job.attachment = job.source = None  # the queue holds them now

    def get(self, job_id: str | None) -> Job | None:
        job = super().get(job_id)
        if job is not None and job.state in ("queued", "running"):
            try:
                self._refresh(job)
            except Exception as exc:  # Redis away: say so, keep the job as it was
                note = f"the queue cannot be reached ({type(exc).__name__}); retrying"
                if not job.lines or job.lines[-1] != note:
                    job.lines.append(note)
        return job

    def queue_position(self, job_id: str) -> int | None:
        try:
            position = self.queue.get_job_position(job_id)
        except Exception:
            return None
        return None if position is None else position + 1

    def cancel(self, job_id: str) -> bool:
        from rq.job import Job as RQJob

        job = super().get(job_id)
        if job is None or job.state not in ("queued", "running"):
            return False
        job.cancel.set()
        self.connection.set(_cancel_key(job_id), 1, ex=KEEP_S)  # a running job's worker looks
        try:
            queued = RQJob.fetch(job_id, connection=self.connection)
            if queued.get_status() == "queued":
                queued.cancel()
                job.state, job.finished = "cancelled", time.time()
                job.lines.append("cancelled before it started")
                self._mark(job)
        except Exception:
            pass  # it started meanwhile: its worker sees the key
        return True

    def _refresh(self, job: Job) -> None:
        now = time.monotonic()
        with self._lock:  # one refresh of a job at a time: events are replayed once
            if job.id in self._refreshing or now - self._refreshed.get(job.id, 0.0) < REFRESH_S:
                return
            self._refreshing.add(job.id)
            self._refreshed[job.id] = now
        try:
            self._look_for_abandoned()
            self._refresh_now(job)
        finally:
            with self._lock:
                self._refreshing.discard(job.id)

    def _look_for_abandoned(self) -> None:
        """A dead worker's job goes back on the queue (or fails): RQ's cleanup, as its own
        workers run it, under the queue's maintenance lock, at most every MAINTENANCE_S
        from this process, and with a death penalty that works off the main thread."""
        from rq.registry import StartedJobRegistry
        from rq.timeouts import TimerDeathPenalty

        now = time.monotonic()
        if now - self._cleaned < MAINTENANCE_S:
            return
        self._cleaned = now
        if not self.queue.acquire_maintenance_lock():
            return  # a worker or another app process is at it
        try:
            registry = StartedJobRegistry(queue=self.queue, death_penalty_class=TimerDeathPenalty)
            registry.cleanup()
        finally:
            self.queue.release_maintenance_lock()

    def _refresh_now(self, job: Job) -> None:
        from rq.job import Job as RQJob

        try:
            status = RQJob(job.id, connection=self.connection).get_status()  # one HGET
        except Exception:
            if RQJob.exists(job.id, connection=self.connection):
                raise
            status = None  # the queue lost it (expired, or Redis restarted empty)
        if status is None:
            job.state, job.finished = "failed", time.time()
            job.error = "the queue lost this probe (Redis was restarted, say): probe it again"
            self._mark(job)
            self._forget(job.id)
            return
        attempt = int(self.connection.get(_attempt_key(job.id)) or 0)
        known = self._attempts.get(job.id, 0)
        if attempt != known:  # a try started: its progress, from the start
            self._attempts[job.id], self._offsets[job.id] = attempt, 0
            if known:
                _restart_progress(job)
                job.lines.append("its first worker stopped mid-probe: probing it again")
        if status == "queued" and job.state == "running":  # its worker died: a second try
            _restart_progress(job)
            job.lines.append("the worker probing it stopped; it waits for another worker")
            self._mark(job)  # as `abandoned` does where a worker found it
        elif status == "started" and job.state == "queued":
            job.state, job.started = "running", time.time()
        self._replay(job)
        if status in ("finished", "failed", "stopped", "canceled"):  # read the rest once
            queued = RQJob.fetch(job.id, connection=self.connection, serializer=JSONSerializer)
        result = (queued.return_value() or {}) if status == "finished" else {}
        if status == "finished" and result.get("state") == "superseded":
            return  # a try taken over: the job's status moves on with the other one
        if status == "finished":
            self._finish(job, result)
        elif status in ("failed", "stopped", "canceled"):
            job.state = "cancelled" if status == "canceled" else "failed"
            job.error = job.error or _failure(queued)
            job.finished = time.time()
            self._mark(job)
            self._forget(job.id)

    def _replay(self, job: Job) -> None:
        start = self._offsets.get(job.id, 0)
        key = _events_key(job.id, self._attempts.get(job.id, 0))
        for raw in self.connection.lrange(key, start, -1):
            self._offsets[job.id] = self._offsets.get(job.id, 0) + 1
            job.on_event(json.loads(raw))

    def _finish(self, job: Job, result: dict) -> None:
        report_id = result.get("report")
        if report_id:
            job.report = self.store.get(report_id)
            job.saved = job.report is not None
            if job.report is None:
                job.error = (
                    f"worker {result.get('worker')} saved report {report_id} in a history this "
                    f"app does not read: give the app and the workers the same "
                    f"FITPROBE_DATABASE_URL"
                )
        job.error = job.error or result.get("error")
        job.state = result.get("state") or ("done" if job.report else "failed")
        job.finished = time.time()
        self._forget(job.id)

    def _forget(self, job_id: str) -> None:
        for kept in (self._offsets, self._refreshed, self._attempts):
            kept.pop(job_id, None)

    def _forget_old(self) -> None:  # under the lock
        """Finished jobs, as without a queue; and jobs nobody has followed for longer than
        the queue keeps them (a closed tab): history has them."""
        super()._forget_old()
        stale = time.monotonic() - KEEP_S
        for job_id in [i for i, t in self._refreshed.items() if t < stale]:
            self._jobs.pop(job_id, None)
            self._forget(job_id)


def _payload(job: Job) -> dict:
    """Everything a worker needs, JSON only: the text itself (never a path on this
    machine), and where an attached archive's bytes are."""
    source = job.source
    name = job.target.get("name") or os.path.basename(job.target.get("path") or "script.py")
    code = job.code if job.code is not None else (source.text if source is not None else None)
    if code is None:
        with open(job.target["path"], encoding="utf-8") as f:
            code = f.read()
    attachment = None
    if job.attachment is not None:  # its bytes wait in their own key (`_data_key`)
        attachment = [job.attachment[0], _data_key(job.id)]
    return {
        "id": job.id,
        "options": job.options.to_dict(),
        "name": name,
        "code": code,
        "origin": job.origin,
        "sample": job.sample,
        "variant": job.variant,
        "attachment": attachment,
        **{k: getattr(job, k) for k in ("label", "note", "before", "probed_by")},
    }


def _restart_progress(job: Job) -> None:
    job.state, job.started = "queued", None
    job.lines.clear()
    job._epochs.clear()
    job._progress.clear()
    job._ended.clear()
    job._launched.clear()


def _failure(queued) -> str:
    """Why a queued probe failed, in one line."""
    if queued.get_status() == "canceled":
        return "cancelled"
    result = queued.latest_result()
    text = (getattr(result, "exc_string", None) or "").strip()
    if text and "AbandonedJobError" not in text:  # fitprobe's own failure on the worker
        return f"the worker failed ({text.splitlines()[-1]}); please report it"
    return (
        "the worker probing it stopped before the probe ended, on both tries (killed, "
        "or its machine went away): probe it again"
    )


def abandoned(job, connection, kind, value, traceback) -> None:
    """RQ's failure callback, also called when a dead worker's job is found: the history
    says the job waits for a second try, or that it failed, and why."""
    from rq.exceptions import AbandonedJobError

    from diagnostics.engine.store import default_store

    retry = bool(job.retries_left and job.retries_left > 0)
    error = None
    if not retry:
        error = (
            _failure(job)
            if kind is AbandonedJobError
            else f"the worker failed ({kind.__name__}: {value}); please report it"
        )
    try:
        default_store().job_state(job.id, "queued" if retry else "failed", error=error)
    except Exception:
        pass  # the app's copy still shows it; only the history misses the change


# --- the worker's side ------------------------------------------------------------------
def run_job(payload: dict) -> dict:
    """One queued probe, on a worker (`serve` set up its runner and pool): probed and
    saved as the app would; its progress events go to Redis as they come."""
    from rq import get_current_job

    runner = _RUNNER or _worker_runner()
    connection = get_current_job().connection
    job = Job(
        payload["id"],
        ProbeOptions.from_dict(payload["options"]),
        {"name": payload["name"]},
        payload["code"],
        payload["origin"],
        payload.get("sample"),
        payload.get("variant"),
    )
    for key in ("label", "note", "before", "probed_by"):
        setattr(job, key, payload.get(key))
    if payload.get("attachment"):
        name, key = payload["attachment"]
        data = connection.get(key)
        if data is None:
            raise RuntimeError(f"the attached archive {name} is no longer in the queue")
        job.attachment = (name, data)
    job.source = runner.kept_source(job)
    job.probed_on = os.environ.get("FITPROBE_WORKER_NAME") or socket.gethostname()
    attempt = connection.incr(_attempt_key(job.id))  # a second try streams afresh
    connection.expire(_attempt_key(job.id), KEEP_S)
    events = _events_key(job.id, attempt)
    keep = job.on_event

    def forward(event: dict) -> None:
        keep(event)
        if event.get("type") in _FORWARDED:
            small = {k: event[k] for k in PROGRESS_KEYS if k in event}
            with connection.pipeline() as pipe:
                pipe.rpush(events, json.dumps(small, default=str))
                pipe.ltrim(events, 0, MAX_EVENTS - 1)
                pipe.expire(events, KEEP_S)
                pipe.execute()

    job.on_event = forward
    watch = threading.Thread(
        target=_watch, args=(connection, job, attempt, runner), daemon=True, name=job.id
    )
    watch.start()
    try:
        runner.execute(job)
    finally:
        job.finished = job.finished or time.time()
        watch.join(timeout=1.0)
    if job.id in runner.superseded:
        runner.superseded.discard(job.id)
        return {"state": "superseded", "report": None, "error": None, "worker": job.probed_on}
    return {
        "state": job.state,
        "report": job.report["id"] if job.report is not None and job.saved else None,
        "error": job.error,
        "worker": job.probed_on,
    }


_FORWARDED = {
    "stack-launch", "stack-start", "fit-start", "epoch-end", "fit-end", "stack-end",
    "stack-skipped",
}  # fmt: skip


def _watch(connection, job: Job, attempt: int, runner: WorkerRunner) -> None:
    """Until the job ends: a cancel asked for from the app (any app process) ends it; so
    does another worker's try of the same job (this worker was taken for dead while cut
    off from Redis), and then this try saves nothing: the other one's report counts."""
    while job.finished is None:
        try:
            if connection.exists(_cancel_key(job.id)):
                job.cancel.set()
                return
            if int(connection.get(_attempt_key(job.id)) or attempt) != attempt:
                runner.superseded.add(job.id)
                job.cancel.set()
                return
        except Exception:
            pass  # Redis away for a moment: the probe goes on, its time limit still holds
        time.sleep(0.25)


class WorkerRunner(JobRunner):
    """A queue worker's runner: as the app's, except for a try another worker took over
    (`_watch`), which leaves the history to that worker."""

    def __init__(self):
        super().__init__(max_parallel=1)
        self.superseded: set[str] = set()

    def _save(self, job: Job, report: dict) -> None:
        if job.id in self.superseded:
            raise RuntimeError("another worker took this probe over")
        super()._save(job, report)

    def _mark(self, job: Job) -> None:
        if job.id not in self.superseded:
            super()._mark(job)


def _worker_runner() -> WorkerRunner:
    global _RUNNER
    if _RUNNER is None:
        _RUNNER = WorkerRunner()
        _RUNNER.ensure_pool()
    return _RUNNER


def serve(url: str, *, name: str | None = None, burst: bool = False) -> int:
    """`fitprobe worker`: pull probes from the queue at `url` until stopped (SIGTERM
    finishes the probe in hand first), keeping a warm pool of sandboxed workers."""
    from rq.worker import SimpleWorker, WorkerStatus

    class ProbeWorker(SimpleWorker):
        """RQ's in-process worker (so the warm pool is shared by every job), with a
        heartbeat while a probe runs: RQ's own comes only between jobs."""

        def subscribe(self):
            """No RQ command channel: cancel travels by our own key, and its listener
            thread, asleep up to 60 s at a time, would hold up every SIGTERM."""

        def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
            return HEARTBEAT_TTL_S

        def execute_job(self, job, queue):
            execution = self.prepare_execution(job)
            done = threading.Event()
            beat = threading.Thread(target=self._beat, args=(execution, queue, done), daemon=True)
            beat.start()
            try:
                self.perform_job(job, queue, execution)
            finally:
                done.set()
                beat.join()
            self.set_state(WorkerStatus.IDLE)

        def _beat(self, execution, queue, done: threading.Event) -> None:
            while not done.wait(HEARTBEAT_S):
                try:
                    with self.connection.pipeline() as pipe:
                        self.heartbeat(HEARTBEAT_TTL_S, pipeline=pipe)
                        execution.heartbeat(queue.started_job_registry, HEARTBEAT_TTL_S, pipe)
                        pipe.execute()
                except Exception:
                    pass  # Redis away: the next beat tries again

    if name:
        os.environ["FITPROBE_WORKER_NAME"] = name
    connection = _connect(url)
    connection.ping()  # a wrong URL or no Redis: said now, before the pool starts
    _worker_runner()  # the pool starts importing TensorFlow before the first job comes
    worker = ProbeWorker(
        [_queue(connection)],
        connection=connection,
        name=f"{name or socket.gethostname()}.{os.getpid()}",
        serializer=_queue(connection).serializer,
        worker_ttl=max(30, HEARTBEAT_TTL_S * 3),
        maintenance_interval=MAINTENANCE_S,
    )
    worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)
    return 0
