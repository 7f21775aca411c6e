"""In-memory arrays (numpy, lists or dicts of them): Keras slices and shuffles them."""

from __future__ import annotations

import math

import numpy as np

from diagnostics.worker.adapters.base import SourceAdapter, array_candidates, structure
from diagnostics.worker.fingerprint import leading_dim

DEFAULT_BATCH_SIZE = 32  # keras: fit(batch_size=None) means 32 for arrays


class ArrayAdapter(SourceAdapter):
    kind = "arrays"

    def __init__(self, source, *, batch_size=None, validation_split: float = 0.0, **kw):
        super().__init__(source, **kw)
        self.validation_split = float(validation_split or 0.0)
        first = source
        if isinstance(source, dict):
            first = next(iter(source.values()), None)
        elif isinstance(source, list | tuple):
            first = source[0] if source else None
        self.rows = leading_dim(first)
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE
        self.train_rows = self.rows
        if self.rows is not None and 0 < self.validation_split < 1:
            # Keras holds out the last rows: split_at = floor(rows * (1 - validation_split))
            # (keras/src/trainers/data_adapters/array_slicing.py train_validation_split;
            # tf_keras/src/engine/data_adapter.py train_validation_split).
            self.train_rows = int(math.floor(self.rows * (1.0 - self.validation_split)))
        if self.train_rows is not None:
            self.pass_length = math.ceil(self.train_rows / self.batch_size)

    @staticmethod
    def can_handle(x) -> bool:
        if isinstance(x, dict):
            return bool(x) and all(leading_dim(v) is not None for v in x.values())
        if isinstance(x, list | tuple):
            return bool(x) and all(leading_dim(v) is not None for v in x)
        return leading_dim(x) is not None and hasattr(x, "dtype")

    def batch_structure(self) -> dict | None:
        """x as fit() got it: an array, or a list or dict of arrays (whole-data shapes)."""
        return structure(self.source)

    def candidates(self):
        if isinstance(self.source, np.ndarray):
            return array_candidates({"x": self.source[: self.train_rows]})
        return []

    def summary(self) -> dict:
        out = super().summary()
        out["rows"] = self.rows
        out["train_rows"] = self.train_rows
        out["batch_size"] = self.batch_size
        return out
