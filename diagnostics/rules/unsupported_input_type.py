"""unsupported-input-type

## What it does
Finds a fit() call that Keras rejected because of the *kind* of object given as
data, before looking at a single batch: nested Python lists (Keras 3), a set, a
file name, a dict of lists, a list of dicts, the generator *function* instead
of the generator it returns.

## Why is this bad?
Training never starts. Keras 3 says `ValueError: Unrecognized data type: x=...`,
Keras 2 `ValueError: Failed to find data adapter that can handle input: ...`;
both messages print the whole object, which hides the one word that matters:
its type. Keras takes NumPy arrays (and objects convertible to them: pandas,
tensors), `tf.data.Dataset`, `keras.utils.PyDataset`/`Sequence`, Python
generators, and dicts or tuples of arrays.

## Example
```python
rows = [[float(v) for v in line] for line in csv.reader(open("train.csv"))]
model.fit(rows, labels, epochs=5)           # Keras 3: Unrecognized data type

model.fit(batches, steps_per_epoch=10)      # the function, not batches()
```

## Use instead
```python
x = np.asarray(rows, dtype="float32")
model.fit(x, np.asarray(labels, dtype="float32"), epochs=5)

model.fit(batches(), steps_per_epoch=10)
```

## Keras 2 vs Keras 3
Keras 2 converts nested Python lists of numbers to a tensor and trains; Keras 3
rejects them. Sets, strings, functions, lists of dicts: both reject. Plain
iterators (`zip`, `iter(...)`) are reported as `single-pass-iterator`.
"""

from __future__ import annotations

import re

from diagnostics.rules._shared import ENDLESS_ITERATORS, is_single_pass
from diagnostics.rules.base import Finding, Observations

CODE = "unsupported-input-type"
SEVERITY = "error"
TITLE = "fit() does not accept this type of data"
PRIORITY = 10

# keras/src/trainers/data_adapters/__init__.py, tf_keras/src/engine/data_adapter.py
REJECTED = ("Unrecognized data type", "Failed to find data adapter")
TYPE_IN_MESSAGE = re.compile(r"<class '([\w.]+)'>")

FIXES = {
    "function": "you passed the generator function itself: call it, `fit({name}(), ...)`",
    "method": "you passed a method, not the data it returns: call it",
    "list": 'convert it to an array first, `np.asarray(data, dtype="float32")` (one array '
    "per input); Keras 3 no longer converts nested Python lists",
    "tuple": 'convert it to an array first, `np.asarray(data, dtype="float32")`',
    "set": "a set has neither order nor rows: build a list in a fixed order and convert it, "
    '`np.asarray(sorted(data), dtype="float32")`',
    "frozenset": "a set has neither order nor rows: convert a sorted list of it to an array",
    "dict": "give each input as an array: `{{name: np.asarray(values)}}`",
    "str": "fit() takes data, not a file name: load the file first (np.load, "
    "pd.read_csv(...).to_numpy(), tf.data)",
    "PosixPath": "fit() takes data, not a path: load the file first",
}


def _offender(run) -> tuple[str, str | None]:
    """(role, type name) of the data Keras refused."""
    for role, source in (("training", run.source), ("validation", run.validation_source)):
        if source.get("kind") == "other":
            return role, source.get("type")
    found = TYPE_IN_MESSAGE.search((run.exception or {}).get("message") or "")
    return "training", found.group(1).rsplit(".", 1)[-1] if found else None


def _function_name(run) -> str:
    code = (run.data.get("call_site") or {}).get("code") or ""
    match = re.search(r"\.fit\(\s*(\w+)\s*[,)]", code)
    return match.group(1) if match else "make_batches"


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        exc = run.exception or {}
        message = exc.get("message") or ""
        if exc.get("type") != "ValueError" or not any(text in message for text in REJECTED):
            continue
        role, kind = _offender(run)
        if is_single_pass(kind):
            continue  # reported by single-pass-iterator
        shown = f"a `{kind}`" if kind else "an object of a type Keras does not know"
        if kind in FIXES:
            advice = FIXES[kind].format(name=_function_name(run))
        elif kind in ENDLESS_ITERATORS:
            advice = (
                "Keras 3 takes no plain iterator: wrap it in a generator function, "
                "`def batches(): yield from it`, and pass `batches()` with steps_per_epoch"
            )
        else:
            advice = (
                "pass NumPy arrays, a tf.data.Dataset, a keras.utils.PyDataset or a "
                "generator of (x, y) tuples"
            )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"fit() does not accept {shown} as {role} data: it raises ValueError "
                "before training",
                evidence={
                    "role": role,
                    "type": kind,
                    "exception": exc.get("type"),
                    "message": message[:200],
                },
                fix=f"The {role} data is {shown}: {advice}.",
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"fit() rejects the {role} data before training (ValueError): "
                    f"it is {shown}, a type {run.label} does not accept"
                },
                line=exc.get("line") or (run.data.get("call_site") or {}).get("line"),
                priority=PRIORITY,
            )
        )
    return found
