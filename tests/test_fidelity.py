"""The probe must not change what the user's script does: plain run vs probed run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from diagnostics import probe, probe_code

from .conftest import FIXTURES, runs_of, stack_record

pytestmark = pytest.mark.slow
FIDELITY = FIXTURES / "fidelity.py"


def _plain(stack: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="1", CUDA_VISIBLE_DEVICES="-1")
    if stack == "keras2":
        env["TF_USE_LEGACY_KERAS"] = "1"
    return subprocess.run(
        [sys.executable, str(FIDELITY)], env=env, capture_output=True, text=True, timeout=300
    )


def _read_ahead(stdout: str) -> list[int]:
    return [int(line.split()[-1]) for line in stdout.splitlines() if "generator read" in line]


@pytest.mark.parametrize("stack", ["keras3", "keras2"])
def test_a_probed_script_behaves_as_it_does_plainly(stack):
    plain = _plain(stack)
    assert plain.returncode == 0, plain.stderr[-2000:]
    report = probe(FIDELITY, keras="3" if stack == "keras3" else "2")
    record = stack_record(report, stack)
    probed = record["stdout"]["text"]
    steady = [line for line in plain.stdout.splitlines() if "generator read" not in line]
    assert [line for line in probed.splitlines() if "generator read" not in line] == steady
    assert steady[0] == "lambda callback epochs [0, 1, 0, 1]"
    # How far Keras reads a generator ahead depends on thread timing (AUTOTUNE
    # prefetch, Keras 2's enqueuer) and varies between plain runs too; that the
    # tap adds no read-ahead of its own is checked exactly in test_keras_hooks.py.
    assert len(_read_ahead(probed)) == 3
    divide_warnings = record["stderr"]["text"].count("divide by zero encountered in log")
    assert divide_warnings == plain.stderr.count("divide by zero encountered in log") == 1
    assert len(runs_of(report, stack)) == 7
    single = runs_of(report, stack)[2]
    assert [e["observed_batches"] for e in single["epochs"]] == [10, 10]


def test_validation_split_steps_per_execution_and_the_failing_fit_line():
    code = """
import numpy as np
import tensorflow as tf
x = np.random.default_rng(0).normal(size=(100, 3)).astype("float32")
model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x, x[:, 0], batch_size=10, epochs=2, validation_split=0.2, verbose=0)
fast = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(1)])
fast.compile(optimizer="sgd", loss="mse", steps_per_execution=4)
fast.fit(x, x[:, 0], batch_size=10, epochs=2, verbose=0)
try:
    model.fit(x, x[:90, 0], epochs=1, verbose=0)
except ValueError:
    print("caught")
"""
    report = probe_code(code, keras="3")
    split, spe, broken = runs_of(report, "keras3")
    assert split["expected_batches_per_epoch"] == 8
    assert [e["observed_batches"] for e in split["epochs"]] == [8, 8]
    assert [e["val_batches"] for e in split["epochs"]] == [2, 2]
    assert split["data"]["never_seen_rows"] == 0 and split["data"]["data_rows"] == 80
    assert spe["expected_batches_per_epoch"] == 3 and spe["expected_steps_per_epoch"] == 10
    assert [(e["observed_batches"], e["steps"]) for e in spe["epochs"]] == [(3, 10), (3, 10)]
    assert broken["exception"]["type"] == "ValueError"
    assert broken["exception"]["line"] == 12
    assert broken["exception"]["code"] == "model.fit(x, x[:90, 0], epochs=1, verbose=0)"


def test_a_fit_loop_is_capped_by_fit_calls():
    code = """
import numpy as np
import tensorflow as tf
x = np.ones((20, 2), dtype="float32")
model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
for epoch in range(500):
    try:
        model.fit(x, x[:, 0], batch_size=10, epochs=1, verbose=0)
    except Exception:
        print("the script swallowed the probe's stop")
"""
    report = probe_code(code, keras="3", max_fit_calls=4)
    assert report["status"] == "ok"
    assert len(runs_of(report, "keras3")) == 4
    record = stack_record(report, "keras3")
    assert record["fit_call_cap"] == 4
    assert "swallowed" not in record["stdout"]["text"]
    assert "fitprobe ended the script after 4 fit() calls" in report["verdict"]


def test_the_script_runs_in_place_with_its_arguments_and_working_directory(tmp_path):
    project = tmp_path / "project"
    data = tmp_path / "data"
    project.mkdir()
    data.mkdir()
    (project / "helpers.py").write_text("ROWS = 40\n")
    script = project / "train.py"
    script.write_text(
        "import os, sys\n"
        "import numpy as np\n"
        "import tensorflow as tf\n"
        "from helpers import ROWS\n"
        "x = np.load(os.path.join(os.path.dirname(__file__), 'x.npy'))[:ROWS]\n"
        "y = np.load('y.npy')[:ROWS]\n"
        "model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])\n"
        "model.compile(optimizer='sgd', loss='mse')\n"
        "model.fit(x, y, batch_size=10, epochs=int(sys.argv[1]), verbose=0)\n"
    )
    import numpy as np

    np.save(project / "x.npy", np.ones((50, 2), dtype="float32"))
    np.save(data / "y.npy", np.zeros(50, dtype="float32"))
    report = probe(script, keras="3", workdir=str(data), script_args=["2"])
    (run,) = runs_of(report, "keras3")
    assert [e["observed_batches"] for e in run["epochs"]] == [4, 4]
    missing = probe(script, keras="3", script_args=["2"])  # default: empty scratch directory
    assert missing["status"] == "input-error"
    assert "FileNotFoundError" in missing["status_reason"]
