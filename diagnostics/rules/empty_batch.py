"""empty-batch

## What it does
Finds batches with 0 rows that Keras pulled from the data source and trained
on (or crashed on). The usual cause is index arithmetic that runs past the end
of the data: `range(0, len(x) + size, size)`, `len(x) // size + 1` steps, a
slice `x[i * size:(i + 1) * size]` for one `i` too many.

## Why is this bad?
A slice past the end of an array is not an error in NumPy: it is an empty
array, and Keras gets an empty batch. Depending on the targets, the step
either crashes (`InvalidArgumentError`, "Incompatible shapes: [10,1] vs.
[0,1]") or silently does a step on no data: `steps_per_epoch` counts it, the
loss average is skewed, and the epoch covers fewer samples than it claims.

## Example
```python
steps = len(x) // 10 + 1                 # 100 rows: 11 steps, the last one empty

def batches(x, y):
    while True:
        for i in range(steps):
            yield x[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]
```

## Use instead
```python
steps = math.ceil(len(x) / 10)           # 10 steps; a partial last batch if needed
```

## Keras 2 vs Keras 3
Both behave the same: an empty batch is trained as a step when x and y are
both empty, and crashes the step when only one of them is.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from diagnostics.rules.base import Finding, Observations, listing, plural

CODE = "empty-batch"
SEVERITY = "error"
TITLE = "a batch with no rows was trained"
PRIORITY = 15

_FIRST_DIM = re.compile(r"\[(\d+)")


def _empty_signatures(run) -> set[int]:
    """Signatures whose first array (x) has 0 rows: "float32[0, 10] | float32[0, 1]"."""
    empty = set()
    for i, sig in enumerate(run.data.get("signatures") or []):
        match = _FIRST_DIM.search(str(sig).split(" | ")[0])
        if match and int(match.group(1)) == 0:
            empty.add(i)
    return empty


def _empty_steps(run, empty_sigs: set[int]) -> list[dict]:
    steps = []
    for b in run.batches:
        empty = b.get("rows") == 0 or (b.get("sig") in empty_sigs and b.get("sig") is not None)
        # A batch the tap could not fingerprint (0-row arrays) arrives with nothing pulled.
        blind = bool(empty_sigs) and b.get("pulled") == 0 and b.get("rows") is None
        if empty or blind:
            steps.append({"epoch": b.get("epoch"), "step": b.get("step")})
    for b in run.data.get("unfinished_batches") or []:
        if b.get("rows") == 0 or (b.get("sig") in empty_sigs and b.get("sig") is not None):
            steps.append({"epoch": None, "step": None, "unfinished": True})
    return steps


def _left_to_sequence_rule(run) -> bool:
    """Empty batches past the end of a Sequence's data: sequence-len-too-large reports them."""
    if run.kind != "sequence" or not run.pass_length:
        return False
    rows = run.info.get("data_rows")
    sizes = Counter(b["rows"] for b in run.batches if b.get("rows"))
    batch = sizes.most_common(1)[0][0] if sizes else run.fit.get("batch_size")
    if not rows or not isinstance(batch, int) or batch <= 0:
        return True
    return math.ceil(rows / batch) < run.pass_length


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        empty_sigs = _empty_signatures(run)
        steps = _empty_steps(run, empty_sigs)
        if not steps and not empty_sigs:
            continue
        if _left_to_sequence_rule(run):
            continue
        trained = [s for s in steps if not s.get("unfinished")]
        by_epoch: dict = {}
        for s in trained:
            by_epoch.setdefault(s["epoch"], []).append(s["step"])
        if trained:
            first = trained[0]
            where = f"step {first['step']} of epoch {first['epoch']}"
        elif run.epochs:
            last = run.epochs[-1]
            where = f"step {last['observed_batches']} of epoch {last['epoch']}"
        else:
            where = "the first step"
        exc = run.exception
        if exc and (not trained or steps[-1].get("unfinished")):
            summary = f"training crashed at {where} ({exc.get('type')}) on a batch with 0 rows"
        else:
            epochs = {e["epoch"]: e["observed_batches"] for e in run.complete_epochs}
            every = (
                len(by_epoch) > 1
                and set(by_epoch) == set(epochs)
                and len({tuple(v) for v in by_epoch.values()}) == 1
            )
            emptied = [k for k, v in by_epoch.items() if k in epochs and len(v) == epochs[k]]
            first_empty = min(emptied) if emptied else None
            all_after = first_empty is not None and all(
                k in emptied for k in epochs if k >= first_empty
            )
            real = sum(b.get("rows") or 0 for b in run.batches)
            if every:
                at = next(iter(by_epoch.values()))
                summary = (
                    f"{'step' if len(at) == 1 else 'steps'} {listing(at)} of every epoch "
                    f"{'trains' if len(at) == 1 else 'train'} on a batch with 0 rows, most "
                    "likely sliced past the end of the data"
                )
            elif all_after and first_empty > min(epochs) and real:
                before = "epoch 0" if first_empty == 1 else f"epochs 0-{first_empty - 1}"
                summary = (
                    f"the source runs past the end of its data: {before} trained {real} real "
                    f"rows, then from epoch {first_empty} on every batch has 0 rows"
                )
            else:
                summary = (
                    f"{plural(len(trained), 'step')} trained on a batch with 0 rows (first: "
                    f"{where}), most likely sliced past the end of the data"
                )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{where} got a batch with 0 rows",
                evidence={
                    "empty_steps_per_epoch": {str(k): v for k, v in by_epoch.items()},
                    "crashed_on_empty_batch": bool(exc) and any(s.get("unfinished") for s in steps),
                    "signatures": run.data.get("signatures"),
                    "exception": (exc or {}).get("type"),
                    "trained_per_epoch": run.trained,
                },
                fix="Stop the batch loop at the end of the data: step with "
                "`range(0, len(x), batch_size)` and count `math.ceil(len(x) / batch_size)` "
                "batches (not `len(x) // batch_size + 1`), so no slice starts past the last row.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found
