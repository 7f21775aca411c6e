"""Row fingerprints must tell rows apart exactly and agree across dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from diagnostics.worker.fingerprint import batch_hash, ranges, row_hashes, source_row_hashes


def test_same_rows_same_hashes_across_float_widths():
    rows = np.random.default_rng(0).normal(size=(8, 5))
    assert np.array_equal(row_hashes([rows]), row_hashes([rows.astype(np.float32)]))


def test_a_single_changed_element_changes_the_row_hash():
    rows = np.zeros((4, 1000), dtype=np.float32)
    changed = rows.copy()
    changed[2, 777] = 1.0
    a, b = row_hashes([rows]), row_hashes([changed])
    assert list(a == b) == [True, True, False, True]


def test_multi_input_rows_and_batch_identity():
    x1 = np.arange(12, dtype=np.int32).reshape(4, 3)
    x2 = np.ones((4, 2, 2))
    hashes = row_hashes([x1, x2])
    assert hashes.shape == (4,) and len(set(hashes.tolist())) == 4
    assert batch_hash(hashes) == batch_hash(row_hashes([x1, x2]))
    assert batch_hash(hashes) != batch_hash(hashes[::-1])


def test_unhashable_rows():
    assert row_hashes([np.array([object(), object()])]) is None
    assert row_hashes([np.zeros((3, 2)), np.zeros((4, 2))]) is None


def test_ranges():
    assert ranges([5, 0, 1, 2, 9, 8]) == [[0, 2], [5, 5], [8, 9]]
    assert ranges([]) == []


def test_an_empty_batch_has_no_rows_but_can_be_hashed():
    hashes = row_hashes([np.zeros((0, 10), dtype=np.float32)])
    assert hashes is not None and hashes.shape == (0,)
    assert batch_hash(hashes) == batch_hash(np.empty(0, dtype=np.uint64))


def test_a_source_array_is_fingerprinted_again_only_when_its_content_changed():
    # Kept between fit() calls by content: the same array is not hashed twice, but an
    # in-place change (a shuffle between fits, one edited element) is seen.
    images = np.random.default_rng(1).random((64, 4, 4, 3), dtype=np.float32)
    first = source_row_hashes(images)
    assert np.array_equal(first, row_hashes([images]))
    assert source_row_hashes(images) is first
    assert source_row_hashes(images.astype(np.float64)) is first  # same canonical rows
    np.random.default_rng(2).shuffle(images)
    assert np.array_equal(source_row_hashes(images), row_hashes([images]))
    images[5, 1, 2, 0] += 1.0
    assert np.array_equal(source_row_hashes(images), row_hashes([images]))
    assert not np.array_equal(source_row_hashes(images), first)


def test_a_float64_value_too_large_for_float32_hashes_as_the_inf_keras_trains_on():
    # Cast quietly: numpy's overflow warning, raised on a channel's thread, would be
    # taken for one of the user's warnings.
    rows = np.array([[1.0, 1e300], [2.0, -1e300]])
    expected = np.array([[1.0, np.inf], [2.0, -np.inf]], dtype=np.float32)
    assert np.array_equal(row_hashes([rows]), row_hashes([expected]))


def test_a_bfloat16_array_hashes_as_its_float32_rows_as_the_tap_has_them():
    # numpy files bfloat16 (ml_dtypes) under kind "V"; it is a float all the same.
    ml_dtypes = pytest.importorskip("ml_dtypes")
    rows = np.random.default_rng(4).random((5, 3)).astype(ml_dtypes.bfloat16)
    assert np.array_equal(row_hashes([rows]), row_hashes([rows.astype(np.float32)]))
