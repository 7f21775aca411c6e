"""Hostile and broken inputs, probed the way the app probes them: through the job runner
and the warm pool, in the sandbox. Each ends in a report with a clear status or
finding; afterwards the pool refills, the saved history is intact, and a normal probe
started right after it succeeds."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from diagnostics.engine.jobs import JobRunner
from diagnostics.engine.pool import WorkerPool
from diagnostics.engine.sandbox import BWRAP, detect
from diagnostics.engine.store import DB_NAME, ReportStore

from .conftest import require

pytestmark = pytest.mark.slow

HANG_S = 12  # the time limit for inputs that never finish
NORMAL = """
import numpy as np
from tensorflow import keras
x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x, x[:, :1], batch_size=10, epochs=2, verbose=0)
"""
FIT = "\nmodel.fit()\n"  # a fit() call for the static check; the script never gets there
SANDBOXED = detect().level == BWRAP


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """What the app runs: a job runner on a warm pool, and a history with a report in it."""
    store = ReportStore(tmp_path_factory.mktemp("history") / DB_NAME)
    pool = WorkerPool(1)
    runner = JobRunner(store=store, pool=pool, max_parallel=1)
    sentinel = _probe(runner, NORMAL)
    yield runner, pool, store, json.dumps(store.get(sentinel["id"]), sort_keys=True)
    pool.close()


def _probe(runner: JobRunner, code: str | None, *, limit: float = 240, **options) -> dict:
    job_id = runner.submit(code=code, **options)
    deadline = time.monotonic() + limit
    while runner.get(job_id).state in ("queued", "running"):
        assert time.monotonic() < deadline, "the probe did not end"
        time.sleep(0.1)
    job = runner.get(job_id)
    assert job.state == "done", job.error
    return job.report


@pytest.fixture
def probe_hostile(app):
    """Probe one hostile input, then check that nothing it did outlived its probe."""
    runner, pool, store, sentinel = app

    def run(code: str, **options) -> dict:
        report = _probe(runner, code, **options)
        assert report["verdict"] and report["status"] in ("ok", "input-error", "timeout", "crashed")
        assert pool.wait_ready(120)  # the pool refilled
        after = _probe(runner, NORMAL, keras="both")  # and the next probe is fine, and warm
        assert after["status"] == "ok", after["verdict"]
        assert [[e["observed_batches"] for e in r["epochs"]] for r in after["runs"]] == [[4, 4]] * 2
        assert all(s["warm"] for s in after["stacks"])
        first = json.loads(sentinel)
        assert json.dumps(store.get(first["id"]), sort_keys=True) == sentinel  # history intact
        return report

    return run


def _reason(report: dict) -> str:
    return report.get("status_reason") or ""


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("syntax.py", b"def broken(:\n    pass\nmodel.fit()\n", "syntax error at line 1"),
        ("latin.py", "x = 'caf\xe9'\nmodel.fit()\n".encode("latin-1"), "is not UTF-8 text"),
        ("weights.py", bytes(range(256)) * 4, "is a binary file, not Python source"),
        ("empty.py", b"", "is empty"),
        ("helpers.py", b"def add(a, b):\n    return a + b\n", "never calls fit()"),
    ],
)
def test_files_that_cannot_be_probed(app, tmp_path, name, content, message):
    runner, *_ = app
    path = tmp_path / name
    path.write_bytes(content)
    report = _probe(runner, None, path=str(path))
    assert report["status"] == "input-error"
    assert message in _reason(report)
    assert report["environment"]["isolation"] == detect().label


def test_an_import_of_a_missing_module(probe_hostile):
    report = probe_hostile("import numpy\nimport nonexistent_package_xyz\n" + FIT, keras="3")
    assert report["status"] == "input-error"
    assert "raised ModuleNotFoundError at line 2 before calling fit()" in _reason(report)


def test_a_generator_that_never_yields_is_stopped_at_the_time_limit(probe_hostile):
    code = """
import threading
from tensorflow import keras
def never():
    threading.Event().wait()  # blocks for good
    yield
model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(never(), steps_per_epoch=5, epochs=2, verbose=0)
"""
    started = time.monotonic()
    report = probe_hostile(code, keras="both", timeout=HANG_S)
    assert report["status"] == "timeout"
    assert {f["code"] for f in report["findings"]} >= {"input-stalled"}
    assert time.monotonic() - started < HANG_S + 60


def test_an_infinite_loop_at_import_time(probe_hostile):
    report = probe_hostile("while True:\n    pass\n" + FIT, keras="3", timeout=HANG_S)
    assert report["status"] == "timeout"
    assert "time limit of 12 s per stack" in _reason(report)
    assert "while the script was at the top level, line " in _reason(report)


def test_a_memory_bomb_hits_the_memory_limit(probe_hostile):
    code = "hoard = []\nwhile True:\n    hoard.append(bytearray(256 * 1024 * 1024))\n" + FIT
    report = probe_hostile(code, keras="3", memory_mb=2048)
    assert report["status"] == "input-error"
    assert "raised MemoryError" in _reason(report)


def test_a_fork_bomb_hits_the_process_cap(probe_hostile):
    require(detect().process_cap is not None, "no process cap here: " + detect().label)
    code = "import os\nwhile True:\n    os.fork()\n" + FIT
    report = probe_hostile(code, keras="3", timeout=30)
    assert report["status"] in ("input-error", "timeout")
    if report["status"] == "input-error":
        assert "BlockingIOError" in _reason(report) or "Resource temporarily" in _reason(report)


def test_a_segfault(probe_hostile):
    report = probe_hostile("import ctypes\nctypes.string_at(0)\n" + FIT, keras="3")
    assert report["status"] == "crashed"
    assert "killed by SIGSEGV while the script ran" in _reason(report)


@pytest.mark.parametrize(
    ("ending", "message"),
    [
        ("import os\nos._exit(3)\n", "the script ended its process with exit status 3"),
        ("import sys\nsys.exit(0)\n", "the script called sys.exit(0) before calling fit()"),
    ],
)
def test_exiting_before_fit(probe_hostile, ending, message):
    report = probe_hostile(ending + FIT, keras="both")
    assert report["status"] in ("crashed", "input-error")
    assert message in _reason(report)


def test_printing_hundreds_of_megabytes(probe_hostile):
    code = "import sys\nfor _ in range(300):\n    sys.stdout.write('y' * 1_000_000)\n" + NORMAL
    report = probe_hostile(code, keras="3")
    assert report["status"] == "ok"
    stdout = report["stacks"][0]["stdout"]
    assert stdout["bytes"] == 300_000_000 and stdout["truncated"]
    assert len(stdout["text"]) < 100_000


def test_writing_a_large_file_stops_at_the_file_limit(probe_hostile):
    code = (
        "import tempfile\nwith tempfile.TemporaryFile() as f:\n"
        "    for _ in range(3000):\n        f.write(b'z' * 1_000_000)\n" + FIT
    )
    report = probe_hostile(code, keras="3")
    assert report["status"] == "input-error"
    assert "OSError" in _reason(report)  # EFBIG (file too large) or ENOSPC (its /tmp is full)


def test_writing_outside_the_scratch_directory_fails(probe_hostile, tmp_path):
    require(SANDBOXED, "needs the sandbox: " + detect().label)
    from pathlib import Path

    target = Path(__file__).resolve().parent.parent / "diagnostics" / "planted.py"
    code = f"open({str(target)!r}, 'w').write('owned = True')\n" + FIT
    report = probe_hostile(code, keras="3")
    assert "Read-only file system" in _reason(report) or "No such file" in _reason(report)
    assert not target.exists()


def test_the_network_is_out_of_reach(probe_hostile):
    require(SANDBOXED, "needs the sandbox: " + detect().label)
    import socket

    with socket.socket() as listener:  # a service on this machine's loopback
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        code = (
            f"""
import socket
for address in [("127.0.0.1", {port}), ("192.0.2.1", 80)]:
    try:
        socket.create_connection(address, timeout=3).close()
        print("reached", address)
    except OSError as exc:
        print("unreachable", address, type(exc).__name__, exc)
"""
            + FIT
        )
        report = probe_hostile(code, keras="3")
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody came
    out = report["stacks"][0]["stdout"]["text"]
    assert "reached" not in out
    assert f"unreachable ('127.0.0.1', {port}) ConnectionRefusedError" in out
    assert "unreachable ('192.0.2.1', 80) OSError [Errno 101] Network is unreachable" in out


def test_the_history_and_the_apps_secrets_are_out_of_reach(app, monkeypatch):
    """The secret is in the server's environment before any worker starts, warm or cold,
    as a real server's settings are."""
    _, _, store, _ = app
    monkeypatch.setenv("FITPROBE_SECRET_TOKEN", "hunter2")
    code = (
        f"""
import os
print("secret:", os.environ.get("FITPROBE_SECRET_TOKEN"))
print("anywhere:", "hunter2" in open("/proc/self/environ", "rb").read().decode("latin-1"))
try:
    print("history:", len(open({str(store.path)!r}, "rb").read()))
except OSError as exc:
    print("history: unreadable", type(exc).__name__)
"""
        + FIT
    )
    pool = WorkerPool(1, stacks=["keras3"])  # started after the secret was set
    try:
        assert pool.wait_ready(120)
        warm = _probe(JobRunner(store=store, pool=pool, max_parallel=1), code, keras="3")
    finally:
        pool.close()
    cold = _probe(JobRunner(store=store, max_parallel=1), code, keras="3")
    assert warm["stacks"][0]["warm"] and not cold["stacks"][0]["warm"]
    for report in (warm, cold):
        out = report["stacks"][0]["stdout"]["text"]
        assert "secret: None" in out and "anywhere: False" in out
        assert "hunter2" not in json.dumps(report)
        if SANDBOXED:
            assert "history: unreadable FileNotFoundError" in out


def test_a_setsid_child_does_not_outlive_the_probe(probe_hostile):
    marker = "31337.5"  # sleep's argument: how this child is found afterwards
    code = (
        f"""
import subprocess
subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
"""
        + NORMAL
    )
    report = probe_hostile(code, keras="3")
    assert report["status"] == "ok"
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the setsid child outlived its probe"


def test_every_report_names_its_isolation(app):
    runner, *_ = app
    report = _probe(runner, NORMAL, keras="3")
    env = report["environment"]
    assert env["isolation"] == detect().label == report["stacks"][0]["isolation"]
    assert env["sandbox"]["level"] in ("bubblewrap", "rlimits+process-group")
    if env["sandbox"]["level"] != BWRAP:  # said, not hidden: why the sandbox is not in force
        assert env["sandbox"]["reason"] and env["sandbox"]["reason"] in env["isolation"]


def test_without_the_sandbox_probes_still_run_and_say_so(tmp_path):
    import os
    import sys
    from pathlib import Path

    script = tmp_path / "normal.py"
    script.write_text(NORMAL)
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "diagnostics", "probe", str(script), "--keras", "3", "--json"],
        cwd=root,
        env={**os.environ, "FITPROBE_SANDBOX": "none"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stdout)
    assert report["status"] == "ok"
    assert report["environment"]["isolation"].startswith("rlimits+process-group")
    assert "turned off by FITPROBE_SANDBOX=none" in report["environment"]["isolation"]
    assert [e["observed_batches"] for e in report["runs"][0]["epochs"]] == [4, 4]
