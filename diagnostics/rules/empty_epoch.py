"""empty-epoch

## What it does
Finds epochs that completed without training a single batch, and data sources
that hold no batch at all (a dataset after `.repeat(0)`, `.take(0)`, a
`.skip()` past its end, or a filter that drops everything).

## Why is this bad?
An empty epoch still counts as an epoch: callbacks run, the epoch counter
advances and `History` gets an entry, usually with `loss` 0.0, which is not a
measurement of anything. When the whole source is empty, every epoch is like
that, and the model is never trained at all while fit() returns normally.

## Example
```python
batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)    # 10 batches
train = batches.skip(20)          # meant "skip 20 samples": skips 20 *batches*
model.fit(train, epochs=3)
```

## Use instead
```python
train = tf.data.Dataset.from_tensor_slices((x, y)).skip(20).batch(10)  # rows, then batch
model.fit(train, epochs=3)
```
and check `train.cardinality()` before fitting.

## Keras 2 vs Keras 3
With an empty dataset Keras 3 runs every epoch with 0 batches (and a "ran out
of data" warning); Keras 2 refuses it: `ValueError: Expected input data to be
non-empty.` (or "Unexpected result of `train_function` (Empty logs)" with
`steps_per_epoch`). When a source runs dry mid-training, the empty epoch is a
symptom; the rule about the source (`finite-generator-exhausted`,
`dataset-exhausted`, ...) explains it, and this one is only informational.
"""

from __future__ import annotations

from diagnostics.rules._shared import ran_dry
from diagnostics.rules.base import (
    Finding,
    Observations,
    exception_line,
    listing,
    plural,
    static_finding,
)

CODE = "empty-epoch"
SEVERITY = "error"
TITLE = "an epoch trained no batch"
PRIORITY = 40


def _empty_source(run) -> bool:
    """A source that holds no batch at all (a Sequence or dataset of length 0)."""
    return run.kind in ("tf-dataset", "sequence", "arrays") and run.pass_length == 0


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        empty = [e for e in run.complete_epochs if e["observed_batches"] == 0]
        source_empty = _empty_source(run)
        if not empty and not (source_empty and run.exception):
            continue
        epochs = [e["epoch"] for e in empty]
        losses = [e.get("loss") for e in empty]
        what = "dataset" if run.kind == "tf-dataset" else (run.kind or "data source")
        if source_empty:
            severity = SEVERITY
            if run.exception:
                message = [exception_line(run.exception.get("message"), 90)]
                summary = (
                    f"training fails before it starts: your {what} is empty (0 batches), and "
                    f"fit() raises {run.exception.get('type')}"
                    + (f" ({message[0]})" if message[0] else "")
                )
            else:
                summary = (
                    f"the model is never trained: your {what} is empty, so all "
                    f"{plural(len(epochs), 'epoch')} ran with 0 batches"
                )
            title = f"the {what} holds no batch at all: nothing is trained"
            fix = (
                f"Check `.cardinality()` / `len()` of the {what} before fit(): look for "
                "`.repeat(0)`, `.take(0)`, a `.skip(n)` or a filter that removes everything "
                "(`.skip()` and `.take()` after `.batch()` count batches, not samples)."
            )
        else:
            explained = ran_dry(run)
            severity = "info" if explained else SEVERITY
            summary = (
                f"epoch {listing(epochs)} trained 0 batches"
                + (f" (its loss {losses[0]} is not a measurement)" if losses[0] is not None else "")
                + (": the data source had already run dry" if explained else "")
            )
            title = f"epoch {listing(epochs)} trained no batch"
            fix = (
                "The empty epoch comes from the data source running out: see the finding "
                "about the source for the fix."
                if explained
                else "Find out why the source yields nothing in that epoch (an iterator used "
                "up by an earlier epoch, a filter, a `len()` of 0) and make it yield one "
                "pass per epoch."
            )
        found.append(
            Finding(
                code=CODE,
                severity=severity,
                title=title,
                evidence={
                    "empty_epochs": epochs,
                    "loss_in_empty_epochs": losses,
                    "trained_per_epoch": run.trained,
                    "batches_per_pass": run.pass_length,
                    "source_kind": run.kind,
                    "exception": (run.exception or {}).get("type"),
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found


def static(facts: dict, where) -> list[Finding]:
    """`.repeat(0)`, which empties a dataset."""
    return [
        static_finding(
            CODE,
            "warning",
            "`.repeat(0)` makes the dataset empty",
            "Use `.repeat()` (forever) or `.repeat(n)` with n >= 1.",
            line,
        )
        for line in facts.get("repeat_zero", [])
    ]
