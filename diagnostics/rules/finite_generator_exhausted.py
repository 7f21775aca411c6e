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

## Automatic fix
fitprobe can make the edit: the generator's body (below its docstring) goes inside
`while True:`; a fit() call without `steps_per_epoch` gets one pass's worth, without
which the first epoch of an endless generator would never end.
"""

from __future__ import annotations

from diagnostics.rules import _fixes
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


def fix(source: str, finding: dict, report: dict) -> str | None:
    """The generator loops forever: `while True:` around its body."""
    return _fixes.apply(source, lambda code: _endless(code, finding, report))


def _endless(code: _fixes.Code, finding: dict, report: dict):
    runs = _fixes.runs(report, finding)
    call = _fixes.fit_call(code, report, finding)
    name = _generator_name(code, call, runs)
    generator = _fixes.function(code, name) if name else None
    if generator is None or not _loopable(generator):
        return None
    summary = f"The body of {name}() goes inside `while True:`, so it starts a new pass "
    summary += "whenever one ends"
    if call is None and any(r.steps_per_epoch is None for r in runs):
        return None  # it needs steps_per_epoch, in a fit() call not found
    if call is not None and _fixes.keyword(call, "steps_per_epoch") is None:
        added = _one_pass_steps(code, call, finding, report)
        if added is None:
            return None
        module, steps = added
        summary += f", and fit() gets steps_per_epoch={steps}: one pass per epoch"
        code = _fixes.read(module.code)
        generator = _fixes.function(code, name)
    return code.module.deep_replace(generator, _wrapped(generator)), summary


def _generator_name(code, call, runs) -> str | None:
    """The generator function fit() was given: as the probe saw it, else as called in
    fit()'s first argument."""
    name = next((r.source.get("function") for r in runs if r.source.get("function")), None)
    made = _fixes.one_pass(code, call).call if call is not None and name is None else None
    if made is not None and isinstance(made.func, _fixes.cst.Name):
        name = made.func.value
    return name


def _loopable(generator) -> bool:
    """A plain generator function: it yields, and no `return` would end the loop."""
    cst = _fixes.cst
    body = generator.body
    return (
        isinstance(body, cst.IndentedBlock)
        and bool(_fixes.own(body, cst.Yield))
        and not _fixes.own(body, cst.Return)
    )


def _one_pass_steps(code, call, finding, report):
    """(module, steps) with steps_per_epoch of one pass added to fit()."""
    batch = _fixes.measured_batch(report, finding)
    steps = _fixes.pass_steps(code, call, _fixes.new_keyword_site(code, call), batch)
    comment = None
    if steps is None:
        batches = _fixes.evidence(finding).get("batches_per_pass")
        if not batches:
            return None
        steps, comment = _fixes.cst.Integer(str(batches)), _fixes.MEASURED.format(batches)
    module = _fixes.add_keyword(code, call, "steps_per_epoch", steps, comment)
    if comment is None:  # math.ceil(...)
        module = _fixes.with_import(module, "math")
    return module, _fixes.source(steps)


def _wrapped(generator):
    """The function with its body (below the docstring) inside `while True:`; the
    comments and blank lines above the body stay above the loop."""
    cst = _fixes.cst
    statements = list(generator.body.body)
    keep = statements[:1] if _fixes.docstring(statements[0]) else []
    loop = statements[len(keep) :]
    above = loop[0].leading_lines
    loop[0] = loop[0].with_changes(leading_lines=())
    forever = cst.While(cst.Name("True"), cst.IndentedBlock(loop), leading_lines=above)
    return generator.with_changes(body=generator.body.with_changes(body=[*keep, forever]))
