"""input-stalled

## What it does
Finds a fit() that was still running when the probe's time limit ran out
because its data source stopped delivering batches: no batch arrived at all,
or the batches that did arrive came quickly and then nothing more, for most of
the time the probe allowed.

## Why is this bad?
A source that blocks (a generator waiting on a queue nobody fills, a lock, a
socket, a worker process that died, `time.sleep` in a retry loop) does not
raise and does not end: Keras waits for the next batch forever. The progress
bar freezes mid-epoch, no callback runs, nothing is logged, and the script has
to be killed. It looks like a slow model, but the model is idle.

## Example
```python
def batches(queue):
    while True:
        yield queue.get()          # blocks forever once the producer has stopped
```

## Use instead
Never block without a limit inside a data source, and fail loudly when data
does not come:
```python
def batches(queue):
    while True:
        try:
            yield queue.get(timeout=30)
        except Empty:
            raise RuntimeError("no batch for 30 s: is the producer still running?")
```
Or build the input from data that is already there (arrays, a PyDataset, a
`tf.data.Dataset`).
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, plural

CODE = "input-stalled"
SEVERITY = "error"
TITLE = "the data source stopped delivering batches"
PRIORITY = 10


def _busy_seconds(run) -> float:
    """Seconds the run is known to have spent on epochs and trained batches."""
    total = 0.0
    for epoch in run.epochs:
        if not epoch.get("partial") and epoch.get("wall_s") is not None:
            total += epoch["wall_s"]
        else:
            total += sum(
                ((b.get("wait_ms") or 0) + (b.get("step_ms") or 0)) / 1000
                for b in run.batches
                if b.get("epoch") == epoch["epoch"]
            )
    return total


def check(obs: Observations, *, quiet_share: float = 0.5) -> list[Finding]:
    """`quiet_share`: a run that trained batches counts as stalled when the time its
    epochs and batches account for is less than this share of the time the probe
    had for the stack (its time limit minus the import of Keras)."""
    found = []
    limit = (obs.report.get("options") or {}).get("timeout")
    for run in obs.runs:
        if run.stopped_by != "timeout":
            continue
        last = run.epochs[-1] if run.epochs else None
        arrived = last["observed_batches"] if last and last.get("partial") else 0
        epoch = last["epoch"] if last and last.get("partial") else len(run.epochs)
        earlier = [r for r in obs.runs if r.stack == run.stack and r.call <= run.call]
        busy = sum(_busy_seconds(r) for r in earlier)
        imported = (obs.stacks.get(run.stack) or {}).get("import_s") or 0.0
        budget = (limit - imported) if limit else None
        if arrived and (budget is None or busy >= quiet_share * budget):
            continue  # batches kept coming: slow, not stalled
        expected = run.expected
        in_validation = bool(
            arrived and expected is not None and arrived >= expected and run.fit.get("validation")
        )
        if arrived and expected is not None and arrived >= expected and not in_validation:
            continue  # every batch of the epoch arrived: the hang is elsewhere
        if in_validation:
            what = "validation data"
            where = (
                f"epoch {epoch} trained all {plural(arrived, 'batch')}, then validation "
                "received nothing"
            )
        elif arrived:
            what = "data source"
            of = f" of {expected}" if expected else ""
            where = f"{arrived}{of} batches of epoch {epoch} arrived, then nothing"
        else:
            what = "data source"
            where = f"no batch arrived in epoch {epoch}" + (" (the first)" if epoch == 0 else "")
        if limit:
            summary = (
                f"training hangs: {where} before the probe's {limit:g} s time limit stopped "
                f"it (the batches account for {busy:.1f} s of the {budget:.0f} s it had after "
                "importing Keras)"
            )
        else:
            summary = f"training hangs: {where}"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"the {what} stopped delivering: {where}",
                evidence={
                    "epoch": epoch,
                    "batches_arrived": arrived,
                    "batches_per_epoch_expected": expected,
                    "epochs_completed": len(run.complete_epochs),
                    "busy_s": round(busy, 3),
                    "time_limit_s": limit,
                    "import_s": imported,
                },
                fix=f"Find what the {what} waits on after {plural(arrived, 'batch')} (a queue, "
                "a lock, a file or socket read, a worker process, a sleep in a retry loop) and "
                "give it a timeout that raises, so a stall becomes an error with a traceback. "
                "Run the source on its own (`next(iter(source))` in a loop) to reproduce it "
                "without the model.",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                priority=PRIORITY,
            )
        )
    return found
