"""epoch-end-hook-raised

## What it does
Finds a training run that crashed inside the `on_epoch_end()` method of a
`keras.utils.Sequence` / `PyDataset`: the hook Keras calls between epochs,
usually to reshuffle the sample order.

## Why is this bad?
`on_epoch_end` is not called where most people think, so its crash is
confusing:
- **Keras 3** calls it once *before the first epoch* too (fit() resets the
  epoch iterator, which calls the hook), so a bug in it stops fit() before a
  single batch is trained, and the traceback ends in a method that
  "should only run after an epoch".
- **Keras 2** calls it after each epoch, so epoch 0 trains completely and the
  crash comes at its end.
Either way no full training happens, and the fault is in the data class, not
in the model.

## Example
```python
class Batches(keras.utils.Sequence):
    def __init__(self, x, y):
        self.x, self.y = x, y
        self.order = range(len(x))             # a range cannot be shuffled in place

    def on_epoch_end(self):
        np.random.shuffle(self.order)          # TypeError
```

## Use instead
```python
class Batches(keras.utils.Sequence):
    def __init__(self, x, y):
        self.x, self.y = x, y
        self.order = np.arange(len(x))         # a mutable array

    def on_epoch_end(self):
        np.random.shuffle(self.order)
```
Call `dataset.on_epoch_end()` once yourself after building the dataset: a bug
in it then shows up at once, outside fit().

## Keras 2 vs Keras 3
Keras 3 runs `on_epoch_end` before the first epoch as well, so the crash comes
before any training; Keras 2 crashes at the end of epoch 0, after training it.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, exception_line, plural

CODE = "epoch-end-hook-raised"
SEVERITY = "error"
TITLE = "the Sequence's on_epoch_end() raised an exception"
PRIORITY = 10

HOOK = "on_epoch_end"


def _is_data_hook(run) -> bool:
    """The failing on_epoch_end is the Sequence's, not a callback's of the same name.

    A callback's on_epoch_end runs before the probe's own (appended last), so it
    leaves the epoch unfinished; the Sequence's runs before any epoch (Keras 3)
    or after every callback (Keras 2).
    """
    if "callbacks" not in run.explicit:
        return True
    return not run.epochs or not run.epochs[-1].get("partial")


def _sequence_name(obs: Observations, run) -> str:
    for source in (run.source, run.validation_source):
        if source.get("kind") == "sequence" and source.get("type"):
            return source["type"]
    sequences = obs.facts.get("sequences", [])
    return sequences[0]["name"] if len(sequences) == 1 else "the Sequence"


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        exc = run.exception or {}
        kinds = {run.kind, run.validation_source.get("kind")}
        if exc.get("function") != HOOK or "sequence" not in kinds or not _is_data_hook(run):
            continue
        name = _sequence_name(obs, run)
        where = obs.where(exc["line"]) if exc.get("line") else f"{name}.{HOOK}()"
        code = f" (`{exc['code']}`)" if exc.get("code") else ""
        message = exception_line(exc.get("message"), 200)
        also = "before the first epoch and " if run.stack == "keras3" else ""
        done = len(run.complete_epochs)
        if done == 0 and not any(run.trained):
            when = "before the first epoch, with no batch trained"
        else:
            when = f"after {plural(done, 'epoch')} ({sum(run.trained)} batches trained)"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{name}.{HOOK}() raised {exc.get('type')} at {where}{code}",
                evidence={
                    "exception": {k: exc.get(k) for k in ("type", "message", "line", "code")},
                    "epochs_completed": done,
                    "trained_per_epoch": run.trained,
                },
                fix=f"Fix {name}.{HOOK}() at {where}{code}: {exc.get('type')}: {message}. "
                f"{run.label} calls it {also}"
                "after every epoch; call it once yourself after building the dataset to "
                "catch such errors outside fit().",
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"training crashed {when}: {name}.{HOOK}() raised "
                    f"{exc.get('type')} at {where}{code}"
                },
                line=exc.get("line"),
                priority=PRIORITY,
            )
        )
    return found
