"""sequence-ignores-index

## What it does
Finds a `keras.utils.Sequence` / `PyDataset` whose `__getitem__` returns the
same rows for different indices: Keras asks for batches `0 .. len() - 1`, but
within one epoch identical batches come back, or the batches overlap so that
an epoch trains far fewer distinct samples than rows.

It is an error when the report shows harm: rows the Sequence holds are never
trained on, or consecutive batches overlap (batch `index` is not batch number
`index`). The same batch for every index with nothing left out (synthetic
batches, a toy Sequence, random augmentation by design) is information only.
An endless PyDataset (`num_batches` is None) may serve its data round and round,
and is not checked.

## Why is this bad?
Keras trusts `__getitem__(index)` to return batch number `index`. If the index
is not used (`self.x[:self.batch_size]`), or used without the batch size
(`self.x[index:index + self.batch_size]`, which shifts the window by one row
per batch), every epoch trains on the same handful of rows again and again.
Training runs, the loss goes down (the model memorises those rows), and most
of the data set is never seen.

## Example
```python
class Batches(keras.utils.PyDataset):
    def __getitem__(self, index):
        rows = slice(index, index + self.batch_size)         # forgot * batch_size
        return self.x[rows], self.y[rows]
```

## Use instead
```python
class Batches(keras.utils.PyDataset):
    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]
```

## Keras 2 vs Keras 3
Both ask for the same indices, and get the same rows back: the same on both stacks.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, batch_hashes, plural

CODE = "sequence-ignores-index"
SEVERITY = "error"
TITLE = "the Sequence returns the same rows for different indices"
PRIORITY = 20


def _first_bad_epoch(run, share: float, never_seen: int):
    """(epoch, distinct batches, batches) of the first epoch that trained at most `share`
    distinct samples per row, with identical batches or rows never seen; else None."""
    for epoch in run.complete_epochs:
        seen, trained = epoch.get("samples_seen"), epoch.get("rows_trained")
        if not seen or not trained or seen > share * trained:
            continue
        hashes = [
            h for b in run.batches if b.get("epoch") == epoch["epoch"] for h in batch_hashes(b)
        ]
        distinct = len(set(hashes))
        if distinct < len(hashes) or never_seen:
            return epoch, distinct, len(hashes)
    return None


def check(obs: Observations, *, share: float = 0.5) -> list[Finding]:
    """`share`: an epoch counts when its distinct samples are at most this share of the
    rows it trained (duplicated rows in the data itself are told apart by requiring
    identical batches within the epoch, or rows of the data that were never trained)."""
    found = []
    for run in obs.runs:
        if run.kind != "sequence" or run.info.get("infinite"):
            continue  # an endless PyDataset may serve its data round and round
        never_seen = run.info.get("never_seen_rows") or 0
        rows = run.info.get("data_rows")
        bad = _first_bad_epoch(run, share, never_seen)
        if bad is None:
            continue
        epoch, distinct, batches = bad
        seq = next(iter(obs.facts.get("sequences", [])), None)
        name = run.source.get("type") or (seq["name"] if seq else "the Sequence")
        indices = run.source.get("indices_requested") or []
        asked = sorted(set(indices))
        asked_text = (
            f"indices {asked[0]}-{asked[-1]}" if asked and len(asked) > 1 else "its indices"
        )
        what = (
            f"{plural(distinct, 'distinct batch')} out of {batches}"
            if distinct < batches
            else f"{batches} overlapping batches"
        )
        summary = (
            f"each epoch trains only {epoch['samples_seen']} distinct samples in "
            f"{epoch['rows_trained']} rows: Keras asks {name} for {asked_text} and gets "
            f"{what} back"
            + (
                f" ({never_seen} of {rows} rows are never trained on)"
                if never_seen and rows
                else ""
            )
        )
        # Harm: data the Sequence holds is never trained, or batches overlap (each index
        # shifts a window, so batch `index` is not batch number `index`). The same batch
        # for every index, with nothing left out, may be synthetic data by design.
        overlapping = distinct == batches
        harmful = bool(never_seen) or overlapping
        if not harmful:
            summary = (
                f"{name} returns the same batch for different indices ({what}); nothing it "
                "holds is left out, so this may be by design (synthetic or fixed batches)"
            )
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY if harmful else "info",
                title=f"{name}.__getitem__ returns the same rows for different indices: "
                f"{epoch['samples_seen']} distinct samples in {epoch['rows_trained']} rows "
                "trained per epoch"
                + ("" if harmful else " (nothing it holds is left out)"),
                evidence={
                    "samples_seen_per_epoch": [e.get("samples_seen") for e in run.complete_epochs],
                    "rows_trained_per_epoch": [e.get("rows_trained") for e in run.complete_epochs],
                    "distinct_batches": distinct,
                    "batches": batches,
                    "indices_requested": indices[:20],
                    "data_rows": rows,
                    "never_seen_rows": never_seen,
                },
                fix=f"In {name}.__getitem__, select the rows of batch `index`: "
                "`rows = slice(index * self.batch_size, (index + 1) * self.batch_size)`, then "
                "return `self.x[rows], self.y[rows]` (use your own array names).",
                stack=[run.stack],
                call=run.call,
                summary={run.stack: summary},
                line=None,
                priority=PRIORITY,
            )
        )
    return found
