"""The dataset tap must leave the pipeline as tf.data would have run it (real tf.data)."""

from __future__ import annotations

import numpy as np
import pytest

from diagnostics.worker import keras_hooks
from diagnostics.worker.fingerprint import batch_hash, row_hashes
from diagnostics.worker.keras_hooks import _canonical_rows, _finiteness, tap_dataset
from diagnostics.worker.recorder import Channel

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.slow


def _channel() -> Channel:
    return Channel("train", None, emit=lambda *a, **k: None)


def test_a_pipeline_keeps_its_options_and_tf_data_adds_no_read_ahead_after_the_tap():
    options = tf.data.Options()
    options.deterministic = False
    ds = tf.data.Dataset.range(12).batch(3).prefetch(1).with_options(options)
    tapped = tap_dataset(ds, _channel())
    assert tapped.options().deterministic is False
    assert tapped.options().experimental_optimization.inject_prefetch is False
    assert [int(b.numpy().sum()) for b in tapped] == [3, 12, 21, 30]


@pytest.mark.parametrize(
    "make",
    [
        lambda: tf.data.Dataset.range(12).batch(3),
        lambda: tf.data.Dataset.range(12).batch(3).prefetch(2),
        lambda: tf.data.Dataset.range(12).batch(3).map(lambda b: b * 1, num_parallel_calls=2),
        lambda: tf.data.Dataset.range(12).batch(3).with_options(_no_autotune()),
    ],
    ids=["synchronous", "prefetch", "parallel-map", "autotune-off"],
)
def test_every_kind_of_ending_is_tapped_in_order(make):
    ds = make()
    channel = _channel()
    tapped = tap_dataset(ds, channel)
    assert [int(b.numpy().sum()) for b in tapped] == [3, 12, 21, 30]
    channel.settle()
    assert [e.rows for e in channel.take()] == [3, 3, 3, 3]


def _no_autotune():
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def test_the_tap_reads_at_most_one_batch_ahead_of_the_training_step():
    # What a step pulls is time-stamped when it pulls it: the description runs ahead by
    # one batch, not the whole pipeline (a generator's side effects stay in step).
    produced = []

    def gen():
        for i in range(10):
            produced.append(i)
            yield np.full((2,), i, np.float32)

    ds = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((2,), tf.float32))
    iterator = iter(tap_dataset(ds, _channel()))
    next(iterator)
    import time

    time.sleep(0.3)  # the description's thread has had its chance to read ahead
    assert len(produced) <= 3


@pytest.mark.parametrize(
    "x_shape, y_shape",
    [((4, 3, 2), (4,)), ((None, 3, 2), (None,)), ((None, None, None), None), (None, None)],
    ids=["static", "batch-size-unknown", "dims-unknown", "rank-unknown"],
)
def test_each_batch_is_described_as_numpy_sees_it_however_much_the_trace_knows(x_shape, y_shape):
    # Shapes the trace knows become constants in the description; the rest are read
    # from each batch. Either way the description must be the batch's own.
    rng = np.random.default_rng(3)
    batches = [rng.random((4, 3, 2), dtype=np.float32) for _ in range(3)]
    batches[1][2, 0, 1] = np.inf
    if x_shape != (4, 3, 2):
        batches.append(np.zeros((0, 3, 2), np.float32))  # an empty batch is no NaN
    labels = [np.arange(len(b), dtype=np.int64) for b in batches]
    ds = tf.data.Dataset.from_generator(
        lambda: zip(batches, labels, strict=True),
        output_signature=(
            tf.TensorSpec(x_shape, tf.float32),
            tf.TensorSpec(y_shape, tf.int64),
        ),
    )
    channel = _channel()
    tapped = tap_dataset(ds, channel)
    assert len(list(tapped)) == len(batches)
    channel.settle()
    elements = channel.take()
    assert [e.rows for e in elements] == [len(b) for b in batches]
    assert [e.nonfinite for e in elements] == [False, True, False, False][: len(batches)]
    if x_shape is None:  # rows of an unknown rank are not fingerprinted
        assert [e.hash for e in elements] == [None] * len(batches)
    else:
        assert [e.hash for e in elements] == [batch_hash(row_hashes([b])) for b in batches]
    signatures = list(channel.signatures)
    assert signatures[0] == "float32[4, 3, 2] | int64[4]"
    assert signatures[-1] == ("float32[0, 3, 2] | int64[0]" if len(batches) == 4 else signatures[0])


def _described(batches):
    """The channel's records of `batches` (tuples of numpy arrays: (x leaves, y)) once
    they went through a tapped pipeline."""
    ds = tf.data.Dataset.from_generator(
        lambda: iter(batches),
        output_signature=tf.nest.map_structure(
            lambda a: tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)), batches[0]
        ),
    )
    channel = _channel()
    assert len(list(tap_dataset(ds, channel))) == len(batches)
    channel.settle()
    return channel.take()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_a_single_x_leaf_of_another_float_width_is_fingerprinted_and_checked_exactly(dtype):
    # Hashed as its float32 rows, as numpy hashes the source's arrays; checked for
    # NaN/Inf in its own width (a float64 1e300 is finite, though float32 has no room).
    big = {"float16": 6e4, "bfloat16": 3e38, "float64": 1e300}[dtype]
    x = np.full((3, 4), big).astype(tf.as_dtype(dtype).as_numpy_dtype)
    nan = x.copy()
    nan[1, 2] = np.nan
    batches = [(x, np.arange(3)), (nan, np.arange(3))]
    elements = _described(batches)
    assert [e.nonfinite for e in elements] == [False, True]
    assert [e.hash for e in elements] == [batch_hash(row_hashes([b[0]])) for b in batches]


def test_several_x_leaves_are_fingerprinted_as_numpy_joins_their_rows():
    rng = np.random.default_rng(5)
    leaves = (
        rng.integers(0, 9, (4, 3)).astype(np.int32),
        rng.random((4, 2, 2)),  # float64
        rng.random((4, 5)).astype(np.float16),
    )
    changed = tuple(leaf.copy() for leaf in leaves)
    changed[2][3, 4] = np.inf
    batches = [(leaves, np.zeros(4, np.float32)), (changed, np.zeros(4, np.float32))]
    elements = _described(batches)
    assert [e.hash for e in elements] == [batch_hash(row_hashes(list(b[0]))) for b in batches]
    assert [e.nonfinite for e in elements] == [False, True]
    assert elements[0].hashes[:3].tolist() == row_hashes(list(leaves))[:3].tolist()


def test_a_nan_in_a_float_y_alone_is_flagged():
    x = np.ones((3, 4), np.float32)
    y = np.zeros((3, 2), np.float64)
    y[2, 1] = np.nan
    elements = _described([(x, np.zeros((3, 2))), (x, y), (x, np.full((3, 2), 1e300))])
    assert [e.nonfinite for e in elements] == [False, True, False]


def _rows_with(dtype, cases):
    """One batch of 4 rows of 5 per case, each at the largest finite value of `dtype`
    (of either sign) but for the few (row, column, value) of the case."""
    big = float(tf.as_dtype(dtype).max)
    batches = []
    for changes in cases:
        batch = np.full((4, 5), big, np.float64) * np.array([1, -1, 1, -1])[:, None]
        for row, column, value in changes:
            batch[row, column] = value
        batches.append(batch)
    return batches


NONFINITE_CASES = [
    [],  # only finite values, each as large as the dtype allows
    [(1, 2, np.nan)],
    [(3, 4, np.inf)],
    [(0, 0, -np.inf)],
    [(2, 1, np.inf), (2, 3, -np.inf)],  # in one row: their sum is NaN
    [(0, 0, 0.0), (0, 1, 1e-30)],  # zero and a tiny value (below float16's smallest)
]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize(
    "shape", [(4, 5), (None, 5), (None, None), None], ids=["static", "rows", "dims", "rank"]
)
def test_a_nan_or_an_inf_is_flagged_exactly_and_large_finite_values_are_not(dtype, shape):
    finiteness = tf.function(
        lambda t: _finiteness([t]), input_signature=[tf.TensorSpec(shape, dtype)], autograph=False
    )

    def flag(tensor):
        value = finiteness(tensor)
        assert value.shape == (1,) and value.dtype == tf.float64
        return not np.isfinite(value.numpy()[0])

    for batch in _rows_with(dtype, NONFINITE_CASES):
        tensor = tf.cast(tf.constant(batch), dtype)
        expected = not np.isfinite(tensor.numpy().astype(np.float64)).all()
        assert bool(flag(tensor)) == expected, (dtype, shape, batch)
    empties = {(None, 5): [[0, 5]], (None, None): [[0, 5], [4, 0]], None: [[0, 5], [4, 0]]}
    for empty in empties.get(shape, []):  # no rows, or rows of no values: no NaN
        assert not bool(flag(tf.zeros(empty, dtype)))
    if shape is None:
        assert bool(flag(tf.constant(np.nan, dtype))) and not bool(flag(tf.constant(1, dtype)))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(64, 4096), None], ids=["matmul", "mask"])
def test_a_batch_of_only_the_largest_values_sums_to_a_finite_value(dtype, shape):
    # The sum runs over the whole batch, all of one sign here: its scale must keep it
    # from overflowing into the Inf that would flag the batch.
    finiteness = tf.function(
        lambda t: _finiteness([t]), input_signature=[tf.TensorSpec(shape, dtype)], autograph=False
    )
    batch = tf.fill([64, 4096], tf.constant(tf.as_dtype(dtype).max, dtype))
    assert np.isfinite(finiteness(batch).numpy()).all()
    assert not np.isfinite(
        finiteness(
            tf.tensor_scatter_nd_update(batch, [[63, 4095]], tf.constant([np.inf], dtype))
        ).numpy()
    ).all()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_rows_too_wide_for_the_matmul_are_checked_exactly_too(dtype, monkeypatch):
    monkeypatch.setattr(keras_hooks, "MATMUL_MAX_WIDTH", 4)  # the cases' rows have 5
    test_a_nan_or_an_inf_is_flagged_exactly_and_large_finite_values_are_not(dtype, (None, 5))


def test_no_private_tensorflow_module_is_imported():
    import ast
    from pathlib import Path

    package = Path(keras_hooks.__file__).parent
    private = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            )
            private += [f"{path.name}: {n}" for n in names if n.startswith("tensorflow.python")]
    assert private == []


def test_rows_of_no_values_are_each_fingerprinted_once():
    # A row width the trace knows to be 0 must not let the batch's size be guessed
    # (a reshape to [-1, 0] makes up a row count).
    rows = tf.function(
        _canonical_rows, input_signature=[tf.TensorSpec([None, 0], tf.float32)], autograph=False
    )
    assert [rows(tf.zeros((n, 0))).shape.as_list() for n in (3, 0)] == [[3, 0], [0, 0]]


def test_a_keras_whose_internals_fitprobe_does_not_know_is_counted_and_said(monkeypatch):
    """Real Keras, reported as a version outside the supported ones: fit() is still
    wrapped (batches are counted), the private hook is not placed, and an event says why."""
    import types

    import keras

    from diagnostics.worker.keras_hooks import install

    emitted = []

    class Recorder:
        active = None

        def emit(self, kind, **fields):
            emitted.append((kind, fields))

    future = types.SimpleNamespace(Model=keras.Model, __version__="4.1.0", __name__="keras")
    original = keras.Model.fit
    uninstall = install(Recorder(), "keras3", future)
    try:
        assert keras.Model.fit is not original  # fit() is still observed
    finally:
        uninstall()
    assert keras.Model.fit is original
    assert emitted == [
        (
            "tap-unavailable",
            {
                "keras_version": "4.1.0",
                "supported": "Keras 3.x",
                "reason": "Keras 4.1.0 is outside the versions fitprobe knows",
            },
        )
    ]
