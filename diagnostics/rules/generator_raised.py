"""generator-raised

## What it does
Finds a training run that crashed because the data source itself (a generator
or a Sequence's `__getitem__`) raised an exception, and points at your line,
also when TensorFlow wrapped the error in an `InvalidArgumentError` or
`UnknownError` from a `PyFunc`.

## Why is this bad?
The traceback Keras prints ends deep inside TensorFlow, with your exception
quoted somewhere in the middle of a long message; the error type at the bottom
is TensorFlow's, not yours. The crash is real, but its cause is easy to misread
as a model or shape problem.

## Example
```python
def batches(paths):
    while True:
        for p in paths:
            yield decode(p)            # raises on one corrupt file, mid-epoch
```

## Use instead
Fix or filter the failing input, at the line shown; validate inputs before
training, or skip known-bad samples explicitly (and count them):
```python
def batches(paths):
    while True:
        for p in paths:
            try:
                x, y = decode(p)
            except CorruptFile:
                skipped.append(p)
                continue
            yield x, y
```
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, missing_from_environment

CODE = "generator-raised"
SEVERITY = "error"
TITLE = "the data source raised an exception during training"
PRIORITY = 10


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        root = run.root_cause
        if not root or run.kind not in ("generator", "sequence"):
            continue
        if missing_from_environment(root):
            continue  # missing-module / missing-data: the probe lacked it, not your code
        epoch = run.epochs[-1]["epoch"] if run.epochs else 0
        where = obs.where(root["line"]) if root.get("line") else "your data source"
        code = f" (`{root['code']}`)" if root.get("code") else ""
        wrapped = run.exception["type"]
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"your data source raised {root['type']} at {where}{code}",
                evidence={
                    "exception": root,
                    "surfaced_as": wrapped,
                    "epoch": epoch,
                    "trained_before_crash": run.trained,
                },
                fix=f"Fix or filter the input that makes {where} fail: {root['message'][:200]}. "
                f"TensorFlow reports it as {wrapped} because it runs your generator inside "
                "its input pipeline.",
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"training crashed in epoch {epoch}: your data source raised "
                    f"{root['type']} at {where}{code}"
                },
                line=root.get("line"),
                priority=PRIORITY,
            )
        )
    return found
