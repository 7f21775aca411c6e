"""nan-in-batch

## What it does
Finds batches that carry NaN or infinite values in their inputs or targets,
and says in which epochs and steps Keras trained on them.

## Why is this bad?
One NaN in one row is enough: the loss of that batch is NaN, its gradients are
NaN, and after the update every weight is NaN. From then on the model predicts
NaN and the loss stays NaN, for every later batch and epoch, while `fit()`
carries on as if nothing happened. With `keras.callbacks.TerminateOnNaN()`,
training stops at that batch instead ("Invalid loss, terminating training"):
better, but the epochs you asked for are still not trained. The cause is in
the data: a missing value read from a CSV, a division by a zero standard
deviation, `log(0)`.

## Example
```python
x = pd.read_csv("train.csv").to_numpy("float32")   # one empty cell -> NaN
model.fit(x, y, epochs=5)                            # loss: nan from the bad batch on
```

## Use instead
Find and clean the values before training:
```python
bad = ~np.isfinite(x).all(axis=1)
print("rows with NaN/inf:", np.flatnonzero(bad))
x = np.where(np.isfinite(x), x, np.nanmean(x, axis=0))   # or drop those rows
```

## Keras 2 vs Keras 3
Both train on the NaN and both stop at the same batch with `TerminateOnNaN`.
"""

from __future__ import annotations

import math

from diagnostics.rules.base import Finding, Observations, batch_hashes, listing, plural

CODE = "nan-in-batch"
SEVERITY = "error"
TITLE = "batches contain NaN or infinite values"
PRIORITY = 20


def _nan_loss(epoch: dict) -> bool:
    loss = epoch.get("loss")
    return loss is None or (isinstance(loss, float) and not math.isfinite(loss))


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        trained = [b for b in run.batches if b.get("nonfinite")]
        pulled = [b for b in run.data.get("unfinished_batches") or [] if b.get("nonfinite")]
        if not trained and not pulled:
            continue
        steps: dict = {}
        for b in trained:
            steps.setdefault(b.get("epoch"), []).append(b.get("step"))
        first = trained[0] if trained else None
        where = (
            f"batch {first['step']} of epoch {first['epoch']}"
            if first
            else "a batch Keras pulled but did not train"
        )
        nan_epochs = [e["epoch"] for e in run.epochs if not e.get("partial") and _nan_loss(e)]
        stopper = run.data.get("stopped_by_callback")
        if run.stopped_by == "callback" and stopper == "TerminateOnNaN":
            effect = f"{stopper} then stopped training"
        elif nan_epochs:
            effect = f"the loss is NaN from then on (epochs {listing(nan_epochs)})"
        elif run.exception:
            effect = f"training then crashed with {run.exception.get('type')}"
        else:
            effect = "the model trained on it"
        per_epoch = "; ".join(
            f"epoch {epoch}: step {listing(found_steps)}" for epoch, found_steps in steps.items()
        )
        # A step of several batches (steps_per_execution) has a list of hashes.
        hashes = {h for b in trained for h in batch_hashes(b)}
        distinct = len(hashes) or len(trained) or 1
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{where} contains NaN or infinite values",
                evidence={
                    "steps_per_epoch_with_nonfinite": {str(k): v for k, v in steps.items()},
                    "trained_nonfinite_batches": len(trained),
                    "pulled_untrained_nonfinite_batches": len(pulled),
                    "epochs_with_nan_loss": nan_epochs,
                    "stopped_by": run.stopped_by,
                    "stopped_by_callback": stopper,
                    "batch_hashes": sorted(hashes)[:10],
                },
                fix=f"Clean the data before training: {plural(distinct, 'batch')} of it "
                f"{'holds' if distinct == 1 else 'hold'} NaN or inf (trained at "
                f"{per_epoch or 'no step: pulled, not trained'}). Find the rows with "
                "`np.flatnonzero(~np.isfinite(x).all(axis=1))` (same for y), then drop or "
                "impute them (e.g. the column mean from np.nanmean).",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: f"{where} contains NaN or infinite values and {effect}"},
                priority=PRIORITY,
            )
        )
    return found
