"""generator-not-tuple

## What it does
Finds a Python generator that yields its batches as a `list` (`[x, y]`)
instead of a `tuple` (`(x, y)`), which Keras 3 refuses before training starts.

## Why is this bad?
Keras 3 reads the structure of a generator's batches strictly: a tuple is
`(inputs,)`, `(inputs, targets)` or `(inputs, targets, sample_weights)`; a list
is one structure of several inputs. It stops with `ValueError: When passing a
Python generator to a Keras model, the generator must return a tuple ...`
before the first batch is trained. Keras 2 accepted the list, so the script
that used to work breaks on upgrade.

## Example
```python
def batches(x, y):
    while True:
        for i in range(0, len(x), 10):
            yield [x[i:i + 10], y[i:i + 10]]     # a list
```

## Use instead
```python
def batches(x, y):
    while True:
        for i in range(0, len(x), 10):
            yield x[i:i + 10], y[i:i + 10]       # a tuple
```

## Keras 2 vs Keras 3
Keras 2 trains on the list as if it were `(x, y)`; Keras 3 raises `ValueError`
before training.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations

CODE = "generator-not-tuple"
SEVERITY = "error"
TITLE = "the generator yields a list, not a tuple"
PRIORITY = 10

# keras/src/trainers/data_adapters/generator_data_adapter.py
MUST_RETURN_TUPLE = "must return a tuple"


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        exc = run.exception or {}
        kinds = {run.kind, run.validation_source.get("kind")}
        if MUST_RETURN_TUPLE not in (exc.get("message") or "") or "generator" not in kinds:
            continue
        role = "training" if run.kind == "generator" else "validation"
        gen = run.generator_name_facts(obs.facts)
        name = gen.get("name")
        target = f"{name}()" if name else f"the {role} generator"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{target} yields a list [x, y]; Keras 3 requires a tuple (x, y)",
                evidence={
                    "exception": exc.get("type"),
                    "message": (exc.get("message") or "").split(" Received:")[0][:300],
                    "role": role,
                    "trained_per_epoch": run.trained,
                },
                fix=f"In {target}, yield a tuple: `yield x_batch, y_batch` (or "
                "`yield tuple(batch)`), not `yield [x_batch, y_batch]`.",
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"training stops before the first batch with ValueError: "
                    f"{target} yields a list [x, y] and Keras 3 requires a tuple (x, y)"
                },
                line=gen.get("line"),
                priority=PRIORITY,
            )
        )
    return found
