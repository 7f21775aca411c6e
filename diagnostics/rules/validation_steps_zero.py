"""validation-steps-zero

## What it does
Finds a fit() given validation data with `validation_steps=0`, most often the
result of `validation_steps = len(x_val) // batch_size` with a validation set
smaller than one batch.

## Why is this bad?
Zero validation steps is never what anybody means, and the two Keras versions
disagree about it:
- **Keras 2** trains the first epoch, then crashes when validation starts, with
  a message about the wrong argument: `ValueError: steps_per_epoch must be
  positive, None or -1. Received 0.`
- **Keras 3** reads 0 as "no limit": it validates on everything the validation
  data yields. With arrays or a finite dataset that is one full pass (not what
  the code says, but harmless); with an endless generator validation never
  ends, and the first epoch never finishes.

## Example
```python
validation_steps = len(x_val) // 10      # 8 validation rows -> 0
model.fit(x, y, batch_size=10, epochs=3,
          validation_data=(x_val, y_val), validation_steps=validation_steps)
```

## Use instead
```python
validation_steps = max(1, math.ceil(len(x_val) / 10))   # 1: the last batch may be partial
```
or leave `validation_steps` out when the validation data is finite (arrays, a
PyDataset, a dataset without `.repeat()`): fit() then validates on one full pass.

## Keras 2 vs Keras 3
Keras 2 crashes at the end of the first epoch; Keras 3 ignores the 0 and validates
on the whole validation source (forever, if the source is endless).

## Automatic fix
fitprobe can make the edit: a `validation_steps` written as a division that rounds down
(`n // batch_size`, `int(n / batch_size)`, ...) becomes `max(1, math.ceil(n / batch_size))`.
"""

from __future__ import annotations

from diagnostics.rules import _fixes
from diagnostics.rules._shared import floored_counts, is_zero_count
from diagnostics.rules.base import Finding, Observations, plural

CODE = "validation-steps-zero"
SEVERITY = "error"
TITLE = "validation_steps is 0"
PRIORITY = 20



def _written_as(obs: Observations) -> str | None:
    """How the code spells validation_steps, when one fit() call in it sets it."""
    spelled = {
        c["kwargs"]["validation_steps"]
        for c in obs.facts.get("fit_calls", [])
        if "validation_steps" in c.get("kwargs", {})
    }
    return spelled.pop() if len(spelled) == 1 else None


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if not is_zero_count(run.fit.get("validation_steps")) or not run.fit.get("validation"):
            continue
        val = run.validation_source
        counts = [e.get("val_batches") for e in run.epochs]
        exc = run.exception or {}
        epoch = run.epochs[-1]["epoch"] if run.epochs else 0
        if exc:
            said = (exc.get("message") or "").strip().split(". ")[0][:90]
            summary = (
                f"training crashes at the end of epoch {epoch} with {exc.get('type')} "
                f'"{said}", which is about validation_steps=0'
            )
        elif (run.data.get("cap") or "").startswith("max-validation-steps"):
            summary = (
                "validation_steps=0 means 'no limit' here, so validation on your endless "
                f"source never ends: epoch {epoch} never finishes (the probe stopped it after "
                f"{plural(counts[-1] or 0, 'validation batch')})"
            )
        else:
            done = [c for c in counts if c]
            summary = (
                "validation_steps=0 is read as 'no limit': every epoch validates on the whole "
                f"validation data ({plural(done[0] if done else 0, 'batch')}) instead"
            )
        rows, batch = val.get("rows"), val.get("batch_size") or run.fit.get("batch_size")
        spelled = _written_as(obs)
        if rows and batch:
            steps = max(1, -(-rows // batch))
            right = f"validation_steps = max(1, math.ceil({rows} / {batch})) = {steps}"
        elif spelled and "//" in spelled:
            right = f"validation_steps = max(1, math.ceil({spelled.replace('//', '/')}))"
        else:
            right = "validation_steps = max(1, math.ceil(validation rows / batch size))"
        was = f" (`{spelled}` evaluates to 0)" if spelled and spelled.strip() != "0" else ""
        fix = (
            f"{right}{was}; or leave validation_steps out when the validation data is finite, "
            "and fit() validates on one full pass."
        )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title="validation_steps is 0"
                + (f": training crashes when validation starts ({exc.get('type')})" if exc else ""),
                evidence={
                    "validation_steps": run.fit.get("validation_steps"),
                    "written_as": spelled,
                    "validation_source": val.get("kind") or run.fit.get("validation"),
                    "val_batches_per_epoch": counts,
                    "exception": exc.get("type"),
                    "cap": run.data.get("cap"),
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
    """validation_steps written as a division that rounds down: 0 for a validation set
    smaller than a batch."""
    return floored_counts(
        facts, "validation_steps", CODE, "Keras 2 then crashes, Keras 3 validates without a limit"
    )


def fix(source: str, finding: dict, report: dict) -> str | None:
    """validation_steps as a division rounded up, and never below 1."""
    return _fixes.apply(
        source, lambda code: _fixes.at_least_one_batch(code, report, finding, "validation_steps")
    )
