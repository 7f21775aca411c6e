"""A run's per-batch records, kept column by column.

A long probe trains 100k batches and more; a dict per batch costs ~640 bytes, a column
entry ~8. The report therefore keeps `runs[].batches` as `{"columns": {field: [value,
...]}}` (plain JSON), and everything that reads batches goes through `Batches`, a
read-only sequence of one dict per batch, which also reads the list-of-dicts form of
reports saved before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

__all__ = ["FIELDS", "Batches", "new_table"]

FIELDS = (
    "epoch",
    "step",
    "pulled",
    "rows",
    "y_rows",
    "sig",
    "nonfinite",
    "hash",
    "repeated",
    "replayed",
    "wait_ms",
    "step_ms",
)


def new_table() -> dict:
    return {"columns": {field: [] for field in FIELDS}}


def append(table: dict, event: dict) -> None:
    for field, column in table["columns"].items():
        column.append(event.get(field))


class Batches(Sequence):
    """One dict per batch, from either form of `runs[].batches`."""

    def __init__(self, stored):
        if isinstance(stored, Batches):
            stored = stored._stored
        self._stored = stored if stored is not None else []
        self._columns = stored.get("columns") if isinstance(stored, dict) else None

    def __len__(self) -> int:
        if self._columns is not None:
            return len(next(iter(self._columns.values()), []))
        return len(self._stored)

    def _row(self, i: int) -> dict:
        return {field: values[i] for field, values in self._columns.items()}

    def __getitem__(self, index):
        if self._columns is None:
            return self._stored[index]
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._row(index)

    def __iter__(self) -> Iterator[dict]:
        if self._columns is None:
            yield from self._stored
            return
        names = list(self._columns)
        for values in zip(*self._columns.values(), strict=True):
            yield dict(zip(names, values, strict=True))

    def column(self, field: str) -> list:
        """One field of every batch (cheap: no dict per batch)."""
        if self._columns is not None:
            return list(self._columns.get(field) or [None] * len(self))
        return [b.get(field) for b in self._stored]
