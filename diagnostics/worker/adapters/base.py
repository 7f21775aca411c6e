"""The interface every source adapter offers to the probe.

An adapter stands between the user's data object and Keras. It hands Keras an
object that behaves exactly like the original (same type checks pass, same
items, same exceptions) while counting what the *source* produced, how long
user code took to produce it, whether the source ran dry, and which user
exception (with its frame) broke it. What Keras *trained on* is observed
elsewhere (the dataset tap in `keras_hooks`), because Keras reads ahead.
"""

from __future__ import annotations

import time

import numpy as np

from diagnostics.worker.userframes import describe_exception

MAX_CANDIDATE_ROWS = 2_000_000
MAX_CANDIDATE_BYTES = 1 << 30


class SourceAdapter:
    kind = "other"
    #: True when `produced` counts every batch Keras received from the source.
    counts_production = False

    def __init__(self, source, *, role: str, user_files):
        self.source = source
        self.role = role
        self.user_files = user_files
        self.produced = 0
        self.exhausted = False
        self.user_seconds = 0.0
        self.error: dict | None = None
        self.pass_length: int | None = None
        self.infinite = False
        self.shared_with_validation = False
        self.last_item = None  # the last batch the source handed over (its structure)

    @staticmethod
    def can_handle(x) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def wrap(self):
        """The object to hand to Keras in place of the source."""
        return self.source

    def restore(self) -> None:
        """Undo any change made to the user's object (after fit returns)."""

    def candidates(self) -> list[tuple[str, np.ndarray]]:
        """Arrays the source draws its samples from, for coverage maps."""
        return []

    @staticmethod
    def _globals_used(code, global_namespace: dict) -> list[tuple[str, np.ndarray]]:
        """Module-level arrays that a piece of user code refers to by name."""
        names, stack = set(), [code]
        while stack:
            current = stack.pop()
            names.update(current.co_names)
            stack.extend(c for c in current.co_consts if hasattr(c, "co_names"))
        return array_candidates(global_namespace, names)

    # helpers for subclasses -------------------------------------------------
    def _timed(self, produce):
        start = time.perf_counter()
        try:
            return produce()
        except (StopIteration, GeneratorExit):
            raise
        except BaseException as exc:
            if self.error is None:
                self.error = describe_exception(exc, self.user_files)
            raise
        finally:
            self.user_seconds += time.perf_counter() - start

    def batch_structure(self) -> dict | None:
        """The structure of the last batch the source handed Keras: the batch training
        failed on, when it failed (described here, before Keras saw it)."""
        return structure(self.last_item) if self.last_item is not None else None

    def summary(self) -> dict:
        return {
            "batch_structure": self.batch_structure(),
            "kind": self.kind,
            "role": self.role,
            "type": type(self.source).__name__,
            "produced_batches": self.produced if self.counts_production else None,
            "exhausted": self.exhausted,
            "pass_length": self.pass_length,
            "infinite": self.infinite,
            "user_seconds": round(self.user_seconds, 6),
            "shared_with_validation": self.shared_with_validation,
        }


def array_candidates(namespace: dict, names=None) -> list[tuple[str, np.ndarray]]:
    """ndarrays that could hold the samples: attributes, locals, or the globals in `names`."""
    found = []
    for name, value in namespace.items():
        if names is not None and name not in names:
            continue
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] >= 2:
            if value.shape[0] <= MAX_CANDIDATE_ROWS and value.nbytes <= MAX_CANDIDATE_BYTES:
                found.append((name, value))
    return found


MAX_STRUCTURE_ITEMS = 16
MAX_STRUCTURE_DEPTH = 4


def structure(item, depth: int = 0) -> dict:
    """A batch's nesting, shapes and dtypes, JSON-ready: {"array": [16, 12], "dtype":
    "float32"}, {"tuple": [...]}, {"list": [...]}, {"dict": {key: ...}}, or {"object":
    type name}. Shapes may hold None (a dataset's element_spec)."""
    shape = getattr(item, "shape", None)
    if shape is not None and hasattr(item, "dtype"):
        try:
            dims = [None if d is None else int(d) for d in tuple(shape)]
        except (TypeError, ValueError):
            dims = None
        return {"array": dims, "dtype": str(getattr(item.dtype, "name", item.dtype))}
    if depth >= MAX_STRUCTURE_DEPTH:
        return {"object": type(item).__name__}
    if isinstance(item, dict):
        keys = list(item)[:MAX_STRUCTURE_ITEMS]
        return {"dict": {str(k): structure(item[k], depth + 1) for k in keys}}
    if isinstance(item, tuple | list):
        kind = "tuple" if isinstance(item, tuple) else "list"
        return {kind: [structure(v, depth + 1) for v in item[:MAX_STRUCTURE_ITEMS]]}
    return {"object": type(item).__name__}
