"""`keras.utils.Sequence` / `PyDataset`: Keras indexes batches 0..len()-1.

The instance keeps its identity and its class checks: it is moved to a
subclass created on the fly whose `__getitem__` records and delegates, and is
moved back once fit returns.
"""

from __future__ import annotations

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
        return out
