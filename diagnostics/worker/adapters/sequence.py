"""`keras.utils.Sequence` / `PyDataset`: Keras indexes batches 0..len()-1.

The instance keeps its identity and its class checks: it is moved to a
subclass created on the fly whose `__getitem__` records and delegates, and is
moved back once fit returns.
"""

from __future__ import annotations

import os

import numpy as np

from diagnostics.worker.adapters.base import SourceAdapter, array_candidates

MAX_RECORDED_INDICES = 100_000


class SequenceAdapter(SourceAdapter):
    kind = "sequence"
    counts_production = True

    def __init__(self, source, **kw):
        super().__init__(source, **kw)
        self.indices: list[int] = []
        # A Sequence already being observed (one object passed twice) keeps its real class.
        self._original_class = getattr(type(source), "__fitprobe_original__", type(source))
        try:
            if hasattr(type(source), "num_batches"):
                # Keras 3's PyDataset: Keras reads num_batches (which falls back to
                # __len__), and None means an endless stream, whatever __len__ says.
                batches = source.num_batches
                self.infinite = batches is None
                self.pass_length = None if batches is None else int(batches)
            else:
                self.pass_length = int(len(source))
        except Exception:  # a broken __len__ surfaces in fit, where Keras calls it
            self.pass_length = None

    @staticmethod
    def can_handle(x) -> bool:
        bases = {c.__name__ for c in type(x).__mro__}
        return bool(bases & {"Sequence", "PyDataset"}) and hasattr(x, "__getitem__")

    def wrap(self):
        original = self._original_class
        adapter = self

        def __getitem__(seq, index):
            item = adapter._timed(lambda: original.__getitem__(seq, index))
            adapter.produced += 1
            adapter.last_item = item
            if len(adapter.indices) < MAX_RECORDED_INDICES:
                adapter.indices.append(int(index))
            return item

        observed = type(
            original.__name__,
            (original,),
            {
                "__getitem__": __getitem__,
                "__module__": original.__module__,
                "__qualname__": original.__qualname__,
                "__fitprobe_original__": original,
            },
        )
        try:
            self.source.__class__ = observed
        except TypeError:  # e.g. __slots__ layouts; the source stays unobserved
            self.counts_production = False
        if getattr(self.source, "_use_multiprocessing", False):
            # keras PyDataset(workers>1, use_multiprocessing=True): __getitem__ runs in
            # forked processes, where this adapter cannot count.
            self.counts_production = False
        return self.source

    def restore(self) -> None:
        if type(self.source) is not self._original_class:
            try:
                self.source.__class__ = self._original_class
            except TypeError:
                pass

    def candidates(self):
        found = array_candidates(getattr(self.source, "__dict__", {}))
        getitem = getattr(self._original_class, "__getitem__", None)
        if hasattr(getitem, "__code__"):
            found += self._globals_used(getitem.__code__, getitem.__globals__)
        return found

    def summary(self) -> dict:
        out = super().summary()
        out["type"] = self._original_class.__name__
        out["indices_requested"] = self.indices[:1000]
        out["held_samples"] = held_samples(getattr(self.source, "__dict__", {}))
        return out


def held_samples(namespace: dict) -> dict | None:
    """The sample list a Sequence holds, when it holds its samples by name rather than as
    arrays: file names (a list or array of strings, a pandas Series or DataFrame of them)
    or, failing that, an index array it draws batches through. {attribute, count, kind}.

    Rows that come from files cannot be matched to an array, so this is how many samples
    there are to cover; the probe compares it with what each epoch trained."""
    best = None
    for name, value in namespace.items():
        if name.startswith("__"):
            continue
        found = _sample_list(value)
        if found is None:
            continue
        kind, count = found
        rank = (kind == "file names", kind == "table rows", count)
        if count >= 2 and (best is None or rank > best[0]):
            best = (rank, {"attribute": name, "count": count, "kind": kind})
    return best[1] if best else None


def _sample_list(value) -> tuple[str, int] | None:
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, str | os.PathLike) for v in value[:50]):
            return "file names", len(value)
        return None
    kind = type(value).__name__
    if kind in ("DataFrame", "Series") and hasattr(value, "__len__"):
        return "table rows", len(value)
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size:
        if value.dtype.kind in "US" or (
            value.dtype == object and isinstance(value.flat[0], str | os.PathLike)
        ):
            return "file names", int(value.size)
        if value.dtype.kind in "iu" and value.size <= 10_000_000:
            # an index array over the samples: a permutation of 0..n-1
            if np.array_equal(np.sort(value), np.arange(value.size)):
                return "indices", int(value.size)
    return None
