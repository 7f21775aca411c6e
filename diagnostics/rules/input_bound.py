"""input-bound

## What it does
Measures, over the completed epochs of a fit(), how long each training step
waited for its batch compared with how long the step itself took, and reports
a pipeline where waiting for data is most of the time.

## Why is this bad?
It is not a bug, so this is information: training is correct, but the model
sits idle while Python code loads, decodes or augments the next batch. A
faster GPU, a bigger model or mixed precision will not make it faster; a
faster input pipeline will. It is typical of generators and `Sequence`s that
do real work per batch on one thread.

## Example
```python
def batches(paths, size=32):
    while True:
        for i in range(0, len(paths), size):
            yield load_and_augment(paths[i:i + size])      # one thread, no overlap
```

## Use instead
Overlap loading with training, and parallelise it:
```python
ds = tf.data.Dataset.from_tensor_slices(paths)
ds = ds.map(load_and_augment, num_parallel_calls=tf.data.AUTOTUNE)
ds = ds.batch(32).prefetch(tf.data.AUTOTUNE)
```
or a `keras.utils.PyDataset` with `workers=4` (Keras 3), and cache what does not
change between epochs (`ds.cache()`, decoded arrays saved once).
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, listing

CODE = "input-bound"
SEVERITY = "info"
TITLE = "training mostly waits for data"
PRIORITY = 70


def check(
    obs: Observations, *, min_batches: int = 20, share: float = 0.5, min_wait_ms: float = 10.0
) -> list[Finding]:
    """Thresholds:
    - `min_batches`: only completed epochs of at least this many trained batches count;
    - `share`: report when waiting for data is more than this share of wait + step time;
    - `min_wait_ms`: and the mean wait per batch is at least this long (a tiny model on
      in-memory data waits a few milliseconds per batch, which is pipeline overhead,
      not a slow source).
    The first batch of every epoch is left out: its wait includes building the epoch's
    iterator and, in the first epoch, tracing the training step.
    """
    found = []
    for run in obs.runs:
        epochs = [e for e in run.complete_epochs if e["observed_batches"] >= min_batches]
        if not epochs:
            continue
        numbers = {e["epoch"]: [0.0, 0.0, 0] for e in epochs}
        for b in run.batches:
            tally = numbers.get(b.get("epoch"))
            if tally is None or not b.get("step") or b.get("wait_ms") is None:
                continue
            tally[0] += b["wait_ms"] / 1000
            tally[1] += (b.get("step_ms") or 0) / 1000
            tally[2] += 1
        wait = sum(t[0] for t in numbers.values())
        step = sum(t[1] for t in numbers.values())
        counted = sum(t[2] for t in numbers.values())
        if not counted or wait + step <= 0:
            continue
        waiting = wait / (wait + step)
        mean_wait_ms = 1000 * wait / counted
        if waiting <= share or mean_wait_ms < min_wait_ms:
            continue
        names = listing(e["epoch"] for e in epochs)
        percent = round(100 * waiting)
        mean_step_ms = 1000 * step / counted
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"training waits for data {percent}% of the time "
                f"({mean_wait_ms:.0f} ms per batch, against {mean_step_ms:.0f} ms of compute)",
                evidence={
                    "epochs": [e["epoch"] for e in epochs],
                    "batches_counted": counted,
                    "data_wait_s": round(wait, 3),
                    "step_s": round(step, 3),
                    "waiting_share": round(waiting, 3),
                    "mean_wait_ms": round(mean_wait_ms, 2),
                    "mean_step_ms": round(mean_step_ms, 2),
                },
                fix=f"Over epochs {names}, fit() waited {wait:.2f} s for batches and computed "
                f"for {step:.2f} s. Speed up or overlap the input: a tf.data pipeline with "
                "`.map(..., num_parallel_calls=tf.data.AUTOTUNE)` and `.prefetch(tf.data."
                "AUTOTUNE)`, or a keras.utils.PyDataset with workers; cache work that does not "
                "change between epochs.",
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"training waits for data {percent}% of the time (input-bound)"
                },
                priority=PRIORITY,
            )
        )
    return found
