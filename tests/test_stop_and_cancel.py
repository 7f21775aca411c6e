"""Where a stopped probe left the user's code: the time limit and a cancel name the
function, line and code each stack was in (asked of the live worker just before it is
killed), the limit or the cancel, and the stacks; the CLI shows progress only to a
person at a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
import time

import pytest

from diagnostics import probe_code, read_report, render_markdown, render_table, to_json
from diagnostics.cli import ExitCode
from diagnostics.engine.assemble import stopped_place
from diagnostics.engine.jobs import Job, JobRunner, progress_line
from diagnostics.engine.store import DB_NAME, ReportStore
from diagnostics.report import exit_code
from diagnostics.report.labels import stopped_words
from diagnostics.schema import ProbeOptions

from .conftest import TESTS

# A generator that hands over one epoch of batches, then sleeps for good (line 9), on
# the thread tf.data runs it on; fit() waits for it on the main thread (line 13).
HANGS = """\
import time
import numpy as np
import tensorflow as tf

def batches():
    for i in range(10):
        yield np.ones((4, 2), dtype="float32"), np.zeros(4)
    while True:
        time.sleep(1)

model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(batches(), steps_per_epoch=10, epochs=2, verbose=0)
"""
SLEEP_LINE = 9
FIT_LINE = 13
TRAINS = """\
import numpy as np
from tensorflow import keras
x = np.ones((16, 2), dtype="float32")
model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x, x[:, :1], batch_size=4, epochs=2, verbose=0)
"""
LIMIT_S = 30  # counted from the worker's start: its TensorFlow import takes 5 to 15 s


def _stack(report: dict, stack: str) -> dict:
    return next(s for s in report["stacks"] if s["stack"] == stack)


@pytest.mark.slow
def test_the_time_limit_says_where_each_stack_was():
    report = probe_code(HANGS, keras="both", timeout=LIMIT_S)
    assert report["status"] == "timeout" and exit_code(report) == 2
    for stack in ("keras3", "keras2"):
        place = _stack(report, stack)["stopped_at"]
        assert (place["function"], place["line"], place["code"]) == (
            "batches", SLEEP_LINE, "time.sleep(1)"
        ), stack
        assert place["file"] == "pasted_script.py"
        assert place["main"]["line"] == FIT_LINE  # fit() waited for the generator there
    where = (
        f"fitprobe's time limit of {LIMIT_S} s per stack (`--timeout`; in the app, Time limit "
        f"per stack) stopped Keras 3 and Keras 2 while the script was in `batches()`, "
        f"line {SLEEP_LINE}: `time.sleep(1)`"
    )
    assert report["status_reason"].startswith(where)
    assert report["verdict"].startswith(f"The probe did not finish: {where}")
    assert where in render_table(report)  # the CLI's text
    markdown = render_markdown(report)
    assert where in markdown
    waited = "Keras 2: stopped by the time limit; the main thread at the top level, line"
    waited += f" {FIT_LINE}: `model.fit(batches(), steps_per_epoch=10, epochs=2, verbose=0)`"
    assert waited in markdown
    threads = [f for s in report["stacks"] for f in s["stopped_threads"]]
    assert {f["file"] for f in threads} == {"pasted_script.py"}  # the user's name for it


@pytest.mark.slow
def test_cancel_ends_a_running_probe_at_once_and_keeps_its_report(tmp_path):
    store = ReportStore(tmp_path / DB_NAME)
    runner = JobRunner(max_parallel=1, store=store)
    running = runner.submit(code=HANGS, name="hangs.py", keras="3", timeout=120)
    waiting = runner.submit(code=HANGS, name="hangs.py", keras="3", timeout=120)
    assert runner.cancel(waiting) and runner.get(waiting).state == "cancelled"
    job = runner.get(running)
    deadline = time.monotonic() + 120
    while not any("epoch 0: 10 batches trained" in line for line in job.lines):
        assert time.monotonic() < deadline and job.state == "running", list(job.lines)
        time.sleep(0.2)
    time.sleep(0.5)  # the generator has handed over its batches: it sleeps from now on
    assert "s left of the 120 s time limit per stack" in job.clock()
    asked = time.monotonic()
    assert runner.cancel(running)
    while job.state == "running":
        assert time.monotonic() - asked < 30, "the cancel did not end the probe"
        time.sleep(0.05)
    took = time.monotonic() - asked
    # "Within a few seconds", with room for a loaded 2-core machine: it takes ~0.5 s
    # (POLL_S plus WHERE_WAIT_S at most); bench figures belong in bench/.
    assert took < 10.0, f"cancel took {took:.1f} s"
    report = job.report
    assert job.state == "cancelled" and report["status"] == "cancelled", job.error
    place = _stack(report, "keras3")["stopped_at"]
    assert (place["function"], place["line"]) == ("batches", SLEEP_LINE)
    assert report["verdict"].startswith("The probe was cancelled by the user after ")
    assert f"while the script was in `batches()`, line {SLEEP_LINE}" in report["verdict"]
    assert exit_code(report) == 2
    assert job.saved, list(job.lines)
    assert store.get(report["id"])["status"] == "cancelled"
    assert read_report(to_json(report).encode())["status"] == "cancelled"  # importable
    assert runner.get(waiting).started is None  # the waiting job never ran
    assert not runner.cancel(running)  # nothing left to cancel


@pytest.mark.slow
def test_the_cli_shows_progress_on_a_terminal_and_not_in_a_pipe(tmp_path):
    script = tmp_path / "trains.py"
    script.write_text(TRAINS)
    argv = [sys.executable, "-m", "diagnostics", "probe", str(script), "--keras", "3"]
    cwd = str(TESTS.parent)
    piped = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    main_end, terminal = pty.openpty()
    on_terminal = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    shown = []
    reader = threading.Thread(target=_read_all, args=(main_end, shown), daemon=True)
    reader.start()
    out, _ = on_terminal.communicate(timeout=120)
    reader.join(timeout=10)
    piped_out, piped_err = piped.communicate(timeout=120)
    shown = b"".join(shown).decode()
    assert on_terminal.returncode == piped.returncode == ExitCode.OK, piped_err
    assert "starting Keras 3 (about " in shown
    assert "Keras 3 · fit() call 0 · epoch 1/2 · 4 batches\r\n" in shown
    assert "Keras 3 · fit() call 0 · epoch 2/2 · 4 batches\r\n" in shown
    assert piped_err == b""  # no progress where no one watches
    assert out.splitlines()[0] == piped_out.splitlines()[0]  # the same verdict on stdout


def _read_all(fd: int, into: list) -> None:
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the terminal's other end closed
            break
        if not data:
            break
        into.append(data)
    os.close(fd)


# --- the words, without TensorFlow -----------------------------------------------------
FRAME = {"file": "train.py", "function": "batches", "line": 12, "code": "time.sleep(1)"}


def test_the_place_named_is_the_background_thread_while_fit_waits():
    main = {**FRAME, "function": "<module>", "line": 30, "code": "model.fit(batches())",
            "thread": "main", "callee": {"package": "keras", "function": "fit"}}  # fmt: skip
    other = {**FRAME, "thread": "other", "callee": None}
    place = stopped_place([main, other])
    assert (place["function"], place["thread"], place["main"]["line"]) == ("batches", "other", 30)
    busy = {**main, "function": "load", "line": 5, "callee": None}  # the main thread's own code
    assert stopped_place([busy, other])["function"] == "load"
    assert stopped_place([]) is None


def _stopped(status: str, places: dict, **report) -> dict:
    stacks = [
        {"stack": s, "status": status, "keras_version": "3", "stopped_at": p,
         "stopped_threads": [p] if p else None, "reason": ""}
        for s, p in places.items()
    ]  # fmt: skip
    return {"status": status, "stacks": stacks, "input": {"name": "train.py"}, **report}


def test_the_words_for_a_time_limit_and_a_cancel():
    other = {**FRAME, "function": "<lambda>", "line": 3, "code": "x = " + "y" * 100}
    report = _stopped("timeout", {"keras3": FRAME, "keras2": other}, options={"timeout": 20})
    assert stopped_words(report) == (
        "fitprobe's time limit of 20 s per stack (`--timeout`; in the app, Time limit per "
        "stack) stopped Keras 3 while the script was in `batches()`, line 12: "
        "`time.sleep(1)`, and Keras 2 while the script was in `<lambda>`, line 3: `x = "
        + "y" * 75 + "…`"
    )
    report = _stopped("cancelled", {"keras3": None}, duration_s=7.4)
    assert stopped_words(report) == (
        "the probe was cancelled by the user after 7 s: it stopped Keras 3 before it could "
        "say where the script was"
    )
    report = _stopped("timeout", {"keras3": None}, options={"timeout": 20})
    report["stacks"][0]["script_s"] = 3.2  # it ended, but its process did not exit
    assert stopped_words(report).endswith(
        "stopped Keras 3 after the script had ended, while its process still ran (a thread it "
        "started)"
    )
    notebook = {"notebook": {"cells": [{"cell": 2, "first_line": 10, "lines": 5}]}}
    report = _stopped("cancelled", {"keras3": FRAME}, duration_s=3, input=notebook)
    assert "in `batches()`, cell 2, line 3: `time.sleep(1)`" in stopped_words(report)
    assert stopped_words({"status": "ok", "stacks": []}) is None


def test_progress_says_how_long_a_cold_start_takes_and_how_much_time_is_left():
    launch = {"type": "stack-launch", "stack": "keras2", "ready": False, "starting_s": 9.4}
    assert progress_line(launch) == "starting Keras 2 (about 9 s: importing TensorFlow)"
    assert progress_line({**launch, "ready": True}) is None
    job = Job("j", ProbeOptions(keras="3", timeout=20), {}, "model.fit(x)", "probe")
    job.state, job.started = "running", time.time() - 5
    assert job.clock() == "5 s elapsed"
    job.on_event({**launch, "stack": "keras3", "time_limit_s": 20})
    assert job.clock() == "5 s elapsed · 20 s left of the 20 s time limit per stack"
    job._launched["keras3"] -= 25
    assert job.remaining_s == 0 and job.clock().endswith("· stopping…")
    job.cancel.set()
    assert job.clock() == "5 s elapsed · cancelling…"
