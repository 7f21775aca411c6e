"""Python generators: Keras pulls batches with next() until StopIteration."""

from __future__ import annotations

import types

from diagnostics.worker.adapters.base import SourceAdapter, array_candidates


class GeneratorAdapter(SourceAdapter):
    kind = "generator"
    counts_production = True

    @staticmethod
    def can_handle(x) -> bool:
        return isinstance(x, types.GeneratorType)

    def __init__(self, source, **kw):
        super().__init__(source, **kw)
        self.function = source.gi_code.co_name  # the generator function's name
        frame = source.gi_frame
        # Before the first next(), the frame holds the generator's arguments:
        # usually the arrays it slices batches from.
        self._candidates = []
        if frame is not None:
            self._candidates = array_candidates(dict(frame.f_locals))
            self._candidates += self._globals_used(source.gi_code, frame.f_globals)

    def wrap(self):
        source = self.source

        def observed():
            while True:
                try:
                    item = self._timed(lambda: next(source))
                except StopIteration:
                    self.exhausted = True
                    if self.pass_length is None:
                        self.pass_length = self.produced
                    return
                self.produced += 1
                self.last_item = item
                yield item

        return observed()

    def candidates(self):
        return self._candidates

    def summary(self) -> dict:
        return {**super().summary(), "function": self.function}
