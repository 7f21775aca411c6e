"""The Playground's engine: predictions against the pinned ground truth and against real probes.

Fast tests check `predict()` against tests/situations/expected.py (measured on real Keras,
independently of fitprobe) and against behaviour measured while building the predictor, plus
`Setup.problems()`, `script()` and `compare()`. The slow test probes `script(setup)` on both
stacks for a grid of setups and requires every prediction to match reality.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from diagnostics import probe_code
from diagnostics.engine.inputs import calls_fit, imports_keras_directly
from diagnostics.playground import (
    OUTCOMES,
    PEEKED_BATCHES,
    SOURCE_KINDS,
    STOPPED_BY,
    Prediction,
    Setup,
    compare,
    predict,
    script,
)

from .conftest import SITUATIONS, load_expected

EXPECTED = load_expected()
STACKS = ("keras3", "keras2")
# expected.py: situation 20 on Keras 3 was "measured by stopping it after 3000 batches of epoch 0".
ENDLESS_CAP = 3000

# The ground-truth situations the Playground's sliders can express, as setups.
GROUND_TRUTH = {
    "s01_infinite_generator_half_steps": Setup("infinite-generator", steps_per_epoch=5, epochs=5),
    "s02_sequence_len_too_small": Setup("sequence", sequence_len=5, epochs=5),
    "s04_finite_generator_steps": Setup("finite-generator", steps_per_epoch=10, epochs=5),
    "s05_finite_generator_no_steps": Setup("finite-generator", epochs=5),
    "s06_dataset_exact_steps": Setup("dataset", steps_per_epoch=10, epochs=5),
    "s07_dataset_too_many_steps": Setup("dataset", steps_per_epoch=20, epochs=5),
    "s08_dataset_few_steps": Setup("dataset", steps_per_epoch=4, epochs=5),
    "s20_dataset_repeat_no_steps": Setup("dataset-repeat", epochs=2),
    "s21_sequence_few_steps": Setup("sequence", steps_per_epoch=4, epochs=3),
    "s22_sequence_short_len_steps": Setup("sequence", sequence_len=5, steps_per_epoch=10, epochs=2),
}


def _fit_arguments(path) -> dict:
    """The constant keyword arguments of the situation script's `model.fit(...)` call."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "fit"
        ):
            return {
                k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)
            }
    raise AssertionError(f"{path.name} has no fit() call")


@pytest.mark.parametrize("stem", sorted(GROUND_TRUTH))
def test_ground_truth_setup_mirrors_the_situation_script(stem):
    setup, fit = GROUND_TRUTH[stem], _fit_arguments(SITUATIONS / f"{stem}.py")
    assert fit.get("steps_per_epoch") == setup.steps_per_epoch
    assert fit.get("epochs") == setup.epochs


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("stem", sorted(GROUND_TRUTH))
def test_prediction_reproduces_the_ground_truth(stem, stack):
    setup, want = GROUND_TRUTH[stem], EXPECTED[stem][stack]
    got = predict(setup, max_steps=ENDLESS_CAP)[stack]
    assert got.stack == stack
    assert got.reason.endswith(".") and got.reason[0].isupper()
    if want.get("runs_forever"):
        assert (got.batches, got.outcome) == ([ENDLESS_CAP], "never-ends")
        return
    assert got.batches == want["batches"]
    if want["exception"]:
        assert (got.outcome, got.error) == ("error", want["exception"])
    elif want["epochs_completed"] < setup.epochs:
        assert (got.outcome, got.error) == ("data-exhausted", None)
        assert len(got.batches) == want["epochs_completed"]
    else:
        assert (got.outcome, got.error) == ("completed", None)
        assert len(got.batches) == want["epochs_completed"] == setup.epochs


# Measured with real probes of script(setup) while building the predictor (TF 2.21, Keras 3.15.1,
# tf_keras 2.21, max_steps=50): setup -> (Keras 3 batches, outcome), (Keras 2 batches, outcome).
MEASURED = [
    # Keras 3 notices a used-up generator only on the failing pull: an epoch of 0, then replays.
    (
        Setup("finite-generator", steps_per_epoch=5),
        ([5, 5, 0, 2, 2], "completed"),
        ([5, 5, 0], "data-exhausted"),
    ),
    (
        Setup("finite-generator", steps_per_epoch=2, epochs=8),
        ([2, 2, 2, 2, 2, 0, 2, 0], "completed"),
        ([2, 2, 2, 2, 2, 0], "data-exhausted"),
    ),
    (
        Setup("finite-generator", samples=10, steps_per_epoch=1),
        ([1, 0, 1, 0, 1], "completed"),
        ([1, 0], "data-exhausted"),
    ),
    (Setup("finite-generator", samples=10), ([1] * 5, "completed"), ([1, 0], "data-exhausted")),
    (
        Setup("finite-generator", samples=105, steps_per_epoch=4),
        ([4, 4, 3, 2, 2], "completed"),
        ([4, 4, 3], "data-exhausted"),
    ),
    (
        Setup("finite-generator", samples=15, steps_per_epoch=3),
        ([2] * 5, "completed"),
        ([2], "data-exhausted"),
    ),
    (Setup("finite-generator", epochs=1), ([10], "completed"), ([10], "completed")),
    # Keras 2 keeps a dataset's iterator when steps_per_epoch != cardinality.
    (Setup("dataset", steps_per_epoch=5), ([5] * 5, "completed"), ([5, 5, 0], "data-exhausted")),
    (
        Setup("dataset", samples=105, drop_remainder=True, steps_per_epoch=3),
        ([3, 3, 3, 1, 3], "completed"),
        ([3, 3, 3, 1], "data-exhausted"),
    ),
    (
        Setup("dataset", samples=20, batch_size=1, steps_per_epoch=7, epochs=4),
        ([7, 7, 6, 7], "completed"),
        ([7, 7, 6], "data-exhausted"),
    ),
    # The pass ran dry in the last epoch: Keras 2 ran every epoch it was asked for.
    (
        Setup("dataset", steps_per_epoch=3, epochs=4),
        ([3, 3, 3, 1], "completed"),
        ([3, 3, 3, 1], "completed"),
    ),
    # A too-long __len__ gives empty batches (x and y sliced alike): trained, no error.
    (
        Setup("sequence", sequence_len=15, steps_per_epoch=4),
        ([4, 4, 4, 3, 4], "completed"),
        ([4] * 5, "completed"),
    ),
    (
        Setup("sequence", sequence_len=15, epochs=3),
        ([15] * 3, "completed"),
        ([15] * 3, "completed"),
    ),
    (
        Setup("sequence", samples=10, sequence_len=2, steps_per_epoch=3),
        ([2] * 5, "completed"),
        ([2], "data-exhausted"),
    ),
    (
        Setup("sequence", samples=105, drop_remainder=True, sequence_len=12, steps_per_epoch=5),
        ([5, 5, 2, 5, 5], "completed"),
        ([5] * 5, "completed"),
    ),
    # The probe's cap: a generator's epoch is cut at max_steps even when it would end right there;
    # an epoch known (steps_per_epoch, len(), cardinality) to end at the cap is left alone.
    (
        Setup("finite-generator", samples=50, batch_size=1, epochs=2),
        ([50], "capped"),
        ([50], "capped"),
    ),
    (
        Setup("infinite-generator", steps_per_epoch=60, epochs=2),
        ([50], "capped"),
        ([50], "capped"),
    ),
    (Setup("sequence", sequence_len=60, epochs=2), ([50], "capped"), ([50], "capped")),
    (
        Setup("dataset", samples=500, steps_per_epoch=50, epochs=2),
        ([50, 50], "completed"),
        ([50, 50], "completed"),
    ),
    (Setup("infinite-generator"), ([50], "never-ends"), ([50], "never-ends")),
]


@pytest.mark.parametrize(("setup", "keras3", "keras2"), MEASURED, ids=repr)
def test_prediction_reproduces_measured_behaviour(setup, keras3, keras2):
    got = predict(setup, max_steps=50)
    assert (got["keras3"].batches, got["keras3"].outcome) == keras3
    assert (got["keras2"].batches, got["keras2"].outcome) == keras2


def test_replayed_batches_are_the_peeked_ones():
    reason = predict(Setup("finite-generator"), max_steps=50)["keras3"].reason
    assert f"{PEEKED_BATCHES} batches Keras 3 peeked at start-up" in reason


def test_keras2_refuses_an_endless_dataset_without_steps():
    got = predict(Setup("dataset-repeat"), max_steps=50)["keras2"]
    assert (got.batches, got.outcome, got.error) == ([], "error", "ValueError")


def test_every_outcome_maps_to_what_the_probe_records():
    assert set(STOPPED_BY) == set(OUTCOMES)


# --- Setup.problems() ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SOURCE_KINDS))
def test_a_possible_setup_has_no_problems(kind):
    assert Setup(kind, samples=105, steps_per_epoch=3, drop_remainder=True).problems() == []


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (Setup("generator"), ["unknown source kind 'generator'", "finite-generator"]),
        (Setup("dataset", samples=0), ["samples must be a whole number of at least 1, not 0"]),
        (Setup("dataset", batch_size=-2), ["batch_size must be", "not -2"]),
        (Setup("dataset", epochs=0), ["epochs must be", "not 0"]),
        (Setup("dataset", epochs=2.5), ["epochs must be", "not 2.5"]),
        (Setup("dataset", samples=True), ["samples must be", "not True"]),
        (Setup("dataset", steps_per_epoch=0), ["steps_per_epoch must be", "or None", "not 0"]),
        (Setup("sequence", sequence_len=0), ["sequence_len must be", "not 0"]),
        (Setup("dataset", sequence_len=5), ["sequence_len", "only applies to kind 'sequence'"]),
        (Setup("dataset", drop_remainder="yes"), ["drop_remainder must be True or False"]),
        (
            Setup("dataset", samples=5, batch_size=10, drop_remainder=True),
            ["batch_size 10 is larger than samples 5", "no batch to train on"],
        ),
    ],
    ids=repr,
)
def test_problems_name_each_impossible_setting(setup, words):
    problems = setup.problems()
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0]


def test_problems_lists_every_problem_at_once():
    problems = Setup("nope", samples=0, batch_size=0, steps_per_epoch=-1).problems()
    assert len(problems) == 4, problems


def test_a_short_batch_is_fine_without_drop_remainder():
    assert Setup("dataset", samples=5, batch_size=10).problems() == []
    assert Setup("dataset", samples=5, batch_size=10).pass_length() == 1


def test_impossible_setups_are_refused_by_script_and_predict():
    bad = Setup("dataset", samples=0)
    with pytest.raises(ValueError, match="samples must be"):
        script(bad)
    with pytest.raises(ValueError, match="samples must be"):
        predict(bad, max_steps=50)
    with pytest.raises(ValueError, match="max_steps"):
        predict(Setup("dataset"), max_steps=0)


@pytest.mark.parametrize(
    ("setup", "length"),
    [
        (Setup("dataset"), 10),
        (Setup("dataset", samples=105), 11),
        (Setup("dataset", samples=105, drop_remainder=True), 10),
        (Setup("dataset", samples=5, batch_size=10), 1),
        (Setup("sequence", sequence_len=3), 10),  # pass_length is the data's, not __len__'s
    ],
    ids=repr,
)
def test_pass_length(setup, length):
    assert setup.pass_length() == length


# --- script() -----------------------------------------------------------------------------------

SCRIPT_VARIANTS = [
    {},
    {"steps_per_epoch": 4},
    {"samples": 105, "drop_remainder": True},
    {"samples": 105, "steps_per_epoch": 20, "epochs": 1},
]


@pytest.mark.parametrize("variant", SCRIPT_VARIANTS, ids=repr)
@pytest.mark.parametrize("kind", sorted(SOURCE_KINDS))
def test_script_compiles_for_every_kind(kind, variant):
    setup = Setup(kind, **variant)
    text = script(setup)
    compile(text, f"playground_{kind}.py", "exec")
    tree = ast.parse(text)
    assert calls_fit(tree)
    assert imports_keras_directly(tree) is None  # `from tensorflow import keras`: Keras 2 too
    assert f"epochs={setup.epochs}" in text
    assert ("steps_per_epoch=" in text) == (setup.steps_per_epoch is not None)
    assert ("drop_remainder" in text or "whole batches only" in text) == setup.drop_remainder
    assert "np.random.default_rng(" in text and "verbose=0" in text


@pytest.mark.parametrize(
    ("sequence_len", "returns"), [(None, "math.ceil(SAMPLES / BATCH_SIZE)"), (3, "return 3")]
)
def test_script_sequence_len(sequence_len, returns):
    assert returns in script(Setup("sequence", sequence_len=sequence_len))


def test_script_is_deterministic():
    setup = Setup("finite-generator", steps_per_epoch=4)
    assert script(setup) == script(Setup("finite-generator", steps_per_epoch=4))


def test_module_imports_neither_tensorflow_nor_keras_nor_streamlit():
    code = (
        "import sys, diagnostics.playground; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras', 'streamlit') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- compare() ----------------------------------------------------------------------------------


def _report(runs: list[dict], statuses: dict[str, str] | None = None) -> dict:
    """A report in the probe's schema, reduced to what compare() reads."""
    statuses = statuses or {"keras3": "ok", "keras2": "ok"}
    return {
        "stacks": [{"stack": s, "status": v, "reason": None} for s, v in statuses.items()],
        "runs": runs,
    }


def _run(stack, batches, stopped_by="completed", exception=None, partial_last=False):
    epochs = [
        {"epoch": i, "observed_batches": b, "partial": partial_last and i == len(batches) - 1}
        for i, b in enumerate(batches)
    ]
    return {
        "stack": stack,
        "call": 0,
        "epochs": epochs,
        "stopped_by": stopped_by,
        "exception": None if exception is None else {"type": exception, "message": "..."},
    }


SETUP = Setup("finite-generator", steps_per_epoch=10)


def test_compare_matches_reality():
    predictions = predict(SETUP, max_steps=50)
    report = _report(
        [
            _run("keras3", [10, 0, 2, 2, 2]),
            _run("keras2", [10, 0], stopped_by="data-exhausted"),
        ]
    )
    rows = compare(SETUP, predictions, report)
    assert [r["stack"] for r in rows] == ["keras3", "keras2"]
    assert all(r["match"] for r in rows), rows
    assert rows[1]["observed"] == [10, 0]
    assert rows[1]["observed_stopped_by"] == "data-exhausted"
    assert rows[1]["note"] == (
        "Keras 2 trained 10,0 batches and stopped when the data ran out, as predicted."
    )


def test_compare_lets_reality_win_on_a_different_count_or_ending():
    predictions = predict(SETUP, max_steps=50)
    report = _report(
        [
            _run("keras3", [10, 2, 2, 2, 2]),  # other counts
            _run("keras2", [10, 0], stopped_by="completed"),  # same counts, other ending
        ]
    )
    rows = compare(SETUP, predictions, report)
    assert [r["match"] for r in rows] == [False, False]
    assert rows[0]["note"].startswith("Reality wins: Keras 3 trained 10,2,2,2,2 batches")
    assert "the prediction was 10,0,2,2,2 batches" in rows[0]["note"]


def test_compare_checks_the_exception_type():
    setup = Setup("dataset-repeat", epochs=2)
    predictions = predict(setup, max_steps=50)
    right = _report(
        [_run("keras3", [50], "probe-cap"), _run("keras2", [], "exception", "ValueError")]
    )
    wrong = _report(
        [_run("keras3", [50], "probe-cap"), _run("keras2", [], "exception", "TypeError")]
    )
    assert [r["match"] for r in compare(setup, predictions, right)] == [True, True]
    rows = compare(setup, predictions, wrong)
    assert [r["match"] for r in rows] == [True, False]
    assert rows[1]["observed_error"] == "TypeError"
    assert "raised TypeError" in rows[1]["note"] and "raised ValueError" in rows[1]["note"]


def test_compare_counts_a_partial_epoch_with_the_batches_trained_before_it_ended():
    predictions = predict(SETUP, max_steps=50)
    report = _report(
        [
            _run("keras3", [10, 0, 1], stopped_by="timeout", partial_last=True),
            _run("keras2", [10, 0], stopped_by="data-exhausted"),
        ]
    )
    rows = compare(SETUP, predictions, report)
    assert rows[0]["observed"] == [10, 0, 1]
    assert (rows[0]["match"], rows[0]["observed_stopped_by"]) == (False, "timeout")
    assert "timed out" in rows[0]["note"]


def test_compare_survives_a_stack_without_a_run():
    predictions = predict(SETUP, max_steps=50)
    report = _report(
        [_run("keras3", [10, 0, 2, 2, 2])], statuses={"keras3": "ok", "keras2": "worker-died"}
    )
    rows = compare(SETUP, predictions, report)
    assert [r["match"] for r in rows] == [True, False]
    assert rows[1]["observed"] == [] and "did not run" in rows[1]["note"]
    no_runs = compare(SETUP, predictions, _report([]))
    assert [r["match"] for r in no_runs] == [False, False]
    assert all("never reached fit()" in r["note"] for r in no_runs)
    nothing = compare(SETUP, predictions, {})
    assert [r["match"] for r in nothing] == [False, False]
    assert all("was not probed" in r["note"] for r in nothing)


def test_compare_reads_only_the_first_fit_call():
    predictions = {"keras3": Prediction("keras3", [10], "completed")}
    report = _report([{**_run("keras3", [3]), "call": 1}, _run("keras3", [10])])
    assert compare(SETUP, predictions, report)[0]["match"]


# --- reality ------------------------------------------------------------------------------------

# Every kind; with and without steps_per_epoch; S < P, S == P, S > P; drop_remainder; a too-short
# and a too-long __len__; samples not a multiple of the batch size; the probe's cap.
GRID = [
    Setup("finite-generator", epochs=3),
    Setup("finite-generator", samples=105, steps_per_epoch=4, epochs=4),
    Setup("finite-generator", steps_per_epoch=10, epochs=3),
    Setup("finite-generator", samples=105, drop_remainder=True, steps_per_epoch=15, epochs=3),
    Setup("infinite-generator", steps_per_epoch=4, epochs=3),
    Setup("infinite-generator", steps_per_epoch=60, epochs=2),
    Setup("sequence", samples=105, epochs=2),
    Setup("sequence", steps_per_epoch=4, epochs=4),
    Setup("sequence", steps_per_epoch=15, epochs=3),
    Setup("sequence", sequence_len=5, steps_per_epoch=10, epochs=2),
    Setup("sequence", sequence_len=13, steps_per_epoch=4, epochs=4),
    Setup("dataset", samples=105, drop_remainder=True, epochs=2),
    Setup("dataset", steps_per_epoch=3, epochs=4),
    Setup("dataset", samples=105, steps_per_epoch=11, epochs=2),
    Setup("dataset-repeat", epochs=2),
    Setup("dataset-repeat", samples=105, steps_per_epoch=4, epochs=3),
]
GRID_MAX_STEPS = 50


@pytest.mark.slow
@pytest.mark.parametrize("setup", GRID, ids=repr)
def test_prediction_matches_a_real_probe(setup):
    predictions = predict(setup, max_steps=GRID_MAX_STEPS)
    report = probe_code(
        script(setup), keras="both", epochs=setup.epochs, max_steps=GRID_MAX_STEPS, timeout=120
    )
    assert [s["status"] for s in report["stacks"]] == ["ok", "ok"], report["status_reason"]
    rows = compare(setup, predictions, report)
    assert [r["stack"] for r in rows] == list(STACKS)
    assert all(r["match"] for r in rows), [r["note"] for r in rows]
