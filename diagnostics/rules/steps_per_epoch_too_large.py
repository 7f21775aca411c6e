"""steps-per-epoch-too-large

## What it does
Finds a `steps_per_epoch` larger than one pass over a source that ends: a
`keras.utils.Sequence` / `PyDataset` (more steps than its `len()`) or NumPy
arrays (more steps than `ceil(rows / batch_size)`). Generators and
`tf.data.Dataset`s have their own rules (`finite-generator-exhausted`,
`dataset-exhausted`).

## Why is this bad?
A Sequence holds `len()` batches and arrays hold `ceil(rows / batch_size)`;
asking for more batches per epoch than that does not make Keras loop over the
data. It runs out instead, warns "Your input ran out of data", and then:
- **Keras 2** stops training after the first epoch with a Sequence (5 batches,
  `steps_per_epoch=10`, `epochs=2`: 5, then fit() returns); with arrays it
  reads `epochs` passes in one stream, so epochs are longer than one pass and
  the last ones come up short or empty (10 batches, `steps_per_epoch=15`,
  `epochs=3`: 15, 15, 0).
- **Keras 3** ends every epoch early, at the end of the data (5, 5): the run
  completes, but no epoch has the length the code asks for.

## Example
```python
class Batches(keras.utils.PyDataset):
    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)     # 10 batches

model.fit(Batches(x, y, 10), steps_per_epoch=15, epochs=3)
```

## Use instead
```python
model.fit(Batches(x, y, 10), epochs=3)       # one pass (len() batches) per epoch
```
Leave `steps_per_epoch` out for a Sequence or arrays: Keras knows their length.

## Keras 2 vs Keras 3
Keras 2 stops training (Sequence) or shifts and empties epochs (arrays); Keras 3
runs every epoch, each cut at the end of the data.

## Automatic fix
fitprobe can make the edit: `steps_per_epoch` is left out of the fit() call.
"""

from __future__ import annotations

import math

from diagnostics.rules import _fixes
from diagnostics.rules._shared import KINDS, batch_rows, counted_rows, too_large
from diagnostics.rules.base import RAN_OUT_OF_DATA, Finding, Observations, listing, plural

CODE = "steps-per-epoch-too-large"
SEVERITY = "error"
TITLE = "steps_per_epoch is larger than the data"
PRIORITY = 35


def _fix(run, one_pass: int) -> str:
    fix = (
        f"Leave steps_per_epoch out: fit() then trains one pass ({one_pass} batches) per "
        f"epoch; or set steps_per_epoch={one_pass} at most."
    )
    rows, batch = run.info.get("data_rows"), batch_rows(run)
    if run.kind == "sequence" and rows and batch and math.ceil(rows / batch) > one_pass:
        fix += (
            f" Its data holds {math.ceil(rows / batch)} batches: fix __len__ first "
            "(see sequence-len-too-small)."
        )
    return fix


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if not too_large(run) or counted_rows(run) is not None:
            continue  # a steps_per_epoch that counts samples is steps-count-samples'
        steps = run.steps_per_epoch
        one_pass = run.pass_length
        sequence = run.kind == "sequence"
        what = "the Sequence" if sequence else "the arrays"
        holds = f"{what} hold{'s' if sequence else ''} {plural(one_pass, 'batch')}"
        done = len(run.complete_epochs)
        if run.stopped_by == "data-exhausted":
            summary = (
                f"training stops after {plural(done, 'epoch')} of {run.epochs_asked}: "
                f"steps_per_epoch={steps} but {holds}"
            )
        else:
            summary = (
                f"steps_per_epoch={steps} but {holds}: the input runs out and epochs train "
                f"{listing(run.trained)} batches"
            )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"steps_per_epoch={steps} is more than the {plural(one_pass, 'batch')} "
                f"{what} hold{'s' if sequence else ''}",
                evidence={
                    "steps_per_epoch": steps,
                    "batches_per_pass": one_pass,
                    "pass_measured_by": run.info.get("pass_length_measured_by"),
                    "trained_per_epoch": run.trained,
                    "stopped_by": run.stopped_by,
                    "ran_out_warning": run.warned(RAN_OUT_OF_DATA),
                },
                fix=_fix(run, one_pass),
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found


def fix(source: str, finding: dict, report: dict) -> str | None:
    """steps_per_epoch left out: fit() then trains one pass of the Sequence or arrays."""
    return _fixes.apply(source, lambda code: _one_pass(code, finding, report))


def _one_pass(code: _fixes.Code, finding: dict, report: dict):
    call = _fixes.fit_call(code, report, finding)
    if call is None or not any(r.kind in KINDS for r in _fixes.runs(report, finding)):
        return None
    return _fixes.leave_out_steps(code, call, _fixes.evidence(finding).get("batches_per_pass"))
