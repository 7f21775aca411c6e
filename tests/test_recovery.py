"""No probe is lost: a probe is recorded when it is submitted, and after the process
running it is killed (`kill -9`, no chance to clean up) the next start marks it
interrupted, keeps its source for a re-run, and removes the folders and cgroups the
dead process left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from diagnostics.engine import leftovers
from diagnostics.engine.jobs import JobRunner
from diagnostics.engine.store import DB_NAME, ReportStore, default_store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent

HANGING = """
import time
import numpy as np
from tensorflow import keras

def waiting():
    while True:
        time.sleep(0.5)  # for data that never comes
        yield np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")

model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(waiting(), steps_per_epoch=1000, epochs=2, verbose=0)
"""

# A server in miniature: submits three probes (one runs, two wait), says so, and waits
# to be killed.
SERVER = """
import json, sys, time
from diagnostics.engine.jobs import JobRunner
from diagnostics.engine.store import ReportStore
runner = JobRunner(max_parallel=1, store=ReportStore(sys.argv[1]))
code = sys.stdin.read()
ids = [runner.submit(code=code, name=f"ticket-{i}.py", keras="3", timeout=600,
                     label=f"T-{i}") for i in range(3)]
while not runner.get(ids[0]).lines:  # the first one's worker has started
    time.sleep(0.2)
print(json.dumps(ids), flush=True)
time.sleep(600)
"""


def _killed_server(db: Path) -> tuple[list[str], int]:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    server.stdin.write(HANGING)
    server.stdin.close()
    ids = json.loads(server.stdout.readline())
    time.sleep(2)  # the worker runs the script
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=30)
    server.stdout.close()
    return ids, server.pid


def test_a_kill_9_loses_no_probe_and_leaves_nothing_behind(tmp_path):
    db = tmp_path / DB_NAME
    ids, pid = _killed_server(db)
    left = list(Path(tempfile.gettempdir()).glob(f"fitprobe-*-{pid}-*"))
    assert left, "the killed server left no folder: nothing to test"
    store = ReportStore(db)
    assert {j.state for j in store.jobs(("queued", "running"))} == {"queued", "running"}

    recovered = JobRunner(store=store).recover()  # the next start
    assert recovered["interrupted"] == 3
    assert sorted(j.id for j in store.jobs(("interrupted",))) == sorted(ids)
    assert store.job_source(ids[0]).text == HANGING  # to probe it again
    assert [j.label for j in store.jobs(("interrupted",))][::-1] == ["T-0", "T-1", "T-2"]
    assert not [p for p in left if p.exists()]  # the dead process's copies of scripts
    assert recovered["folders"] >= len(left)


def test_a_live_process_keeps_its_probes_and_folders(tmp_path):
    store = ReportStore(tmp_path / DB_NAME)
    store.record_job(
        "live0", name="a.py", label=None, origin="probe",
        owner=leftovers.process_id(), source=None,
    )  # fmt: skip
    mine = leftovers.temp_folder("inbox")
    try:
        assert JobRunner(store=store).recover()["interrupted"] == 0
        assert store.jobs(("queued",))[0].id == "live0" and os.path.isdir(mine)
    finally:
        os.rmdir(mine)
    assert leftovers.alive("another-host:1:2") is None  # never marked from here


def test_history_offers_the_interrupted_probe_again():
    ids, _ = _killed_server(Path(default_store().path))
    JobRunner(store=default_store()).recover()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/history.py").run()
    assert not at.exception, at.exception
    listed = [m.value for m in at.markdown if m.value.startswith("`")]
    assert any(ids[2] in m and "T-2" in m and "interrupted" in m for m in listed)
    at.button(key=f"rerun-{ids[2]}").click().run()
    at.switch_page("pages/probe.py").run()
    assert at.text_area(key="edit_text").value == HANGING
    assert any("did not finish" in i.value for i in at.info)
