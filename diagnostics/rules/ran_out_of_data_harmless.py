"""ran-out-of-data-harmless

## What it does
Recognises Keras's "Your input ran out of data; interrupting training" warning
where nothing was actually cut short: every epoch trained what it was meant to,
and no other finding explains a shortfall on that run. It says so, so that you
do not chase a problem that is not there.

## Why is this bad?
It is not; the warning is. Keras prints it both when training really starved
(see `finite-generator-exhausted`, `dataset-exhausted`, `steps-per-epoch-too-large`)
and when a pass over data of unknown length simply ended where the epoch was
meant to end anyway, for instance one epoch over a one-pass generator.

## Example
```python
model.fit(one_pass_generator(), epochs=1)   # Keras 3 warns that the input ran out of data
```

## Use instead
Nothing to change when this is the only finding. To silence the warning, give
fit() the epoch length it cannot infer:
```python
model.fit(one_pass_generator(), steps_per_epoch=batches_per_pass, epochs=1)
```

## Keras 2 vs Keras 3
Keras 3 warns at the end of the first pass of a generator of unknown length;
Keras 2 infers the length from that first pass and warns only when a later
epoch gets less.
"""

from __future__ import annotations

from diagnostics.rules.base import RAN_OUT_OF_DATA, Finding, Observations

CODE = "ran-out-of-data-harmless"
SEVERITY = "info"
TITLE = "Keras warned that the input ran out of data, but nothing was cut short"
PRIORITY = 95
FALLBACK = True
YIELDS_TO = ("error", "warning")  # where something was cut short, that finding explains it


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if not run.warned(RAN_OUT_OF_DATA) or run.cut_short:
            continue
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{run.label} warned that the input ran out of data, but nothing was cut "
                "short",
                evidence={"trained_per_epoch": run.trained, "expected": run.expected},
                fix="Nothing to fix: Keras says this when a pass over data of unknown length "
                "ends, which is where this epoch was meant to end anyway.",
                stack=[run.stack],
                call=run.call,
                priority=PRIORITY,
            )
        )
    return found
