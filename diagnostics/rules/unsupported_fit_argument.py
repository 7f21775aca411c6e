"""unsupported-fit-argument

## What it does
Finds a fit() call that Keras rejected because of its arguments: most often
Keras 2's data-loading arguments `workers`, `use_multiprocessing` and
`max_queue_size`, which Keras 3's fit() no longer takes; also misspelt names
and Keras 1 leftovers such as `nb_epoch`.

## Why is this bad?
The script stops at the fit() line with `TypeError: ... fit() got an
unexpected keyword argument 'workers'`, before any training. In Keras 3,
parallel loading is a property of the data, not of the fit() call: a
`keras.utils.PyDataset` takes `workers`, `use_multiprocessing` and
`max_queue_size` in its constructor. (A plain Python generator is always read
by a single thread in Keras 3.)

## Example
```python
model.fit(batches, epochs=5, workers=4, use_multiprocessing=True)
```

## Use instead
```python
class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)        # workers, use_multiprocessing, max_queue_size
        ...

model.fit(Batches(x, y, 32, workers=4, use_multiprocessing=True), epochs=5)
```

## Keras 2 vs Keras 3
Keras 2's fit() accepts `workers`, `use_multiprocessing` and `max_queue_size`;
Keras 3's raises `TypeError`. Other unknown names fail on both.
"""

from __future__ import annotations

import difflib
import re

from diagnostics.rules.base import Finding, Observations, listing, static_finding

CODE = "unsupported-fit-argument"
SEVERITY = "error"
TITLE = "fit() was given an argument it does not accept"
PRIORITY = 10

# inspect.signature(keras.Model.fit), Keras 3.15 (keras/src/trainers/trainer.py)
KERAS3_FIT = (
    "x",
    "y",
    "batch_size",
    "epochs",
    "verbose",
    "callbacks",
    "validation_split",
    "validation_data",
    "shuffle",
    "class_weight",
    "sample_weight",
    "initial_epoch",
    "steps_per_epoch",
    "validation_steps",
    "validation_batch_size",
    "validation_freq",
)
# tf_keras/src/engine/training.py: Keras 2's fit() also takes these; Keras 3 moved them
# to keras.utils.PyDataset.__init__
LOADER_ARGUMENTS = ("workers", "use_multiprocessing", "max_queue_size")
FIT_PARAMETERS = {"keras3": KERAS3_FIT, "keras2": KERAS3_FIT + LOADER_ARGUMENTS}
# Keras 1 names that old tutorials still use
RENAMED = {
    "nb_epoch": "epochs",
    "samples_per_epoch": "steps_per_epoch (a number of batches, not samples)",
    "nb_val_samples": "validation_steps (a number of batches, not samples)",
}
UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")


def _fit_call(obs: Observations, line: int | None) -> dict:
    calls = obs.facts.get("fit_calls", [])
    at_line = [c for c in calls if line is not None and c.get("line") == line]
    if at_line:
        return at_line[0]
    return calls[0] if len(calls) == 1 else {}


def _fix(rejected: list[str], call: dict, params) -> str:
    kwargs = call.get("kwargs") or {}
    loader = [a for a in rejected if a in LOADER_ARGUMENTS]
    parts = []
    if loader:
        given = ", ".join(f"{a}={kwargs[a]}" if a in kwargs else f"{a}=..." for a in loader)
        parts.append(
            f"Remove {listing(loader)} from fit(). In Keras 3 they belong to the data: "
            "subclass keras.utils.PyDataset and pass them to its constructor, "
            f"`super().__init__({given})` (a plain generator is read by one thread in Keras 3)."
        )
    for name in rejected:
        if name in LOADER_ARGUMENTS:
            continue
        if name in RENAMED:
            parts.append(f"`{name}` is a Keras 1 name: use {RENAMED[name]}.")
            continue
        close = difflib.get_close_matches(name, params, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        parts.append(f"fit() has no argument `{name}`.{hint}")
    return " ".join(parts)


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        exc = run.exception or {}
        match = UNEXPECTED.search(exc.get("message") or "")
        if exc.get("type") != "TypeError" or not match or run.data.get("arguments_bound", True):
            continue
        params = FIT_PARAMETERS.get(run.stack, KERAS3_FIT)
        line = exc.get("line") or (run.data.get("call_site") or {}).get("line")
        call = _fit_call(obs, line)
        # Python names only the first unknown keyword; the code shows them all.
        rejected = []
        if run.data.get("api", "fit") == "fit":
            rejected = [k for k in (call.get("kwargs") or {}) if k not in params]
        if match.group(1) not in rejected:
            rejected.insert(0, match.group(1))
        loader_only = all(a in LOADER_ARGUMENTS for a in rejected)
        why = " (Keras 2 arguments)" if loader_only and run.stack == "keras3" else ""
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"fit() does not accept {listing(rejected)}{why}: it raises TypeError "
                "before training",
                evidence={
                    "rejected": rejected,
                    "exception": exc.get("type"),
                    "message": (exc.get("message") or "")[:300],
                    "line": line,
                },
                fix=_fix(rejected, call, params),
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"fit() stops at once with TypeError: it does not accept "
                    f"{listing(rejected)}{why}"
                },
                line=line,
                priority=PRIORITY,
            )
        )
    return found


KERAS2_ONLY = ("workers", "use_multiprocessing", "max_queue_size")


def static(facts: dict, where) -> list[Finding]:
    """fit() given arguments that Keras 3's fit() no longer takes."""
    found = []
    for call in facts.get("fit_calls", []):
        bad = [k for k in KERAS2_ONLY if k in call["kwargs"]]
        if bad and call["method"] == "fit":
            found.append(
                static_finding(
                    CODE,
                    "warning",
                    f"fit() is given {', '.join(bad)}, which Keras 3's fit() does not accept",
                    "Remove them from fit(). In Keras 3 they belong to the PyDataset: "
                    "`super().__init__(workers=2, use_multiprocessing=True)`.",
                    call["line"],
                    {"arguments": bad},
                )
            )
    return found
