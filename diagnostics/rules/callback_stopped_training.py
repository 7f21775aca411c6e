"""callback-stopped-training

## What it does
Reports a fit() that ended before its last epoch because a callback set
`model.stop_training` (EarlyStopping, TerminateOnNaN, or one of your own), and
says which callback and when: after how many epochs, or at which batch.

## Why is this bad?
Usually it is not: stopping early is what these callbacks are for, so this is
information, not an error. It matters when you are debugging "fit() stops after
N epochs": the data did not run out, a callback decided to stop. An
EarlyStopping with `patience=0` or a large `min_delta`, monitoring a metric
that does not exist or barely moves, stops almost at once; TerminateOnNaN stops
at the first batch whose loss is NaN or infinite, which usually points at bad
values in the data or a too-high learning rate.

## Example
```python
stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10)
model.fit(x, y, batch_size=10, epochs=5, callbacks=[stop])   # ends after 2 epochs
```

## Use instead
If the stop is unwanted, give the callback room:
```python
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3,
                                     min_delta=1e-4, restore_best_weights=True)
```
For TerminateOnNaN, find the NaN or inf in the batch it stopped at (or lower
the learning rate) rather than removing the callback.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, plural

CODE = "callback-stopped-training"
SEVERITY = "info"
TITLE = "a callback stopped training early"
PRIORITY = 60


def _round(value):
    return round(value, 4) if isinstance(value, float) else value


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if run.stopped_by != "callback" or not run.epochs:
            continue
        name = run.data.get("stopped_by_callback") or "a callback"
        last = run.epochs[-1]
        asked = run.epochs_asked
        done = len(run.complete_epochs)
        expected = last.get("expected_batches") or run.expected
        mid_epoch = expected is not None and last["observed_batches"] < expected
        bad = [b for b in run.batches if b.get("epoch") == last["epoch"] and b.get("nonfinite")]
        if mid_epoch:
            when = (
                f"in epoch {last['epoch']}, after {last['observed_batches']} of "
                f"{plural(expected, 'batch')}"
            )
        else:
            when = f"after {done} of {plural(asked, 'epoch')}" if asked else f"after {done}"
        losses = [_round(e.get("loss")) for e in run.complete_epochs]
        if name == "TerminateOnNaN" or (mid_epoch and bad):
            cause = (
                f"batch {bad[0]['step']} of epoch {last['epoch']} holds NaN or inf values"
                if bad
                else "the loss became NaN or inf"
            )
            fix = (
                f"{name} stopped training {when}: {cause}. Find and clean the bad values "
                "(np.isfinite on the inputs and targets), or lower the learning rate if the "
                "data is clean."
            )
        elif name == "EarlyStopping":
            fix = (
                f"If stopping {when} is intended, nothing to do. Otherwise give EarlyStopping "
                "room: check that `monitor` names a metric that is logged, and use a small "
                "`min_delta` and a `patience` of a few epochs"
                + (f" (loss per epoch: {', '.join(str(v) for v in losses)})" if losses else "")
                + "."
            )
        else:
            fix = (
                f"If stopping {when} is intended, nothing to do. Otherwise look at where {name} "
                "sets `self.model.stop_training = True`."
            )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{name} stopped training {when}",
                evidence={
                    "callback": name,
                    "epochs_asked": asked,
                    "epochs_completed": done,
                    "last_epoch": last["epoch"],
                    "batches_in_last_epoch": last["observed_batches"],
                    "batches_per_epoch_expected": expected,
                    "loss_per_epoch": losses,
                    "nonfinite_batches": [(b["epoch"], b["step"]) for b in bad],
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={run.stack: f"{name} stops training {when}"},
                priority=PRIORITY,
            )
        )
    return found
