"""`tf.data.Dataset`: one pass is its cardinality; Keras iterates it directly."""

from __future__ import annotations

from diagnostics.worker.adapters.base import SourceAdapter, structure

INFINITE_CARDINALITY = -1  # tf.data.INFINITE_CARDINALITY
UNKNOWN_CARDINALITY = -2  # tf.data.UNKNOWN_CARDINALITY


class TFDatasetAdapter(SourceAdapter):
    kind = "tf-dataset"

    def __init__(self, source, **kw):
        super().__init__(source, **kw)
        try:
            cardinality = int(source.cardinality())
        except Exception:
            cardinality = UNKNOWN_CARDINALITY
        self.infinite = cardinality == INFINITE_CARDINALITY
        self.pass_length = cardinality if cardinality >= 0 else None

    def batch_structure(self) -> dict | None:
        """The dataset's element_spec: every batch's structure (None where unknown)."""
        try:
            return structure(self.source.element_spec)
        except Exception:
            return None

    @staticmethod
    def can_handle(x) -> bool:
        return any(
            c.__name__ in {"DatasetV2", "DatasetV1"} and c.__module__.startswith("tensorflow")
            for c in type(x).__mro__
        )
