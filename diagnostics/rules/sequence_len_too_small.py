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

## Automatic fix
fitprobe can make the edit where `__len__` has one `return` and the class keeps its data
and its batch size as attributes: it then returns
`math.ceil(len(self.x) / self.batch_size)`.
"""

from __future__ import annotations

import math

from diagnostics.rules import _fixes
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


def fix(source: str, finding: dict, report: dict) -> str | None:
    """__len__ computed from the data: `math.ceil(len(self.x) / self.batch_size)`."""
    return _fixes.apply(source, lambda code: _len_from_data(code, finding, report))


def _len_from_data(code: _fixes.Code, finding: dict, report: dict):
    cst = _fixes.cst
    run = next(iter(_fixes.runs(report, finding)), None)
    name = run.source.get("type") if run else None
    cls = _fixes.function(code, name, cst.ClassDef) if name else None
    length = _fixes.method(cls, "__len__")
    returns = _fixes.own(length.body, cst.Return) if length is not None else []
    if len(returns) != 1 or returns[0].value is None or not length.params.params:
        return None
    me = length.params.params[0].name.value
    held = _attributes(code, cls)
    array, batch = run.info.get("data_array"), _batch_attribute(held)
    if array not in held or batch is None:
        return None
    new = _fixes.expression(f"math.ceil(len({me}.{array}) / {me}.{batch})")
    module = code.module.deep_replace(returns[0].value, new)
    return _fixes.with_import(module, "math"), (
        f"{name}.__len__ returns {_fixes.source(new)} instead of "
        f"{code.text(returns[0].value)}: every batch of its data, the last one partial"
    )


def _attributes(code: _fixes.Code, cls) -> set[str]:
    """The attributes the class's methods set on the instance (`self.x = x`,
    `self.x, self.y = x, y`)."""
    cst = _fixes.cst
    held = set()
    for node in code.nodes(cst.AssignTarget):
        if not _fixes.within(code, node, cls):
            continue
        target = node.target
        parts = [e.value for e in target.elements] if isinstance(target, cst.Tuple) else [target]
        held |= {
            t.attr.value
            for t in parts
            if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name)
        }
    return held


def _batch_attribute(held: set[str]) -> str | None:
    if "batch_size" in held:
        return "batch_size"
    return next((a for a in sorted(held) if "batch" in a), None)
