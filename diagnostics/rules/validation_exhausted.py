"""validation-exhausted

## What it does
Finds a fit() whose validation ran on fewer batches after the first validated
epoch than in it: the validation source was used up in epoch 0 (typically a
one-pass Python generator passed as `validation_data`, or a `validation_steps`
larger than the validation data) and later epochs validate on what is left.

## Why is this bad?
`validation_data` is read again at the end of every epoch. A generator object
can be iterated only once, so after the first validation there is nothing new
to read, and no error is raised:
- **Keras 3** warns that the input ran out of data and computes every later
  `val_loss` on the 2 batches it peeked at start-up to learn the shapes: the
  numbers look plausible but describe a sliver of the validation set.
- **Keras 2** silently skips validation from the second epoch on: `val_loss`
  disappears from the logs, and callbacks that monitor it (EarlyStopping,
  ModelCheckpoint, ReduceLROnPlateau) have nothing to act on.
Model selection and early stopping then run on the wrong numbers.

## Example
```python
def val_batches(x, y, size=10):
    for i in range(0, len(x), size):          # one pass, then the generator ends
        yield x[i:i + size], y[i:i + size]

model.fit(train, steps_per_epoch=10, epochs=4,
          validation_data=val_batches(x_val, y_val), validation_steps=3)
# validation batches per epoch: Keras 3 3, 2, 2, 2; Keras 2 3, 0, 0, 0
```

## Use instead
```python
model.fit(train, steps_per_epoch=10, epochs=4,
          validation_data=(x_val, y_val), batch_size=10)   # or a PyDataset / tf.data
```
or loop forever inside the validation generator (`while True:`) and keep
`validation_steps` at one pass over the validation data. With a dataset or a
Sequence, do not ask for more `validation_steps` than it holds.

## Keras 2 vs Keras 3
Keras 3 keeps validating on the 2 batches it peeked at start-up; Keras 2 stops
validating altogether (no `val_loss` after the first epoch).
"""

from __future__ import annotations

import re

from diagnostics.rules.base import Finding, Observations, listing, plural, validates

CODE = "validation-exhausted"
SEVERITY = "error"
TITLE = "the validation data ran out after the first validation"
PRIORITY = 30


def _validation_generator(obs: Observations) -> str | None:
    """The generator function named in fit(validation_data=...), when the code shows it."""
    names = [g["name"] for g in obs.facts.get("generators", []) if not g.get("endless")]
    for call in obs.facts.get("fit_calls", []):
        text = call.get("kwargs", {}).get("validation_data", "")
        for name in names:
            if re.search(rf"\b{re.escape(name)}\s*\(", text):
                return name
    return None


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if not run.fit.get("validation") or run.fit.get("validation_steps") == 0:
            continue  # no validation_data, or validation-steps-zero's case
        freq = run.fit.get("validation_freq")
        validated = [
            e
            for e in run.complete_epochs
            if validates(e["epoch"], freq) and e.get("val_batches") is not None
        ]
        if len(validated) < 2 or not validated[0]["val_batches"]:
            continue  # nothing to compare, or empty-validation-data's case
        first = validated[0]["val_batches"]
        short = [e for e in validated[1:] if e["val_batches"] < first]
        if not short:
            continue
        counts = [e["val_batches"] for e in validated]
        after = short[0]
        kind = run.validation_source.get("kind") or run.fit.get("validation")
        steps = run.fit.get("validation_steps")
        if after["val_batches"]:
            summary = (
                f"validation uses {plural(first, 'batch')} in epoch {validated[0]['epoch']} "
                f"only: from epoch {after['epoch']} on val_loss is computed on just "
                f"{plural(after['val_batches'], 'batch')} (validation batches per epoch "
                f"{listing(counts)}), because the validation data ran out"
            )
        else:
            summary = (
                f"validation is silently skipped from epoch {after['epoch']} on: the validation "
                f"data ran out after {plural(first, 'batch')} in epoch "
                f"{validated[0]['epoch']} (validation batches per epoch {listing(counts)})"
            )
        if kind == "generator":
            name = _validation_generator(obs)
            target = f"{name}()" if name else "the validation generator"
            fix = (
                "Pass something fit() can read again at every epoch end: the arrays themselves "
                "(`validation_data=(x_val, y_val)`), a keras.utils.PyDataset or a "
                f"tf.data.Dataset. Or put a `while True:` loop around the batch loop in {target} "
                f"and set validation_steps={steps or first} (one pass is {plural(first, 'batch')})."
            )
        else:
            fix = (
                f"validation_steps={steps} asks for more batches than the validation data holds "
                f"({first}): set validation_steps={first}, or leave it out so each validation "
                "runs one full pass."
            )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"the validation data ran out in epoch {validated[0]['epoch']}: later "
                f"epochs validate on {plural(after['val_batches'], 'batch')} instead of {first}",
                evidence={
                    "val_batches_per_epoch": counts,
                    "val_rows_per_epoch": [e.get("val_rows") for e in validated],
                    "val_loss_per_epoch": [e.get("val_loss") for e in validated],
                    "validation_steps": steps,
                    "validation_source": kind,
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found
