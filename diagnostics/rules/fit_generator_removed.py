"""fit-generator-removed

## What it does
Finds calls to `model.fit_generator(...)` (and its siblings
`evaluate_generator` / `predict_generator`).

## Why is this bad?
`fit_generator` was deprecated in TensorFlow 2.1 and removed in Keras 3: on
Keras 3 the script stops with `AttributeError: 'Sequential' object has no
attribute 'fit_generator'` before any training. On Keras 2 it still works, with
a deprecation warning, as a thin wrapper around `fit`.

## Example
```python
model.fit_generator(batches(x, y), steps_per_epoch=10, epochs=5)
```

## Use instead
```python
model.fit(batches(x, y), steps_per_epoch=10, epochs=5)
```
`fit` accepts generators, `keras.utils.PyDataset` and `tf.data.Dataset` directly.

## Keras 2 vs Keras 3
Keras 2: works, deprecated. Keras 3: `AttributeError`.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, static_finding

CODE = "fit-generator-removed"
SEVERITY = "error"
TITLE = "fit_generator() no longer exists"
PRIORITY = 10


def check(obs: Observations) -> list[Finding]:
    found = []
    for stack, record in obs.stacks.items():
        exc = record.get("script_exception") or {}
        if exc.get("type") == "AttributeError" and "_generator" in (exc.get("message") or ""):
            code = exc.get("code") or "model.fit_generator(...)"
            found.append(
                Finding(
                    code=CODE,
                    severity=SEVERITY,
                    title="fit_generator() does not exist in Keras 3: the script stops before "
                    "training",
                    evidence={"exception": exc},
                    fix=f"Replace `{code}` with the same call to fit(): "
                    f"`{code.replace('_generator(', '(', 1)}`.",
                    stack=[stack],
                    summary={
                        stack: "the script stops before training with AttributeError, because "
                        "fit_generator() was removed in Keras 3 (use fit())"
                    },
                    line=exc.get("line"),
                    priority=10,
                )
            )
    for run in obs.runs:
        if run.data.get("api") == "fit_generator":
            found.append(
                Finding(
                    code=CODE,
                    severity="warning",
                    title="fit_generator() is deprecated: it works on Keras 2 only",
                    evidence={"api": "fit_generator"},
                    fix="Call fit() with the same arguments.",
                    stack=[run.stack],
                    call=run.call,
                    line=(run.data.get("call_site") or {}).get("line"),
                )
            )
    return found


def static(facts: dict, where) -> list[Finding]:
    """A call of fit_generator(), which Keras 3 does not have."""
    return [
        static_finding(
            CODE,
            "warning",
            "fit_generator() does not exist in Keras 3",
            "Call fit() with the same arguments: "
            f"`{call['code'].replace('fit_generator(', 'fit(', 1)}`",
            call["line"],
        )
        for call in facts.get("fit_calls", [])
        if call["method"] == "fit_generator"
    ]
