"""The probe must not change what the user's script does: plain Keras and fitprobe, side by side.

Every ground-truth situation (`situations/*.py`) and every variant of every gallery sample
runs twice per stack: plainly, through `plain_keras` (a fresh Python, real data, only a
callback counting batches), and probed by fitprobe. Per fit() call, the trained batches
per epoch, the validation batches per epoch and the exception fit() raised must be the
same. Every epoch that began counts on both sides: an epoch that crashed, or that the
validation cap or the time limit cut, is a `partial` epoch in the report and counts the
batches observed before it ended, as the plain counter does.

Where fitprobe caps what the script may run (epochs per fit() call, trained and validation
batches per epoch, fit() calls, seconds), the plain run is capped the same way, by the
same means (`plain_keras.Caps`), so the two runs go on alike after a capped fit() call;
and the report must say that a cap, not the data, ended what it ended.

The plain runs also re-measure `situations/expected.py` every time: the numbers the
contract tests rest on come from the harness in this repository, not from memory.

Plain runs are many (two per script): one session-wide pool, as wide as the machine has
cores, starts those of the selected tests at the first of them, each run its own
subprocess, while the tests probe. Probes are shared with the other test files
(`conftest.probed`, `conftest.probed_sample`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from diagnostics import ProbeOptions, probe, probe_code
from sample_generators import VARIANTS, samples

from .conftest import (
    FIXTURES,
    SITUATIONS,
    load_expected,
    probed,
    probed_sample,
    runs_of,
    sample_options,
    situation,
    stack_record,
)
from .plain_keras import Caps, plain_run, probed_batches, probed_validation

pytestmark = pytest.mark.slow
FIDELITY = FIXTURES / "fidelity.py"
STACKS = ("keras3", "keras2")
EXPECTED = load_expected()
# How the other probe tests probe a situation (test_keras_contract.py, test_charts.py...):
# the same options, so the session's cache shares the report.
SITUATION_OPTIONS = {"max_steps": 40}


@dataclass(frozen=True)
class Case:
    """One script with its arguments, as the plain run and the probe both run it."""

    id: str
    path: str
    args: tuple[str, ...]
    options: dict  # fitprobe's probe options (its caps among them)
    sample: tuple[str, str] | None = None  # (name, variant) of a gallery sample

    def report(self) -> dict:
        if self.sample is not None:
            return probed_sample(*self.sample)
        return probed(self.path, **self.options)

    @property
    def caps(self) -> Caps:
        return caps_of(self.options)


def caps_of(options: dict) -> Caps:
    """fitprobe's caps for a probe with these options, for the plain run to be capped alike."""
    o = ProbeOptions.of(**options)
    return Caps(
        epochs=o.epochs,
        max_steps=o.max_steps,
        max_val_steps=o.max_val_steps,
        max_fit_calls=o.max_fit_calls,
        time_limit=o.timeout,
    )


SITUATION_CASES = [
    Case(path.stem, situation(path.stem), (), SITUATION_OPTIONS)
    for path in sorted(SITUATIONS.glob("s[0-9]*.py"))
]
SAMPLE_CASES = [
    Case(
        f"{s.name}-{variant}",
        str(s.path),
        (variant,),
        sample_options(s.name, variant),
        (s.name, variant),
    )
    for s in samples()
    for variant in VARIANTS
]
SIDE_BY_SIDE = [(case, stack) for case in SITUATION_CASES + SAMPLE_CASES for stack in STACKS]
PINNED = [(case, stack) for case in SITUATION_CASES for stack in STACKS]
RACY = {("non_threadsafe_generator-broken", "keras2")}  # (case id, stack): see below


def _ids(pairs) -> list[str]:
    return [f"{case.id}-{stack}" for case, stack in pairs]


@pytest.fixture(scope="session")
def plain_runs(request):
    """{(case id, stack): Future of its plain run}, for the selected tests, in their order."""
    wanted: dict[tuple[str, str], tuple[Case, str]] = {}
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "plain_runs" in getattr(item, "fixturenames", ()) and "case" in params:
            case, stack = params["case"], params["stack"]
            wanted.setdefault((case.id, stack), (case, stack))
    pool = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="plain-keras")
    futures = {
        key: pool.submit(plain_run, stack, case.path, args=case.args, caps=case.caps)
        for key, (case, stack) in wanted.items()
    }
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def _observed(runs: list[dict], report: dict, stack: str) -> dict:
    return {
        "trained": probed_batches(report, stack),
        "validation": probed_validation(report, stack),
        "fit exceptions": [(run["exception"] or {}).get("type") for run in runs],
    }


def _plainly(plain: dict) -> dict:
    return {
        "trained": plain["fits"],
        "validation": plain["val"],
        "fit exceptions": [call["exception"] for call in plain["calls"]],
    }


@pytest.mark.parametrize("case, stack", SIDE_BY_SIDE, ids=_ids(SIDE_BY_SIDE))
def test_fitprobe_observes_what_plain_keras_trains(case, stack, plain_runs):
    plain = plain_runs[case.id, stack].result()
    report = case.report()
    runs = runs_of(report, stack)
    where = f"{case.id} on {stack}: {report['verdict']}"
    observed, plainly = _observed(runs, report, stack), _plainly(plain)
    if (case.id, stack) in RACY:
        # Keras 2's loader threads race for the generator: how many batches train before
        # the crash varies from run to run, plain or probed. The epochs and the crash do not.
        for seen in (observed, plainly):
            seen["trained"] = [len(epochs) for epochs in seen["trained"]]
    assert observed == plainly, where
    _assert_caps_marked(case.caps, plain, runs, stack_record(report, stack), where)


def _assert_caps_marked(caps: Caps, plain: dict, runs: list[dict], record: dict, where: str):
    """What one of fitprobe's limits ended in the plain run, the report says a limit ended
    (not the data): the run's `cap` and `stopped_by`, and the epoch it cut (`capped`, and
    which limit in its `cap`)."""
    limits = {
        "max-steps": f"max-steps={caps.max_steps}",
        "max-validation-steps": f"max-validation-steps={caps.max_val_steps}",
    }
    for index, (run, call) in enumerate(zip(runs, plain["calls"], strict=True)):
        at = f"fit() call {index}, {where}"
        if call["epochs_run"] is not None and call["epochs_run"] < call["epochs_requested"]:
            assert (run["fit"]["epochs"], run["fit"]["epochs_run"]) == (
                call["epochs_requested"], call["epochs_run"]
            ), at  # fmt: skip
            ran_all = call["epochs_ended"] == call["epochs_run"] - call["initial_epoch"]
            asked_to_stop = call["stop_training"]  # a callback, or Keras 2 out of data
            if ran_all and not asked_to_stop and call["cap"] is None and call["exception"] is None:
                assert run["stopped_by"] == "probe-cap", at
        cut: dict[int, str] = {}  # epoch (position in the run) -> the limit that ended it
        if call["cap"] is not None:
            cut[call["cap_epoch"]] = limits[call["cap"]]
        in_epoch = len(plain["fits"][index]) > call["epochs_ended"]
        if plain["timed_out"] and not call["returned"] and in_epoch:
            cut[len(plain["fits"][index]) - 1] = "time-limit"
        assert run["cap"] == limits.get(call["cap"]), at
        assert {k: e.get("cap") for k, e in enumerate(run["epochs"]) if e["capped"]} == cut, at
        if call["cap"] is not None:
            assert run["stopped_by"] == "probe-cap", at
    assert record["fit_call_cap"] == plain["fit_call_cap"], where
    assert (record["status"] == "timeout") == plain["timed_out"], where
    if plain["timed_out"] and plain["calls"] and not plain["calls"][-1]["returned"]:
        assert runs[-1]["stopped_by"] == "timeout", where


@pytest.mark.parametrize("case, stack", PINNED, ids=_ids(PINNED))
def test_plain_keras_still_does_what_expected_py_pins(case, stack, plain_runs):
    """expected.py, re-measured: the harness's own numbers, not fitprobe's."""
    want = EXPECTED[case.id][stack]
    plain = plain_runs[case.id, stack].result()
    assert not plain["timed_out"] and plain["fit_call_cap"] is None
    assert len(plain["fits"]) == (1 if want["fit_called"] else 0)
    trained = plain["fits"][0] if plain["fits"] else []
    validated = plain["val"][0] if plain["val"] else []
    call = plain["calls"][0] if plain["calls"] else {"epochs_ended": 0, "cap": None}
    assert call.get("epochs_run") == call.get("epochs_requested"), "epochs capped"
    if want.get("runs_forever"):
        # Only the harness's cap ended the first epoch; nothing else did.
        assert (trained, call["cap"], call["cap_epoch"]) == ([case.caps.max_steps], "max-steps", 0)
    else:
        assert call["cap"] is None, "a cap cut a run expected.py pins uncapped"
        assert trained == want["batches"]
        assert call["epochs_ended"] == want["epochs_completed"]
    if want["val_batches"] is None:
        assert not any(validated)
    else:
        assert validated == want["val_batches"]
    assert plain["exception"] == want["exception"]
    if want.get("exception_match"):
        assert want["exception_match"] in plain["exception_text"]
    assert plain["ran_out_of_data"] == want["ran_out_of_data_warning"]


def _read_ahead(stdout: str) -> list[int]:
    return [int(line.split()[-1]) for line in stdout.splitlines() if "generator read" in line]


@pytest.mark.parametrize("stack", STACKS)
def test_a_probed_script_behaves_as_it_does_plainly(stack):
    plain = plain_run(stack, FIDELITY, caps=caps_of({}))
    assert plain["exception"] is None, plain["stderr"][-2000:]
    report = probe(FIDELITY, keras="3" if stack == "keras3" else "2")
    record = stack_record(report, stack)
    probed = record["stdout"]["text"]
    steady = [line for line in plain["stdout"].splitlines() if "generator read" not in line]
    assert [line for line in probed.splitlines() if "generator read" not in line] == steady
    assert steady[0] == "lambda callback epochs [0, 1, 0, 1]"
    # How far Keras reads a generator ahead depends on thread timing (AUTOTUNE
    # prefetch, Keras 2's enqueuer) and varies between plain runs too; that the
    # tap adds no read-ahead of its own is checked exactly in test_keras_hooks.py.
    assert len(_read_ahead(probed)) == 3
    divide_warnings = record["stderr"]["text"].count("divide by zero encountered in log")
    assert divide_warnings == plain["stderr"].count("divide by zero encountered in log") == 1
    assert len(runs_of(report, stack)) == len(plain["fits"]) == 7
    assert probed_batches(report, stack) == plain["fits"]


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
