"""variable-epoch-length

## What it does
Finds a run whose completed epochs trained different numbers of batches
although the data source never ran dry: typically Keras 3 with a
`steps_per_epoch` that does not divide one pass over a Sequence / PyDataset or
arrays, so the epoch in which the pass ends is cut short (4, 4, 2).
Epochs cut by a source running dry belong to the rules about that source, and
the last epoch of a run that a callback stopped is not counted.

## Why is this bad?
Anything computed "per epoch" assumes epochs of the same size: the epoch's
loss and metrics average over a different number of batches, learning-rate
schedules and `EarlyStopping` patience count epochs of unequal weight, and a
checkpoint "every epoch" is not every N batches. With a Sequence and
`steps_per_epoch=4` over 10 batches, every third epoch trains half as much
(4, 4, 2, 4, 4, 2), and its metrics jump for no reason in the model.

## Example
```python
model.fit(Batches(x, y, 10), steps_per_epoch=4, epochs=3)    # len() is 10: 4, 4, 2
```

## Use instead
```python
model.fit(Batches(x, y, 10), epochs=3)     # one pass (10 batches) per epoch
```
or a `steps_per_epoch` that divides one pass (5 or 10 for 10 batches).

## Keras 2 vs Keras 3
Keras 2 restarts a Sequence at index 0 every epoch (4, 4, 4, never reaching
the end of the data); Keras 3 carries on where the last epoch stopped and ends
the epoch at the end of the pass (4, 4, 2).
"""

from __future__ import annotations

from diagnostics.rules._shared import ran_dry
from diagnostics.rules.base import RAN_OUT_OF_DATA, Finding, Observations, listing

CODE = "variable-epoch-length"
SEVERITY = "warning"
TITLE = "epochs train different numbers of batches"
PRIORITY = 60


def comparable_epochs(run) -> list[dict]:
    """Completed epochs not cut by the probe, nor by a callback that ended training."""
    epochs = [e for e in run.complete_epochs if not e.get("capped")]
    if epochs and run.stopped_by == "callback" and epochs[-1] is run.complete_epochs[-1]:
        epochs = epochs[:-1]
    return epochs


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        epochs = comparable_epochs(run)
        counts = [e["observed_batches"] for e in epochs]
        if len(set(counts)) < 2 or ran_dry(run) or 0 in counts:
            continue  # a source that ran dry, or an empty epoch, has its own rule
        longest, shortest = max(counts), min(counts)
        short = [e["epoch"] for e in epochs if e["observed_batches"] < longest]
        steps, one_pass = run.steps_per_epoch, run.pass_length
        if steps is not None and one_pass:
            near = [d for d in _divisors(one_pass) if d > 1]
            fix = (
                f"Leave steps_per_epoch out (one pass of {one_pass} batches per epoch), or use "
                f"a steps_per_epoch that divides {one_pass} (e.g. {listing(near[:3])}) "
                f"instead of {steps}."
            )
            why = f": steps_per_epoch={steps} does not divide one pass of {one_pass} batches"
        else:
            fix = (
                "Make every epoch the same size: keep one pass over the data the same length "
                "(a fixed `__len__`, a generator that yields as many batches every pass), or "
                "give fit() a steps_per_epoch that divides it."
            )
            why = ""
        if steps is not None:
            told = f"batches (epoch {listing(short)} cut short){why}"
        else:  # no steps_per_epoch: every epoch is one whole pass, and the passes differ
            told = (
                "batches, each epoch one whole pass over data whose length changes from "
                "pass to pass"
            )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"epochs train between {shortest} and {longest} batches ({listing(counts)})",
                evidence={
                    "trained_per_epoch": counts,
                    "short_epochs": short,
                    "steps_per_epoch": steps,
                    "batches_per_pass": one_pass,
                    "ran_out_warning": run.warned(RAN_OUT_OF_DATA),
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"epochs are not the same size: they train {listing(counts)} "
                    + told
                },
                priority=PRIORITY,
            )
        )
    return found
