"""steps-per-epoch-zero

## What it does
Finds a fit() called with `steps_per_epoch=0`, almost always the result of
arithmetic that rounds down: `len(x_train) // batch_size`, `int(n / bs)`,
`math.floor(...)`, `np.floor(...)`, `round(...)`, or an iterator's `.n`,
`.samples` or `len(it)` divided by a batch size larger than it.

## Why is this bad?
Nobody means "zero batches per epoch", and the two Keras versions disagree about
what it means:
- **Keras 2** refuses it before training starts: `ValueError: steps_per_epoch
  must be positive, None or -1. Received 0.`
- **Keras 3** reads 0 as "no limit". With arrays, a Sequence or a finite dataset
  every epoch is one whole pass (not what the code says, but harmless); with an
  endless generator or a `.repeat()`ed dataset the first epoch never ends:
  training runs until you stop it, validation never runs, and callbacks that wait
  for the end of an epoch never fire.
The arithmetic that made the 0 usually hides a second surprise: a data set
smaller than one batch (a filtered CSV, a wrong folder, a validation split taken
from the training set).

## Example
```python
batch_size = 64
steps_per_epoch = len(x_train) // batch_size     # 30 samples -> 0
model.fit(batches(x_train, y_train, batch_size), steps_per_epoch=steps_per_epoch, epochs=5)
```

## Use instead
```python
steps_per_epoch = max(1, math.ceil(len(x_train) / batch_size))   # 1: the last batch may be partial
```
and check that the data really is that small.

## Keras 2 vs Keras 3
Keras 2 raises `ValueError` before the first epoch; Keras 3 trains without a
limit: one pass per epoch from a finite source, forever from an endless one.

## Automatic fix
fitprobe can make the edit: a `steps_per_epoch` written as a division that rounds down
(`n // batch_size`, `int(n / batch_size)`, ...) becomes `max(1, math.ceil(n / batch_size))`.
"""

from __future__ import annotations

from diagnostics.rules import _fixes
from diagnostics.rules._shared import batch_rows, floored_counts, is_zero_count
from diagnostics.rules.base import Finding, Observations, floors_to_zero, plural

CODE = "steps-per-epoch-zero"
SEVERITY = "error"
TITLE = "steps_per_epoch is 0"
PRIORITY = 15



def _right(run, spelled: str | None) -> str:
    rows = run.source.get("rows") or run.info.get("data_rows")
    batch = batch_rows(run)
    if rows and batch:
        steps = max(1, -(-rows // batch))
        return f"steps_per_epoch = max(1, math.ceil({rows} / {batch})) = {steps}"
    if spelled and floors_to_zero(spelled):
        inner = spelled.replace("//", "/")
        for call in ("np.floor", "math.floor", "floor", "round", "int"):
            if inner.startswith(f"{call}(") and inner.endswith(")"):
                inner = inner[len(call) + 1 : -1]
                break
        return f"steps_per_epoch = max(1, math.ceil({inner}))"
    return "steps_per_epoch = max(1, math.ceil(samples / batch_size))"


def _written_as(obs: Observations) -> str | None:
    """The expression behind steps_per_epoch (a name bound once is read through), when
    the fit() calls that set it agree."""
    spelled = {
        (c.get("values") or c["kwargs"])["steps_per_epoch"]
        for c in obs.facts.get("fit_calls", [])
        if "steps_per_epoch" in c.get("kwargs", {})
    }
    return spelled.pop() if len(spelled) == 1 else None


def check(obs: Observations) -> list[Finding]:
    found = []
    spelled = _written_as(obs)
    for run in obs.runs:
        if not is_zero_count(run.steps_per_epoch):
            continue
        exc = run.exception or {}
        capped = next((e for e in run.epochs if e.get("capped")), None)
        if exc:
            summary = (
                f"fit() raises {exc.get('type')} before the first epoch: steps_per_epoch is 0, "
                "which Keras 2 refuses"
            )
        elif capped is not None or run.stopped_by == "timeout":
            trained = (capped or (run.epochs or [{}])[-1]).get("observed_batches") or 0
            ended = (
                "fitprobe's cap" if capped is not None else "fitprobe's time limit"
            )
            summary = (
                "steps_per_epoch is 0, which Keras 3 reads as 'no limit', and the data never "
                f"ends: epoch 0 never finishes (it trained {plural(trained, 'batch')} until "
                f"{ended} stopped it)"
            )
        else:
            counts = sorted({e["observed_batches"] for e in run.complete_epochs})
            each = f"{plural(counts[0], 'batch')}" if len(counts) == 1 else "a whole pass"
            summary = (
                "steps_per_epoch is 0, which Keras 3 reads as 'no limit': every epoch trains "
                f"one whole pass ({each}) instead"
            )
        was = f" (`{spelled}` evaluates to 0)" if spelled and spelled.strip() != "0" else ""
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title="steps_per_epoch is 0" + (f" (`{spelled}`)" if was else ""),
                evidence={
                    "steps_per_epoch": run.steps_per_epoch,
                    "written_as": spelled,
                    "source": run.kind,
                    "trained_per_epoch": run.trained,
                    "capped": capped is not None,
                    "exception": exc.get("type"),
                },
                fix=f"{_right(run, spelled)}{was}, and check that the data really is smaller "
                "than one batch.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found


def static(facts: dict, where) -> list[Finding]:
    """steps_per_epoch written as a division that rounds down: 0 for less than a batch."""
    return floored_counts(
        facts, "steps_per_epoch", CODE, "Keras 2 then raises, Keras 3 trains without a limit"
    )


def fix(source: str, finding: dict, report: dict) -> str | None:
    """steps_per_epoch as a division rounded up, and never below 1."""
    return _fixes.apply(
        source, lambda code: _fixes.at_least_one_batch(code, report, finding, "steps_per_epoch")
    )
