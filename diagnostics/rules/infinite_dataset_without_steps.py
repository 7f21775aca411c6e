"""infinite-dataset-without-steps

## What it does
Finds a `tf.data.Dataset` that repeats forever (`.repeat()` with no count)
passed to fit() without `steps_per_epoch`.

## Why is this bad?
An epoch ends when the dataset ends, or after `steps_per_epoch` batches. An
endless dataset never ends, so without `steps_per_epoch` nothing tells Keras
where an epoch stops:
- **Keras 3** trains epoch 0 forever: no epoch ever ends, so no callback's
  `on_epoch_end`, no checkpoint, no validation, no `History`, and the script
  hangs until it is killed (the probe stops it at its step cap).
- **Keras 2** refuses it at once: `ValueError: When providing an infinite
  dataset, you must specify the number of steps to run`.

## Example
```python
dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10).repeat()
model.fit(dataset, epochs=5)
```

## Use instead
```python
dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10).repeat()
model.fit(dataset, steps_per_epoch=math.ceil(len(x) / 10), epochs=5)
```
or drop `.repeat()`: a finite dataset is read again from the start every epoch.

## Keras 2 vs Keras 3
Keras 2 raises `ValueError` before training; Keras 3 starts training and never
finishes the first epoch.
"""

from __future__ import annotations

import math

from diagnostics.rules._shared import batch_rows
from diagnostics.rules.base import Finding, Observations, plural

CODE = "infinite-dataset-without-steps"
SEVERITY = "error"
TITLE = "an endless dataset without steps_per_epoch"
PRIORITY = 20


def _one_pass(run) -> int | None:
    """Batches in one pass of the repeated data, when the probe could tell."""
    if run.pass_length:
        return run.pass_length
    seen, batch = run.info.get("samples_seen_total"), batch_rows(run)
    trained = sum(b.get("rows") or 0 for b in run.batches)
    if seen and batch and trained > seen:  # the data came round again
        return math.ceil(seen / batch)
    return None


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if run.kind != "tf-dataset" or not run.info.get("infinite"):
            continue
        if run.steps_per_epoch is not None:
            continue
        exc = run.exception or {}
        first = run.epochs[0] if run.epochs else None
        trained = first["observed_batches"] if first else 0
        if exc:
            summary = (
                f"fit() refuses your endless dataset ({exc.get('type')}): it repeats forever "
                "(.repeat()) and fit() has no steps_per_epoch to end an epoch"
            )
        elif run.stopped_by in ("probe-cap", "timeout"):
            summary = (
                "epoch 0 never ends: your dataset repeats forever (.repeat()) and fit() has no "
                f"steps_per_epoch; the probe stopped it after {plural(trained, 'batch')}"
            )
        else:
            summary = (
                "your dataset repeats forever (.repeat()) and fit() has no steps_per_epoch, so "
                "nothing but a callback can end an epoch"
            )
        one_pass = _one_pass(run)
        steps = f"steps_per_epoch={one_pass}" if one_pass else "steps_per_epoch=<batches per pass>"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title="the dataset repeats forever and fit() has no steps_per_epoch",
                evidence={
                    "steps_per_epoch": None,
                    "batches_trained_in_epoch_0": trained,
                    "stopped_by": run.stopped_by,
                    "cap": run.data.get("cap"),
                    "batches_per_pass": one_pass,
                    "exception": exc.get("type"),
                },
                fix=f"Pass {steps} to fit() (one pass over the data per epoch), or remove "
                "`.repeat()` so each epoch ends where the data ends.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found
