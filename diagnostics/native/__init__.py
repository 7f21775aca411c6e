"""fitprobe's one compiled part: the RowDigest TensorFlow op (`row_digest.cc`).

`row_digest()` is the loaded op, or None where it was not built (`build.py`) or does not
load into this TensorFlow; callers then use TensorFlow's own ops. Every row hash of a
process comes from the same choice (`row_hash_name()` names it), so the rows hashed in the
training pipeline and those of the source's arrays agree.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

__all__ = ["DISABLE_ENV", "LIBRARY", "row_digest", "row_hash_name"]

LIBRARY = Path(__file__).resolve().parent / "_row_digest.so"
VERSION = LIBRARY.with_name("_row_digest.tf-version")  # the TensorFlow it was built for
DISABLE_ENV = "FITPROBE_NO_NATIVE"  # set to 1 to use TensorFlow's own ops


@functools.cache
def row_digest():
    """The op (`fitprobe_row_digest(rows, hashed=True) -> (hashes, finite)`), or None."""
    if os.environ.get(DISABLE_ENV) == "1" or not LIBRARY.is_file():
        return None
    import tensorflow as tf

    try:
        if VERSION.read_text().strip() != tf.__version__:
            return None  # built for another TensorFlow: `make venv` builds it again
        return tf.load_op_library(str(LIBRARY)).fitprobe_row_digest
    except Exception:  # no version recorded, or a file that does not load
        return None


def row_hash_name() -> str:
    """The row hash in use: "xxh3-64" (the op) or "farmhash64" (`tf.fingerprint`)."""
    return "xxh3-64" if row_digest() is not None else "farmhash64"
