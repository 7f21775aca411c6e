"""empty-generator

## What it does
Finds a Python generator handed to fit() that ended without yielding a single
batch: its loop had nothing to iterate over, or a filter inside it matched no
rows.

## Why is this bad?
There is nothing to train on, and neither Keras says so plainly. Keras 3 stops
before training with `ValueError: ... must yield at least one batch. Received
an empty generator.`; Keras 2 lets a bare `StopIteration`, with no message at
all, escape from fit(). The cause is upstream: an empty file list, a wrong
path, a threshold on the wrong scale, a generator object that was already
used up by an earlier loop.

## Example
```python
def batches(x, y):
    keep = np.flatnonzero(x[:, 0] > 100)      # data was standardised: nothing is > 100
    for i in range(0, len(keep), 10):
        yield x[keep[i:i + 10]], y[keep[i:i + 10]]

model.fit(batches(x, y), steps_per_epoch=10)
```

## Use instead
Check what the generator draws from before training, and fail loudly:
```python
keep = np.flatnonzero(x[:, 0] > 1.5)
assert keep.size, "the filter selected no rows"
```
and make the generator endless (`while True:`) so every epoch gets its batches.

## Keras 2 vs Keras 3
Keras 3: `ValueError` ("Received an empty generator"). Keras 2: a bare
`StopIteration` out of fit().
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations

CODE = "empty-generator"
SEVERITY = "error"
TITLE = "the generator yielded no batch at all"
PRIORITY = 10


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        source = run.source
        if run.kind != "generator" or not source.get("exhausted"):
            continue
        if source.get("produced_batches") != 0 or any(run.trained):
            continue
        gen = run.generator_name_facts(obs.facts)
        name = f"{gen['name']}()" if gen else "the generator"
        exc = run.exception or {}
        if not exc:
            raised = "nothing is trained"
        elif exc.get("type") == "StopIteration" and not exc.get("message"):
            raised = "training stops before the first batch with a bare StopIteration"
        else:
            raised = f"training stops before the first batch with {exc['type']}"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{name} ended without yielding a single batch",
                evidence={
                    "batches_produced": 0,
                    "exception": exc.get("type"),
                    "message": (exc.get("message") or "")[:300],
                    "stopped_by": run.stopped_by,
                },
                fix=f"{name} has nothing to yield: check what it loops over (the file list, "
                "the rows its filter selects, a generator object already used up earlier) "
                "and assert it is not empty before calling fit().",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: f"{raised}: {name} yielded nothing"},
                line=gen.get("line"),
                priority=PRIORITY,
            )
        )
    return found
