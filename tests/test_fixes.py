"""Fix previews (diagnostics/fix.py and the rules' `fix` hooks).

The probe tests take a realistic broken script, probe it on Keras 3, ask for the fix of
a finding, check that the edit changes exactly the lines it should (everything else
byte for byte as written), and probe the edited script again: the finding is gone and
every epoch trains the batches it should. The other tests need no probe: where there is
no preview, and how the edits keep the user's layout and comments.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from diagnostics import fixable, probe_code, propose_fix
from diagnostics.fix import FixPreview

ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seed-article.md"
NAME = "train.py"


# --- helpers -------------------------------------------------------------------------------
def _probe(source: str) -> dict:
    return probe_code(source, name=NAME, keras="3", epochs=3)


def _finding(report: dict, code: str) -> dict:
    (found,) = [f for f in report["findings"] if f["code"] == code and not f["static"]]
    return found


def _codes(report: dict) -> set[str]:
    return {f["code"] for f in report["findings"] if f["severity"] in ("error", "warning")}


def _trained(report: dict) -> list[list[int]]:
    """Batches trained per epoch, per fit() call."""
    return [[e["observed_batches"] for e in r["epochs"]] for r in report["runs"]]


def _edits(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines an edit removed and the lines it added: every other line is the same,
    byte for byte (line endings included)."""
    a, b = before.splitlines(True), after.splitlines(True)
    removed, added = [], []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += [line.rstrip("\n") for line in a[i1:i2]]
            added += [line.rstrip("\n") for line in b[j1:j2]]
    return removed, added


def _fixed(report: dict, finding: dict, source: str) -> FixPreview:
    """The preview for a finding, checked for what every preview must be."""
    preview = propose_fix(report, finding, source)
    assert preview is not None, finding["code"]
    assert preview.code == finding["code"]
    assert preview.diff.startswith(f"--- a/{NAME}\n+++ b/{NAME}\n")
    assert preview.summary and "\n" not in preview.summary
    compile(preview.source, NAME, "exec")
    return preview


def _report(*runs: dict, **given) -> dict:
    """A report as far as fixes read it, without a probe."""
    return {"input": {"mode": "script", "name": NAME, **given}, "runs": list(runs)}


def _run(line: int, **fields) -> dict:
    return {"stack": "keras3", "call": 0, "call_site": {"line": line}, **fields}


def _about(code: str, line: int, evidence: dict | None = None) -> dict:
    """An observed finding about fit() call 0 on Keras 3."""
    return {
        "code": code,
        "stack": ["keras3"],
        "call": 0,
        "line": line,
        "static": False,
        "evidence": {"keras3": evidence or {}},
    }


# --- probed: the edit makes the finding go away ----------------------------------------------
def _seed_example() -> str:
    if not ARTICLE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared notes beside the checkout: {ARTICLE} is missing")
        pytest.skip("the shared notes (seed-article.md) are not beside this checkout")
    return re.findall(r"```python\n(.*?)```", ARTICLE.read_text(encoding="utf-8"), re.S)[0]


@pytest.mark.slow
def test_seed_example_gets_steps_per_epoch_from_the_data():
    source = _seed_example()
    report = _probe(source)
    preview = _fixed(report, _finding(report, "steps-per-epoch-too-small"), source)

    assert preview.summary.startswith(
        "steps_per_epoch = 5 becomes math.ceil(len(data) / batch_size): one pass"
    )
    removed, added = _edits(source, preview.source)
    assert removed == ["steps_per_epoch = 5 # Incorrect; should be 100/10 = 10"]
    assert added == [
        "import math",
        "steps_per_epoch = math.ceil(len(data) / batch_size) # Incorrect; should be 100/10 = 10",
    ]
    again = _probe(preview.source)
    assert "steps-per-epoch-too-small" not in _codes(again)
    assert _trained(again) == [[10, 10, 10]]


# One broken fit() call per rule, in a script that imports math already: no fix adds a
# line above another fit() call, so the fixes are applied bottom-up from one report.
EXPERIMENTS = '''\
"""Five experiments on one small data set, one fit() call each."""
import math

import numpy as np
import tensorflow as tf
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.random((100, 4)).astype("float32")
y = rng.random((100, 1)).astype("float32")
x_val, y_val = rng.random((8, 4)), rng.random((8, 1))  # a tiny hold-out set
x_small, y_small = x[:30], y[:30]  # the rows that passed the filter
batch_size = 10


def make_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def endless_batches(features, labels, batch_size):
    """Batches forever, in order."""
    while True:
        for start in range(0, len(features), batch_size):
            yield features[start:start + batch_size], labels[start:start + batch_size]


# 1. arrays: one step per sample
make_model().fit(x, y, batch_size=batch_size, epochs=2, steps_per_epoch=len(x), verbose=0)

# 2. a hold-out set smaller than one batch
validation_steps = len(x_val) // batch_size  # every validation batch
make_model().fit(x, y, batch_size=batch_size, epochs=2, verbose=0,
                 validation_data=(x_val, y_val), validation_steps=validation_steps)

# 3. a filtered set smaller than one batch
big_batch = 64
make_model().fit(x_small, y_small, batch_size=big_batch, epochs=2, verbose=0,
                 steps_per_epoch=len(x_small) // big_batch)

# 4. a tf.data pipeline without .repeat()
train_ds = (
    tf.data.Dataset.from_tensor_slices((x, y))
    .shuffle(100, seed=0)  # the same order every run
    .batch(batch_size)
)
make_model().fit(train_ds, steps_per_epoch=15, epochs=2, verbose=0)

# 5. an endless generator, half of it per epoch
steps = 5  # from the old notebook
make_model().fit(endless_batches(x, y, batch_size), steps_per_epoch=steps, epochs=3, verbose=0)
'''

# code -> (summary starts, lines removed, lines added)
EXPERIMENT_FIXES = {
    "steps-per-epoch-too-small": (
        "steps = 5 becomes math.ceil(len(x) / batch_size): one pass over the data (10 batches)",
        ["steps = 5  # from the old notebook"],
        ["steps = math.ceil(len(x) / batch_size)  # from the old notebook"],
    ),
    "dataset-exhausted": (
        "the dataset train_ds (line 43) ends with .repeat()",
        [],
        ["    .repeat()"],
    ),
    "steps-per-epoch-zero": (
        "steps_per_epoch=len(x_small) // big_batch becomes "
        "max(1, math.ceil(len(x_small) / big_batch)): at least one batch",
        ["                 steps_per_epoch=len(x_small) // big_batch)"],
        ["                 steps_per_epoch=max(1, math.ceil(len(x_small) / big_batch)))"],
    ),
    "validation-steps-zero": (
        "validation_steps = len(x_val) // batch_size becomes "
        "max(1, math.ceil(len(x_val) / batch_size))",
        ["validation_steps = len(x_val) // batch_size  # every validation batch"],
        ["validation_steps = max(1, math.ceil(len(x_val) / batch_size))  # every validation batch"],
    ),
    "steps-count-samples": (
        "steps_per_epoch=len(x) becomes math.ceil(len(x) / batch_size): batches of 10",
        [
            "make_model().fit(x, y, batch_size=batch_size, epochs=2, steps_per_epoch=len(x), "
            "verbose=0)"
        ],
        [
            "make_model().fit(x, y, batch_size=batch_size, epochs=2, "
            "steps_per_epoch=math.ceil(len(x) / batch_size), verbose=0)"
        ],
    ),
}


@pytest.mark.slow
def test_five_fixes_in_one_script_each_make_their_finding_go():
    report = _probe(EXPERIMENTS)
    assert set(EXPERIMENT_FIXES) <= _codes(report)
    source = EXPERIMENTS
    by_line = sorted(EXPERIMENT_FIXES, key=lambda c: -_finding(report, c)["line"])
    for code in by_line:  # bottom-up: each edit leaves the lines above it where they were
        preview = _fixed(report, _finding(report, code), source)
        summary, removed, added = EXPERIMENT_FIXES[code]
        assert preview.summary.startswith(summary), preview.summary
        assert _edits(source, preview.source) == (removed, added), code
        source = preview.source

    again = _probe(source)
    assert not set(EXPERIMENT_FIXES) & _codes(again)
    assert _trained(again) == [[10, 10], [10, 10], [1, 1], [15, 15], [10, 10, 10]]
    assert [e["val_batches"] for e in again["runs"][1]["epochs"]] == [1, 1]


FINITE_GENERATOR = '''\
import numpy as np
from tensorflow import keras

# 105 samples of a linear function
features = np.linspace(0, 1, 105 * 3, dtype="float32").reshape(105, 3)
targets = features.sum(axis=1, keepdims=True)

BATCH = 10


def batches(x, y, batch_size=BATCH):
    """One pass over x and y, in order."""
    # no shuffling: the rows are already random
    for i in range(0, len(x), batch_size):
        yield x[i:i + batch_size], y[i:i + batch_size]


model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(
    batches(features, targets),
    steps_per_epoch=len(features) / BATCH,  # 10.5 batches
    epochs=3,
)
'''


@pytest.mark.slow
def test_a_float_steps_then_a_finite_generator_fixed_one_after_the_other():
    report = _probe(FINITE_GENERATOR)
    assert _codes(report) == {"steps-per-epoch-not-integer"}  # Keras 3 crashed first
    first = _fixed(report, _finding(report, "steps-per-epoch-not-integer"), FINITE_GENERATOR)
    assert _edits(FINITE_GENERATOR, first.source) == (
        ["    steps_per_epoch=len(features) / BATCH,  # 10.5 batches"],
        ["import math", "    steps_per_epoch=math.ceil(len(features) / BATCH),  # 10.5 batches"],
    )
    assert "a whole number of batches" in first.summary

    report = _probe(first.source)
    assert "steps-per-epoch-not-integer" not in _codes(report)
    second = _fixed(report, _finding(report, "finite-generator-exhausted"), first.source)
    assert second.summary.startswith("The body of batches() goes inside `while True:`")
    assert second.source.split("def batches")[1].split("\n\n\n")[0] == (
        "(x, y, batch_size=BATCH):\n"
        '    """One pass over x and y, in order."""\n'
        "    # no shuffling: the rows are already random\n"
        "    while True:\n"
        "        for i in range(0, len(x), batch_size):\n"
        "            yield x[i:i + batch_size], y[i:i + batch_size]"
    )
    again = _probe(second.source)
    assert not {"finite-generator-exhausted", "replayed-peeked-batches"} & _codes(again)
    assert _trained(again) == [[11, 11, 11]]


SEQUENCE = '''\
import numpy as np
import keras


class Windows(keras.utils.PyDataset):
    """Fixed-size windows of a long recording."""

    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = x, y
        self.batch_size = batch_size

    def __len__(self):
        # TODO: compute from the data
        return 5

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


x = np.random.default_rng(1).random((100, 8)).astype("float32")
y = (x.sum(axis=1) > 4).astype("float32")
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(Windows(x, y, batch_size=10), epochs=2, steps_per_epoch=8)
'''


@pytest.mark.slow
def test_a_sequence_loses_steps_per_epoch_then_gets_its_len_from_the_data():
    report = _probe(SEQUENCE)
    assert {"steps-per-epoch-too-large", "sequence-len-too-small"} <= _codes(report)
    first = _fixed(report, _finding(report, "steps-per-epoch-too-large"), SEQUENCE)
    assert first.summary.startswith("steps_per_epoch=8 is left out of fit()")
    assert _edits(SEQUENCE, first.source) == (
        ["model.fit(Windows(x, y, batch_size=10), epochs=2, steps_per_epoch=8)"],
        ["model.fit(Windows(x, y, batch_size=10), epochs=2)"],
    )

    report = _probe(first.source)
    assert "steps-per-epoch-too-large" not in _codes(report)
    second = _fixed(report, _finding(report, "sequence-len-too-small"), first.source)
    assert second.summary.startswith(
        "Windows.__len__ returns math.ceil(len(self.x) / self.batch_size) instead of 5"
    )
    assert _edits(first.source, second.source) == (
        ["        return 5"],
        ["import math", "        return math.ceil(len(self.x) / self.batch_size)"],
    )
    again = _probe(second.source)
    assert not {"sequence-len-too-small", "samples-never-seen"} & _codes(again)
    assert _trained(again) == [[10, 10]]


# --- no probe: where there is no preview, and how edits keep the user's code ------------------
FLOAT_STEPS = """\
model.fit(
    batches,
    steps_per_epoch=len(x) / 32,  # half a batch more than it says
    epochs=3,
)
"""


def _float_steps() -> dict:
    return {
        "code": "steps-per-epoch-not-integer",
        "static": True,
        "stack": None,
        "call": None,
        "line": 1,
        "evidence": {"expression": "len(x) / 32"},
    }


def test_a_comment_on_the_edited_line_survives():
    preview = _fixed(_report(), _float_steps(), FLOAT_STEPS)
    assert _edits(FLOAT_STEPS, preview.source) == (
        ["    steps_per_epoch=len(x) / 32,  # half a batch more than it says"],
        [
            "import math",
            "    steps_per_epoch=math.ceil(len(x) / 32),  # half a batch more than it says",
        ],
    )


def test_no_preview_for_a_notebook_for_code_that_does_not_parse_or_without_a_fix():
    finding = _float_steps()
    assert propose_fix(_report(name="train.ipynb"), finding, FLOAT_STEPS) is None
    assert propose_fix(_report(notebook={"cells": 3}), finding, FLOAT_STEPS) is None
    assert propose_fix(_report(), finding, FLOAT_STEPS + "def broken(:\n") is None
    assert propose_fix(_report(), {**finding, "code": "nan-in-batch"}, FLOAT_STEPS) is None
    assert propose_fix(_report(), {**finding, "code": "no-such-rule"}, FLOAT_STEPS) is None
    assert fixable("steps-per-epoch-not-integer") and fixable("dataset-exhausted")
    assert not fixable("nan-in-batch") and not fixable("no-such-rule")


def test_no_preview_where_the_code_is_not_the_shape_the_edit_needs():
    computed = "model.fit(batches, steps_per_epoch=compute_steps(), epochs=3)\n"
    assert propose_fix(_report(), _float_steps(), computed) is None
    no_fit = "steps = len(x) / 32\n"
    assert propose_fix(_report(), _float_steps(), no_fit) is None


def test_steps_fitprobe_measured_when_the_code_does_not_say_one_pass():
    source = "stream = open_stream()\nmodel.fit(stream, steps_per_epoch=5, epochs=3)\n"
    run = _run(
        2,
        source={"kind": "generator", "function": "rows"},
        data={"pass_length": 10, "infinite": True},
        fit={"steps_per_epoch": 5},
    )
    finding = _about("steps-per-epoch-too-small", 2, {"batches_per_pass": 10})
    preview = _fixed(_report(run), finding, source)
    assert _edits(source, preview.source) == (
        ["model.fit(stream, steps_per_epoch=5, epochs=3)"],
        [
            "model.fit(stream, steps_per_epoch=10, epochs=3)  "
            "# one pass: 10 batches, as fitprobe measured it"
        ],
    )


def test_leaving_the_last_argument_out_keeps_the_other_lines_and_their_comments():
    source = """\
model.fit(
    Batches(x, y, 10),  # the PyDataset
    epochs=3,  # short run
    steps_per_epoch=15,  # the old number
)
"""
    run = _run(1, source={"kind": "sequence"}, data={"pass_length": 10})
    finding = _about("steps-per-epoch-too-large", 1, {"batches_per_pass": 10})
    preview = _fixed(_report(run), finding, source)
    assert _edits(source, preview.source) == (["    steps_per_epoch=15,  # the old number"], [])


def test_an_endless_generator_gets_one_pass_of_steps_when_fit_has_none():
    source = '''\
import numpy as np

x, y = np.zeros((50, 2)), np.zeros(50)


def rows(features, labels, batch_size):
    """Batches of rows."""

    for i in range(0, len(features), batch_size):
        yield features[i:i + batch_size], labels[i:i + batch_size]


model.fit(rows(x, y, 16), epochs=4)
'''
    run = _run(13, source={"kind": "generator", "function": "rows"}, fit={"steps_per_epoch": None})
    finding = _about("finite-generator-exhausted", 13, {"batches_per_pass": 4})
    preview = _fixed(_report(run), finding, source)
    assert _edits(source, preview.source) == (
        [
            "    for i in range(0, len(features), batch_size):",
            "        yield features[i:i + batch_size], labels[i:i + batch_size]",
            "model.fit(rows(x, y, 16), epochs=4)",
        ],
        [
            "import math",
            "    while True:",
            "        for i in range(0, len(features), batch_size):",
            "            yield features[i:i + batch_size], labels[i:i + batch_size]",
            "model.fit(rows(x, y, 16), epochs=4, steps_per_epoch=math.ceil(len(x) / 16))",
        ],
    )


def test_a_dataset_used_twice_repeats_in_the_fit_call_only():
    source = """\
ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
model.fit(ds, steps_per_epoch=20, epochs=5)
model.evaluate(ds)
"""
    run = _run(2, source={"kind": "tf-dataset"})
    finding = _about("dataset-exhausted", 2, {"steps_per_epoch": 20})
    preview = _fixed(_report(run), finding, source)
    assert _edits(source, preview.source) == (
        ["model.fit(ds, steps_per_epoch=20, epochs=5)"],
        ["model.fit(ds.repeat(), steps_per_epoch=20, epochs=5)"],
    )
