"""inconsistent-batch-shape

## What it does
Compares the batches of one fit() call and finds those whose arrays differ
from the others in anything but the batch dimension: a different number of
features, a different image size, a different dtype, a different number of
arrays. (A shorter last batch is normal and is not reported.)

## Why is this bad?
A model built for 6 features cannot take 5. When the odd batch comes from a
second file, a different preprocessing branch, or a column dropped in one
export, training crashes on that batch, often far into an epoch: Keras 3 stops
in the input pipeline ("Generator yielded an element of shape (10, 5) where an
element of shape (None, 6) was expected": it fixes the shapes from the first 2
batches it peeks at), Keras 2 in the first layer (`InvalidArgumentError`).
A dtype that changes between batches (integers in some, floats in others)
means two code paths build the batches, one of them probably wrongly.

If the model really takes variable-length inputs (`keras.Input(shape=(None,))`,
padding per batch), varying sizes are intended: then training runs and this
is only reported as information.

## Example
```python
def batches():
    while True:
        for part in (first_export, second_export):     # 6 columns, then 5
            for i in range(0, len(part), 10):
                yield part[i:i + 10], target_of(part)[i:i + 10]
```

## Use instead
Make every batch the same shape at the source: align the columns of both
exports (select the same named columns, fill the missing one), and check
`x_batch.shape[1:]` against the model's input shape while building them.

## Keras 2 vs Keras 3
Keras 3 rejects the odd batch inside `tf.data` (`TypeError` wrapped in
`InvalidArgumentError`); Keras 2 passes it to the model, which fails at the
first layer. Both crash on the same batch.
"""

from __future__ import annotations

import re
from collections import Counter

from diagnostics.rules.base import Finding, Observations

CODE = "inconsistent-batch-shape"
SEVERITY = "warning"
TITLE = "batches differ in shape or dtype"
PRIORITY = 20

_ARRAY = re.compile(r"(\w+)\[([^\]]*)\]")
# tensorflow/python/data/ops/from_generator_op.py, raised for Keras 3's generator datasets
_K3_REJECTED = re.compile(
    r"yielded an element of (shape|type) (.+?) where an element of (?:shape|type) (.+?) was "
    r"expected"
)


def parse_signature(sig: str) -> list[tuple[str, tuple]]:
    """ "float32[10, 6] | float32[10]" -> [("float32", (10, 6)), ("float32", (10,))]."""
    arrays = []
    for dtype, dims in _ARRAY.findall(str(sig)):
        shape = tuple(int(d) if d.strip().isdigit() else None for d in dims.split(",") if d.strip())
        arrays.append((dtype, shape))
    return arrays


def _names(n: int) -> list[str]:
    return ["x", "y"] if n == 2 else ["x"] + [f"array {i + 1}" for i in range(1, n)]


def _shape(shape: tuple) -> str:
    return "[" + ", ".join(["batch", *(str(d) for d in shape[1:])]) + "]" if shape else "[]"


def _differences(reference, other) -> tuple[list[str], list[str]]:
    """(shape differences, dtype differences) of `other` against `reference`, in words."""
    if len(reference) != len(other):
        return [f"{len(other)} arrays instead of {len(reference)}"], []
    shapes, dtypes = [], []
    for name, (dt_a, sh_a), (dt_b, sh_b) in zip(
        _names(len(reference)), reference, other, strict=True
    ):
        if sh_a[1:] != sh_b[1:]:
            shapes.append(f"{name} is {_shape(sh_b)} instead of {_shape(sh_a)}")
        if dt_a != dt_b:
            dtypes.append(f"{name} is {dt_b} instead of {dt_a}")
    return shapes, dtypes


def _reference(run, parsed: list) -> int:
    uses = Counter(b.get("sig") for b in run.batches if b.get("sig") is not None)
    return uses.most_common(1)[0][0] if uses else 0


def _crash_batch(run) -> str:
    if not run.epochs:
        return "the first batch"
    last = run.epochs[-1]
    return f"batch {last['observed_batches']} of epoch {last['epoch']}"


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        signatures = run.data.get("signatures") or []
        parsed = [parse_signature(s) for s in signatures]
        exc = run.exception or {}
        rejected = _K3_REJECTED.search(exc.get("message") or "")
        shape_odd, dtype_odd, words = set(), set(), []
        if parsed:
            ref = _reference(run, parsed)
            for i, arrays in enumerate(parsed):
                if i == ref:
                    continue
                shapes, dtypes = _differences(parsed[ref], arrays)
                if shapes:
                    shape_odd.add(i)
                if dtypes:
                    dtype_odd.add(i)
                words += shapes + dtypes
        if rejected:
            what = "shape" if rejected.group(1) == "shape" else "dtype"
            words.insert(
                0, f"a batch with {what} {rejected.group(2)} where {rejected.group(3)} was expected"
            )
        if not words:
            continue
        unfinished = {b.get("sig") for b in run.data.get("unfinished_batches") or []}
        crashed_on_it = bool(exc) and (bool(rejected) or bool(unfinished & shape_odd))
        if crashed_on_it:
            severity = "error"
            where = _crash_batch(run)
            summary = f"training crashed at {where} ({exc.get('type')}): {words[0]}"
            title = f"{where} does not match the others: {words[0]}"
        elif dtype_odd:
            severity = SEVERITY
            summary = f"the batches do not all have the same dtype: {words[0]}"
            title = f"batches differ in dtype: {words[0]}"
        else:
            severity = "info"
            summary = (
                f"batch shapes vary ({words[0]}); fine if the model takes variable-size inputs"
            )
            title = f"batch shapes vary beyond the batch size: {words[0]}"
        found.append(
            Finding(
                code=CODE,
                severity=severity,
                title=title,
                evidence={
                    "signatures": signatures,
                    "differences": words[:10],
                    "crashed_on_odd_batch": crashed_on_it,
                    "exception": exc.get("type"),
                    "trained_per_epoch": run.trained,
                },
                fix="Make every batch the same shape and dtype where it is built: the same "
                "columns in the same order, the same image size, one dtype "
                '(`x_batch.astype("float32")`); if the sizes vary on purpose, declare the '
                "varying axis as None in keras.Input(shape=...).",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found
