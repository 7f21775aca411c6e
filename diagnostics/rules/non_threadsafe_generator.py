"""non-threadsafe-generator

## What it does
Finds a plain Python generator given to Keras 2's fit() with `workers > 1`
(threads) or `use_multiprocessing=True` with several workers (processes), and
reports what that did to the batches: a crash, duplicated batches, or the risk
of both.

## Why is this bad?
A generator is one object with one position; it cannot be advanced by two
workers at once.
- **Threads** (`workers=4`): two threads calling `next()` together raise
  `ValueError: generator already executing`, which Keras 2 turns into
  `RuntimeError: Your generator is NOT thread-safe`. It happens as soon as
  producing a batch takes a little time (reading files), so a fast test passes
  and the real run crashes.
- **Processes** (`use_multiprocessing=True, workers=2`): every worker process
  gets its own copy of the generator and replays the same stream; the model
  trains on duplicated batches and skips others, with no error at all.

## Example
```python
def batches(paths, labels):
    while True:
        for i in range(0, len(paths), 32):
            yield load_images(paths[i:i + 32]), labels[i:i + 32]

model.fit(batches(paths, labels), steps_per_epoch=100, workers=4)
```

## Use instead
Let Keras ask for batches by index, which is safe for any number of workers:
```python
class Batches(keras.utils.Sequence):           # keras.utils.PyDataset on Keras 3
    def __len__(self):
        return math.ceil(len(paths) / 32)

    def __getitem__(self, i):
        return load_images(paths[i * 32:(i + 1) * 32]), labels[i * 32:(i + 1) * 32]

model.fit(Batches(), workers=4)                # Keras 3: Batches(workers=4)
```
or drop `workers` / `use_multiprocessing` for the generator.

## Keras 2 vs Keras 3
Keras 2 runs the generator in several workers as asked (and breaks it); Keras 3
rejects `workers` and `use_multiprocessing` in fit() (see
`unsupported-fit-argument`) and reads a generator from one thread.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, listing, plural

CODE = "non-threadsafe-generator"
SEVERITY = "warning"
TITLE = "a plain generator is shared between several workers"
PRIORITY = 15

# tf_keras/src/utils/data_utils.py (GeneratorEnqueuer.get)
NOT_THREAD_SAFE = ("NOT thread-safe", "generator already executing")


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1 if value is None else 0


def _duplicated_epochs(run) -> list[dict]:
    """Epochs that repeated rows while leaving out rows seen in other epochs."""
    total = run.info.get("data_rows") or run.info.get("samples_seen_total")
    out = []
    for e in run.complete_epochs:
        seen, rows = e.get("samples_seen"), e.get("rows_trained")
        if seen is None or not rows or not total:
            continue
        if rows > seen and seen < total:
            out.append({"epoch": e["epoch"], "rows_trained": rows, "distinct_samples": seen})
    return out


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if run.kind != "generator":
            continue
        workers = _int(run.fit.get("workers"))
        processes = bool(run.fit.get("use_multiprocessing"))
        if workers <= 1:
            continue
        how = f"{workers} worker processes" if processes else f"{workers} worker threads"
        text = run.exception_text()
        crashed = run.exception is not None and any(t in text for t in NOT_THREAD_SAFE)
        duplicated = _duplicated_epochs(run)
        if crashed:
            severity = "error"
            epoch = run.epochs[-1]["epoch"] if run.epochs else 0
            summary = (
                f"training crashed in epoch {epoch} ({run.exception.get('type')}: your "
                f"generator is not thread-safe): {how} called the same generator at once"
            )
        elif duplicated:
            severity = "error"
            d = duplicated[0]
            summary = (
                f"{how} each ran their own copy of your generator: epoch {d['epoch']} trained "
                f"{d['rows_trained']} rows but only {d['distinct_samples']} distinct samples "
                f"(duplicated batches in {plural(len(duplicated), 'epoch')})"
            )
        else:
            severity = SEVERITY
            summary = (
                f"fit(workers={workers}{', use_multiprocessing=True' if processes else ''}) "
                "shares one plain generator between workers; it is not thread-safe and can "
                + ("duplicate batches" if processes else "crash ('generator already executing')")
                + " at any time"
            )
        found.append(
            Finding(
                code=CODE,
                severity=severity,
                title=f"a plain generator is read by {how}"
                + (
                    ": it crashed" if crashed else ": batches were duplicated" if duplicated else ""
                ),
                evidence={
                    "workers": workers,
                    "use_multiprocessing": processes,
                    "crashed": crashed,
                    "duplicated_epochs": duplicated,
                    "trained_per_epoch": run.trained,
                    "exception": (run.exception or {}).get("type"),
                },
                fix="Turn the generator into a keras.utils.Sequence (keras.utils.PyDataset on "
                "Keras 3) with __len__ and __getitem__(index): workers then ask for batches "
                "by index and never share a generator. Or remove "
                + listing(["workers"] + (["use_multiprocessing"] if processes else []))
                + " from fit() for this generator.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                line=(run.data.get("call_site") or {}).get("line"),
                priority=PRIORITY,
            )
        )
    return found
