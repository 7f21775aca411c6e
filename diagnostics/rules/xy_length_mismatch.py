"""xy-length-mismatch

## What it does
Finds a batch whose inputs and targets have a different number of rows, for
example 5 rows of `x` with 10 labels. The usual cause is a generator or
`Sequence` that builds the labels for a fixed batch size (`np.zeros(10)`,
`np.ones(batch_size)`) next to a slice of `x` that is shorter at the end of the
data.

## Why is this bad?
Keras cannot pair 5 inputs with 10 targets: the step that gets this batch
crashes with `InvalidArgumentError` ("Incompatible shapes: [5,1] vs. [10,1]"
or similar), deep inside the loss, often after many good batches, so it looks
like a model bug. Every batch before it was fine, which is why it shows up only
at the end of the data.

## Example
```python
def batches(x, size=10):                      # len(x) == 105
    while True:
        for i in range(0, len(x), size):
            yield x[i:i + size], np.zeros(size)   # the last x slice has 5 rows
```

## Use instead
Build the labels from the slice you actually yield:
```python
def batches(x, size=10):
    while True:
        for i in range(0, len(x), size):
            xb = x[i:i + size]
            yield xb, np.zeros(len(xb))
```
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, plural, static_finding

CODE = "xy-length-mismatch"
SEVERITY = "error"
TITLE = "a batch has a different number of inputs and targets"
PRIORITY = 15


def _mismatched(run) -> list[dict]:
    """Batches (trained, then pulled-but-unfinished) whose x and y row counts differ."""
    bad = []
    for b in run.batches:
        if b.get("rows") and b.get("y_rows") is not None and b["rows"] != b["y_rows"]:
            bad.append({"epoch": b.get("epoch"), "step": b.get("step"), **_rows(b)})
    for b in run.data.get("unfinished_batches") or []:
        if b.get("rows") and b.get("y_rows") is not None and b["rows"] != b["y_rows"]:
            bad.append({"epoch": None, "step": None, "unfinished": True, **_rows(b)})
    return bad


def _rows(b: dict) -> dict:
    return {"rows": b["rows"], "y_rows": b["y_rows"]}


def _where(run, first: dict) -> str:
    if first.get("unfinished"):
        epoch = run.epochs[-1] if run.epochs else None
        if epoch is None:
            return "the first batch"
        return f"batch {epoch['observed_batches']} of epoch {epoch['epoch']}"
    return f"batch {first['step']} of epoch {first['epoch']}"


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        bad = _mismatched(run)
        if not bad:
            continue
        first = bad[0]
        where = _where(run, first)
        pair = f"{plural(first['rows'], 'row')} of x but {plural(first['y_rows'], 'target')}"
        if run.exception:
            summary = f"training crashed at {where} ({run.exception.get('type')}): it holds {pair}"
        else:
            summary = f"{where} holds {pair} ({plural(len(bad), 'such batch')} in all)"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{where} has {pair}",
                evidence={
                    "first": {**first, "where": where},
                    "mismatched_batches": bad[:20],
                    "count": len(bad),
                    "exception": (run.exception or {}).get("type"),
                    "trained_per_epoch": run.trained,
                },
                fix=f"{where.capitalize()} holds {pair}: build the targets from the slice "
                "you yield (`np.zeros(len(x_batch))`, `y[start:start + len(x_batch)]`), not "
                "from a fixed batch size, so the shorter last batch stays paired.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found


def static(facts: dict, where) -> list[Finding]:
    """A generator yielding a slice of the data beside labels of a fixed size."""
    return [
        static_finding(
            CODE,
            "warning",
            f"generator {gen['name']}() pairs a slice of the data with labels of a fixed "
            "size: the last slice can be shorter",
            "Size the labels from the slice: `xb = x[i:i + n]; yield xb, np.zeros(len(xb))`, "
            "or drop the short remainder.",
            line,
            {"generator": gen["name"]},
        )
        for gen in facts.get("generators", [])
        for line in gen["fixed_size_labels"]
    ]
