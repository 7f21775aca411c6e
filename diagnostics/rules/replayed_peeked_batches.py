"""replayed-peeked-batches

## What it does
Finds epochs in which Keras 3 trained on batches it had already trained on,
without your data source producing them again: the batches Keras peeked at
start-up, chained in front of a generator that has since run dry.

## Why is this bad?
To learn the shapes of a Python generator's batches, Keras 3 reads its first
2 batches before training and keeps them (`NUM_BATCHES_FOR_TENSOR_SPEC` in
`keras/src/trainers/data_adapters/generator_data_adapter.py`). Every time it
restarts the generator it serves those 2 batches first. Once the generator is
exhausted, each new epoch trains on just those cached batches: the loss looks
fine, the epoch counter advances, and the model overfits two batches.

## Example
```python
def one_pass(x, y):
    for i in range(0, len(x), 10):
        yield x[i:i + 10], y[i:i + 10]

model.fit(one_pass(x, y), epochs=5)     # epochs: 10, 2, 2, 2, 2 batches
```

## Use instead
```python
def forever(x, y):
    while True:
        for i in range(0, len(x), 10):
            yield x[i:i + 10], y[i:i + 10]

model.fit(forever(x, y), steps_per_epoch=math.ceil(len(x) / 10), epochs=5)
```

## Keras 2 vs Keras 3
Only Keras 3 replays: Keras 2 peeks one batch, serves it once, and stops
training when the generator runs dry.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, listing, plural

CODE = "replayed-peeked-batches"
SEVERITY = "error"
TITLE = "Keras replayed cached batches instead of new data"
PRIORITY = 40


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        replayed = [e.get("replayed_batches") or 0 for e in run.epochs]
        if not any(replayed):
            continue
        first = next(e["epoch"] for e, n in zip(run.epochs, replayed, strict=True) if n)
        per_epoch = max(replayed)
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"from epoch {first} on, {run.label} trains the same "
                f"{plural(per_epoch, 'cached batch')} again and again",
                evidence={
                    "replayed_per_epoch": replayed,
                    "trained_per_epoch": run.trained,
                    "new_samples_per_epoch": [e.get("new_samples") for e in run.epochs],
                },
                fix="Give fit() a source that yields fresh data every epoch: a generator with a "
                "`while True:` loop (plus steps_per_epoch), a keras.utils.PyDataset, or a "
                "tf.data.Dataset.",
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"it keeps training from epoch {first} on, but only on the "
                    f"{plural(per_epoch, 'batch')} Keras peeked at start-up, replayed every epoch "
                    f"(batches per epoch {listing(run.trained)})"
                },
                priority=PRIORITY,
            )
        )
    return found
