"""shuffle-ignored

## What it does
Finds `fit(..., shuffle=True)` written out in the code while the training data
is a Python generator or a `tf.data.Dataset`, for which Keras ignores
`shuffle`. Keras's own default (`shuffle=True`) is never reported.

## Why is this bad?
`shuffle` only reorders data that Keras indexes itself: NumPy arrays and
tensors (samples), and a Sequence / PyDataset (batch order). A generator is
read in the order it yields, and a dataset in the order its pipeline produces.
Writing `shuffle=True` reads as if the batches were shuffled every epoch; they
are not, and data sorted by class or by time reaches the model in that order,
epoch after epoch.

## Example
```python
model.fit(endless_batches(x, y, 10), steps_per_epoch=10, epochs=5, shuffle=True)
```

## Use instead
Shuffle where the data is produced:
```python
def endless_batches(x, y, size, seed=0):
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(x))              # a new order every pass
        for i in range(0, len(x), size):
            rows = order[i:i + size]
            yield x[rows], y[rows]
```
and for a dataset, `.shuffle(buffer_size)` before `.batch()`.

## Keras 2 vs Keras 3
Both ignore `shuffle` for generators and datasets. Keras 3 says so in a
warning, which it also prints when `shuffle` was not passed at all (its default
is `True`); Keras 2 ignores it silently.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations

CODE = "shuffle-ignored"
SEVERITY = "warning"
TITLE = "shuffle=True is ignored for generators and datasets"
PRIORITY = 70

IGNORED_FOR = {"generator": "a generator", "tf-dataset": "a tf.data.Dataset"}


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if run.kind not in IGNORED_FOR or "shuffle" not in run.explicit:
            continue
        value = run.fit.get("shuffle")
        if value is not True and value != "batch":
            continue
        source = IGNORED_FOR[run.kind]
        if run.kind == "generator":
            fix = (
                "Remove shuffle=True from fit() and shuffle inside the generator: draw "
                "`order = rng.permutation(len(x))` at the start of every pass and yield "
                "`x[order[i:i + batch_size]]`."
            )
        else:
            fix = (
                "Remove shuffle=True from fit() and add `.shuffle(buffer_size)` to the dataset "
                "before `.batch()` (a buffer as large as the data set shuffles it fully)."
            )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"shuffle={value!r} has no effect: the training data is {source}",
                evidence={
                    "shuffle": value,
                    "source_kind": run.kind,
                    "keras_warned": run.warned("will be ignored"),
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"your shuffle={value!r} is ignored: with {source} Keras reads "
                    "batches in the order the source produces them"
                },
                priority=PRIORITY,
            )
        )
    return found
