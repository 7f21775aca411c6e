"""Row fingerprints: cheap, exact identities for the samples a batch carries.

A row's fingerprint is the FarmHash64 of its bytes (TensorFlow's `tf.fingerprint`, the
same on every machine) in a canonical dtype (floats as float32, integers and booleans as
int64), so a row hashes the same whether it comes from the user's float64 array or from
the float32 tensor Keras trained on, and whether it is hashed here (numpy, for the
source's arrays) or inside the training pipeline (`keras_hooks`, in TensorFlow ops, with
no Python and no GIL in the training step's way). Whole rows are hashed: a subsampled hash misses
almost every one-element difference. A batch's identity is the xxh3-64 hash of its
row fingerprints, in order.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import xxhash

__all__ = [
    "canonical_rows",
    "row_hashes",
    "source_row_hashes",
    "batch_hash",
    "ranges",
    "leading_dim",
]


def canonical_rows(array) -> np.ndarray | None:
    """Return `array` as a C-contiguous 2-D (rows, bytes-per-row) view, or None."""
    a = np.asarray(array)
    if a.ndim == 0 or a.dtype == object:
        return None
    if np.issubdtype(a.dtype, np.floating) or _is_extra_float(a.dtype):
        with np.errstate(over="ignore"):  # too large for float32: Inf, as Keras has it
            a = a.astype(np.float32, copy=False)
    elif np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
        a = a.astype(np.int64, copy=False)
    elif a.dtype.kind in "SUV":
        pass
    else:
        return None
    a = np.ascontiguousarray(a)
    width = int(np.prod(a.shape[1:], dtype=np.int64))  # not -1: a batch may have 0 rows
    return a.reshape(a.shape[0], width).view(np.uint8).reshape(a.shape[0], width * a.itemsize)


def _is_extra_float(dtype) -> bool:
    """bfloat16 and the float8 types (`ml_dtypes`, as TensorFlow hands them to numpy):
    numpy files them under kind "V", but they are floats, cast to float32 exactly."""
    if dtype.kind != "V" or dtype.fields is not None:
        return False
    try:
        import ml_dtypes

        ml_dtypes.finfo(dtype)
    except (ImportError, ValueError, TypeError):
        return False
    return True


def row_hashes(components) -> np.ndarray | None:
    """Fingerprint each row across the x components of one batch.

    `components` is a list of arrays sharing their first dimension. Returns a
    uint64 array with one hash per row, or None when rows cannot be hashed.
    """
    views = [canonical_rows(c) for c in components]
    if not views or any(v is None for v in views):
        return None
    n = views[0].shape[0]
    if any(v.shape[0] != n for v in views):
        return None
    rows = views[0] if len(views) == 1 else np.concatenate(views, axis=1)
    return hash_rows(np.ascontiguousarray(rows))


CHUNK_BYTES = 1 << 21  # rows handed to TensorFlow at a time
SOURCE_CACHE_SIZE = 8  # arrays whose row fingerprints are kept between fit() calls
_source_hashes: OrderedDict[tuple, np.ndarray] = OrderedDict()
_source_lock = threading.Lock()  # the train and validation channels' threads share it


def source_row_hashes(array) -> np.ndarray | None:
    """`row_hashes([array])` for an array a source draws from, kept for the next fit()
    on the same content: a script that calls fit() in a loop hands Keras the same
    arrays each time. The key is the array's whole content (xxh3-128 of its canonical
    bytes: ~1.5 ms for 25 MB, where fingerprinting its rows takes 8-16 ms), so an
    array changed in place, a shuffle say, is fingerprinted anew."""
    rows = canonical_rows(array)
    if rows is None:
        return None
    rows = np.ascontiguousarray(rows)
    digest = xxhash.xxh3_128()
    for piece in _pieces(rows):  # the GIL goes between pieces
        digest.update(piece)
    key = (rows.shape, digest.digest())
    with _source_lock:
        hashes = _source_hashes.get(key)
        if hashes is not None:
            _source_hashes.move_to_end(key)
            return hashes
    hashes = hash_rows(rows)
    hashes.flags.writeable = False  # shared by every fit() that finds this content
    with _source_lock:
        _source_hashes[key] = hashes
        while len(_source_hashes) > SOURCE_CACHE_SIZE:
            _source_hashes.popitem(last=False)
    return hashes


def hash_rows(rows: np.ndarray) -> np.ndarray:
    """The fingerprint of each row of a (rows, bytes) uint8 array, as the training
    pipeline's tap has it (TensorFlow is imported here: only the worker fingerprints).

    A few MB at a time: copying an array into a tensor holds the GIL, and the source's
    arrays are hashed on a thread beside the one that starts training (25 MB in one
    piece held it for ~4 ms, and the first batch waited)."""
    import tensorflow as tf

    if rows.shape[0] == 0:
        return np.empty(0, dtype=np.uint64)
    parts = [tf.fingerprint(p).numpy().view("<u8").reshape(-1) for p in _pieces(rows)]
    return np.concatenate(parts).astype(np.uint64, copy=False)


def _pieces(rows: np.ndarray):
    """Consecutive runs of whole rows, about `CHUNK_BYTES` each."""
    step = max(1, CHUNK_BYTES // max(rows.shape[1], 1))
    return (rows[start : start + step] for start in range(0, rows.shape[0], step))


def batch_hash(hashes: np.ndarray) -> str:
    """One identity for a whole batch: the hash of its row hashes, in order."""
    return xxhash.xxh3_64_hexdigest(np.ascontiguousarray(hashes).data)


def leading_dim(array) -> int | None:
    shape = getattr(array, "shape", None)
    if shape is None or len(shape) == 0:
        return None
    try:
        return int(shape[0])
    except (TypeError, ValueError):
        return None


def ranges(indices) -> list[list[int]]:
    """Sorted integer indices as inclusive [start, end] runs: [0,1,2,5] -> [[0,2],[5,5]]."""
    idx = np.unique(np.asarray(indices, dtype=np.int64))
    if idx.size == 0:
        return []
    breaks = np.nonzero(np.diff(idx) != 1)[0]
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]]))
    return [[int(s), int(e)] for s, e in zip(starts, ends, strict=True)]
