"""A script that writes to fitprobe's event pipe cannot get a clean report: its lines are
dropped and reported (`report-tampered`, exit status not 0), a flood of them, with or
without newlines, ends the probe while the parent's memory stays flat, and the pipe
is named nowhere the script looks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from diagnostics import exit_code, probe_code
from diagnostics.engine.channel import MAX_LINE_BYTES, EventChannel
from diagnostics.schema import frame

pytestmark = pytest.mark.slow

# A broken pipeline: one pass of 4 batches, asked for 8 a epoch. Its true report has
# an error (the data runs out) whatever the forger writes.
BROKEN = """
import numpy as np
from tensorflow import keras

def one_pass():
    for _ in range(4):
        yield np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32")

model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(one_pass(), steps_per_epoch=8, epochs=3, verbose=0)
"""

# Finds every pipe the process may write to but its own stdio, as a forger would.
FIND_PIPES = """
import os
def pipes():
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                found.append(fd)
        except OSError:
            pass
    return found
def write_all(data):
    for fd in pipes():
        try:
            os.write(fd, data)
        except OSError:
            pass
"""


def _forger(body: str) -> str:
    return FIND_PIPES + textwrap.dedent(body) + BROKEN


def _tampered(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "report-tampered"]


def test_forged_events_are_dropped_and_reported():
    forged = [
        {"type": "fit-start", "call": 0, "fit": {"epochs": 5, "steps_per_epoch": 1000}},
        *({"type": "epoch-end", "call": 0, "epoch": e, "observed_batches": 1000}
          for e in range(5)),
        {"type": "fit-end", "call": 0, "stopped_by": "completed", "epochs_completed": 5},
        {"type": "stack-end", "exit_code": 0},
        [1],  # valid JSON, not an event
    ]  # fmt: skip
    lines = b"".join(json.dumps(e).encode() + b"\n" for e in forged)
    code = _forger(f"""
        write_all({lines!r})
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in pipes():  # and silence fitprobe's own events from now on
            os.dup2(devnull, fd)
    """)
    report = probe_code(code, keras="3", timeout=120)
    assert exit_code(report) != 0
    assert not report["verdict"].startswith("No problem found"), report["verdict"]
    (finding,) = _tampered(report)
    assert finding["severity"] == "error"
    channel = finding["evidence"]["keras3"]["channel"]
    assert channel["tampered"]["line not written by fitprobe"] == len(forged)
    # Not one forged number made it into the report.
    batches = [e["observed_batches"] for r in report["runs"] for e in r["epochs"]]
    assert 1000 not in batches
    assert "observed in a process the script shares" in report["trust"]


def test_replayed_events_of_fitprobe_are_caught():
    """Lines fitprobe framed, written again by the script (read back from a copy)."""
    key = bytes(32)
    line = frame(key, 0, b'{"type": "stack-start"}').rstrip(b"\n")  # as read off the pipe
    channel = EventChannel()
    channel.key = key
    assert channel.accept(line) == b'{"type": "stack-start"}'
    assert channel.accept(line) is None  # the same number again
    other = frame(bytes([1]) * 32, 1, b'{"type": "x"}').rstrip(b"\n")
    assert channel.accept(other) is None  # framed under another key
    assert channel.accept(b'{"type": "worker-ready"}') is None  # unframed, after a framed one
    assert dict(channel.tampered) == {
        "replayed or reordered event": 1,
        "line not written by fitprobe": 2,
    }


@pytest.mark.parametrize("newlines", [False, True], ids=["one-endless-line", "many-lines"])
def test_a_flood_on_the_pipe_ends_the_probe_and_the_parent_stays_small(newlines):
    chunk = (b"x" * 1023 + b"\n") if newlines else b"x" * 1024
    code = _forger(f"""
        block = {chunk!r} * 1024  # 1 MiB
        for _ in range(1024):  # 1 GiB in all
            write_all(block)
    """)
    # The CLI's own peak memory, measured by the CLI's process itself: VmHWM, its memory's
    # high-water mark since it started (ru_maxrss would carry pytest's own from the fork).
    measure = (
        "import json, sys\n"
        "from diagnostics import probe_code\n"
        "report = probe_code(sys.stdin.read(), keras='3', timeout=300)\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        "print(json.dumps({'peak_mb': int(status) // 1024, 'report': report}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", measure], input=code, capture_output=True, text=True, timeout=300
    )
    result = json.loads(out.stdout)
    report = result["report"]
    assert result["peak_mb"] < 400, f"the parent grew to {result['peak_mb']} MB"
    assert exit_code(report) != 0
    assert not report["verdict"].startswith("No problem found")
    (finding,) = _tampered(report)
    channel = finding["evidence"]["keras3"]["channel"]
    if newlines:
        assert channel["tampered"]["line not written by fitprobe"] > 1000
    else:
        assert channel["tampered"]["oversized line"] == 1  # never held whole
        assert MAX_LINE_BYTES < 1024**3
    assert channel["flooded"]
    (stack,) = report["stacks"]
    assert stack["status"] == "crashed" and "flooded" in stack["reason"]


def test_the_script_finds_no_name_for_the_pipe():
    code = (
        "import os, sys\n"
        "print(sorted(k for k in os.environ if 'FITPROBE' in k or 'EVENT' in k))\n"
        "print(sys.argv)\n" + BROKEN
    )
    report = probe_code(code, keras="3", timeout=120)
    printed = report["stacks"][0]["stdout"]["text"].splitlines()
    assert printed[0] == "[]"
    assert printed[1] == "['script.py']" or printed[1].endswith("script.py']")
    assert not _tampered(report)


# A healthy pipeline whose script calls fitprobe's observer itself, so that the chart
# shows 100 batches an epoch where Keras trained 4. Keras's own counters say otherwise.
INFLATE = """
import gc
import numpy as np
from tensorflow import keras

class Inflate(keras.callbacks.Callback):  # runs before fitprobe's observer
    def on_epoch_end(self, epoch, logs=None):
        for obj in gc.get_objects():
            if type(obj).__name__ == "FitprobeObserver":
                for i in range(96):
                    obj.on_train_batch_end(i)

x, y = np.zeros((32, 3), "float32"), np.zeros((32, 1), "float32")
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[Inflate()])
"""


def test_counts_inflated_from_inside_are_caught_by_kerass_own_counters():
    report = probe_code(INFLATE, keras="both", timeout=120)
    assert exit_code(report) != 0
    for stack in ("keras3", "keras2"):
        (run,) = [r for r in report["runs"] if r["stack"] == stack]
        assert [e["observed_batches"] for e in run["epochs"]] == [100, 100]  # the lie
        assert run["keras_counts"]["optimizer_steps"] == 8  # what Keras trained
        assert run["keras_counts"]["history_epochs"] == 2
    found = [f for f in report["findings"] if f["code"] == "counts-disagree"]
    assert sorted(s for f in found for s in f["stack"]) == ["keras2", "keras3"]
    assert "the optimizer took 8 steps where the report counts 200 trained batches" in (
        found[0]["title"]
    )
    assert "disagree" in report["verdict"]


def test_an_honest_probe_agrees_with_kerass_own_counters():
    report = probe_code(INFLATE.replace("callbacks=[Inflate()]", "callbacks=[]"), keras="both")
    assert not [f for f in report["findings"] if f["code"] == "counts-disagree"]
    for run in report["runs"]:
        assert run["keras_counts"] == {
            "optimizer_steps": 8, "history_epochs": 2, "trained_batches": 8,
        }  # fmt: skip
        assert [e["observed_batches"] for e in run["epochs"]] == [4, 4]


# Honest scripts where Keras does not step the optimizer once a batch: mixed precision
# (Keras 3's loss scaling skips steps whose gradients overflow, as these targets make
# them) and a model with nothing to train. No disagreement is claimed for them.
MIXED = """
import numpy as np
from tensorflow import keras

keras.mixed_precision.set_global_policy("mixed_float16")
x, y = np.ones((32, 3), "float32"), np.full((32, 1), 6e4, "float32")
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x, y, batch_size=8, epochs=2, verbose=0)
frozen = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, trainable=False)])
frozen.compile(optimizer="sgd", loss="mse")
frozen.fit(x, y, batch_size=8, epochs=2, verbose=0)
"""


def test_no_disagreement_is_claimed_where_keras_skips_optimizer_steps():
    report = probe_code(MIXED, keras="3")
    assert not [f for f in report["findings"] if f["code"] == "counts-disagree"]
    assert [r["keras_counts"]["optimizer_steps"] for r in report["runs"]] == [None, None]
    assert [r["keras_counts"]["history_epochs"] for r in report["runs"]] == [2, 2]
