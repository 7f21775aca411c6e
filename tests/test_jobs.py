"""Probe jobs: background threads, live progress from events, a fair queue, history."""

from __future__ import annotations

import time

import pytest

from diagnostics.engine.jobs import JobRunner, progress_line
from diagnostics.engine.store import DB_NAME, ReportStore

from .conftest import FIXTURES, situation

TINY = situation("s06_dataset_exact_steps")


def _wait(runner: JobRunner, job_id: str, limit: float = 240) -> None:
    deadline = time.monotonic() + limit
    while runner.get(job_id).state in ("queued", "running"):
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.2)


def test_progress_lines_name_the_stack_and_the_epoch():
    event = {"type": "epoch-end", "stack": "keras2", "call": 0, "epoch": 3, "observed_batches": 7}
    assert progress_line(event) == "Keras 2, fit() call 0, epoch 3: 7 batches trained"
    assert progress_line({"type": "batch", "stack": "keras3"}) is None


@pytest.mark.slow
def test_jobs_queue_in_order_and_report_progress(tmp_path):
    store = ReportStore(tmp_path / DB_NAME)
    runner = JobRunner(max_parallel=1, store=store)
    first = runner.submit(path=TINY, keras="3", epochs=3)
    second = runner.submit(path=TINY, keras="3", epochs=2, origin="playground")
    assert runner.queue_position(first) is None  # running at once
    assert runner.queue_position(second) == 1
    assert runner.get(second).state == "queued"
    _wait(runner, first)
    _wait(runner, second)
    done = runner.get(first)
    assert done.state == "done" and done.fraction == 1.0 and done.saved
    assert [line for line in done.lines if "epoch" in line][-3:] == [
        f"Keras 3, fit() call 0, epoch {e}: 10 batches trained" for e in range(3)
    ]
    assert runner.get(second).started >= done.finished  # it waited for the free slot
    assert [r.origin for r in store.list()] == ["playground", "probe"]
    assert store.get(done.report["id"])["runs"][0]["epochs_completed"] == 3


@pytest.mark.slow
def test_two_jobs_probe_at_the_same_time(tmp_path):
    runner = JobRunner(max_parallel=2, store=ReportStore(tmp_path / DB_NAME))
    ids = [runner.submit(path=TINY, keras="3", epochs=2) for _ in range(2)]
    assert all(runner.get(j).state == "running" for j in ids)
    for job_id in ids:
        _wait(runner, job_id)
    first, second = (runner.get(j) for j in ids)
    assert second.started < first.finished  # they overlapped
    assert first.report["verdict"] == second.report["verdict"]


def test_an_input_that_cannot_be_probed_ends_as_a_report(tmp_path):
    runner = JobRunner(store=ReportStore(tmp_path / DB_NAME))
    job_id = runner.submit(path=str(FIXTURES / "no_fit.py"))
    _wait(runner, job_id, limit=30)
    job = runner.get(job_id)
    assert job.state == "done" and job.report["status"] == "input-error"


def test_options_the_probe_refuses_are_refused_before_anything_is_queued(tmp_path):
    runner = JobRunner(store=ReportStore(tmp_path / DB_NAME))
    with pytest.raises(ValueError, match=r"keras must be one of \['2', '3', 'both'\], not '4'"):
        runner.submit(code="model.fit(x)\n", keras="4")
    with pytest.raises(ValueError, match="timeout must be positive"):
        runner.submit(code="model.fit(x)\n", timeout=0)
    assert runner._jobs == {}


def test_progress_counts_a_stack_that_will_not_run_and_never_goes_back():
    from diagnostics.engine.jobs import Job
    from diagnostics.schema import ProbeOptions

    job = Job("j", ProbeOptions(keras="both", epochs=4), {}, "model.fit(x)", "probe")
    job.state = "running"
    job.on_event({"type": "stack-skipped", "stack": "keras2", "reason": "not applicable: x"})
    assert job.fraction == 0.5
    job.on_event({"type": "fit-start", "stack": "keras3", "call": 0, "fit": {"epochs": 2}})
    job.on_event({"type": "epoch-end", "stack": "keras3", "call": 0, "epoch": 0,
                  "observed_batches": 3})  # fmt: skip
    assert job.fraction == 0.75
    job.on_event({"type": "fit-start", "stack": "keras3", "call": 1, "fit": {"epochs": 4}})
    assert job.fraction == 0.75  # a second fit() call does not move it back
    assert job.lines[0] == "Keras 2: not run (x)"


@pytest.mark.slow
def test_an_uploaded_archive_reaches_warm_workers_read_only_and_is_not_kept(tmp_path):
    """The app's way: the archive's bytes go with the job, are unpacked for the probe,
    linked into the warm workers' inboxes, and removed afterwards."""
    import io
    import zipfile

    import numpy as np

    from diagnostics.engine.pool import WorkerPool

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, array in {"x.npy": np.ones((30, 2), "float32"), "y.npy": np.zeros(30)}.items():
            raw = io.BytesIO()
            np.save(raw, array)
            z.writestr(f"arrays/{name}", raw.getvalue())
    code = (
        "import numpy as np\n"
        "from tensorflow import keras\n"
        "x, y = np.load('arrays/x.npy'), np.load('arrays/y.npy')\n"
        "try:\n"
        "    np.save('arrays/x.npy', x[:1])\n"
        "    print('wrote the data')\n"
        "except OSError as exc:\n"
        "    print('read-only:', type(exc).__name__)\n"
        "np.save('mine.npy', x)  # new files in the working directory are fine\n"
        "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
        "model.compile('sgd', 'mse')\n"
        "model.fit(x, y, batch_size=10, epochs=2, verbose=0)\n"
    )
    pool = WorkerPool(1, stacks=["keras3"])
    try:
        assert pool.wait_ready(120)
        runner = JobRunner(max_parallel=1, store=ReportStore(tmp_path / DB_NAME), pool=pool)
        job_id = runner.submit(
            code=code, keras="3", attachment=("arrays.zip", buffer.getvalue())
        )
        _wait(runner, job_id)
        job = runner.get(job_id)
    finally:
        pool.close()
    report = job.report
    (record,) = report["stacks"]
    assert record["warm"] is True
    assert [e["observed_batches"] for e in report["runs"][0]["epochs"]] == [3, 3]
    if "bubblewrap" in report["environment"]["isolation"]:
        assert "read-only: OSError" in record["stdout"]["text"]
    assert report["input"]["data"]["name"] == "arrays.zip"
    assert job.attachment is None  # the bytes are not kept once probed
