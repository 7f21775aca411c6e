"""One adapter per kind of data source, behind `SourceAdapter`; `adapt` dispatches.

Like Keras's own `data_adapters` package: `generator.py`, `sequence.py`,
`tf_dataset.py`, `arrays.py`, and a flat dispatcher. Adapters run inside the
probe worker only.
"""

from __future__ import annotations

from diagnostics.worker.adapters.arrays import ArrayAdapter
from diagnostics.worker.adapters.base import SourceAdapter
from diagnostics.worker.adapters.generator import GeneratorAdapter
from diagnostics.worker.adapters.sequence import SequenceAdapter
from diagnostics.worker.adapters.tf_dataset import TFDatasetAdapter

__all__ = ["SourceAdapter", "adapt"]


def adapt(
    x, *, role: str, user_files, batch_size=None, validation_split: float = 0.0
) -> SourceAdapter | None:
    """The adapter for `x`, or None when there is no data to observe."""
    if x is None:
        return None
    kw = {"role": role, "user_files": user_files}
    if GeneratorAdapter.can_handle(x):
        return GeneratorAdapter(x, **kw)
    if TFDatasetAdapter.can_handle(x):
        return TFDatasetAdapter(x, **kw)
    if SequenceAdapter.can_handle(x):
        return SequenceAdapter(x, **kw)
    if ArrayAdapter.can_handle(x):
        return ArrayAdapter(x, batch_size=batch_size, validation_split=validation_split, **kw)
    return SourceAdapter(x, **kw)
