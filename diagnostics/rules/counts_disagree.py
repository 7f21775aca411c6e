"""counts-disagree

## What it does
Checks what fitprobe reports against what Keras itself counted in the same fit()
call, apart from fitprobe's observer: the optimizer's step counter (one step per
trained batch, where the model trains with Keras's own `train_step` and one batch per
callback call) and the epochs in the `History` that fit() returned. Reports a call
where they disagree.

## Why is this bad?
The batches and epochs in this report are counted by a callback that runs in the
same process as the script. A script that calls that callback itself, changes its
counters or replaces Keras's training loop can make the chart say anything; Keras's
own counters are harder to reach. When the two disagree, the report's numbers for
that call cannot be taken at face value: either the script interfered with the probe,
or fitprobe miscounted (please report it, with the script).

## Example
```python
import gc

class Inflate(keras.callbacks.Callback):      # calls fitprobe's observer itself
    def on_epoch_end(self, epoch, logs=None):
        for obj in gc.get_objects():
            if type(obj).__name__ == "FitprobeObserver":
                for i in range(100):
                    obj.on_train_batch_end(i)
```

## Use instead
Probe the training code as it is meant to run, without reaching into fitprobe's
objects. If the script does nothing of the kind, report the disagreement: it is a
fitprobe bug.

## Keras 2 vs Keras 3
The same on both: `optimizer.iterations` and `History.epoch` exist in both. Calls with
`steps_per_execution` above 1, gradient accumulation or a custom `train_step` are not
compared by optimizer steps (Keras does not step once per reported batch there). When
the data runs out, both count one step more than they trained, in that epoch: up to
one extra step per epoch is allowed for.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, plural

CODE = "counts-disagree"
SEVERITY = "error"
TITLE = "fitprobe's counts disagree with Keras's own"
PRIORITY = 2  # right after report-tampered: the numbers below it are in doubt


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        counts = run.data.get("keras_counts") or {}
        differences = []
        trained = sum(e.get("observed_batches") or 0 for e in run.epochs)
        steps = counts.get("optimizer_steps")
        # A step whose data ran out still moves the counter (both stacks): up to one
        # step more than trained batches per epoch is Keras, not a disagreement.
        if steps is not None and not 0 <= steps - trained <= len(run.epochs):
            differences.append(
                f"the optimizer took {plural(steps, 'step')} where the report counts "
                f"{plural(trained, 'trained batch')}"
            )
        epochs = len([e for e in run.epochs if not e.get("partial")])
        history = counts.get("history_epochs")
        if history is not None and history != epochs:
            differences.append(
                f"fit()'s History has {plural(history, 'epoch')} where the report has {epochs}"
            )
        if not differences:
            continue
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{run.label}, fit() call {run.call}: Keras's own counts disagree with "
                f"this report's ({'; '.join(differences)}), so its numbers for this call "
                "cannot be taken at face value",
                evidence={"keras_counts": counts, "trained_batches": trained, "epochs": epochs},
                fix="Probe the training code as it is meant to run, without reaching into "
                "fitprobe's objects; if the script does nothing of the kind, this is a "
                "fitprobe bug: please report it with the script.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: "Keras's own counts disagree with fitprobe's"},
                priority=PRIORITY,
            )
        )
    return found
