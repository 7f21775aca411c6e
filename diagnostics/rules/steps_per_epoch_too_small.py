"""steps-per-epoch-too-small

## What it does
Finds a `steps_per_epoch` smaller than one pass over the data (a Sequence's
`len()`, a dataset's cardinality, or the cycle of an endless generator), while
the data source still has batches left.

## Why is this bad?
A too-small `steps_per_epoch` does not stop training, whatever the folklore says.
It silently redefines the epoch: each epoch trains on a slice of the data. With
an endless generator or a repeated dataset, consecutive epochs walk through
different slices (epoch 0 sees the first half, epoch 1 the second half); with a
Sequence or arrays, Keras 2 and Keras 3 differ on where the next epoch starts.
Per-epoch metrics, callbacks (EarlyStopping, learning-rate schedules, checkpoints)
and "number of epochs" then mean something other than what you think.

## Example
```python
steps_per_epoch = 5                      # but 100 samples / batch of 10 = 10 batches
model.fit(endless_batches(x, y, 10), steps_per_epoch=steps_per_epoch, epochs=5)
```

## Use instead
```python
steps_per_epoch = math.ceil(len(x) / batch_size)    # one pass per epoch
model.fit(endless_batches(x, y, batch_size), steps_per_epoch=steps_per_epoch, epochs=5)
```

## Keras 2 vs Keras 3
With a Sequence, Keras 2 restarts each epoch at index 0 (4,4,4 for `len()`=10 and
steps 4), Keras 3 carries on where the last epoch stopped and cuts an epoch
short when the pass ends (4,4,2).

## Automatic fix
fitprobe can make the edit: `steps_per_epoch` becomes `math.ceil(len(x) / batch_size)`
in the names of the generator's call (or the one-pass length it measured, with a comment),
and is left out for a Sequence, arrays or a finite dataset.
"""

from __future__ import annotations

import math

from diagnostics.rules import _fixes
from diagnostics.rules._shared import FINITE_KINDS
from diagnostics.rules.base import Finding, Observations

CODE = "steps-per-epoch-too-small"
SEVERITY = "warning"
TITLE = "steps_per_epoch covers only part of the data"


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        steps = run.steps_per_epoch
        one_pass = run.pass_length
        if steps is None or not one_pass or run.info.get("source_exhausted"):
            continue
        try:
            steps = math.ceil(float(steps))  # Keras 2 rounds a fractional steps_per_epoch up
        except (TypeError, ValueError, OverflowError):
            continue
        if steps >= one_pass or steps <= 0 or run.exception:
            continue  # 0 is steps-per-epoch-zero's
        rows = run.info.get("data_rows")
        batch = next((b.get("rows") for b in run.batches if b.get("rows")), None)
        seen = [e.get("samples_seen") for e in run.complete_epochs]
        arithmetic = (
            f"math.ceil({rows} / {batch}) = {one_pass}" if rows and batch else str(one_pass)
        )
        share = f"{int(steps)} of the {one_pass} batches"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"each epoch trains {share} in one pass over the data",
                evidence={
                    "steps_per_epoch": run.steps_per_epoch,
                    "batches_per_pass": one_pass,
                    "pass_measured_by": run.info.get("pass_length_measured_by"),
                    "samples_seen_per_epoch": seen,
                    "data_rows": rows,
                    "seen_ranges": [e.get("seen_ranges") for e in run.complete_epochs],
                },
                fix=f"steps_per_epoch = {arithmetic}, so one epoch is one pass over the data "
                "(or leave steps_per_epoch out for a Sequence, a finite dataset or arrays).",
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: (
                        "training does not run out of data (a callback ends it early)"
                        if run.stopped_by == "callback"
                        else "training runs every epoch"
                    )
                    + f", but each epoch covers only {share} of your data (steps_per_epoch is "
                    "smaller than one pass)"
                },
            )
        )
    return found


def fix(source: str, finding: dict, report: dict) -> str | None:
    """One pass per epoch: steps_per_epoch computed from the data, or left out where fit()
    finds the end of a pass by itself (a Sequence, arrays, a finite dataset)."""
    return _fixes.apply(source, lambda code: _one_pass_per_epoch(code, finding, report))


def _one_pass_per_epoch(code: _fixes.Code, finding: dict, report: dict):
    call = _fixes.fit_call(code, report, finding)
    runs = _fixes.runs(report, finding)
    if call is None or not runs:
        return None
    batches = _fixes.evidence(finding).get("batches_per_pass") or runs[0].pass_length
    if runs[0].kind in FINITE_KINDS and not runs[0].info.get("infinite"):
        return _fixes.leave_out_steps(code, call, batches)
    at = _fixes.sites(code, call, "steps_per_epoch")
    done = _fixes.set_one_pass(code, call, at, batches, _fixes.measured_batch(report, finding))
    if done is None:
        return None
    module, site, steps = done
    one_pass = f"one pass over the data ({batches} batches) per epoch"
    return module, f"{site.label} becomes {steps}: {one_pass}"
