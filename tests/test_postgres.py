"""The history on a real PostgreSQL server, as with FITPROBE_DATABASE_URL, and on SQLite,
the default: the same store, the same answers, on a throwaway server (`servers.py`)."""

from __future__ import annotations

import copy
import socket

import pytest

from diagnostics.engine import leftovers
from diagnostics.engine.jobs import JobRunner
from diagnostics.engine.store import DB_NAME, ProbedSource, ReportStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        store = ReportStore(tmp_path / DB_NAME)
    else:
        store = ReportStore(request.getfixturevalue("postgres_url"))
        with store.engine.begin() as db:  # each test starts from an empty history
            for table in ("sources", "reports", "jobs"):
                db.exec_driver_sql(f"DELETE FROM {table}")
    yield store
    store.close()


def _report(report_id: str, created: str, **extra) -> dict:
    return {
        "id": report_id,
        "created": created,
        "input": {"mode": "script", "name": "Train.py", "sha256": "ab"},
        "status": "ok",
        "verdict": "On Keras 3 each epoch covers only 5 of the 10 batches.",
        "findings": [{"code": "steps-per-epoch-too-small", "severity": "warning"}],
        "stacks": [{"stack": "keras3"}],
        **extra,
    }


def test_the_same_history_on_sqlite_and_postgresql(store):
    assert store.layout() == "0001"
    source = ProbedSource.of("Train.py", "model.fit(x)\n", {"keras": "3"},
                             attachment=("d.zip", b"PK" + bytes(20)))  # fmt: skip
    store.save(_report("r1", "2026-12-01T10:00:00", label="TICKET-7"), source=source)
    store.save(_report("r2", "2026-12-01T10:00:00", before="r1"), sample="s", variant="fixed")
    store.save(_report("r3", "2026-12-01T11:00:00", note="100% of 10_000"))
    assert [r.id for r in store.list()] == ["r3", "r2", "r1"]  # newest, then last saved
    assert [r.id for r in store.list(search="ticket-7")] == ["r1"]  # case-insensitive
    assert [r.id for r in store.list(search="train.PY")] == ["r3", "r2", "r1"]
    assert [r.id for r in store.list(search="100%")] == ["r3"]  # % and _ are literal
    assert [r.id for r in store.list(search="0_0")] == ["r3"]
    assert store.list(search="steps-per-epoch-too-small")[0].codes == [
        "steps-per-epoch-too-small"
    ]
    assert store.get("r1")["label"] == "TICKET-7" and store.count() == 3
    assert store.source("r1").data == b"PK" + bytes(20)
    assert store.after("r1") == ["r2"]
    assert store.latest_for_sample("s", "fixed", "ab")["id"] == "r2"
    assert store.relabel("r2", "TICKET-8", "after the fix")
    assert store.list(search="after the fix")[0].label == "TICKET-8"
    store.save(copy.deepcopy(store.get("r1")))  # saved again: its source stays
    assert store.source("r1") is not None
    assert store.delete("r1") and store.source("r1") is None and store.get("r1") is None


def test_probes_are_recorded_and_interrupted_on_both(store):
    mine = leftovers.process_id()
    store.record_job("j1", name="a.py", label="T", origin="probe", owner=mine,
                     source=ProbedSource.of("a.py", "x = 1\n", {}))  # fmt: skip
    store.record_job("j2", name="b.py", label=None, origin="probe",
                     owner=f"{socket.gethostname()}:1:0",
                     source=None)  # fmt: skip
    store.job_state("j1", "running")
    assert store.interrupt_orphans(leftovers.alive) == ["j2"]  # pid 1 never started at 0
    assert [j.id for j in store.jobs(("interrupted",))] == ["j2"]
    assert store.job_source("j1").text == "x = 1\n"
    store.job_state("j1", "done", report="r9")
    (done,) = store.jobs(("done",))
    assert (done.report, done.state) == ("r9", "done")


@pytest.mark.slow
def test_a_probe_lands_in_postgresql(postgres_url):
    """The app's job runner, on a real probe, with the history in PostgreSQL."""
    import time

    store = ReportStore(postgres_url)
    runner = JobRunner(max_parallel=1, store=store)
    job_id = runner.submit(code="import numpy as np\nfrom tensorflow import keras\n"
                           "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
                           "m.compile('sgd', 'mse')\n"
                           "m.fit(np.zeros((8, 2)), np.zeros((8, 1)), batch_size=4, verbose=0)\n",
                           name="pg.py", keras="3", label="PG-1")  # fmt: skip
    deadline = time.monotonic() + 300
    while runner.get(job_id).state in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    report = runner.get(job_id).report
    other = ReportStore(postgres_url)  # as another app process would open it
    try:
        assert other.get(report["id"])["label"] == "PG-1"
        (job,) = [j for j in store.jobs(("done",)) if j.id == job_id]
        assert job.report == report["id"]
    finally:
        other.close()
        store.close()
