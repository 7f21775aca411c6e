"""dataset-exhausted

## What it does
Finds a finite `tf.data.Dataset` (no `.repeat()`) that ran out of batches while
fit() still wanted more: `steps_per_epoch` × `epochs` is more than one pass over
the dataset, so some epoch reached the end of the data before its
`steps_per_epoch` batches.

## Why is this bad?
With `steps_per_epoch` set, Keras does not start a fresh pass over the dataset
at every epoch: it keeps reading the same iterator until it has
`steps_per_epoch` × `epochs` batches, and a dataset without `.repeat()` holds
only one pass. Where it ends, training does not do what the code says:
- **Keras 2** logs "Your input ran out of data" and stops: fit() returns after
  fewer epochs than asked (10 batches, `steps_per_epoch=20`: one epoch, then
  nothing).
- **Keras 3** logs the same warning and starts the dataset again at the next
  epoch, but the epoch in which it ran out is cut short (`steps_per_epoch=4`
  over 10 batches: 4, 4, 2, 4, 4), and with `steps_per_epoch` larger than
  the dataset no epoch ever has `steps_per_epoch` batches.

## Example
```python
dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)   # 10 batches
model.fit(dataset, steps_per_epoch=20, epochs=5)                  # asks for 100
```

## Use instead
```python
dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10).repeat()
model.fit(dataset, steps_per_epoch=20, epochs=5)   # 2 passes per epoch, as asked
```
or leave `steps_per_epoch` out: fit() then makes one full pass per epoch.

## Keras 2 vs Keras 3
Keras 2 stops training at the end of the data; Keras 3 keeps training but cuts
the epoch in which the data ends, then restarts the dataset.

## Automatic fix
fitprobe can make the edit: `.repeat()` at the end of the dataset fit() is given (where
the dataset is built, when it is a name bound once and used only there).
"""

from __future__ import annotations

from diagnostics.rules import _fixes
from diagnostics.rules._shared import counted_rows, ran_out, short_epochs
from diagnostics.rules.base import RAN_OUT_OF_DATA, Finding, Observations, listing, plural

CODE = "dataset-exhausted"
SEVERITY = "error"
TITLE = "a finite tf.data.Dataset ran out of batches"
PRIORITY = 30


def _measured_pass(run) -> int | None:
    """Batches in one pass: the dataset's cardinality, else what was trained until it ran out."""
    if run.pass_length:
        return run.pass_length
    short = short_epochs(run)
    if short:
        return sum(e["observed_batches"] for e in run.epochs if e["epoch"] <= short[0]["epoch"])
    return sum(run.trained) or None


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        if not ran_out(run) or counted_rows(run) is not None:
            continue  # a steps_per_epoch that counts samples is steps-count-samples'
        one_pass = _measured_pass(run)
        steps = run.steps_per_epoch
        asked = run.total_asked()
        short = short_epochs(run)
        holds = f"holds {plural(one_pass, 'batch')}" if one_pass else "ran out"
        if run.stopped_by == "data-exhausted":
            summary = (
                f"training stops after {plural(len(run.complete_epochs), 'epoch')} of "
                f"{run.epochs_asked}: your dataset {holds} (no .repeat()) but fit asks for "
                f"steps_per_epoch × epochs = {asked}"
            )
        else:
            cut = (
                "every epoch"
                if len(short) == len(run.complete_epochs)
                else "epoch " + listing(e["epoch"] for e in short)
            )
            summary = (
                f"your dataset {holds} (no .repeat()), fewer than steps_per_epoch × epochs = "
                f"{asked}: {cut} stopped where the data ran out (batches per epoch "
                f"{listing(run.trained)} instead of {steps})"
            )
        if one_pass and float(steps) > one_pass:
            keep = f"keep steps_per_epoch={steps} ({float(steps) / one_pass:g} passes per epoch)"
        else:
            keep = f"keep steps_per_epoch={steps} (each epoch then starts where the last ended)"
        rest = f"one pass of {one_pass} batches" if one_pass else "one full pass"
        fix = (
            f"Add `.repeat()` at the end of the dataset pipeline and {keep}, or leave "
            f"steps_per_epoch out so each epoch is {rest}."
        )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"the dataset {holds} but fit() asked for {asked} "
                f"(steps_per_epoch={steps} × {run.epochs_asked} epochs)",
                evidence={
                    "batches_per_pass": one_pass,
                    "steps_per_epoch": steps,
                    "asked": asked,
                    "trained_per_epoch": run.trained,
                    "short_epochs": [e["epoch"] for e in short],
                    "stopped_by": run.stopped_by,
                    "ran_out_warning": run.warned(RAN_OUT_OF_DATA),
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found


def fix(source: str, finding: dict, report: dict) -> str | None:
    """`.repeat()` at the end of the dataset's pipeline, so that it never runs out."""
    return _fixes.apply(source, lambda code: _repeated(code, finding, report))


def _repeated(code: _fixes.Code, finding: dict, report: dict):
    call = _fixes.fit_call(code, report, finding)
    data = _fixes.first_argument(call) if call is not None else None
    if data is None:
        return None
    what = f"fit()'s dataset `{code.text(data)}`"
    if isinstance(data, _fixes.cst.Name) and _fixes.read_once(code, data.value):
        statement = _fixes.bound_once(code, data.value)
        if statement is not None:  # built once, used only here: the pipeline itself repeats
            what = f"the dataset {data.value} (line {code.line(statement)})"
            data = statement.body[0].value
    if _repeats(data):
        return None
    steps = _fixes.evidence(finding).get("steps_per_epoch")
    return code.module.deep_replace(data, _with_repeat(data)), (
        f"{what} ends with .repeat(): it starts a new pass where one ends, so every epoch "
        f"trains the {steps} batches steps_per_epoch asks for"
    )


def _repeats(node) -> bool:
    """Whether the pipeline ends with .repeat(...) already (with a count: no plain fix)."""
    func = getattr(node, "func", None)
    return isinstance(func, _fixes.cst.Attribute) and func.attr.value == "repeat"


def _with_repeat(node):
    """`node.repeat()`; in a pipeline written one call a line inside parentheses,
    `.repeat()` gets a line of its own (each line keeps its end-of-line comment)."""
    cst = _fixes.cst
    bare = node.with_changes(lpar=[], rpar=[])
    if not node.lpar and not isinstance(node, cst.Name | cst.Attribute | cst.Call):
        bare = node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    dot, rpar = cst.Dot(), list(node.rpar)
    chain = getattr(getattr(bare, "func", None), "dot", None)
    layout = getattr(chain, "whitespace_before", None)
    close = rpar[-1].whitespace_before if rpar else None
    if isinstance(layout, cst.ParenthesizedWhitespace) and isinstance(
        close, cst.ParenthesizedWhitespace
    ):
        dot = cst.Dot(whitespace_before=layout.with_changes(first_line=close.first_line))
        end = close.with_changes(first_line=cst.TrailingWhitespace())
        rpar[-1] = rpar[-1].with_changes(whitespace_before=end)
    repeat = cst.Attribute(bare, cst.Name("repeat"), dot=dot)
    return cst.Call(repeat, lpar=node.lpar, rpar=rpar)
