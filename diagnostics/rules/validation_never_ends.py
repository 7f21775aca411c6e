"""validation-never-ends

## What it does
Finds a fit() whose validation source is endless (a generator with a
`while True:` loop, a dataset with `.repeat()`) while no `validation_steps`
says how many batches one validation takes.

## Why is this bad?
Without `validation_steps`, fit() validates until the validation data ends,
and endless data never ends. Training runs the first epoch, starts validating,
and hangs there: no epoch ever finishes, no callback fires, nothing is logged
(the probe stops it with a cap on validation batches and says so).
Keras 2 recognises an endless `tf.data` dataset and refuses it with a
`ValueError` instead, but it hangs like Keras 3 on an endless generator.

## Example
```python
def val_batches(x, y, size=10):
    while True:
        for i in range(0, len(x), size):
            yield x[i:i + size], y[i:i + size]

model.fit(train, steps_per_epoch=10, epochs=3,
          validation_data=val_batches(x_val, y_val))      # no validation_steps
```

## Use instead
```python
model.fit(train, steps_per_epoch=10, epochs=3,
          validation_data=val_batches(x_val, y_val),
          validation_steps=math.ceil(len(x_val) / 10))    # one pass per validation
```
or hand fit() finite validation data (the arrays, a PyDataset, a dataset
without `.repeat()`), which it reads again at every epoch end.

## Keras 2 vs Keras 3
Both hang on an endless generator. On an endless `tf.data` dataset Keras 3
hangs, Keras 2 raises "When providing an infinite dataset, you must specify
the number of steps to run".
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, plural

CODE = "validation-never-ends"
SEVERITY = "error"
TITLE = "validation on endless data never finishes"
PRIORITY = 20

VALIDATION_CAP = "max-validation-steps"  # the recorder's cap on validation batches


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if run.fit.get("validation_steps") is not None or not run.fit.get("validation"):
            continue  # validation_steps=0 is validation-steps-zero's case
        val = run.validation_source
        last = run.epochs[-1] if run.epochs else {}
        # A finite source longer than the cap is long, not endless.
        endless = val.get("infinite") or val.get("pass_length") is None
        capped = (run.data.get("cap") or "").startswith(VALIDATION_CAP) and endless
        refused = (
            run.stopped_by == "exception"
            and val.get("infinite")
            and not run.root_cause
            and last.get("partial")
            and not last.get("val_batches")
            and run.expected is not None
            and last.get("observed_batches", 0) >= run.expected
        )
        if not capped and not refused:
            continue
        epoch = last.get("epoch", 0)
        what = "dataset" if val.get("kind") == "tf-dataset" else "generator"
        if capped:
            batches = last.get("val_batches") or 0
            summary = (
                f"validation at the end of epoch {epoch} never ends: your validation {what} is "
                f"endless and fit() has no validation_steps (the probe stopped it after "
                f"{plural(batches, 'validation batch')}; training would hang there)"
            )
            title = f"validation never ends: stopped by the probe after {batches} batches"
        else:
            exc = run.exception or {}
            batches = 0
            summary = (
                f"training crashes at the end of epoch {epoch} with {exc.get('type')}: the "
                "validation dataset is endless and fit() has no validation_steps"
            )
            title = f"the endless validation dataset is refused ({exc.get('type')})"
        fix = (
            "Add validation_steps = one pass over the validation data, e.g. "
            "`validation_steps=math.ceil(len(x_val) / batch_size)`, or pass finite validation "
            "data (the arrays, a PyDataset, "
            + (
                "a dataset without `.repeat()`"
                if what == "dataset"
                else "a generator without `while True:`"
            )
            + "), which fit() reads again at every epoch end."
        )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=title,
                evidence={
                    "epoch": epoch,
                    "val_batches_before_stop": batches,
                    "cap": run.data.get("cap"),
                    "validation_source": val.get("kind") or run.fit.get("validation"),
                    "validation_type": val.get("type"),
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
