"""finite-generator-exhausted

## What it does
Finds a Python generator that ran dry (it has no `while True:` loop, so it
yields one pass over the data and stops) while fit() still wanted batches:
`steps_per_epoch × epochs` is more than the generator holds, or, without
`steps_per_epoch`, more than one epoch was asked for.

## Why is this bad?
A generator object can be iterated once. After its last batch, Keras gets
`StopIteration` and has nothing to train on, but the script does not fail:
- **Keras 2** logs "Your input ran out of data" and stops training: fit()
  returns after one or two epochs (the second one often empty, with loss 0.0).
- **Keras 3** logs the same warning and keeps going: each later epoch trains
  only on the 2 batches Keras peeked at start-up to learn the shapes, replayed
  again and again (see `replayed-peeked-batches`).
Either way the model sees far less data than the code says.

## Example
```python
def batches(x, y, size=10):
    for i in range(0, len(x), size):          # one pass, then the generator ends
        yield x[i:i + size], y[i:i + size]

model.fit(batches(x, y), steps_per_epoch=10, epochs=5)   # asks for 50 batches
```

## Use instead
```python
def batches(x, y, size=10):
    while True:                                # a fresh pass every time
        for i in range(0, len(x), size):
            yield x[i:i + size], y[i:i + size]

model.fit(batches(x, y), steps_per_epoch=math.ceil(len(x) / 10), epochs=5)
```
or hand fit() something it can iterate again every epoch: a `keras.utils.PyDataset`
or a `tf.data.Dataset`.

## Keras 2 vs Keras 3
Keras 2 stops training when the generator runs dry; Keras 3 carries on, replaying
the 2 batches it peeked at start-up in every later epoch.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, listing, plural, static_finding

CODE = "finite-generator-exhausted"
SEVERITY = "error"
TITLE = "a finite generator ran out of batches"
PRIORITY = 30


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if run.kind != "generator" or not run.info.get("source_exhausted"):
            continue
        facts = run.generator_facts(obs.facts)
        if facts and facts.get("endless"):
            continue  # it loops forever, so something else ended it (an error it swallowed?)
        one_pass = run.pass_length or 0
        later = run.epochs[1:]
        short = [
            e for e in run.complete_epochs if run.expected and e["observed_batches"] < run.expected
        ]
        replayed = sum(e.get("replayed_batches") or 0 for e in run.epochs)
        asked_more = (run.epochs_asked or 1) > 1 or (run.total_asked() or 0) > one_pass
        if not asked_more or not (run.stopped_by == "data-exhausted" or short or replayed or later):
            continue  # ran dry exactly where one epoch ends: harmless
        if run.stopped_by != "data-exhausted" and not short and not replayed:
            continue
        total = run.total_asked()
        wanted = f"steps_per_epoch × epochs = {total}" if total else f"{run.epochs_asked} epochs"
        if run.stopped_by == "data-exhausted":
            summary = (
                f"training stops after {plural(len(run.complete_epochs), 'epoch')}: your "
                f"generator is finite ({one_pass} batches) but fit asks for {wanted}"
            )
        else:
            summary = (
                f"your generator ran dry after {one_pass} batches (fit asks for {wanted}) and "
                f"later epochs trained only {listing(run.trained[1:])} batches"
            )
        name = run.source.get("function")
        target = f"{name}()" if name and name != "<genexpr>" else "the generator"
        steps = run.steps_per_epoch
        fix = (
            f"Put a `while True:` loop around the batch loop in {target}, so it can serve "
            + (f"{total} batches" if total else "a fresh pass every epoch")
            + (f" ({steps} per epoch)" if steps else "")
            + f"; one pass is {plural(one_pass, 'batch')}. Or pass a PyDataset or "
            "tf.data.Dataset, which fit() can iterate again every epoch."
        )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"the generator ran out after {plural(one_pass, 'batch')} "
                "but fit() wanted more",
                evidence={
                    "batches_per_pass": one_pass,
                    "asked": total,
                    "trained_per_epoch": run.trained,
                    "stopped_by": run.stopped_by,
                    "replayed_batches": replayed,
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found


def static(facts: dict, where) -> list[Finding]:
    """A generator function with no `while True` that fit() is asked to run for
    steps_per_epoch batches every epoch."""
    found = []
    finite = [g for g in facts.get("generators", []) if not g["endless"]]
    asked = [c for c in facts.get("fit_calls", []) if "steps_per_epoch" in c["kwargs"]]
    for gen in finite:
        for call in asked:
            if gen["name"] in call["code"]:
                found.append(
                    static_finding(
                        CODE,
                        "warning",
                        f"generator {gen['name']}() has no `while True` loop but fit() asks "
                        f"for steps_per_epoch={call['kwargs']['steps_per_epoch']} every epoch",
                        f"Loop forever inside {gen['name']}() (`while True:` around the batch "
                        "loop), or let fit() find the end of each pass: drop steps_per_epoch.",
                        call["line"],
                        {"generator": gen["name"], "fit_line": call["line"]},
                    )
                )
    return found
