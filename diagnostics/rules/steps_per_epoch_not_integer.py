"""steps-per-epoch-not-integer

## What it does
Finds a `steps_per_epoch` that is not an `int`: a fraction such as `12.5`, or a
whole number held in a float such as `10.0`, typically computed with `/`
(`len(x) / batch_size`) instead of `math.ceil(...)` or `//`.

## Why is this bad?
A number of batches has to be a whole number, and the two stacks disagree on
what to do with a float:
- **Keras 3** refuses any float, even `10.0`: fit() crashes in epoch 0 with
  `TypeError: 'float' object cannot be interpreted as an integer`.
- **Keras 2** rounds up without a word: `steps_per_epoch=12.5` trains 13
  batches per epoch, which, with a source of 12 or fewer batches, runs it out.
Code that "worked" on Keras 2 breaks on the upgrade, and on Keras 2 the epoch
length is not the number written in the code.

## Example
```python
model.fit(batches, steps_per_epoch=len(x) / batch_size, epochs=5)   # 105 / 10 = 10.5
```

## Use instead
```python
model.fit(batches, steps_per_epoch=math.ceil(len(x) / batch_size), epochs=5)   # 11
```
(`len(x) // batch_size` when the last, short batch should be left out.)

## Keras 2 vs Keras 3
Keras 3 raises `TypeError` for every float `steps_per_epoch`; Keras 2 accepts it
and trains `math.ceil(steps_per_epoch)` batches per epoch.

## Automatic fix
fitprobe can make the edit: a division `a / b` becomes `math.ceil(a / b)`, `np.ceil(...)`
becomes `math.ceil(...)`, and a number such as `12.5` becomes the whole number Keras 2
trains (`13`).
"""

from __future__ import annotations

import ast
import math

from diagnostics.rules import _fixes
from diagnostics.rules._shared import written_as
from diagnostics.rules.base import Finding, Observations, listing, static_finding, top_operator

CODE = "steps-per-epoch-not-integer"
SEVERITY = "error"
TITLE = "steps_per_epoch is not an integer"
PRIORITY = 15


def _as_float(value) -> float | None:
    """The value when steps_per_epoch is a float (or a numeric string), else None."""
    if isinstance(value, bool) or isinstance(value, int) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _crashed(run) -> bool:
    """Keras 3 rejects a float before the first step (TypeError from `range()`)."""
    exc = run.exception or {}
    return (
        _as_float(run.steps_per_epoch) is not None
        and exc.get("type") == "TypeError"
        and not sum(run.trained)
    )


def check(obs: Observations) -> list[Finding]:
    found = []
    spelled = written_as(obs)
    for run in obs.runs:
        steps = _as_float(run.steps_per_epoch)
        if steps is None or steps <= 0:
            continue
        up, down = math.ceil(steps), math.floor(steps)
        whole = steps.is_integer()
        exc = run.exception or {}
        crashed = _crashed(run)
        shown = f"`{spelled}` = {steps!r}" if spelled else repr(steps)
        if crashed:
            severity = "error"
            summary = (
                f"training crashes before the first epoch ends ({exc.get('type')}: "
                f"{(exc.get('message') or '').strip()[:70]}) because steps_per_epoch={steps!r} "
                "is a float"
            )
        elif not whole:
            severity = "warning"
            summary = (
                f"steps_per_epoch={steps:g} is silently rounded up to {up} batches per epoch "
                f"(epochs trained {listing(run.trained)})"
            )
        elif any(_crashed(r) for r in obs.runs if r.call == run.call and r is not run):
            continue  # a whole float that ran fine here: the stack that crashed says it all
        else:
            severity = "info"
            summary = (
                f"steps_per_epoch={steps!r} is a float: it works here, but Keras 3 rejects it "
                "with TypeError"
            )
        choice = (
            f"`math.ceil(...)` = {up}, or `//` = {down} to drop the last short batch"
            if not whole
            else f"`int(...)` or `//` = {up}"
        )
        found.append(
            Finding(
                code=CODE,
                severity=severity,
                title=f"steps_per_epoch={shown} is a float, not an int",
                evidence={
                    "steps_per_epoch": run.steps_per_epoch,
                    "written_as": spelled,
                    "rounded_up": up,
                    "trained_per_epoch": run.trained,
                    "exception": exc.get("type"),
                    "exception_message": (exc.get("message") or "")[:200] or None,
                },
                fix=f"Give steps_per_epoch a whole number: {choice}"
                + (f" (instead of `{spelled}`)." if spelled else "."),
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found


def static(facts: dict, where) -> list[Finding]:
    """steps_per_epoch written with `/`, which makes a float."""
    found = []
    for call in facts.get("fit_calls", []):
        steps = call["kwargs"].get("steps_per_epoch")
        if steps and top_operator(steps) is ast.Div:
            found.append(
                static_finding(
                    CODE,
                    "warning",
                    f"steps_per_epoch={steps} uses `/`, which gives a float",
                    f"Use `math.ceil({steps})` (every sample, last batch partial) or `//` "
                    "(drop the remainder).",
                    call["line"],
                    {"expression": steps},
                )
            )
    return found


def fix(source: str, finding: dict, report: dict) -> str | None:
    """steps_per_epoch made a whole number: the division rounded up, as Keras 2 does."""
    return _fixes.apply(source, lambda code: _whole(code, finding, report))


def _whole(code: _fixes.Code, finding: dict, report: dict):
    call = _fixes.fit_call(code, report, finding)
    at = _fixes.sites(code, call, "steps_per_epoch") if call is not None else []
    new = _rounded_up(at[0].value) if at else None
    if new is None:
        return None
    module = _fixes.replace(code, at[0], new)
    if _fixes.source(new).startswith("math."):
        module = _fixes.with_import(module, "math")
    return module, (
        f"{at[0].label} becomes {_fixes.source(new)}: a whole number of batches, the last "
        "one partial, which Keras 3 requires"
    )


def _rounded_up(node):
    """`a / b` -> `math.ceil(a / b)`; `np.ceil(...)` -> `math.ceil(...)`; 12.5 -> 13."""
    cst = _fixes.cst
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
        division = _fixes.source(node.with_changes(lpar=[], rpar=[]))
        return _fixes.expression(f"math.ceil({division})")
    if isinstance(node, cst.Float):
        return cst.Integer(str(math.ceil(float(node.value))))
    ceil = isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
    if ceil and node.func.attr.value == "ceil" and _fixes.source(node.func) != "math.ceil":
        return node.with_changes(func=_fixes.expression("math.ceil"))  # np.ceil gives a float
    return None
