"""fit-raised

## What it does
Reports a `fit()` call (or a script) that ended with an exception which no more
specific rule explains, with the exception, the epoch it happened in, and your
line. It is the catch-all: when a specific rule (a generator that raised, x and
y of different lengths, an argument Keras does not accept, ...) explains the
crash, this rule stays silent.

## Why is this bad?
Training did not run to the end: every epoch after the crash is missing, and
the traceback usually ends deep inside Keras or TensorFlow rather than at the
line to change.

## Example
```python
model.compile(optimizer="adam", loss="mse", steps_per_execution=4)
model.fit(one_pass_generator(), epochs=3)   # Keras 2: "Could not infer the size of the data"
```

## Use instead
Read the message and the line fitprobe points at; for the example above, give
Keras the number of steps it cannot infer:
```python
model.fit(endless_generator(), steps_per_epoch=11, epochs=3)
```
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, exception_line

CODE = "fit-raised"
SEVERITY = "error"
TITLE = "training ended with an exception"
PRIORITY = 90
FALLBACK = True


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        exc = run.exception
        if not exc or exc.get("type") == "WorkerDied":
            continue
        epoch = run.epochs[-1]["epoch"] if run.epochs else None
        when = f"in epoch {epoch}" if epoch is not None else "before the first epoch"
        where = f" at {obs.where(exc['line'])}" if exc.get("line") else ""
        message = exception_line(exc.get("message"))
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"fit() raised {exc['type']} {when}{where}: {message}",
                evidence={"exception": exc, "epoch": epoch, "trained_per_epoch": run.trained},
                fix=f"Fix what the message says{where}"
                + (f" (`{exc['code']}`)" if exc.get("code") else "")
                + ": it is raised by Keras or TensorFlow, not by the probe.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: f"training crashed {when} with {exc['type']}: {message}"},
                line=exc.get("line"),
                priority=PRIORITY,
            )
        )
    return found
