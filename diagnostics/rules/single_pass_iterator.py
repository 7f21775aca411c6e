"""single-pass-iterator

## What it does
Finds a plain Python iterator handed to fit() as the training or validation
data: `iter(batches)`, `zip(x_batches, y_batches)`, `map(load, paths)`,
`filter(...)`, `itertools.islice(...)`, anything with `__next__` that is not a
generator, a `Sequence`/`PyDataset` or a `tf.data.Dataset`.

## Why is this bad?
An iterator can be consumed once, and Keras cannot restart it.
- **Keras 3** does not take iterators at all: fit() stops before training with
  `ValueError: Unrecognized data type: x=<zip object ...>`.
- **Keras 2** takes it like a generator: the first epoch consumes it, then the
  input "runs out of data" and training stops after an empty second epoch
  (batches per epoch 10, 0; `History` has 2 entries, the second with loss 0.0).
The script asked for more epochs than the model got.

## Example
```python
batches = zip(x_batches, y_batches)
model.fit(batches, epochs=5)
```

## Use instead
Hand fit() something it can iterate again every epoch:
```python
dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)
model.fit(dataset, epochs=5)
```
or a `keras.utils.PyDataset`, or a generator function with `while True:` and
`steps_per_epoch`.

## Keras 2 vs Keras 3
Keras 3 rejects the iterator with `ValueError` ("Unrecognized data type");
Keras 2 trains one pass and then stops, warning that the input ran out of data.
"""

from __future__ import annotations

from diagnostics.rules._shared import is_single_pass
from diagnostics.rules.base import Finding, Observations, listing, plural

CODE = "single-pass-iterator"
SEVERITY = "error"
TITLE = "a one-shot iterator was given to fit()"
PRIORITY = 10

# type(x).__name__ of the iterators Python and itertools hand out
# keras/src/trainers/data_adapters/__init__.py (get_data_adapter)
KERAS3_REJECTS = "Unrecognized data type"


def _iterators(run) -> list[tuple[str, str]]:
    """(role, type name) of the one-shot iterators this run was given."""
    found = []
    for role, source in (("training", run.source), ("validation", run.validation_source)):
        if source.get("kind") == "other" and is_single_pass(source.get("type")):
            found.append((role, source["type"]))
    return found


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        iterators = _iterators(run)
        if not iterators:
            continue
        exc = run.exception or {}
        rejected = KERAS3_REJECTS in (exc.get("message") or "")
        role, kind = iterators[0]
        if rejected:
            summary = (
                f"fit() rejects the {role} data before training (ValueError: Unrecognized data "
                f"type): a `{kind}` iterator, which Keras 3 does not take"
            )
            title = f"fit() does not take a `{kind}` iterator: it raises ValueError"
        else:
            if role != "training":
                continue  # an exhausted validation iterator is validation-exhausted's
            complete = run.complete_epochs
            ran_dry = run.stopped_by == "data-exhausted" or any(
                e["observed_batches"] == 0 for e in complete[1:]
            )
            if not ran_dry:
                continue  # one pass was all fit() asked for
            summary = (
                f"training stops after {plural(len(complete), 'epoch')} "
                f"(batches per epoch: {listing(run.trained)}): the `{kind}` iterator was used "
                "up by the first pass and cannot be restarted"
            )
            title = f"the `{kind}` iterator ran dry after one pass; fit() wanted more"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=title,
                evidence={
                    "role": role,
                    "type": kind,
                    "exception": exc.get("type"),
                    "trained_per_epoch": run.trained,
                    "stopped_by": run.stopped_by,
                    "epochs_asked": run.epochs_asked,
                },
                fix=f"Replace the `{kind}` iterator with data fit() can read again every "
                "epoch: arrays, `tf.data.Dataset.from_tensor_slices((x, y)).batch(...)`, a "
                "keras.utils.PyDataset, or a generator function with a `while True:` loop "
                "(called, with steps_per_epoch).",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                line=exc.get("line") or (run.data.get("call_site") or {}).get("line"),
                priority=PRIORITY,
            )
        )
    return found
