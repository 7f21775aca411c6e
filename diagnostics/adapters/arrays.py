"""In-memory arrays (numpy, lists or dicts of them): Keras slices and shuffles them."""

from __future__ import annotations

import math

import numpy as np

from ..fingerprint import leading_dim
from .base import SourceAdapter, array_candidates

DEFAULT_BATCH_SIZE = 32  # keras: fit(batch_size=None) means 32 for arrays


class ArrayAdapter(SourceAdapter):
    kind = "arrays"

    def __init__(self, source, *, batch_size=None, **kw):
        super().__init__(source, **kw)
        first = source
        if isinstance(source, dict):
            first = next(iter(source.values()), None)
        elif isinstance(source, list | tuple):
            first = source[0] if source else None
        self.rows = leading_dim(first)
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE
        if self.rows is not None:
            self.pass_length = math.ceil(self.rows / self.batch_size)

    @staticmethod
    def can_handle(x) -> bool:
        if isinstance(x, dict):
            return bool(x) and all(leading_dim(v) is not None for v in x.values())
        if isinstance(x, list | tuple):
            return bool(x) and all(leading_dim(v) is not None for v in x)
        return leading_dim(x) is not None and hasattr(x, "dtype")

    def candidates(self):
        if isinstance(self.source, np.ndarray):
            return array_candidates({"x": self.source})
        return []

    def summary(self) -> dict:
        out = super().summary()
        out["rows"] = self.rows
        out["batch_size"] = self.batch_size
        return out
