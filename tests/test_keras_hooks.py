"""The dataset tap must leave the pipeline as tf.data would have run it (real tf.data)."""

from __future__ import annotations

import numpy as np
import pytest

from diagnostics.intercept import Channel
from diagnostics.keras_hooks import tap_dataset

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.slow


def _channel() -> Channel:
    return Channel("train", None, emit=lambda *a, **k: None)


def _before_tap(tapped):
    """The dataset feeding the tap's map (tapped = options(map(<this>)))."""
    return tapped._input_dataset._input_dataset


def test_a_pipeline_that_ends_in_a_prefetch_gets_no_second_one():
    ds = tf.data.Dataset.range(12).batch(3).prefetch(1)
    assert _before_tap(tap_dataset(ds, _channel())) is ds


def test_a_synchronous_ending_gets_the_prefetch_tf_data_would_have_injected():
    ds = tf.data.Dataset.range(12).batch(3)
    before = _before_tap(tap_dataset(ds, _channel()))
    assert type(before).__name__ == "_PrefetchDataset" and before._input_dataset is ds


def test_no_prefetch_where_autotune_is_off():
    options = tf.data.Options()
    options.autotune.enabled = False
    ds = tf.data.Dataset.range(12).batch(3).with_options(options)
    assert _before_tap(tap_dataset(ds, _channel())) is ds


def test_the_tap_sees_every_element_in_order_and_changes_nothing():
    x = np.arange(24, dtype=np.float32).reshape(12, 2)
    ds = tf.data.Dataset.from_tensor_slices((x, x[:, 0])).batch(4)
    channel = _channel()
    tapped = tap_dataset(ds, channel)
    assert tapped.element_spec == ds.element_spec
    assert int(tapped.cardinality()) == 3
    pulled = [b[0].numpy() for b in tapped]
    assert all(np.array_equal(a, b) for a, b in zip(pulled, np.split(x, 3), strict=True))
    channel.settle()  # described on the channel's own thread
    elements = channel.take()
    assert [e.rows for e in elements] == [4, 4, 4]
    assert [e.sig for e in elements] == [0, 0, 0]
    assert list(channel.signatures) == ["float32[4, 2] | float32[4]"]
    assert channel.pulled == 3 and not any(e.repeated for e in elements)
