"""generator-swallowed-error

## What it does
Finds a generator that catches an exception inside its own loop and then ends
quietly (`break`, `return` or `pass` in the `except` block), and a probe in
which that generator stopped early: it produced fewer batches than one epoch
asks for.

## Why is this bad?
The error never reaches you. The generator simply ends, and to Keras a
generator that ends is a generator that ran out of data: Keras 2 stops training
with a warning about running out of data, Keras 3 keeps training on the
batches it cached at start-up. You debug `steps_per_epoch` while the real cause
is the exception hidden in the generator.

## Example
```python
def batches(x, y):
    for i in range(0, len(x), 10):
        try:
            yield load(x[i:i + 10]), y[i:i + 10]
        except ValueError as err:
            print("bad batch", err)
            break                           # the generator ends here, silently
```

## Use instead
```python
def batches(x, y):
    while True:
        for i in range(0, len(x), 10):
            yield load(x[i:i + 10]), y[i:i + 10]   # let errors surface
```
If some samples are really expected to fail, skip just those with `continue`
and count them, rather than ending the generator.

## Keras 2 vs Keras 3
Keras 2 stops training after the epoch in which the generator ended; Keras 3
keeps going, replaying the batches it peeked at start-up.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, plural, static_finding

CODE = "generator-swallowed-error"
SEVERITY = "error"
TITLE = "the generator hid its own exception and ended early"
PRIORITY = 10


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if run.kind != "generator" or not run.info.get("source_exhausted"):
            continue
        gen = run.generator_facts(obs.facts)
        if not gen or not gen.get("swallows"):
            continue
        produced = run.pass_length or 0
        per_epoch = run.expected or run.steps_per_epoch
        if per_epoch is None or produced >= per_epoch:
            continue
        if run.stopped_by == "data-exhausted":
            summary = (
                f"training stops after {plural(len(run.complete_epochs), 'epoch')} because your "
                f"generator {gen['name']}() caught its own error after "
                f"{plural(produced, 'batch')} and ended"
            )
        else:
            summary = (
                f"your generator {gen['name']}() caught its own error after "
                f"{plural(produced, 'batch')} and ended, and Keras keeps training on that "
                "same data every epoch"
            )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{gen['name']}() swallowed an exception and stopped after "
                f"{plural(produced, 'batch')} ({per_epoch} per epoch expected)",
                evidence={
                    "generator": gen["name"],
                    "handler_lines": gen["swallows"],
                    "batches_produced": produced,
                    "batches_per_epoch_expected": per_epoch,
                    "trained_per_epoch": run.trained,
                },
                fix=f"Remove the try/except in {gen['name']}() "
                f"({obs.where(gen['swallows'][0])}) or re-raise the exception, so the real "
                "error surfaces; skip only known-bad samples with `continue`.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                line=gen["swallows"][0],
                priority=PRIORITY,
            )
        )
    return found


def static(facts: dict, where) -> list[Finding]:
    """An `except` in a generator function that ends it quietly."""
    return [
        static_finding(
            CODE,
            "warning",
            f"generator {gen['name']}() catches an exception and ends quietly",
            "Let the exception propagate (remove the try/except, or re-raise), or skip only "
            "the bad sample with `continue` and log it.",
            line,
            {"generator": gen["name"], "handler_line": line},
        )
        for gen in facts.get("generators", [])
        for line in gen["swallows"]
    ]
