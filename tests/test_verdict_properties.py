"""The verdict never contradicts its own report (see `verdict_checks`): over every gallery
sample (both variants), every ground-truth situation, and a generated matrix of source
kinds × steps_per_epoch × epochs × callbacks, probed for real on both stacks."""

from __future__ import annotations

import itertools

import pytest

from diagnostics import probe_code
from sample_generators import VARIANTS, samples

from .conftest import load_expected, probed_sample
from .test_keras_contract import _report as situation_report
from .verdict_checks import verdict_problems

pytestmark = pytest.mark.slow

ROWS, BATCH = 50, 10  # one pass: 5 batches
KINDS = (
    "arrays",
    "endless-generator",
    "finite-generator",
    "sequence",
    "dataset",
    "repeated-dataset",
    "pydataset",
)
STEPS = (None, 3, 5, 8, 0)  # none, too few, one pass, too many, zero


def _matrix() -> list[tuple]:
    """Every kind with every steps_per_epoch; epochs and callbacks alternate so that each
    kind meets both epoch counts and both callback settings."""
    cases = []
    for i, (kind, steps) in enumerate(itertools.product(KINDS, STEPS)):
        epochs = (1, 3)[i % 2]
        callback = (None, "early-stopping")[(i // 2) % 2]
        cases.append((kind, steps, epochs, callback))
    return cases


SOURCES = {
    "arrays": ("", "x, y, batch_size={batch}"),
    "endless-generator": (
        "def batches():\n"
        "    while True:\n"
        "        for i in range(0, len(x), {batch}):\n"
        "            yield x[i:i + {batch}], y[i:i + {batch}]\n",
        "batches()",
    ),
    "finite-generator": (
        "def batches():\n"
        "    for i in range(0, len(x), {batch}):\n"
        "        yield x[i:i + {batch}], y[i:i + {batch}]\n",
        "batches()",
    ),
    "sequence": (
        "class Batches(keras.utils.Sequence):\n"
        "    def __len__(self):\n"
        "        return math.ceil(len(x) / {batch})\n"
        "    def __getitem__(self, i):\n"
        "        return x[i * {batch}:(i + 1) * {batch}], y[i * {batch}:(i + 1) * {batch}]\n",
        "Batches()",
    ),
    "dataset": ("data = tf.data.Dataset.from_tensor_slices((x, y)).batch({batch})\n", "data"),
    "repeated-dataset": (
        "data = tf.data.Dataset.from_tensor_slices((x, y)).batch({batch}).repeat()\n",
        "data",
    ),
    "pydataset": (
        "class Stream(keras.utils.PyDataset):\n"
        "    @property\n"
        "    def num_batches(self):\n"
        "        return None\n"
        "    def __getitem__(self, i):\n"
        "        i %= 5\n"
        "        return x[i * {batch}:(i + 1) * {batch}], y[i * {batch}:(i + 1) * {batch}]\n",
        "Stream()",
    ),
}


def matrix_script(kind: str, steps, epochs: int, callback) -> str:
    setup, argument = (part.format(batch=BATCH) for part in SOURCES[kind])
    keras_import = "import keras" if kind == "pydataset" else "keras = tf.keras"
    options = [f"epochs={epochs}", "verbose=0"]
    if steps is not None:
        options.append(f"steps_per_epoch={steps}")
    if callback == "early-stopping":
        options.append(
            "callbacks=[keras.callbacks.EarlyStopping(monitor='loss', min_delta=100, patience=0)]"
        )
    return (
        "import math\n"
        "import numpy as np\n"
        "import tensorflow as tf\n"
        f"{keras_import}\n"
        f"x = np.random.default_rng(0).normal(size=({ROWS}, 3)).astype('float32')\n"
        "y = x.sum(axis=1)\n"
        f"{setup}"
        "model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])\n"
        "model.compile(optimizer='sgd', loss='mse')\n"
        f"model.fit({argument}, {', '.join(options)})\n"
    )


@pytest.fixture(scope="module")
def pool():
    from diagnostics.engine.pool import WorkerPool

    workers = WorkerPool(2)
    yield workers
    workers.close()


@pytest.mark.parametrize("case", _matrix(), ids=lambda c: "-".join(str(p) for p in c))
def test_the_verdict_holds_over_the_generated_matrix(case, pool):
    report = probe_code(matrix_script(*case), keras="both", max_steps=200, timeout=90, pool=pool)
    assert report["status"] == "ok", report.get("status_reason")
    assert verdict_problems(report) == [], report["verdict"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", [s.name for s in samples()])
def test_the_verdict_holds_for_every_gallery_sample(name, variant):
    report = probed_sample(name, variant)
    assert verdict_problems(report) == [], report["verdict"]


@pytest.mark.parametrize("stem", sorted(load_expected()))
def test_the_verdict_holds_for_every_situation(stem):
    report = situation_report(stem)
    assert verdict_problems(report) == [], report["verdict"]


def test_the_checks_catch_what_the_issue_reported():
    """The checks themselves can fail: the five contradictions users met, as reports."""
    early = {
        "status": "ok",
        "verdict": "No problem found: Keras 3 trained 2 epochs of 10 batches each, as asked.",
        "findings": [{"code": "callback-stopped-training", "severity": "info"}],
        "stacks": [{"stack": "keras3"}],
        "runs": [
            {
                "stack": "keras3",
                "call": 0,
                "fit": {"epochs": 5, "epochs_run": 5, "initial_epoch": 0},
                "expected_batches_per_epoch": 10,
                "epochs": [{"observed_batches": 10}, {"observed_batches": 10}],
            }
        ],
    }
    assert verdict_problems(early) == ['"as asked" but keras3 call 0 trained 2 of 5 epochs']
    cannot = {
        "status": "ok",
        "verdict": "Keras 3 trained 3 epochs, as asked; Keras 2 is fine:: the script raised it.",
        "findings": [],
        "stacks": [
            {"stack": "keras3"},
            {"stack": "keras2", "script_exception": {"type": "AttributeError"}},
        ],
        "runs": [
            {
                "stack": "keras3",
                "call": 0,
                "fit": {"epochs": 3, "epochs_run": 3},
                "expected_batches_per_epoch": 4,
                "epochs": [{"observed_batches": 4}] * 3,
            }
        ],
    }
    assert verdict_problems(cannot) == [
        "doubled punctuation '::'",
        '"fine" but keras2 could not run the script (AttributeError)',
    ]
    warned = {**cannot, "verdict": "No problem found: fine.", "findings": [
        {"code": "variable-epoch-length", "severity": "warning"}
    ], "stacks": [{"stack": "keras3"}]}  # fmt: skip
    assert verdict_problems(warned)[0] == "\"No problem found\" beside ['variable-epoch-length']"
