"""validation-overlaps-training

## What it does
Finds validation rows that were also trained on in the same fit() call. The
probe fingerprints every row of every batch Keras trained on and every row it
validated on (x only, whole rows), and counts the rows both sets share.

## Why is this bad?
Validation is meant to measure data the model has not learnt from. Rows it
trained on make `val_loss` and `val_accuracy` look better than the model is,
and every decision made from them (EarlyStopping, ModelCheckpoint's
`save_best_only`, learning-rate schedules, the model you ship) rests on a leak.
The classic cause is a `take`/`skip` split of a dataset that reshuffles on every
iteration: `shuffle()` reshuffles by default each time the dataset is iterated,
so `take(n)` and `skip(n)` draw from different orders and share rows. Passing the
training arrays as `validation_data`, or splitting a list after the same rows
were copied into both parts, do the same.

The check stays quiet when the training data itself repeats rows (an epoch
trains fewer distinct rows than it trains), unless at least half of the
validation rows were trained on: identical rows then cannot tell a leak from
duplicates in the data.

## Example
```python
ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x))
train = ds.take(800).batch(32)       # each iteration reshuffles:
val = ds.skip(800).batch(32)         # val shares rows with train
```

## Use instead
```python
ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=0,
                                                      reshuffle_each_iteration=False)
train = ds.take(800).shuffle(800).batch(32)
val = ds.skip(800).batch(32)
```
or split first (`x[:800]`, `x[800:]`, or `validation_split=0.2`) and shuffle
the training part only.

## Keras 2 vs Keras 3
The same on both: the leak is in the data, not in Keras.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations

CODE = "validation-overlaps-training"
SEVERITY = "error"
TITLE = "validation rows were also trained on"
PRIORITY = 30


def _repeats_rows(run) -> bool:
    """The training data holds identical rows: an epoch trained fewer distinct rows than
    rows (and not because Keras replayed batches)."""
    for epoch in run.complete_epochs:
        seen, trained = epoch.get("samples_seen"), epoch.get("rows_trained")
        if seen and trained and not epoch.get("replayed_batches"):
            return seen < trained
    return False


def check(obs: Observations, *, duplicates_share: float = 0.5) -> list[Finding]:
    """`duplicates_share`: the share of validation rows that must have been trained on
    for a finding where the training data repeats rows itself."""
    found = []
    for run in obs.runs:
        overlap = run.info.get("validation_overlap") or {}
        shared, val_rows = overlap.get("shared_rows"), overlap.get("val_rows")
        if not shared or not val_rows:
            continue
        share = shared / val_rows
        if _repeats_rows(run) and share < duplicates_share:
            continue
        percent = f"{100 * share:.0f}%" if share >= 0.01 else f"{100 * share:.1g}%"
        source = run.validation_source.get("kind") or run.fit.get("validation")
        same = run.fit.get("validation") == "same-as-x"
        fix = (
            "Validate on rows the model does not train on. For a tf.data split, shuffle once "
            "with a fixed order before splitting (`shuffle(n, seed=0, "
            "reshuffle_each_iteration=False)`, then `take`/`skip`, and shuffle the training "
            "part only), or split the arrays first (`x[:n]`, `x[n:]`) or use "
            "`validation_split`."
        )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{shared} of {val_rows} validation rows ({percent}) were also trained on",
                evidence={
                    **overlap,
                    "share": round(share, 4),
                    "validation_source": source,
                    "training_repeats_rows": _repeats_rows(run),
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={
                    run.stack: f"{shared} of the {val_rows} validation rows ({percent}) were "
                    "also trained on, so val_loss measures "
                    + ("mostly" if share > 0.5 else "partly")
                    + " training data"
                    + (": validation is the training data" if same else "")
                },
                priority=PRIORITY,
            )
        )
    return found
