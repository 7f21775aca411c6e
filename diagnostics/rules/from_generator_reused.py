"""from-generator-reused

## What it does
Finds a `tf.data.Dataset.from_generator` whose function hands tf.data the same
generator object on every pass: `from_generator(lambda: gen, ...)` with `gen =
rows()` made once. The probe watches the function (public API) and counts the
calls that returned an object it had returned before, already used up.

## Why is this bad?
tf.data calls the function once per pass over the dataset: every `.repeat()`
round and every new iterator Keras makes. A generator object can be iterated
only once, so the first pass gets the data and every later call gets the same,
finished generator: nothing. Keras 3 then trains empty epochs (their loss is
not a measurement); Keras 2 stops training after the first epoch with "Your
input ran out of data". The batches give no hint why: it looks like a data set
that is too short.

## Example
```python
gen = rows(x, y)                                        # made once
ds = tf.data.Dataset.from_generator(lambda: gen, output_signature=spec).batch(32).repeat()
model.fit(ds, steps_per_epoch=10, epochs=5)             # epochs 1-4 get nothing
```

## Use instead
```python
ds = tf.data.Dataset.from_generator(lambda: rows(x, y), output_signature=spec)
```
or pass the generator function itself (`from_generator(rows, args=(...), ...)`):
each pass then starts a fresh generator.

## Keras 2 vs Keras 3
Keras 3 trains the later epochs empty; Keras 2 stops after the first epoch.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, listing, plural, static_finding

CODE = "from-generator-reused"
SEVERITY = "error"
TITLE = "from_generator gets the same, used-up generator object on every pass"
PRIORITY = 10


def _fresh(made_by: str | None) -> str:
    """`lambda: rows(x, y)` for a generator made by `rows(x, y)`."""
    return f"lambda: {made_by}" if made_by else "the generator function itself"


def check(obs: Observations) -> list[Finding]:
    found = []
    made = {f["line"]: f for f in obs.facts.get("from_generator", [])}
    for run in obs.runs:
        reused = [s for s in run.data.get("from_generator") or [] if s.get("reused")]
        if not reused:
            continue
        source = reused[0]
        static = made.get(source.get("line")) or {}
        code = static.get("code") or (
            "`lambda: ...`" if source.get("function") == "<lambda>" else source.get("function")
        )
        first = run.epochs[0]["observed_batches"] if run.epochs else 0
        empty = [e["epoch"] for e in run.complete_epochs[1:] if e["observed_batches"] == 0]
        because = (
            f"`{code}` hands tf.data the same generator object on every pass, used up after "
            f"the first ({plural(first, 'batch')})"
        )
        if run.stopped_by == "data-exhausted":
            real = len([e for e in run.complete_epochs if e["observed_batches"]])
            summary = f"training stops after {plural(real, 'epoch')} with data: {because}"
        elif empty:
            summary = f"epoch {listing(empty)} train{'s' if len(empty) == 1 else ''} nothing: "
            summary += because
        else:
            summary = f"every pass after the first gets nothing: {because}"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"from_generator's function `{code}` returns the same generator object "
                f"on every pass ({source['reused']} of {source['calls']} calls)",
                evidence={
                    **source,
                    "made_by": static.get("made_by"),
                    "trained_per_epoch": run.trained,
                },
                fix=f"Give from_generator a function that makes a new generator on each call: "
                f"`{_fresh(static.get('made_by'))}`, or pass the generator function itself "
                "with `args=(...)`.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                line=source.get("line"),
                priority=PRIORITY,
            )
        )
    return found


def static(facts: dict, where) -> list[Finding]:
    return [
        static_finding(
            CODE,
            "warning",
            f"from_generator({f['code']}) returns `{f['returns']}`, one generator object made "
            f"once by `{f['made_by']}`: every pass after the first gets nothing",
            f"Use `lambda: {f['made_by']}` so each pass starts a fresh generator.",
            f["line"],
            {"returns": f["returns"], "made_by": f["made_by"]},
        )
        for f in facts.get("from_generator", [])
    ]
