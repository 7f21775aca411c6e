"""Helpers more than one rule needs: how long a pass over a source is, whether a run
ran dry, what an iterator's type says. Rules import these from here, never from one
another."""

from __future__ import annotations

import math
from collections import Counter

from diagnostics.rules.base import Finding, Observations, floors_to_zero, static_finding

FINITE_KINDS = ("sequence", "arrays", "tf-dataset")  # sources that end after one pass


def batch_rows(run) -> int | None:
    """The usual number of rows in a batch (the most common one observed)."""
    rows = Counter(b["rows"] for b in run.batches if b.get("rows"))
    if rows:
        return rows.most_common(1)[0][0]
    size = run.fit.get("batch_size")
    return size if isinstance(size, int) and size > 0 else None


def _rows_per_pass(run) -> int | None:
    """Samples in one pass: the coverage array's rows, else what one full pass trained."""
    info = run.info
    if info.get("data_rows"):
        return info["data_rows"]
    if info.get("source_exhausted") or any(e.get("replayed_batches") for e in run.epochs):
        return None  # a source that ran dry: what it produced is not "the data"
    seen, trained = info.get("samples_seen_total"), sum(b.get("rows") or 0 for b in run.batches)
    if seen and trained > seen:  # the data came round again: every sample was seen
        return seen
    one_pass = run.pass_length
    first = [b.get("rows") for b in run.batches[: one_pass or 0]]
    if one_pass and len(first) == one_pass and all(first):
        return sum(first)
    return None


def counted_rows(run) -> int | None:
    """The sample count that `steps_per_epoch` equals, when it counts samples; else None."""
    steps = run.steps_per_epoch
    if isinstance(steps, bool) or not isinstance(steps, int | float) or steps <= 1:
        return None
    batch = batch_rows(run)
    rows = _rows_per_pass(run)
    if not batch or batch < 2 or not rows or steps != rows:
        return None
    if run.pass_length and run.pass_length == rows:
        return None  # batches of one sample: steps == rows is right
    return rows


def written_as(obs: Observations) -> str | None:
    """How the code spells steps_per_epoch, when the fit() calls that set it agree."""
    spelled = {
        c["kwargs"]["steps_per_epoch"]
        for c in obs.facts.get("fit_calls", [])
        if "steps_per_epoch" in c.get("kwargs", {})
    }
    return spelled.pop() if len(spelled) == 1 else None


def ran_out(run) -> bool:
    """A finite tf.data.Dataset ran out under steps_per_epoch (observed, not assumed)."""
    if run.kind != "tf-dataset" or run.info.get("infinite") or run.steps_per_epoch is None:
        return False
    if run.pass_length == 0:
        return False  # an empty dataset: empty-epoch's
    return run.stopped_by == "data-exhausted" or bool(short_epochs(run))


KINDS = {"sequence": "Sequence", "arrays": "arrays"}


def steps_asked(run) -> float | None:
    """fit()'s steps_per_epoch as a number, or None (not given, or not a number)."""
    steps = run.steps_per_epoch
    if isinstance(steps, bool):
        return None
    try:
        return float(steps)
    except (TypeError, ValueError):
        return None


def too_large(run) -> bool:
    """steps_per_epoch exceeds one pass of a Sequence or of arrays, and training showed it."""
    steps = steps_asked(run)
    if run.kind not in KINDS or steps is None or not run.pass_length or run.info.get("infinite"):
        return False
    return steps > run.pass_length and bool(run.complete_epochs)


ITERATOR_TYPES = frozenset(
    {
        "iterator",
        "callable_iterator",
        "zip",
        "map",
        "filter",
        "enumerate",
        "reversed",
        "chain",
        "islice",
        "starmap",
        "compress",
        "takewhile",
        "dropwhile",
        "filterfalse",
        "accumulate",
        "groupby",
        "zip_longest",
        "pairwise",
        "batched",
        "_tee",
        "product",
        "permutations",
        "combinations",
        "combinations_with_replacement",
        "reader",  # csv.reader
    }
)


ENDLESS_ITERATORS = frozenset({"cycle", "count", "repeat"})  # itertools: never run dry


def is_iterator_type(name: str | None) -> bool:
    """A plain iterator's type name (list_iterator, zip, map, itertools.cycle, ...)."""
    if not name:
        return False
    return name in ITERATOR_TYPES or name in ENDLESS_ITERATORS or name.endswith("iterator")


def is_single_pass(name: str | None) -> bool:
    return is_iterator_type(name) and name not in ENDLESS_ITERATORS


def ran_dry(run) -> bool:
    """The source ran out while fit() wanted more: a rule about the source explains the run."""
    if run.kind == "generator" and run.info.get("source_exhausted"):
        return True
    if any(e.get("replayed_batches") for e in run.epochs):
        return True
    if run.stopped_by == "data-exhausted":
        return True
    if ran_out(run) or too_large(run):
        return True
    return run.kind in FINITE_KINDS and counted_rows(run) is not None


def per_epoch(run) -> int | None:
    if run.expected:
        return run.expected
    try:
        return math.ceil(float(run.steps_per_epoch))
    except (TypeError, ValueError):
        return None


def short_epochs(run) -> list[dict]:
    """Completed epochs that trained fewer batches than steps_per_epoch asks for."""
    asked = per_epoch(run)
    if not asked:
        return []
    return [
        e for e in run.complete_epochs if not e.get("capped") and e["observed_batches"] < asked
    ]


def floored_counts(facts: dict, argument: str, code: str, consequence: str) -> list[Finding]:
    """Static findings for a fit() `argument` (steps_per_epoch, validation_steps) written
    as a division that rounds down, also through a name bound once: 0 whenever the data
    is smaller than one batch. `consequence`: what follows, in a few words."""
    found = []
    for call in facts.get("fit_calls", []):
        expression = (call.get("values") or call["kwargs"]).get(argument)
        if expression and floors_to_zero(expression):
            found.append(
                static_finding(
                    code,
                    "warning",
                    f"{argument}={expression} is 0 whenever the data is smaller than one "
                    f"batch ({consequence})",
                    "Use `max(1, math.ceil(...))` of the same division.",
                    call["line"],
                    {"expression": expression},
                )
            )
    return found


def is_zero_count(value) -> bool:
    """A steps count of 0 as the code gave it (0, 0.0; not False, not None)."""
    try:
        return value is not None and not isinstance(value, bool) and float(value) == 0
    except (TypeError, ValueError):
        return False
