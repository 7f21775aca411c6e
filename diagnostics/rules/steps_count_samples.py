"""steps-count-samples

## What it does
Finds a `steps_per_epoch` equal to the number of samples (`len(x)`, or the rows
in one pass over the data) although each batch holds several samples: the
number counts rows where Keras counts batches.

## Why is this bad?
`steps_per_epoch` is a number of *batches*. With 100 samples in batches of 10,
`steps_per_epoch=len(x)` asks for 100 batches, ten passes over the data, in
every "epoch":
- with an endless generator or a repeated dataset, every epoch silently trains
  on the data `batch_size` times over, so per-epoch metrics, callbacks,
  checkpoints and learning-rate schedules run `batch_size` times too rarely
  and training takes far longer than the epoch count suggests;
- with a source that ends (a Sequence / PyDataset, arrays, a dataset without
  `.repeat()`), Keras cannot serve that many batches: it warns that the input
  ran out of data and training does not do what the code says (see below).

## Example
```python
model.fit(endless_batches(x, y, batch_size=10), steps_per_epoch=len(x), epochs=5)
```

## Use instead
```python
model.fit(endless_batches(x, y, batch_size=10),
          steps_per_epoch=math.ceil(len(x) / 10), epochs=5)
```

## Keras 2 vs Keras 3
With an endless source both stacks train the 100 batches per epoch. With a
source that ends, Keras 2 stops training once it runs out (a Sequence of 10
batches: 10, then fit() returns) and Keras 3 carries on, ending every epoch
early where the data ends (10, 10, 10 batches with a warning).

## Automatic fix
fitprobe can make the edit: the sample count becomes `math.ceil(samples / batch_size)`,
with the code's own batch size where it names one.
"""

from __future__ import annotations

import math

from diagnostics.rules import _fixes
from diagnostics.rules._shared import FINITE_KINDS, batch_rows, counted_rows, written_as
from diagnostics.rules.base import Finding, Observations, listing, plural

CODE = "steps-count-samples"
SEVERITY = "warning"
TITLE = "steps_per_epoch counts samples, not batches"
PRIORITY = 25


def _finite(run) -> bool:
    return run.kind in FINITE_KINDS and not run.info.get("infinite")


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        rows = counted_rows(run)
        if rows is None:
            continue
        batch = batch_rows(run)
        steps = run.steps_per_epoch
        right = math.ceil(rows / batch)
        passes = steps / right
        finite = _finite(run)
        spelled = written_as(obs)
        shown = f"`{spelled}`" if spelled and spelled.strip() != str(steps) else str(steps)
        if finite:
            severity = "error"
            if run.stopped_by == "data-exhausted":
                what = (
                    f"training stops after {len(run.complete_epochs)} of {run.epochs_asked} "
                    "epochs when the data runs out"
                )
            else:
                what = (
                    f"every epoch ends early when the data runs out (batches per epoch "
                    f"{listing(run.trained)})"
                )
            summary = (
                f"steps_per_epoch={steps} is the number of samples, not of batches: the data "
                f"holds {right} batches of {batch}, so {what}"
            )
        else:
            severity = SEVERITY
            summary = (
                f"each epoch trains {steps} batches, {passes:g} passes over your {rows} samples, "
                f"because steps_per_epoch={steps} counts samples, not batches of {batch}"
            )
        found.append(
            Finding(
                code=CODE,
                severity=severity,
                title=f"steps_per_epoch={shown} is the number of samples ({rows}); "
                f"in batches of {batch} one pass is {plural(right, 'step')}",
                evidence={
                    "steps_per_epoch": steps,
                    "written_as": spelled,
                    "samples": rows,
                    "batch_size": batch,
                    "batches_per_pass": right,
                    "passes_per_epoch": round(passes, 3),
                    "trained_per_epoch": run.trained,
                    "stopped_by": run.stopped_by,
                },
                fix=f"steps_per_epoch = math.ceil({rows} / {batch}) = {right}"
                + (f" (instead of {shown})" if spelled else "")
                + (
                    ", or leave steps_per_epoch out: fit() then makes one pass per epoch."
                    if finite
                    else ": one pass over the data per epoch."
                ),
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found


def fix(source: str, finding: dict, report: dict) -> str | None:
    """steps_per_epoch in batches: the sample count divided by the batch size, rounded up."""
    return _fixes.apply(source, lambda code: _in_batches(code, finding, report))


def _in_batches(code: _fixes.Code, finding: dict, report: dict):
    call = _fixes.fit_call(code, report, finding)
    at = _fixes.sites(code, call, "steps_per_epoch") if call is not None else []
    evidence = _fixes.evidence(finding)
    batch = evidence.get("batch_size") or _fixes.measured_batch(report, finding)
    if not at or not batch:
        return None
    site, made = at[0], _fixes.one_pass(code, call)
    readable = _fixes.writable(code, call, site, made)  # the code's own names fit there
    number = _fixes.cst.Integer
    samples = _fixes.operand(site.value)
    # rows: arrays given to fit(), or the first argument of a generator's or Sequence's call
    rows = made.call is not None or any(r.kind == "arrays" for r in _fixes.runs(report, finding))
    if isinstance(site.value, number) and made.data is not None and rows and readable:
        samples = f"len({_fixes.source(made.data)})"  # the data's length, not a number
    size = str(batch)
    if made.batch is not None and not isinstance(made.batch, number) and readable:
        size = _fixes.operand(made.batch)
    steps = _fixes.expression(f"math.ceil({samples} / {size})")
    module = _fixes.with_import(_fixes.replace(code, site, steps), "math")
    return module, (
        f"{site.label} becomes {_fixes.source(steps)}: batches of {batch}, one pass over the "
        f"{evidence.get('samples')} samples per epoch"
    )
