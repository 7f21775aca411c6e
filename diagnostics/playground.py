"""The Playground's engine: predict what `fit()` trains for an input pipeline, then check it.

Who owns what:
- `Setup`: the values of the page's sliders and the messages for impossible ones.
- `script()`: the standalone training script the probe runs for a setup.
- `predict()`: per Keras stack, the batches trained in each epoch and how `fit()` ends. One
  small simulator per stack mirrors the Keras code that decides it (`_keras3`: Keras 3's
  `keras/src/trainers/epoch_iterator.py`; `_keras2`: `tf_keras/src/engine/data_adapter.py`
  `DataHandler`) and every branch was re-measured with real probes of `script()`.
- `compare()`: the prediction next to the report of
  `probe_code(script(setup), keras="both", epochs=setup.epochs, max_steps=...)`.
The page shows the probe's numbers wherever they differ from the prediction: reality wins.
Pure Python: this module never imports TensorFlow, Keras or streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from diagnostics.report.labels import STACK_LABELS

__all__ = [
    "SOURCE_KINDS",
    "OUTCOMES",
    "Prediction",
    "Setup",
    "compare",
    "predict",
    "script",
]

SOURCE_KINDS = {  # key -> label for the page
    "finite-generator": "finite generator (one pass, no while True)",
    "infinite-generator": "infinite generator (while True)",
    "sequence": "Sequence / PyDataset with a given __len__",
    "dataset": "tf.data without .repeat()",
    "dataset-repeat": "tf.data with .repeat()",
}
ENDLESS = ("infinite-generator", "dataset-repeat")

OUTCOMES = {
    "completed": "ran every epoch",
    "data-exhausted": "stopped training early when the data ran out",
    "never-ends": "an epoch that never ends by itself (the probe stops it at its cap)",
    "capped": "an epoch longer than the probe's cap (the probe stops fit() there)",
    "error": "fit() raises",
}
# What the probe's run records for each outcome (diagnostics/worker/recorder.py, `_stopped_by`).
STOPPED_BY = {
    "completed": "completed",
    "data-exhausted": "data-exhausted",
    "never-ends": "probe-cap",
    "capped": "probe-cap",
    "error": "exception",
}
ENDINGS = {  # observed `stopped_by` -> words for the note
    "completed": "ran every epoch",
    "data-exhausted": "stopped when the data ran out",
    "probe-cap": "was stopped at the probe's cap",
    "callback": "was stopped by a callback",
    "timeout": "timed out",
}

# Keras facts the predictions rest on.
# keras/src/trainers/data_adapters/data_adapter_utils.py NUM_BATCHES_FOR_TENSOR_SPEC: the batches
# of a generator that Keras 3 peeks at to infer shapes and replays, chained in front of the
# used-up generator, each time it makes a new iterator (generator_data_adapter.py
# peek_and_restore). Measured: 10,2,2,2,2 (100 rows, batch 10, no steps_per_epoch); with 10 rows
# (one batch) every later pass is 1 batch.
PEEKED_BATCHES = 2
# tf_keras/src/engine/data_adapter.py DatasetAdapter._validate_args: "When providing an infinite
# dataset, you must specify the number of steps to run". Measured for a repeated tf.data without
# steps_per_epoch: raised inside fit(), before epoch 0.
KERAS2_INFINITE_DATASET_ERROR = "ValueError"
# Measured, not a constant of Keras: a Sequence index past the data gives an empty batch (the
# script slices x and y alike) and both stacks train on it without an error, so a too-long
# __len__ only adds batches (tests/situations/s09 crashes because its y always has 10 rows).

# The generated script.
FEATURES = 4
SEED = 0


@dataclass(frozen=True)
class Setup:
    """One input pipeline and one `fit()` call, as chosen with the page's sliders."""

    kind: str
    samples: int = 100
    batch_size: int = 10
    steps_per_epoch: int | None = None  # None: not passed to fit()
    epochs: int = 5
    # Drop the last short batch (tf.data .batch(drop_remainder=...); generators/Sequence skip it
    # likewise).
    drop_remainder: bool = False
    sequence_len: int | None = None  # kind "sequence": what __len__ returns; None = correct

    def pass_length(self) -> int:
        """Batches in one full pass over the data."""
        if self.drop_remainder:
            return self.samples // self.batch_size
        return math.ceil(self.samples / self.batch_size)

    def length(self) -> int:
        """What Keras takes as the pass length: `__len__` for a Sequence, else `pass_length()`."""
        if self.kind == "sequence" and self.sequence_len is not None:
            return self.sequence_len
        return self.pass_length()

    def problems(self) -> list[str]:
        """Why this setup cannot be run, one message per impossible setting (empty: it can)."""
        found = []
        if self.kind not in SOURCE_KINDS:
            found.append(
                f"unknown source kind {self.kind!r}: choose one of {', '.join(SOURCE_KINDS)}"
            )
        for name in ("samples", "batch_size", "epochs"):
            value = getattr(self, name)
            if not _positive_int(value):
                found.append(f"{name} must be a whole number of at least 1, not {value!r}")
        if self.steps_per_epoch is not None and not _positive_int(self.steps_per_epoch):
            found.append(
                "steps_per_epoch must be a whole number of at least 1, or None to leave it out "
                f"of fit(), not {self.steps_per_epoch!r}"
            )
        if self.sequence_len is not None:
            if self.kind != "sequence":
                found.append(
                    f"sequence_len is what a Sequence's __len__ returns: it only applies to "
                    f"kind 'sequence', not {self.kind!r}"
                )
            elif not _positive_int(self.sequence_len):
                found.append(
                    "sequence_len must be a whole number of at least 1 (Keras refuses an empty "
                    f"Sequence), or None for the correct length, not {self.sequence_len!r}"
                )
        if not isinstance(self.drop_remainder, bool):
            found.append(f"drop_remainder must be True or False, not {self.drop_remainder!r}")
        elif (
            self.drop_remainder
            and _positive_int(self.samples)
            and _positive_int(self.batch_size)
            and self.batch_size > self.samples
        ):
            found.append(
                f"batch_size {self.batch_size} is larger than samples {self.samples}, and "
                "drop_remainder drops that one short batch: there is no batch to train on"
            )
        return found

    def check(self) -> None:
        """Raise ValueError naming every problem, if there is any."""
        found = self.problems()
        if found:
            raise ValueError("impossible setup: " + "; ".join(found))


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def script(setup: Setup) -> str:
    """A standalone training script for the setup.

    numpy + `from tensorflow import keras` (so it runs on both stacks), a tiny Dense model,
    `model.fit(..., verbose=0)`; deterministic data (`np.random.default_rng(seed)`);
    `steps_per_epoch` omitted when None.
    """
    setup.check()
    s = setup
    lines = _script_head(s)
    stop = "SAMPLES - BATCH_SIZE + 1" if s.drop_remainder else "SAMPLES"
    whole = "  # whole batches only" if s.drop_remainder else ""
    lines += _script_source(s, stop, whole)
    fit_steps = "" if s.steps_per_epoch is None else f", steps_per_epoch={s.steps_per_epoch}"
    lines += [
        "",
        f"model = keras.Sequential([keras.Input(shape=({FEATURES},)), keras.layers.Dense(1)])",
        'model.compile(optimizer="sgd", loss="mse")',
        f"model.fit(data{fit_steps}, epochs={s.epochs}, verbose=0)",
    ]
    return "\n".join(lines) + "\n"


def _script_head(s: Setup) -> list[str]:
    """The docstring saying what the setup is, the imports and the data."""
    if s.samples % s.batch_size == 0:
        rest = ""
    else:
        rest = ", the last short batch dropped" if s.drop_remainder else ", the last one short"
    fit_args = f"epochs={s.epochs}"
    if s.steps_per_epoch is None:
        fit_args += "; steps_per_epoch not passed"
    else:
        fit_args = f"steps_per_epoch={s.steps_per_epoch}, {fit_args}"
    lines = [
        f'"""Playground setup: {SOURCE_KINDS[s.kind]}.',
        "",
        f"{s.samples} samples in batches of {s.batch_size}{rest}: "
        f"{_batches(s.pass_length())} per pass.",
        f"fit({fit_args})",
        '"""',
    ]
    if s.kind == "sequence" and s.sequence_len is None and not s.drop_remainder:
        lines += ["import math", ""]
    lines.append("import numpy as np")
    if s.kind.startswith("dataset"):
        lines.append("import tensorflow as tf")
    return lines + [
        "from tensorflow import keras",
        "",
        f"SAMPLES = {s.samples}",
        f"BATCH_SIZE = {s.batch_size}",
        "",
        f"keras.utils.set_random_seed({SEED})",
        f"rng = np.random.default_rng({SEED})",
        f'x = rng.normal(size=(SAMPLES, {FEATURES})).astype("float32")',
        "y = x.sum(axis=1, keepdims=True)",
        "",
    ]


def _script_source(s: Setup, stop: str, whole: str) -> list[str]:
    """The data source of the setup's kind, bound to `data`."""
    if s.kind == "finite-generator":
        return [
            "",
            "def batches():",
            '    """One pass over the data: after it the generator is used up."""',
            f"    for start in range(0, {stop}, BATCH_SIZE):{whole}",
            "        yield x[start:start + BATCH_SIZE], y[start:start + BATCH_SIZE]",
            "",
            "",
            "data = batches()",
        ]
    if s.kind == "infinite-generator":
        return [
            "",
            "def batches():",
            '    """Pass after pass over the data, forever."""',
            "    while True:",
            f"        for start in range(0, {stop}, BATCH_SIZE):{whole}",
            "            yield x[start:start + BATCH_SIZE], y[start:start + BATCH_SIZE]",
            "",
            "",
            "data = batches()",
        ]
    if s.kind == "sequence":
        if s.sequence_len is not None:
            length = f"{s.sequence_len}  # a pass over the data is {_batches(s.pass_length())}"
        elif s.drop_remainder:
            length = "SAMPLES // BATCH_SIZE  # whole batches only"
        else:
            length = "math.ceil(SAMPLES / BATCH_SIZE)"
        return [
            "",
            "class Batches(keras.utils.Sequence):",
            "    def __len__(self):",
            f"        return {length}",
            "",
            "    def __getitem__(self, index):",
            "        start = index * BATCH_SIZE",
            "        return x[start:start + BATCH_SIZE], y[start:start + BATCH_SIZE]",
            "",
            "",
            "data = Batches()",
        ]
    drop = ", drop_remainder=True" if s.drop_remainder else ""
    repeat = ".repeat()" if s.kind == "dataset-repeat" else ""
    return [f"data = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE{drop}){repeat}"]


@dataclass
class Prediction:
    """What one Keras stack is expected to do with a setup, under the probe's cap."""

    stack: str  # "keras3" | "keras2"
    # Trained batches per epoch, for each epoch that runs (an epoch that never ends, or one
    # longer than the probe's cap, counts as the cap `max_steps`).
    batches: list[int]
    outcome: str  # a key of OUTCOMES
    error: str | None = None  # exception type name fit is expected to raise (outcome "error")
    reason: str = ""  # one plain sentence: why Keras does this


def predict(setup: Setup, *, max_steps: int) -> dict[str, Prediction]:
    """Per stack ("keras3", "keras2"), what fit() trains when the probe caps epochs at max_steps."""
    setup.check()
    if not _positive_int(max_steps):
        raise ValueError(f"max_steps must be a whole number of at least 1, not {max_steps!r}")
    return {"keras3": _keras3(setup, max_steps), "keras2": _keras2(setup, max_steps)}


@dataclass
class _Epochs:
    """A simulator's tally: batches per epoch, and what happened on the way (for the reason)."""

    setup: Setup
    max_steps: int
    batches: list[int] = field(default_factory=list)
    events: set[str] = field(default_factory=set)
    stopped: str | None = None  # "never-ends" | "capped" once the probe's cap ends fit()

    def add(self, trained: float) -> bool:
        """Record an epoch; False once the probe's cap has ended the fit() call."""
        # diagnostics/worker/recorder.py (the observer's on_train_batch_end): the probe stops fit()
        # at `max_steps` batches unless the epoch is known to end there by itself. Measured: a
        # finite generator of exactly 50 batches without steps_per_epoch is stopped at 50.
        known = _probe_known_length(self.setup)
        if trained >= self.max_steps and (known is None or known > self.max_steps):
            self.batches.append(self.max_steps)
            self.stopped = "never-ends" if trained == math.inf else "capped"
            return False
        self.batches.append(int(trained))
        return True


def _probe_known_length(setup: Setup) -> int | None:
    # diagnostics/worker/recorder.py: steps_per_epoch, else the source's pass length when known up
    # front (a Sequence's len(), a finite dataset's cardinality; never a generator's).
    if setup.steps_per_epoch is not None:
        return setup.steps_per_epoch
    if setup.kind in ("sequence", "dataset"):
        return setup.length()
    return None


def _keras3(setup: Setup, max_steps: int) -> Prediction:
    """Keras 3's `EpochIterator._enumerate_iterator` / `catch_stop_iteration`, step for step.

    `num_batches` is the pass length Keras knows (len(), cardinality) or learns (a generator:
    the steps seen when a pull first failed). With steps_per_epoch one iterator is kept across
    epochs, reset as soon as `num_batches` batches were taken from it; without it every epoch
    makes a new one. Running out of data never stops training on Keras 3.
    """
    steps, kind, tally = setup.steps_per_epoch, setup.kind, _Epochs(setup, max_steps)
    first = later = float(setup.length())
    if kind == "finite-generator":
        later = float(min(PEEKED_BATCHES, setup.pass_length()))
    elif kind in ENDLESS:
        first = later = math.inf
    num_batches = setup.length() if kind in ("sequence", "dataset") else None
    made = 0

    def new_iterator() -> float:
        nonlocal made
        made += 1
        return first if made == 1 else later

    remaining: float | None = None  # batches left in the current iterator; None: no iterator
    seen = 0  # EpochIterator._steps_seen: pulls from the current iterator, the failing one too
    for _ in range(setup.epochs):
        per_epoch = steps or num_batches or -1
        if per_epoch < 0:  # nothing known: pull until the data runs out
            trained = new_iterator()
            if trained != math.inf:
                num_batches, remaining = int(trained) + 1, None
        else:
            if remaining is None or steps is None:
                remaining, seen = new_iterator(), 0
            room = per_epoch if not num_batches else min(per_epoch, max(num_batches - seen, 0))
            if remaining < room:  # a pull fails: noticed only now
                trained, seen = remaining, seen + int(remaining) + 1
                if num_batches is None:
                    num_batches = seen
                remaining = None
                tally.events.add("ran-dry" if trained else "empty-epoch")
            else:
                if room < per_epoch:
                    tally.events.add("cut")  # the pass ends inside this epoch: "ran out of data"
                trained, seen, remaining = room, seen + room, remaining - room
                if num_batches and seen >= num_batches:
                    remaining, seen = new_iterator(), 0
        if made > 1 and kind == "finite-generator" and trained:
            tally.events.add("replayed")
        if not tally.add(trained):
            break
    outcome = tally.stopped or "completed"
    return Prediction("keras3", tally.batches, outcome, reason=_keras3_reason(tally))


def _keras2(setup: Setup, max_steps: int) -> Prediction:
    """Keras 2's `DataHandler.enumerate_epochs` / `steps` / `catch_stop_iteration`.

    The epoch length is steps_per_epoch, else the adapter's size (len(), cardinality), else it is
    learned from the first exhaustion. Once it is known, running out of data sets
    `_insufficient_data`: that epoch ends and training stops. A new iterator is made every epoch
    only where `should_recreate_iterator()` says so.
    """
    steps, kind, tally = setup.steps_per_epoch, setup.kind, _Epochs(setup, max_steps)
    if kind == "dataset-repeat" and steps is None:
        return Prediction(
            "keras2",
            [],
            "error",
            error=KERAS2_INFINITE_DATASET_ERROR,
            reason=(
                "Keras 2 refuses an endless dataset without steps_per_epoch and raises "
                f"{KERAS2_INFINITE_DATASET_ERROR} before the first epoch."
            ),
        )
    per_pass = math.inf if kind in ENDLESS else float(setup.length())
    size = setup.length() if kind in ("sequence", "dataset") else None
    # should_recreate_iterator(): KerasSequenceAdapter always; DatasetAdapter when steps is None
    # or equals the cardinality (a repeated dataset's is infinite); GeneratorDataAdapter never.
    recreate = kind == "sequence" or (
        kind == "dataset" and (steps is None or steps == setup.length())
    )
    remaining = per_pass
    inferred = steps or size
    insufficient = False
    for _ in range(setup.epochs):
        if insufficient:
            tally.events.add("stopped")
            break
        if recreate:
            remaining, inferred = per_pass, steps or size
        if inferred is None:  # the first exhaustion defines the epoch length
            trained = remaining
            if trained != math.inf:
                inferred, remaining = int(trained), 0.0
        else:
            trained = min(inferred, remaining)
            if remaining < inferred:
                insufficient = True
                tally.events.add("ran-dry" if trained else "empty-epoch")
            remaining -= trained
        if not tally.add(trained):
            break
    outcome = tally.stopped or ("data-exhausted" if "stopped" in tally.events else "completed")
    return Prediction("keras2", tally.batches, outcome, reason=_keras2_reason(tally))


# --- reasons: one plain sentence per prediction ------------------------------------------------


def _what(setup: Setup) -> str:
    return {
        "finite-generator": "the generator",
        "infinite-generator": "the while True generator",
        "sequence": "the Sequence",
        "dataset": "the dataset",
        "dataset-repeat": "the repeated dataset",
    }[setup.kind]


def _batches(count: int) -> str:
    return f"{count} batch" if count == 1 else f"{count} batches"


def _known_as(setup: Setup) -> str:
    return "len()" if setup.kind == "sequence" else "cardinality()"


def _cap_clause(tally: _Epochs) -> str:
    if tally.stopped == "capped":
        return f"; the probe stops fit() at its cap of {_batches(tally.max_steps)} in an epoch"
    return ""


def _sequence_clause(setup: Setup) -> str:
    """What a wrong __len__ does to the data, as a clause ("; ...") or ""."""
    if setup.kind != "sequence" or setup.sequence_len is None:
        return ""
    length, whole = setup.sequence_len, setup.pass_length()
    holding = math.ceil(setup.samples / setup.batch_size)  # batches with at least one row
    if length < whole:
        return f"; len() says {length} but the data holds {whole}, so the rest is never seen"
    if length > holding:
        return (
            f"; len() says {length} but the data holds {holding}, so the indices past it give "
            "empty batches, which both stacks train on without an error"
        )
    if length > whole:
        return f"; len() says {length}, so the short last batch is trained too"
    return ""


def _never_ends(stack: str, tally: _Epochs) -> str:
    return (
        f"Without steps_per_epoch {stack} ends an epoch only when the data runs out, and "
        f"{_what(tally.setup)} never does, so the probe stops epoch 0 at its cap of "
        f"{_batches(tally.max_steps)}."
    )


def _endless(stack: str, tally: _Epochs) -> str:
    return (
        f"{stack} takes {_batches(tally.setup.steps_per_epoch)} per epoch from one endless "
        f"stream, each epoch going on where the last one stopped{_cap_clause(tally)}."
    )


def _keras3_reason(tally: _Epochs) -> str:
    s, events, cap = tally.setup, tally.events, _cap_clause(tally)
    steps, length = s.steps_per_epoch, s.length()
    if tally.stopped == "never-ends":
        return _never_ends("Keras 3", tally)
    if s.kind in ENDLESS:
        return _endless("Keras 3", tally)
    if s.kind == "finite-generator":
        ghost = _batches(min(PEEKED_BATCHES, length))
        if "replayed" in events and steps is None:
            return (
                "Keras 3 starts every epoch with a new pass over the generator, and once the "
                f"generator is used up a pass is only the {ghost} Keras 3 peeked at start-up, "
                f"replayed{cap}."
            )
        if "replayed" in events:
            noticed = (
                "at the start of an epoch, which trains 0 batches"
                if "empty-epoch" in events
                else "inside an epoch, which ends early"
            )
            return (
                "Keras 3 keeps one iterator across epochs and notices that the generator is "
                f"used up only when a pull fails ({noticed}); every new pass after that is only "
                f"the {ghost} Keras 3 peeked at start-up, replayed{cap}."
            )
        if steps is None:
            return f"Keras 3 runs one pass over the generator: {_batches(length)}{cap}."
        return (
            f"Keras 3 keeps one iterator across epochs, and the {_batches(steps * s.epochs)} "
            f"asked for fit in the generator's single pass of {length}{cap}."
        )
    # a Sequence or a tf.data dataset: Keras 3 knows the pass length up front
    extra = _sequence_clause(s)
    known = f"{_batches(length)}, {_known_as(s)}"
    if steps is None or steps == length:
        return f"Keras 3 runs one full pass ({known}) per epoch{extra}{cap}."
    if steps > length:
        return (
            f"Keras 3 cuts every epoch at the end of the pass ({known}) with a 'ran out of "
            f"data' warning and carries on training{extra}{cap}."
        )
    if "cut" in events:
        return (
            f"Keras 3 keeps one iterator across epochs and starts a new pass after "
            f"{_batches(length)} ({_known_as(s)}), so "
            f"an epoch in which a pass ends is cut short with a 'ran out of data' "
            f"warning{extra}{cap}."
        )
    return (
        f"Keras 3 keeps one iterator across epochs, taking {_batches(steps)} in each and "
        f"starting a new pass after {_batches(length)} ({_known_as(s)}){extra}{cap}."
    )


def _keras2_reason(tally: _Epochs) -> str:
    s, events, cap = tally.setup, tally.events, _cap_clause(tally)
    steps, length = s.steps_per_epoch, s.length()
    stops = (
        "stops training"
        if "stopped" in events
        else "would stop training, but it was the last epoch anyway"
    )
    where = (
        "at the start of an epoch, which trains 0 batches,"
        if "empty-epoch" in events
        else "inside an epoch, which ends there,"
    )
    if tally.stopped == "never-ends":
        return _never_ends("Keras 2", tally)
    if s.kind in ENDLESS:
        return _endless("Keras 2", tally)
    if s.kind == "finite-generator":
        if steps is None:
            if s.epochs == 1 or tally.stopped:
                return f"Keras 2 runs one pass over the generator: {_batches(length)}{cap}."
            return (
                f"Keras 2 takes the first pass ({_batches(length)}) as the epoch length, finds "
                f"the generator used up at the start of the next epoch (0 batches) and {stops}."
            )
        if "stopped" not in events and not (events & {"ran-dry", "empty-epoch"}):
            return (
                f"Keras 2 reads one stream across epochs, and the {_batches(steps * s.epochs)} "
                f"asked for fit in the generator's single pass of {length}{cap}."
            )
        return (
            "Keras 2 reads one stream across epochs (a generator is never restarted); it runs "
            f"dry {where} and Keras 2 {stops}{cap}."
        )
    extra = _sequence_clause(s)
    if s.kind == "sequence":
        if steps is None or steps == length:
            return (
                f"Keras 2 restarts the Sequence every epoch and runs its {_batches(length)} "
                f"(len()){extra}{cap}."
            )
        if steps < length:
            return (
                f"Keras 2 restarts the Sequence every epoch, so each epoch is only {steps} of "
                f"its {_batches(length)}{extra}{cap}."
            )
        return (
            f"Keras 2 asks for {_batches(steps)} but the Sequence ends after {length} (len()), "
            f"so epoch 0 ends there and Keras 2 {stops}{extra}."
        )
    if steps is None or steps == length:
        why = "is not set" if steps is None else "equals cardinality()"
        return (
            f"Keras 2 makes a new iterator every epoch because steps_per_epoch {why}: "
            f"{_batches(length)} per epoch{cap}."
        )
    if not events & {"ran-dry", "empty-epoch"}:
        return (
            "Keras 2 keeps one iterator across epochs (steps_per_epoch differs from "
            f"cardinality(), {length}), and the {_batches(steps * s.epochs)} asked for fit in "
            f"one pass{cap}."
        )
    return (
        "Keras 2 keeps one iterator across epochs because steps_per_epoch differs from "
        f"cardinality() ({length}); it runs dry {where} and Keras 2 {stops}{cap}."
    )


# --- prediction vs. reality -------------------------------------------------------------------


def compare(setup: Setup, predictions: dict[str, Prediction], report: dict) -> list[dict]:
    """Per stack, the prediction next to what the probe observed (fit() call 0).

    `observed` is `observed_batches` of every epoch of the run, a partial epoch included: an
    epoch still in progress when the run ended (a crash, a timeout) counts the batches trained
    before it ended, as in tests/situations/expected.py. A stack that did not run, or never
    reached fit(), gets `observed` [] and `match` False; nothing here raises on a report.
    """
    rows = []
    for stack, predicted in predictions.items():
        rows.append(_compare_stack(setup, stack, predicted, report))
    return rows


def _compare_stack(setup: Setup, stack: str, predicted: Prediction, report: dict) -> dict:
    label = STACK_LABELS.get(stack, stack)
    row = {
        "stack": stack,
        "predicted": list(predicted.batches),
        "observed": [],
        "predicted_outcome": predicted.outcome,
        "predicted_error": predicted.error,
        "observed_stopped_by": None,
        "observed_error": None,
        "match": False,
        "note": "",
    }
    record = next((s for s in report.get("stacks") or [] if s.get("stack") == stack), None)
    run = next(
        (r for r in report.get("runs") or [] if r.get("stack") == stack and r.get("call", 0) == 0),
        None,
    )
    if record is None:
        row["note"] = f"{label} was not probed, so its prediction stands unchecked."
        return row
    if record.get("status") != "ok" or run is None:
        why = record.get("reason") or record.get("status") or "no fit() call was observed"
        where = "did not run" if record.get("status") != "ok" else "never reached fit()"
        row["observed_stopped_by"] = None if run is None else run.get("stopped_by")
        row["note"] = f"{label} {where} ({why}), so nothing checks its prediction."
        return row
    observed = [int(e.get("observed_batches") or 0) for e in run.get("epochs") or []]
    stopped_by = run.get("stopped_by")
    error = (run.get("exception") or {}).get("type")
    row.update(observed=observed, observed_stopped_by=stopped_by, observed_error=error)
    expected_end = STOPPED_BY.get(predicted.outcome)
    row["match"] = (
        observed == list(predicted.batches)
        and stopped_by == expected_end
        and (predicted.outcome != "error" or error == predicted.error)
    )
    said = f"{_batches_text(predicted.batches)} and {_ending(expected_end, predicted.error)}"
    seen = f"{_batches_text(observed)} and {_ending(stopped_by, error)}"
    if row["match"]:
        row["note"] = f"{label} trained {seen}, as predicted."
    else:
        row["note"] = f"Reality wins: {label} trained {seen}, where the prediction was {said}."
    return row


def _batches_text(batches: list[int]) -> str:
    if not batches:
        return "no epoch"
    return f"{','.join(str(b) for b in batches)} batches"


def _ending(stopped_by: str | None, error: str | None) -> str:
    if stopped_by == "exception":
        return f"raised {error or 'an exception'}"
    return ENDINGS.get(stopped_by, f"ended with {stopped_by!r}")
