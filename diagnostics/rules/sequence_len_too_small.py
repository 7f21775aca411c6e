"""sequence-len-too-small

## What it does
Finds a `keras.utils.Sequence` / `PyDataset` whose `__len__` promises fewer
batches than the data it holds, so Keras never asks for the rest: samples that
are in the Sequence's arrays are never trained on, in any epoch.

## Why is this bad?
Keras asks a Sequence for indices `0 .. len() - 1` and nothing else. If `__len__`
returns a constant, or rounds down, every sample past `len() × batch_size` is
silently ignored. Training runs, epochs complete, and part of the data set
simply does not exist for the model.

## Example
```python
class Batches(keras.utils.PyDataset):
    def __len__(self):
        return 5                              # the data holds 10 batches
```

## Use instead
```python
class Batches(keras.utils.PyDataset):
    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)
```

## Keras 2 vs Keras 3
Both stacks ask only for `range(len())`: the same rows are missing on both.
"""

from __future__ import annotations

import math

from diagnostics.rules.base import Finding, Observations, static_finding

CODE = "sequence-len-too-small"
SEVERITY = "error"
TITLE = "the Sequence's __len__ hides part of its data"
PRIORITY = 20


def _spans(ranges) -> str:
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges)


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        info = run.info
        if run.kind != "sequence" or not info.get("never_seen_rows") or not run.pass_length:
            continue
        rows = info["data_rows"]
        batch = next((b.get("rows") for b in run.batches if b.get("rows")), None)
        if not batch or run.pass_length * batch >= rows:
            continue
        needed = math.ceil(rows / batch)
        name = run.source.get("type") or "the Sequence"
        seq = next((s for s in obs.facts.get("sequences", []) if s["name"] == name), None)
        array = info.get("data_array") or "x"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{name}.__len__ returns {run.pass_length} but its data holds "
                f"{needed} batches: rows {_spans(info['never_seen_ranges'])} are never trained on",
                evidence={
                    "len": run.pass_length,
                    "batches_in_data": needed,
                    "batch_size": batch,
                    "data_rows": rows,
                    "never_seen_rows": info["never_seen_rows"],
                    "never_seen_ranges": info["never_seen_ranges"],
                },
                fix=f"In {name}.__len__: `return math.ceil(len(self.{array}) / self.batch_size)` "
                f"(math.ceil({rows} / {batch}) = {needed}).",
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"training never sees rows {_spans(info['never_seen_ranges'])} "
                    f"({info['never_seen_rows']} of {rows} samples), because "
                    f"{name}.__len__ returns {run.pass_length} instead of {needed}"
                },
                line=seq["line"] if seq else None,
                priority=PRIORITY,
            )
        )
    return found


def static(facts: dict, where) -> list[Finding]:
    """A Sequence whose `__len__` returns a constant, whatever the data holds."""
    return [
        static_finding(
            CODE,
            "warning",
            f"{seq['name']}.__len__ returns the constant {seq['len_constant']}, whatever the "
            "data holds",
            "Compute the length from the data: `return math.ceil(len(self.x) / self.batch_size)`.",
            seq["line"],
            {"sequence": seq["name"], "len": seq["len_constant"]},
        )
        for seq in facts.get("sequences", [])
        if seq["len_constant"] is not None
    ]
