"""What the probe observes beyond batch counts: samples, replays, coverage, failures, modes."""

from __future__ import annotations

import shutil

import pytest

from diagnostics import probe, probe_code
from diagnostics.report.batches import Batches

from .conftest import FIXTURES, probed, runs_of, situation, stack_record

pytestmark = pytest.mark.slow
STACKS = ("keras3", "keras2")


def _run(stem: str, stack: str) -> dict:
    (run,) = runs_of(probed(situation(stem), max_steps=40), stack)
    return run


@pytest.mark.parametrize("stack", STACKS)
def test_short_sequence_never_shows_half_of_the_samples(stack):
    run = _run("s02_sequence_len_too_small", stack)
    assert [e["samples_seen"] for e in run["epochs"]] == [50] * 5
    assert [e["seen_ranges"] for e in run["epochs"]] == [[[0, 49]]] * 5
    assert run["data"]["data_rows"] == 100
    assert run["data"]["never_seen_rows"] == 50
    assert run["data"]["never_seen_ranges"] == [[50, 99]]
    assert run["data"]["pass_length"] == 5


@pytest.mark.parametrize("stem", ["s04_finite_generator_steps", "s05_finite_generator_no_steps"])
def test_keras3_replays_the_two_peeked_batches(stem):
    run = _run(stem, "keras3")
    ghost = [e for e in run["epochs"] if e["epoch"] >= 2]
    assert [e["observed_batches"] for e in ghost] == [2, 2, 2]
    assert [e["replayed_batches"] for e in ghost] == [2, 2, 2]
    assert [e["new_samples"] for e in ghost] == [0, 0, 0]
    assert run["epochs"][0]["replayed_batches"] == 0
    assert run["epochs"][0]["samples_seen"] == 100
    replayed = [b for b in Batches(run["batches"]) if b["replayed"]]
    first_two = [b["hash"] for b in Batches(run["batches"])[:2]]
    assert {b["hash"] for b in replayed} == set(first_two)
    assert run["data"]["source_exhausted"] is True
    assert run["data"]["pass_length"] == 10
    assert run["expected_batches_per_epoch"] == 10
    assert any("ran out of data" in w for w in run["warnings"])


def test_keras2_never_replays():
    run = _run("s04_finite_generator_steps", "keras2")
    assert sum(e["replayed_batches"] for e in run["epochs"]) == 0
    assert run["stopped_by"] == "data-exhausted"


@pytest.mark.parametrize("stack", STACKS)
def test_half_steps_alternate_between_the_two_halves(stack):
    run = _run("s01_infinite_generator_half_steps", stack)
    assert [e["seen_ranges"] for e in run["epochs"]] == [
        [[0, 49]],
        [[50, 99]],
        [[0, 49]],
        [[50, 99]],
        [[0, 49]],
    ]
    assert [e["new_samples"] for e in run["epochs"]] == [50, 50, 0, 0, 0]
    assert run["data"]["pass_length"] == 10
    assert run["data"]["infinite"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_user_frame_is_found_inside_a_wrapped_tensorflow_error(stack):
    run = _run("s10_generator_raises", stack)
    exc = run["exception"]
    assert exc["root_cause"]["type"] == "ValueError"
    assert exc["file"] == "s10_generator_raises.py"
    assert "raise ValueError" in exc["code"]
    assert exc["line"] == exc["root_cause"]["line"]


@pytest.mark.parametrize("stack", STACKS)
def test_nan_batches_and_the_callback_that_stopped(stack):
    run = _run("s15_nan_terminate_on_nan", stack)
    assert run["stopped_by_callback"] == "TerminateOnNaN"
    assert sum(b["nonfinite"] for b in Batches(run["batches"])) == 1


def test_script_importing_keras_directly_is_not_applicable_on_keras2():
    report = probed(str(FIXTURES / "direct_keras_import.py"))
    assert report["status"] == "ok"
    record = stack_record(report, "keras2")
    assert record["status"] == "not-applicable"
    assert "imports `keras` directly" in record["reason"]
    assert runs_of(report, "keras2") == []
    assert "Keras 2 was not run (line 3 imports `keras` directly" in report["verdict"]
    (run,) = runs_of(report, "keras3")
    assert [e["observed_batches"] for e in run["epochs"]] == [4, 4]
    assert run["expected_batches_per_epoch"] == 4


def test_exception_before_fit_is_reported_with_its_line():
    report = probed(str(FIXTURES / "raises_before_fit.py"))
    assert report["status"] == "input-error"
    record = stack_record(report, "keras3")
    assert record["status"] == "no-fit"
    assert record["script_exception"]["type"] == "ModuleNotFoundError"
    assert record["script_exception"]["line"] == 4
    assert "before calling fit()" in report["status_reason"]


def test_several_fit_calls_are_several_runs_and_prints_are_captured():
    code = """
import numpy as np
import tensorflow as tf
x = np.ones((30, 2), dtype="float32")
model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
if __name__ == "__main__":
    print("first fit")
    model.fit(x, x[:, 0], batch_size=10, epochs=2, verbose=0)
    model.fit(x, x[:, 0], batch_size=15, epochs=9, verbose=0)
"""
    report = probe_code(code, keras="3", epochs=3)
    runs = runs_of(report, "keras3")
    assert [r["call"] for r in runs] == [0, 1]
    assert [len(r["epochs"]) for r in runs] == [2, 3]
    assert [r["stopped_by"] for r in runs] == ["completed", "probe-cap"]
    assert runs[1]["fit"]["epochs"] == 9 and runs[1]["fit"]["epochs_run"] == 3
    assert "first fit" in stack_record(report, "keras3")["stdout"]["text"]


def test_a_hanging_generator_is_stopped_by_the_timeout_and_keeps_what_was_seen():
    code = """
import time
import numpy as np
import tensorflow as tf

def stalls():
    for i in range(3):
        yield np.ones((4, 2), dtype="float32"), np.zeros(4)
    time.sleep(600)
    yield np.ones((4, 2), dtype="float32"), np.zeros(4)

model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(stalls(), steps_per_epoch=10, epochs=2, verbose=0)
"""
    report = probe_code(code, keras="3", timeout=25)
    assert report["status"] == "timeout"
    (run,) = runs_of(report, "keras3")
    assert run["stopped_by"] == "timeout"
    assert run["epochs"][0]["partial"] is True
    assert run["epochs"][0]["observed_batches"] == 3


def test_a_segfault_is_a_report_not_a_crash_of_fitprobe():
    code = "import ctypes\nctypes.string_at(0)\nmodel.fit()\n"
    report = probe_code(code, keras="3")
    assert report["status"] == "crashed"
    assert "SIGSEGV" in report["status_reason"]


@pytest.mark.parametrize("stack", STACKS)
def test_module_mode_builds_a_standin_model(stack):
    report = probe(
        FIXTURES / "data_sources.py",
        source="endless_batches",
        args={"batch_size": 20},
        keras="2" if stack == "keras2" else "3",
        steps_per_epoch=2,
        epochs=3,
    )
    assert report["input"]["mode"] == "module"
    (run,) = runs_of(report, stack)
    assert [e["observed_batches"] for e in run["epochs"]] == [2, 2, 2]
    # 3 batches of 20 per pass, 2 per epoch: rows 0-39, then 40-59 + 0-19, then 20-59
    assert [e["samples_seen"] for e in run["epochs"]] == [40, 40, 40]
    assert [e["new_samples"] for e in run["epochs"]] == [40, 20, 0]
    assert run["data"]["pass_length"] == 3
    assert stack_record(report, stack)["standin_model"]["loss"] == "mse"


def test_module_mode_sequence_and_dataset_sources():
    seq = probe(
        FIXTURES / "data_sources.py", source="RowBatches", args={"length": 3}, keras="3", epochs=2
    )
    (run,) = runs_of(seq, "keras3")
    assert [e["observed_batches"] for e in run["epochs"]] == [3, 3]
    assert run["data"]["never_seen_ranges"] == [[30, 59]]
    ds = probe(
        FIXTURES / "data_sources.py",
        source="make_dataset",
        keras="3",
        epochs=2,
        validation_source="make_dataset",
        validation_args={"batch_size": 30},
    )
    (run,) = runs_of(ds, "keras3")
    assert [e["observed_batches"] for e in run["epochs"]] == [6, 6]
    assert [e["val_batches"] for e in run["epochs"]] == [2, 2]
    assert run["data"]["pass_length"] == 6


def test_events_stream_in_order_to_the_callback():
    code = """
import numpy as np
import tensorflow as tf
x = np.ones((20, 2), dtype="float32")
model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x, x[:, 0], batch_size=10, epochs=2, verbose=0)
"""
    events = []
    report = probe_code(code, keras="3", on_event=events.append)
    kinds = [e["type"] for e in events if e["type"] != "warning"]
    assert kinds == [
        "stack-launch",  # the engine's: a worker taken from the pool or started cold
        "stack-start",
        "surroundings",  # what the script was given: data, stand-ins (none here)
        "fit-start",
        *(["epoch-begin", "batch", "batch", "epoch-end"] * 2),
        "fit-end",
        "stack-end",
    ]
    assert all(e["stack"] == "keras3" for e in events)
    assert [e["observed_batches"] for e in events if e["type"] == "epoch-end"] == [2, 2]
    assert Batches(report["runs"][0]["batches"])[0]["rows"] == 10


def test_output_floods_are_bounded():
    code = "import sys\nsys.stdout.write('x' * 30_000_000)\nprint('the end')\nmodel.fit()\n"
    report = probe_code(code, keras="3")
    stdout = stack_record(report, "keras3")["stdout"]
    assert stdout["bytes"] == 30_000_000 + len("the end\n")
    assert stdout["truncated"] is True
    assert len(stdout["text"]) < 100_000
    assert stdout["text"].endswith("the end\n")


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has a GPU")
def test_asking_for_a_gpu_where_tensorflow_sees_none_is_an_input_error():
    report = probe(FIXTURES / "direct_keras_import.py", keras="3", device="gpu")
    assert report["status"] == "input-error"
    assert report["status_reason"] == "--device gpu was asked for, but TensorFlow sees no GPU here"
