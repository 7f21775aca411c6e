"""samples-never-seen

## What it does
Finds rows of the array a data source draws from that were never trained on,
although training went through at least one full pass of the source: the
source itself never yields them. Typical causes: an off-by-one `range()` in a
generator, a loop that stops at `len(x) // batch_size` batches and drops the
remainder in the same place every pass, or a generator over a slice of the
array. A Sequence that holds its samples by name (file names, a table, an index
array) and whose `__len__` asks for fewer batches than they fill, typically
`len(self.files) // self.batch_size`, is found by comparing what each epoch
trained with how many samples it holds: row fingerprints cannot match rows read
from files, and shuffling changes which ones are left out. (A Sequence that hides
rows of an array is `sequence-len-too-small`; a
`steps_per_epoch` that stops before the end of the pass is
`steps-per-epoch-too-small`.)

## Why is this bad?
Training runs, epochs complete and the loss goes down, so nothing looks
wrong; but part of the data set does not exist for the model. When the missing
rows are always the same ones (the end of the array, often the most recent
data or the last class in a sorted file) the model is biased in a way no
metric on the training data will show.

## Example
```python
def batches(x, y, size=10):
    while True:
        for i in range(0, len(x) - size, size):     # stops one batch early
            yield x[i:i + size], y[i:i + size]
```

## Use instead
```python
def batches(x, y, size=10):
    while True:
        for i in range(0, len(x), size):            # the last, maybe short, batch too
            yield x[i:i + size], y[i:i + size]
```

## Keras 2 vs Keras 3
Both stacks train on whatever the source yields: the same rows are missing on
both.
"""

from __future__ import annotations

from diagnostics.rules._shared import batch_rows, steps_asked
from diagnostics.rules.base import Finding, Observations, plural

CODE = "samples-never-seen"
SEVERITY = "warning"
TITLE = "part of the data is never trained on"
PRIORITY = 50

OWN_RULES = ("sequence",)  # a Sequence's unseen rows are sequence-len-too-small's


def _spans(ranges) -> str:
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges)


def _whole_pass_trained(run) -> bool:
    """At least one full pass of the source was trained, so what is missing is missing from it."""
    one_pass = run.pass_length
    if not one_pass:
        return False  # no known pass (random sampling): coverage says nothing yet
    steps = steps_asked(run)
    if steps is not None and steps < one_pass:
        return False  # steps_per_epoch stops inside the pass: steps-per-epoch-too-small's
    return sum(run.trained) >= one_pass or bool(run.info.get("source_exhausted"))


def _held_not_requested(run) -> Finding | None:
    """A Sequence that holds its samples by name (file names, a table, an index array):
    each epoch trains fewer of them than it holds, because `__len__` asks for too few
    batches (typically `len(self.files) // self.batch_size`, which drops the tail)."""
    held = run.source.get("held_samples") or {}
    count, one_pass, batch = held.get("count"), run.pass_length, batch_rows(run)
    if not count or not one_pass or not batch or run.exception or run.info.get("data_rows"):
        return None
    steps = steps_asked(run)
    if steps is not None and steps < one_pass:
        return None  # steps_per_epoch stops inside the pass: steps-per-epoch-too-small's
    full = [e for e in run.complete_epochs if e["observed_batches"] >= one_pass]
    trained = max((e.get("rows_trained") or 0 for e in full), default=0)
    if not trained or trained >= count:
        return None
    missing = count - trained
    name = run.source.get("type") or "the Sequence"
    noun = {"file names": "files", "table rows": "rows"}.get(held.get("kind"), "samples")
    what = f"the {count} {noun} `{name}.{held['attribute']}` holds"
    floors = one_pass * batch < count <= (one_pass + 1) * batch
    why = (
        f"{name}.__len__ rounds down ({count} / {batch} = {one_pass} batches)"
        if floors
        else f"{name}.__len__ asks for only {plural(one_pass, 'batch')} of {batch}"
    )
    return Finding(
        code=CODE,
        severity=SEVERITY,
        title=f"each epoch trains {trained} of {what}: {missing} are never requested",
        evidence={
            "held_samples": held,
            "batches_per_pass": one_pass,
            "batch_rows": batch,
            "rows_trained_per_epoch": [e.get("rows_trained") for e in run.complete_epochs],
            "never_requested_per_epoch": missing,
        },
        fix=f"Count every sample in {name}.__len__: `return math.ceil(len(self."
        f"{held['attribute']}) / self.batch_size)`, and let __getitem__ return the last, "
        "shorter batch.",
        stack=[run.stack],
        call=run.call,
        summary={
            run.stack: f"each epoch trains {trained} of {what}: {why}, so "
            f"{plural(missing, 'sample')} per epoch are never requested"
            + (" (which ones depends on the order it serves them in)" if floors else "")
        },
        priority=PRIORITY,
    )


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if run.kind == "sequence":
            held = _held_not_requested(run)
            if held is not None:
                found.append(held)
                continue
        info = run.info
        missing, rows = info.get("never_seen_rows"), info.get("data_rows")
        if not missing or not rows or run.kind in OWN_RULES or run.exception:
            continue
        if not _whole_pass_trained(run):
            continue
        seen = info.get("samples_seen_total")
        if seen is not None and seen > rows - missing:
            continue  # trained rows that are not in the array (augmented): coverage unreliable
        spans = _spans(info.get("never_seen_ranges") or [])
        array = info.get("data_array") or "x"
        source = {"generator": "generator", "arrays": "arrays", "tf-dataset": "dataset"}.get(
            run.kind, "data source"
        )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"rows {spans} of `{array}` ({missing} of {rows}) are never trained on",
                evidence={
                    "data_array": array,
                    "data_rows": rows,
                    "never_seen_rows": missing,
                    "never_seen_ranges": info.get("never_seen_ranges"),
                    "batches_per_pass": run.pass_length,
                    "trained_per_epoch": run.trained,
                },
                fix=f"Make the {source} yield every row of `{array}` once per pass: loop over "
                f"`range(0, len({array}), batch_size)` (the last batch may be shorter) rather "
                "than stopping early; rows "
                f"{spans} are the ones it skips.",
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"training never sees rows {spans} of `{array}` "
                    f"({plural(missing, 'sample')} of {rows}): your {source} never yields them"
                },
                priority=PRIORITY,
            )
        )
    return found
