"""Probes through the job queue for real: Redis (redis-server), PostgreSQL, and `fitprobe
worker` processes as separate "hosts" (each its own name, scratch folder and warm pool),
fed by the app's `QueueRunner`. Nothing is mocked: the workers run real Keras in their
sandbox, the reports land in PostgreSQL, and a worker is killed with SIGKILL mid-probe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from diagnostics.engine.store import ReportStore
from diagnostics.engine.workqueue import HEARTBEAT_TTL_S, QueueRunner

from .conftest import situation

pytestmark = pytest.mark.slow

FINISHED = ("done", "failed", "cancelled")

# A generator that sleeps per batch: the probe is still running when its worker is killed.
SLOW = """\
import time
import numpy as np
import tensorflow as tf

def batches():
    while True:
        time.sleep(0.4)
        yield np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32")

model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
model.compile("sgd", "mse")
model.fit(batches(), steps_per_epoch=10, epochs=6)
"""


class Workers:
    """`fitprobe worker` processes, each as its own "host": a name, a scratch folder."""

    def __init__(self, queue_url: str, database_url: str):
        self.queue_url, self.database_url = queue_url, database_url
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def start(self, name: str) -> subprocess.Popen:
        home = Path(tempfile.mkdtemp(prefix=f"fitprobe-test-{name}-"))
        env = dict(os.environ, FITPROBE_DATABASE_URL=self.database_url, TMPDIR=str(home))
        env.pop("FITPROBE_QUEUE_URL", None)
        self.logs[name] = home / "worker.log"
        with open(self.logs[name], "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "diagnostics", "worker", "--queue", self.queue_url,
                 "--name", name],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # warm shutdown: the pool closes
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            try:
                os.killpg(process.pid, signal.SIGKILL)  # its sandboxes, if any outlived it
            except ProcessLookupError:
                pass


@pytest.fixture
def queue_and_history(redis_url, postgres_url):
    store = ReportStore(postgres_url)
    with store.engine.begin() as db:  # each test starts from an empty history and queue
        for table in ("sources", "reports", "jobs"):
            db.exec_driver_sql(f"DELETE FROM {table}")
    runner = QueueRunner(redis_url, store=store)
    runner.connection.flushdb()
    workers = Workers(redis_url, postgres_url)
    yield runner, store, workers
    workers.stop()
    store.close()


def wait_for(runner: QueueRunner, ids: list[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    jobs = {}
    while time.monotonic() < deadline:
        jobs = {i: runner.get(i) for i in ids}
        if all(j.state in FINISHED for j in jobs.values()):
            return jobs
        time.sleep(0.5)
    states = {i: j.state for i, j in jobs.items()}
    pytest.fail(f"jobs not finished after {timeout:g} s: {states}")


def test_two_workers_share_a_queue_of_8_probes_and_all_land_in_postgresql(queue_and_history):
    runner, store, workers = queue_and_history
    path = situation("s01_infinite_generator_half_steps")
    code = Path(path).read_text()
    ids = [
        runner.submit(code=code, name=f"ticket_{i}.py", label=f"TICKET-{i}", keras="3",
                      epochs=2)  # fmt: skip
        for i in range(8)
    ]
    assert {runner.get(i).state for i in ids} == {"queued"}
    assert runner.queue_position(ids[-1]) == 8  # no worker yet: all eight wait, in order
    workers.start("host-a")
    workers.start("host-b")
    jobs = wait_for(runner, ids, timeout=600)
    logs = {name: workers.log(name) for name in workers.processes}
    assert [j.state for j in jobs.values()] == ["done"] * 8, (
        [j.error for j in jobs.values()],
        logs,
    )
    # Every report is in PostgreSQL, as another app process reading it finds them.
    other = ReportStore(workers.database_url)
    try:
        assert other.count() == 8
        for i, job in enumerate(jobs.values()):
            saved = other.get(job.report["id"])
            assert saved["label"] == f"TICKET-{i}" and saved["input"]["name"] == f"ticket_{i}.py"
            assert saved["status"] == "ok" and saved["stacks"][0]["stack"] == "keras3"
            # what the chart shows was measured: 2 epochs of the half-steps situation
            assert [e["observed_batches"] for e in saved["runs"][0]["epochs"]] == [5, 5]
            assert other.source(saved["id"]).text == code  # kept to probe again
        done = {r.id: r for r in other.jobs(("done",))}
        assert set(done) == set(ids) and all(r.report for r in done.values())
    finally:
        other.close()
    on = {job.report["probed_on"] for job in jobs.values()}
    assert on == {"host-a", "host-b"}, (on, logs)  # both hosts took jobs
    progress = [line for job in jobs.values() for line in job.lines]
    assert any("epoch 1: 5 batches trained" in line for line in progress), progress  # streamed


def test_a_worker_killed_mid_probe_is_retried_once_then_marked_failed(queue_and_history):
    runner, store, workers = queue_and_history
    job_id = runner.submit(code=SLOW, name="slow.py", keras="3", epochs=6, timeout=120)
    first = workers.start("host-a")
    _wait_until_training(runner, job_id, workers, "host-a")
    first.send_signal(signal.SIGKILL)  # the worker, mid-probe: its sandbox dies with it
    first.wait()
    # Its heartbeat stops; after HEARTBEAT_TTL_S the job goes back on the queue, once.
    deadline = time.monotonic() + HEARTBEAT_TTL_S + 30
    while runner.get(job_id).state != "queued" and time.monotonic() < deadline:
        time.sleep(0.5)
    job = runner.get(job_id)
    assert job.state == "queued", (job.state, list(job.lines))
    assert "the worker probing it stopped" in job.lines[-1]
    assert store.jobs(("queued",))[0].id == job_id  # the history says so too
    second = workers.start("host-b")
    _wait_until_training(runner, job_id, workers, "host-b")
    second.send_signal(signal.SIGKILL)  # killed again: no third try, a clear failure
    second.wait()
    job = wait_for(runner, [job_id], timeout=HEARTBEAT_TTL_S + 60)[job_id]
    assert job.state == "failed" and "on both tries" in job.error
    (record,) = store.jobs(("failed",))
    assert record.id == job_id and "on both tries" in record.error
    assert store.job_source(job_id).text == SLOW  # kept, to probe it again from History


def test_a_queued_probe_is_retried_on_another_worker_and_finishes(queue_and_history):
    runner, store, workers = queue_and_history
    code = Path(situation("s02_sequence_len_too_small")).read_text()
    job_id = runner.submit(code=SLOW, name="slow.py", keras="3", epochs=3, timeout=120)
    other_id = runner.submit(code=code, name="seq.py", keras="3", epochs=2)
    first = workers.start("host-a")
    _wait_until_training(runner, job_id, workers, "host-a")
    first.send_signal(signal.SIGKILL)
    first.wait()
    workers.start("host-b")
    jobs = wait_for(runner, [job_id, other_id], timeout=HEARTBEAT_TTL_S + 240)
    assert [j.state for j in jobs.values()] == ["done", "done"], workers.log("host-b")
    report = jobs[job_id].report
    assert report["probed_on"] == "host-b"
    assert [e["observed_batches"] for e in report["runs"][0]["epochs"]] == [10, 10, 10]
    assert store.get(report["id"]) is not None


def test_cancel_reaches_the_worker_running_the_probe(queue_and_history):
    runner, store, workers = queue_and_history
    waiting = runner.submit(code=SLOW, name="never.py", keras="3")
    assert runner.cancel(waiting) and runner.get(waiting).state == "cancelled"
    assert store.jobs(("cancelled",))[0].id == waiting  # it never starts
    job_id = runner.submit(code=SLOW, name="slow.py", keras="3", epochs=6, timeout=120)
    workers.start("host-a")
    _wait_until_training(runner, job_id, workers, "host-a")
    asked = time.monotonic()
    assert runner.cancel(job_id)
    job = wait_for(runner, [job_id], timeout=60)[job_id]
    assert job.state == "cancelled" and job.report["status"] == "cancelled"
    assert time.monotonic() - asked < 30
    assert store.get(job.report["id"])["status"] == "cancelled"


def _wait_until_training(runner, job_id, workers, name, timeout=240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = runner.get(job_id)
        if any("batches trained" in line for line in job.lines):
            return
        assert workers.processes[name].poll() is None, workers.log(name)
        time.sleep(0.3)
    pytest.fail(f"{name} did not start training within {timeout:g} s: {workers.log(name)}")


# A script that reads its data from the working directory, where the attached archive is.
READS_DATA = """
import numpy as np
from tensorflow import keras

rows = np.loadtxt("table.csv", delimiter=",", dtype="float32")
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(rows[:, :3], rows[:, 3:], batch_size=4, epochs=1, verbose=0)
"""


def test_an_attached_archive_travels_to_the_worker(queue_and_history, tmp_path):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("table.csv", "\n".join("1,2,3,4" for _ in range(12)))
    runner, store, workers = queue_and_history
    job_id = runner.submit(code=READS_DATA, name="reads.py", keras="3",
                           attachment=("table.zip", buffer.getvalue()))  # fmt: skip
    workers.start("host-a")
    job = wait_for(runner, [job_id], timeout=240)[job_id]
    assert job.state == "done", (job.error, workers.log("host-a"))
    assert [e["observed_batches"] for e in job.report["runs"][0]["epochs"]] == [3]
    assert store.source(job.report["id"]).data == buffer.getvalue()  # kept to probe again


def test_a_try_another_worker_took_over_saves_nothing(queue_and_history):
    """As when a worker cut off from Redis was taken for dead and its job started again
    elsewhere: the first try stops, and leaves the history to the second."""
    runner, store, workers = queue_and_history
    job_id = runner.submit(code=SLOW, name="slow.py", keras="3", epochs=6, timeout=120)
    workers.start("host-a")
    _wait_until_training(runner, job_id, workers, "host-a")
    runner.connection.incr(f"fitprobe:attempt:{job_id}")  # the second try's mark
    from rq.job import Job as RQJob

    deadline = time.monotonic() + 60
    while RQJob(job_id, connection=runner.connection).get_status() != "finished":
        assert time.monotonic() < deadline, workers.log("host-a")
        time.sleep(0.3)
    queued = RQJob.fetch(job_id, connection=runner.connection, serializer=runner.queue.serializer)
    result = queued.return_value()
    assert result["state"] == "superseded" and result["report"] is None
    assert store.count() == 0  # no report from the try that was taken over
    assert runner.get(job_id).state in ("queued", "running")  # the other try's to finish
    assert store.jobs(("running",))[0].id == job_id
