"""The RowDigest op (diagnostics/native): XXH3-64 of each row's bytes, and an exact
NaN/Inf check, in one pass (real TensorFlow, checked against the xxhash package)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import xxhash

from diagnostics import native
from diagnostics.native import build

tf = pytest.importorskip("tensorflow")


def test_the_op_is_built_wherever_it_can_be():
    # `make venv` builds it; a build that broke must not pass as the slower fallback.
    if sys.platform != "linux" or build._compiler("CXX", "g++", "clang++") is None:
        pytest.skip("no Linux C++ compiler here: fitprobe uses TensorFlow's own ops")
    if os.environ.get(native.DISABLE_ENV) == "1":
        pytest.skip(f"{native.DISABLE_ENV}=1: TensorFlow's own ops were asked for")
    assert native.LIBRARY.is_file(), "not built: run `make venv` (diagnostics/native/build.py)"
    assert native.row_digest() is not None, "built but it does not load into this TensorFlow"
    assert native.row_hash_name() == "xxh3-64"
    assert native.VERSION.read_text().strip() == tf.__version__


@pytest.fixture
def digest():
    op = native.row_digest()
    if op is None:
        pytest.skip("the RowDigest op is not built")
    return op


def _xxh3(rows: np.ndarray) -> np.ndarray:
    return np.array([xxhash.xxh3_64_intdigest(r.tobytes()) for r in rows], dtype=np.uint64)


@pytest.mark.parametrize(
    "rows",
    [
        np.random.default_rng(0).random((6, 5, 3), dtype=np.float32),
        np.random.default_rng(1).random((3, 1000)),  # float64, 8000 bytes a row
        np.arange(-5, 5, dtype=np.int64).reshape(5, 2),
        np.arange(7, dtype=np.int64),  # rank 1: a row is one value
        np.random.default_rng(2).integers(0, 256, (4, 13), dtype=np.uint8),
        np.zeros((3, 0), np.float32),  # rows of no bytes
        np.zeros((0, 4), np.float32),  # no rows
    ],
    ids=["float32", "float64-wide", "int64", "rank-1", "uint8-odd-width", "width-0", "empty"],
)
def test_each_rows_hash_is_the_xxh3_64_of_its_bytes(digest, rows):
    hashes, _ = digest(rows)
    assert hashes.dtype == tf.int64 and hashes.shape == (rows.shape[0],)
    assert np.array_equal(hashes.numpy().view(np.uint64), _xxh3(rows))
    # The same bytes as uint8 rows (how fingerprint.py hands over the source's arrays).
    width = int(np.prod(rows.shape[1:], dtype=np.int64)) * rows.itemsize
    as_bytes = np.ascontiguousarray(rows).view(np.uint8).reshape(rows.shape[0], width)
    assert np.array_equal(digest(as_bytes)[0].numpy(), hashes.numpy())


@pytest.mark.parametrize("width", [4, 2048], ids=["narrow-rows", "wide-rows"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_finite_flag_is_exact_at_every_edge_of_the_encoding(digest, dtype, width):
    # Narrow rows are checked in one pass over the batch, wide ones row by row.
    info = np.finfo(dtype)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    finite = [info.max, -info.max, info.tiny, info.smallest_subnormal, -0.0, 0.0, 1.0]
    nonfinite = [np.inf, -np.inf, np.nan, -np.nan]
    # NaNs with other payloads: a signalling NaN (the quiet bit clear), all ones.
    exponent = 0x7F800000 if dtype == np.float32 else 0x7FF0000000000000
    payloads = list(np.array([exponent | 1, np.iinfo(bits).max], bits).view(dtype))
    for value in finite:
        batch = np.full((3, width), value, dtype)
        assert bool(digest(batch)[1]) and bool(digest(batch, hashed=False)[1]), value
    for value in nonfinite + payloads:
        for where in [(0, 0), (2, width - 1), (1, 2)]:
            batch = np.full((3, width), info.max, dtype)
            batch[where] = value
            assert not bool(digest(batch)[1]), (value, where)
            assert not bool(digest(batch.reshape(-1), hashed=False)[1]), (value, where)


def test_integer_and_byte_rows_are_always_finite_and_hashing_can_be_skipped(digest):
    ones = np.full((2, 3), -1, np.int64)  # every bit set: a NaN's bits, were it a float
    assert bool(digest(ones)[1]) and bool(digest(ones.view(np.uint8))[1])
    hashes, finite = digest(np.array([[1.0, np.nan]], np.float32), hashed=False)
    assert hashes.shape == (0,) and not bool(finite)


def test_a_tensor_without_rows_is_refused_with_a_clear_message(digest):
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 1"):
        digest(tf.constant(1.0))


def test_an_op_built_for_another_tensorflow_is_not_loaded(tmp_path, monkeypatch):
    built_for = tmp_path / "_row_digest.tf-version"
    built_for.write_text("2.0.0\n")
    monkeypatch.setattr(native, "VERSION", built_for)
    if not native.LIBRARY.is_file():
        pytest.skip("the RowDigest op is not built")
    assert native.row_digest.__wrapped__() is None
    built_for.write_text(tf.__version__ + "\n")
    assert native.row_digest.__wrapped__() is not None
