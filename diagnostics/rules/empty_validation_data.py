"""empty-validation-data

## What it does
Finds a fit() given `validation_data` that delivered no batch at all when the
first validation ran: an empty dataset (`.take(0)`, a `.filter()` that drops
everything, empty arrays), or a generator that yields nothing (or was already
used up before fit() started).

## Why is this bad?
Validation is how you see overfitting, and what EarlyStopping, ModelCheckpoint
and ReduceLROnPlateau watch. With no validation batch:
- **Keras 3** trains on and logs no `val_loss` (empty dataset or arrays: a
  "ran out of data" warning, nothing else), or, for an empty generator, crashes
  at the end of the first epoch with "must yield at least one batch".
- **Keras 2** crashes at the end of the first epoch ("Expected input data to be
  non-empty", or a bare `StopIteration` for an empty generator), or, for a
  dataset emptied by `.filter()`, silently trains without validation.

## Example
```python
val = tf.data.Dataset.from_tensor_slices((x_val, y_val))
val = val.filter(lambda x, y: y > 100).batch(10)    # no row passes the filter
model.fit(x, y, batch_size=10, epochs=3, validation_data=val)
```

## Use instead
Check the validation data before training, and pass data that holds at least
one batch:
```python
n = val.reduce(0, lambda count, _: count + 1)        # or len(x_val)
assert n > 0, "the validation data is empty"
model.fit(x, y, batch_size=10, epochs=3, validation_data=val)
```
A generator object is used up after one pass: create a fresh one for fit(), or
pass the arrays, a PyDataset or a dataset, which can be read again.

## Keras 2 vs Keras 3
Keras 3 mostly carries on without `val_loss`; Keras 2 mostly crashes at the end
of the first epoch. Either way nothing was validated.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, listing, validates

CODE = "empty-validation-data"
SEVERITY = "error"
TITLE = "the validation data is empty"
PRIORITY = 20

NOUNS = {
    "generator": "validation generator",
    "tf-dataset": "validation dataset",
    "sequence": "validation Sequence",
    "arrays": "validation data (arrays)",
}


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        val = run.validation_source
        steps = run.fit.get("validation_steps")
        if not run.fit.get("validation") or steps == 0 or val.get("infinite"):
            continue  # validation-steps-zero / validation-never-ends cover those
        if run.root_cause:
            continue  # the source raised: generator-raised says where
        if val.get("pass_length") or run.info.get("val_pulled_batches"):
            continue  # it holds batches: whatever failed, it was not emptiness
        freq = run.fit.get("validation_freq")
        first = next((e for e in run.epochs if validates(e["epoch"], freq)), None)
        if first is None or first.get("val_batches"):
            continue
        trained_through = run.expected is None or first["observed_batches"] >= run.expected
        if first.get("partial"):
            # Ended inside the epoch: count it only when training had finished the
            # epoch's batches and the run crashed (at validation), not when it timed out.
            if run.stopped_by != "exception" or run.expected is None or not trained_through:
                continue
        elif not trained_through and run.stopped_by == "callback":
            continue  # stopped mid-epoch by a callback: validation may be skipped
        exc = run.exception or {}
        kind = val.get("kind") or run.fit.get("validation")
        noun = NOUNS.get(kind, "validation data")
        counts = [e.get("val_batches") or 0 for e in run.epochs]
        if first.get("partial"):
            summary = (
                f"training crashes at the end of epoch {first['epoch']} with {exc.get('type')}, "
                f"because the {noun} yields no batch"
            )
        else:
            summary = (
                f"nothing is validated: the {noun} yields no batch, so no val_loss "
                f"is computed (validation batches per epoch {listing(counts)})"
            )
        if kind == "generator":
            fix = (
                "Make sure the validation generator yields batches when fit() reads it: "
                "create a fresh generator object for fit() (one that was already iterated is "
                "used up), or pass the arrays themselves, `validation_data=(x_val, y_val)`."
            )
        elif kind == "arrays":
            fix = (
                "x_val holds 0 rows: check how the validation split is selected (a mask or "
                "slice that matches nothing) and make sure it keeps at least one batch, e.g. "
                "`assert len(x_val) > 0` before fit()."
            )
        else:
            fix = (
                f"The {noun} holds no batch"
                + (" (its cardinality is 0)" if val.get("pass_length") == 0 else "")
                + ": check the steps that build it (`.take()`, `.filter()`, `.skip()`, the "
                "slicing of the validation arrays) and make sure at least one batch is left."
            )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"the {noun} delivered no batch"
                + (f": training crashed ({exc.get('type')})" if exc else ""),
                evidence={
                    "validation_source": kind,
                    "validation_type": val.get("type"),
                    "validation_batches_known": val.get("pass_length"),
                    "val_batches_per_epoch": counts,
                    "exception": exc.get("type"),
                    "message": (exc.get("message") or "")[:200] or None,
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found
