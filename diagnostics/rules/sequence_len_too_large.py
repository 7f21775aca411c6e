"""sequence-len-too-large

## What it does
Finds a `keras.utils.Sequence` / `PyDataset` whose `__len__` promises more
batches than its data holds: the indices past the end of the data return empty
batches (0 rows), and fit() trains on them or crashes on them.

## Why is this bad?
Keras asks a Sequence for every index in `range(len())`. When `__len__`
over-counts (`len(self.x) // self.batch_size + 1` on 100 rows, a row count
taken from stale metadata, a length computed for the wrong array), the last
indices slice past the end of the arrays and return batches of 0 samples:
- if the features and the targets are both sliced, the step on an empty batch
  silently does nothing useful, and every epoch counts steps that trained on
  no data;
- if the targets are built separately (`np.zeros(self.batch_size)`), features
  and targets disagree and training crashes in the first epoch with
  `InvalidArgumentError: Incompatible shapes: [10,1] vs. [0,1]`, a message
  that points at the model, not at `__len__`.

## Example
```python
class Batches(keras.utils.PyDataset):
    def __len__(self):
        return len(self.x) // self.batch_size + 1     # 11 for 100 rows: index 10 is empty
```

## Use instead
```python
class Batches(keras.utils.PyDataset):
    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)   # 10 for 100 rows, 11 for 105
```

## Keras 2 vs Keras 3
Both stacks ask for the same indices (in shuffled order unless `shuffle=False`)
and fail, or train on empty batches, the same way.
"""

from __future__ import annotations

import math
import re

from diagnostics.rules._shared import batch_rows
from diagnostics.rules.base import Finding, Observations, plural

CODE = "sequence-len-too-large"
SEVERITY = "error"
TITLE = "the Sequence's __len__ promises more batches than its data holds"
PRIORITY = 20

_FIRST_DIM = re.compile(r"\[(\d+)")


def _empty_signatures(run) -> list[int]:
    """Indices of batch signatures whose features have 0 rows ("float32[0, 10] | ...")."""
    empty = []
    for i, sig in enumerate(run.data.get("signatures") or []):
        match = _FIRST_DIM.search(str(sig).split(" | ")[0])
        if match and int(match.group(1)) == 0:
            empty.append(i)
    return empty


def empty_steps(run) -> int:
    """Trained or crashing steps that got an empty batch."""
    empty_sigs = set(_empty_signatures(run))
    count = 0
    for b in list(run.batches) + list(run.data.get("unfinished_batches") or []):
        if b.get("rows") == 0 or (b.get("sig") is not None and b.get("sig") in empty_sigs):
            count += 1
        elif empty_sigs and b.get("pulled") == 0 and b.get("rows") is None:
            count += 1  # an empty batch the tap could not fingerprint
    return count


def _sequence_fact(obs: Observations, run) -> dict | None:
    sequences = obs.facts.get("sequences", [])
    named = [s for s in sequences if s.get("name") == run.source.get("type")]
    if named:
        return named[0]
    return sequences[0] if len(sequences) == 1 else None


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if run.kind != "sequence" or not run.pass_length:
            continue
        empties = empty_steps(run)
        if not empties and not _empty_signatures(run):
            continue
        length = run.pass_length
        rows, batch = run.info.get("data_rows"), batch_rows(run)
        holds = math.ceil(rows / batch) if rows and batch else None
        if holds is not None and holds >= length:
            continue  # empty batches, but not past the data's end: not a __len__ problem
        fact = _sequence_fact(obs, run)
        name = fact["name"] if fact else run.source.get("type") or "the Sequence"
        array = run.info.get("data_array") or "x"
        size = "batch_size"
        data = f"its data holds {plural(holds, 'batch')}" if holds else "its data ends earlier"
        past = (
            f"indices {holds}-{length - 1} return empty batches"
            if holds is not None and holds < length - 1
            else (f"index {holds} returns an empty batch" if holds is not None else "")
        )
        past = past or "the last indices return empty batches"
        exc = run.exception
        if exc:
            summary = (
                f"training crashed in epoch {run.epochs[-1]['epoch'] if run.epochs else 0} "
                f"({exc.get('type')}) on an empty batch: {name}.__len__ returns {length} but "
                f"{data}, so {past}"
            )
        else:
            them = "it" if holds is not None and holds == length - 1 else "them"
            summary = (
                f"{name}.__len__ returns {length} but {data}: {past}, and every epoch trains "
                f"a step on {them} ({plural(empties, 'empty step')} in all)"
            )
        was = f"replace `return {fact['len_code']}` with " if fact and fact.get("len_code") else ""
        arithmetic = f" (math.ceil({rows} / {batch}) = {holds})" if holds else ""
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{name}.__len__ returns {length} but {data}: {past}",
                evidence={
                    "len": length,
                    "batches_in_data": holds,
                    "data_rows": rows,
                    "batch_size": batch,
                    "empty_batches_seen": empties,
                    "len_code": fact.get("len_code") if fact else None,
                    "signatures": run.data.get("signatures"),
                    "exception": (exc or {}).get("type"),
                },
                fix=f"In {name}.__len__, {was}`return math.ceil(len(self.{array}) / "
                f"self.{size})`{arithmetic}, so the last index still holds data.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                line=fact.get("line") if fact else None,
                priority=PRIORITY,
            )
        )
    return found
