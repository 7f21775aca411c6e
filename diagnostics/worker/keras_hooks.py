"""The one place that reaches into Keras internals (worker side).

Public hooks are used wherever they exist: `Model.fit` is wrapped on the
public `Model` class and batches are counted with public callbacks. Seeing
*which* batches were trained needs one private hook per stack, at the point
where every kind of input has become a `tf.data.Dataset` that the training
function pulls from:

- Keras 3, `keras/src/trainers/data_adapters/__init__.py`: `get_data_adapter()`
  builds the adapter for each fit/evaluate input; `TFEpochIterator`
  (`keras/src/backend/tensorflow/trainer.py`) then calls its `get_tf_dataset()`.
- Keras 2, `tf_keras/src/engine/data_adapter.py`: `DataHandler` calls
  `select_data_adapter(x, y)` and then `adapter.get_dataset()`.

The tap appends two public `map`s to that dataset, and returns the tensors unchanged
(same structure, shapes and cardinality): the first describes each batch in
TensorFlow ops (shapes, NaN/Inf, row fingerprints) on a thread of its own, one batch
ahead of training (`num_parallel_calls=1`, in order), and the description rides along
with its batch; the last, synchronous, counts and time-stamps each batch a training
step pulls and queues its description, so the tap sees exactly what each step
consumed, in order, including batches Keras replays from its own cache. The `Channel`
reads the queue on a thread of its own. If the private hook moves, the probe still
counts batches with callbacks; only the per-batch details go missing, and the report
says so.
"""

from __future__ import annotations

import functools

import numpy as np

from diagnostics.schema import major_minor
from diagnostics.worker.recorder import Recorder

__all__ = ["install"]


QUEUE_CAPACITY = 1_000_000  # descriptions the tap may hold before the observer reads them


def _canonical(tensor):
    """A tensor in the canonical dtype of `fingerprint.py`, or None (no rows, or a dtype
    it does not hash)."""
    import tensorflow as tf

    if tensor.shape.rank is None or tensor.shape.rank == 0:
        return None
    if tensor.dtype.is_floating:
        return tensor if tensor.dtype == tf.float32 else tf.cast(tensor, tf.float32)
    if tensor.dtype.is_integer or tensor.dtype == tf.bool:
        return tensor if tensor.dtype == tf.int64 else tf.cast(tensor, tf.int64)
    return None


def _canonical_rows(tensor):
    """A tensor's rows as uint8 bytes in the canonical dtype of `fingerprint.py`, or None.
    What the trace knows (the row width, most often) is a constant, not an op."""
    import tensorflow as tf

    tensor = _canonical(tensor)
    if tensor is None:
        return None
    raw = tf.bitcast(tensor, tf.uint8)  # one more dim, of the dtype's size
    row = tensor.shape[1:]
    if row.is_fully_defined() and row.num_elements() > 0:  # -1 is ambiguous for width 0
        return tf.reshape(raw, [-1, row.num_elements() * tensor.dtype.size])
    shape = tf.shape(tensor, out_type=tf.int64)
    width = tf.reduce_prod(shape[1:]) * tensor.dtype.size  # not -1: a batch may be empty
    return tf.reshape(raw, tf.stack([shape[0], width]))


def _digest_rows(x_leaves):
    """The fingerprint of each row across the x leaves, as `fingerprint.py` has it
    (FarmHash64 of the row's bytes, `tf.fingerprint`), as a float64 [n] (their bits).
    `tf.fingerprint` hashes the bytes of each slice along the first dimension, so a
    single leaf needs no reshaping into rows of bytes."""
    import tensorflow as tf

    if len(x_leaves) == 1:
        rows = _canonical(x_leaves[0])
    else:
        rows = tf.concat([_canonical_rows(t) for t in x_leaves], axis=1)
    return tf.bitcast(tf.fingerprint(rows), tf.float64)  # [n, 8] bytes -> [n]


MATMUL_MAX_WIDTH = 1 << 20  # elements a row may have for the NaN/Inf check's matmul
SCALE = 2.0**-60  # no sum of at most 2^60 finite values, each times this, overflows


def _finiteness(floats):
    """A [1] float64 that is finite exactly when none of the float tensors `floats`
    holds a NaN or an Inf (`_scaled_sum` of each)."""
    import tensorflow as tf

    sums = [_scaled_sum(t) for t in floats]
    if not sums:
        return tf.zeros([1], tf.float64)
    return sums[0] if len(sums) == 1 else tf.add_n(sums)


def _checked_width(tensor):
    """A float tensor in a width the NaN/Inf checks read: float32 and float64 as they
    are, narrower floats (float16, bfloat16) as float32, which holds them exactly."""
    import tensorflow as tf

    return tensor if tensor.dtype in (tf.float32, tf.float64) else tf.cast(tensor, tf.float32)


def _scaled_sum(tensor):
    """A [1] float64 tensor that is finite exactly when the float `tensor` holds no NaN
    and no Inf: a sum over all its values, scaled so that no finite sum overflows. It
    needs no branch (which the inline map's executor cannot run), and fewer ops than a
    comparison and a flag (the description's 33 ops became 24: ~5 us of CPU a batch).

    Where the trace knows the row width, each row times a column of `SCALE` (one matmul:
    a NaN or an Inf makes its row's product NaN or Inf; the column is a constant of the
    traced function, so rows wider than `MATMUL_MAX_WIDTH` take the other way); else
    every value times 0 (0, or NaN for a NaN or an Inf). Measured per 32x64x64x3 batch in
    a tf.data map: the matmul 0.04 ms of CPU, an element-wise pass 0.10 ms."""
    import tensorflow as tf

    row = tensor.shape[1:]
    if (
        tensor.shape.rank in (None, 0)
        or not row.is_fully_defined()
        or not 0 < row.num_elements() <= MATMUL_MAX_WIDTH
    ):
        total = tf.reduce_sum(tensor * tf.constant(0, tensor.dtype))
        return tf.reshape(tf.cast(total, tf.float64), [1])
    tensor = _checked_width(tensor)
    width = row.num_elements()
    rows = tf.reshape(tensor, [-1, width])
    products = tf.matmul(rows, tf.constant(SCALE, tensor.dtype, shape=[width, 1]))
    total = tf.reduce_sum(products, axis=0)  # [1]
    return total if total.dtype == tf.float64 else tf.cast(total, tf.float64)


def _shapes(leaves):
    """Per leaf its rank and dims, as one float64 vector. What the trace knows is a
    constant: a batch whose shape is static but for its size costs one small op per
    leaf, where asking for every shape cost five."""
    import tensorflow as tf

    parts, known = [], []

    def flush():
        if known:
            parts.append(tf.constant(known, tf.int64))
            known.clear()

    for t in leaves:
        dims = None if t.shape.rank is None else t.shape.as_list()
        if dims is not None and None not in dims:
            known += [len(dims), *dims]
            continue
        shape = tf.shape(t, out_type=tf.int64)
        if dims is None:  # the rank, too, comes with the batch
            flush()
            parts.append(tf.size(shape, out_type=tf.int64)[None])
        else:
            known.append(len(dims))
            flush()
        parts.append(shape)
    flush()
    vector = parts[0] if len(parts) == 1 else tf.concat(parts, axis=0)
    return tf.cast(vector, tf.float64)


def _payload(x_leaves, y_leaves):
    """One float64 vector describing a batch, in TensorFlow ops: [a value finite exactly
    when no float leaf holds a NaN or an Inf, then per leaf its rank and dims, then, if
    `_hashable`, the x rows' fingerprints]."""
    import tensorflow as tf

    leaves = list(x_leaves) + list(y_leaves)
    floats = [t for t in leaves if t.dtype.is_floating]
    parts = [_finiteness(floats), _shapes(leaves)]
    if _hashable(x_leaves):
        parts.append(_digest_rows(x_leaves))
    return tf.concat(parts, axis=0)


def _hashable(x_leaves) -> bool:
    """Whether `_payload` fingerprints the rows of batches with these x leaves (tensors
    or their specs): each has rows, in a dtype `_canonical` takes."""
    return bool(x_leaves) and all(
        t.shape.rank not in (None, 0)
        and (t.dtype.is_floating or t.dtype.is_integer or t.dtype.is_bool)
        for t in x_leaves
    )


def tap_dataset(dataset, channel):
    """`dataset` with an observer as its last step, or unchanged if that is unsafe.

    Each batch is described (shapes, NaN/Inf, row fingerprints) in TensorFlow ops by
    a map that runs one batch ahead of training on a thread of its own, so that work
    is done beside the training step rather than in its way, and the description
    travels with its batch. The tap itself, the pipeline's last step, only counts and
    time-stamps the batch a training step pulls and queues its description (a few
    numbers); a thread of the channel reads them in groups. No Python runs inside the
    pipeline, and only public tf.data is used.
    """
    import tensorflow as tf

    spec = dataset.element_spec
    # tf.data unpacks only plain tuples into map arguments (not namedtuples).
    unpacked = type(spec) is tuple
    pulled = tf.Variable(0, dtype=tf.int64, trainable=False)  # batches the tap let through
    # Padded, so that the channel's thread can read whatever has come in one go.
    queue = tf.queue.PaddingFIFOQueue(QUEUE_CAPACITY, [tf.float64] * 2, shapes=[[], [None]])

    def split(element, kind):
        """The x and y leaves (tensors, or their specs) of one element."""
        is_sequence = isinstance(element, tuple) and len(element) > 0
        x_part = element[0] if is_sequence else element
        y_part = element[1] if is_sequence and len(element) > 1 else None
        x_leaves = [t for t in tf.nest.flatten(x_part) if isinstance(t, kind)]
        y_leaves = [t for t in tf.nest.flatten(y_part) if isinstance(t, kind)]
        return x_leaves, y_leaves

    x_specs, y_specs = split(spec, tf.TensorSpec)

    # Plain TensorFlow code: tracing it without AutoGraph's conversion is faster.
    @tf.autograph.experimental.do_not_convert
    def described(*args):  # ahead of training, on the map's own thread
        element = args if unpacked else args[0]
        return element, _payload(*split(element, tf.Tensor))

    @tf.autograph.experimental.do_not_convert
    def stamp(element, description):
        """Count and time-stamp the batch a training step pulls; queue its description.
        (A tf.data function runs all its stateful ops before it returns.)"""
        with tf.control_dependencies([queue.enqueue([tf.timestamp(), description])]):
            pulled.assign_add(1)  # after the enqueue: counted means queued
        return element

    # tf.data would append a prefetch after our synchronous tap, reading one batch
    # ahead of training behind its back, and the time stamps would be the read-ahead's.
    options = tf.data.Options()
    options.experimental_optimization.inject_prefetch = False
    try:
        ahead = dataset.map(described, num_parallel_calls=1, deterministic=True)
        tapped = ahead.map(stamp).with_options(options)
        tf.nest.assert_same_structure(spec, tapped.element_spec, check_types=True)
        if tf.nest.flatten(spec) != tf.nest.flatten(tapped.element_spec):
            raise ValueError("element spec changed")
    except (TypeError, ValueError) as exc:
        channel.emit("probe-note", message=f"batches not observed for this input: {exc!r}")
        return dataset
    row = x_specs[0].shape[1:] if len(x_specs) == 1 and x_specs[0].shape.rank else None
    channel.attach(
        queue,
        pulled,
        dtypes=[t.dtype.name for t in x_specs + y_specs],
        n_x=len(x_specs),
        hashed=_hashable(x_specs),
        x_row_shape=tuple(row) if row is not None and row.is_fully_defined() else None,
    )
    return tapped


def _tap_keras3(recorder: Recorder):
    from keras.src.trainers import data_adapters

    original = data_adapters.get_data_adapter

    @functools.wraps(original)
    def get_data_adapter(*args, **kwargs):
        adapter = original(*args, **kwargs)
        channel = recorder.next_channel()
        if channel is not None and hasattr(adapter, "get_tf_dataset"):
            build = adapter.get_tf_dataset
            adapter.get_tf_dataset = lambda: tap_dataset(build(), channel)
        return adapter

    data_adapters.get_data_adapter = get_data_adapter
    return lambda: setattr(data_adapters, "get_data_adapter", original)


def _tap_keras2(recorder: Recorder, keras):
    # tf_keras (TensorFlow 2.16 and newer) or the keras 2 package TensorFlow 2.15 ships
    if keras.__name__.split(".")[0] == "tf_keras":
        from tf_keras.src.engine import data_adapter
    else:
        from keras.src.engine import data_adapter

    original = data_adapter.select_data_adapter

    @functools.wraps(original)
    def select_data_adapter(x, y):
        cls = original(x, y)
        channel = recorder.next_channel()
        if channel is None:
            return cls

        class Tapped(cls):
            def get_dataset(self):
                return tap_dataset(super().get_dataset(), channel)

        Tapped.__name__ = Tapped.__qualname__ = cls.__name__
        return Tapped

    data_adapter.select_data_adapter = select_data_adapter
    return lambda: setattr(data_adapter, "select_data_adapter", original)


def _wrap_fit(recorder: Recorder, model_class, name: str):
    original = getattr(model_class, name)

    @functools.wraps(original)
    def observed(self, *args, **kwargs):
        if recorder.active is not None:  # fit_generator -> fit, or super().fit(): one call
            return original(self, *args, **kwargs)
        return recorder.observe_fit(original, self, args, kwargs, api=name)

    setattr(model_class, name, observed)
    return lambda: setattr(model_class, name, original)


# The Keras versions whose internals the private hook above knows (checked on each):
# Keras 3.x; Keras 2 from TensorFlow 2.15's `keras` 2.15 to `tf_keras` 2.21. As users
# read it: SUPPORTED_TEXT.
SUPPORTED = {"keras3": ((3, 0), (4, 0)), "keras2": ((2, 15), (2, 22))}
SUPPORTED_TEXT = {"keras3": "Keras 3.x", "keras2": "Keras 2.15 to 2.21"}


def _steps_per_execution(model) -> int | None:
    """Batches a training-function call trains: Keras 3 keeps it public
    (`model.steps_per_execution`), Keras 2 only as the `_steps_per_execution` variable."""
    value = getattr(model, "steps_per_execution", None)
    if value is None:
        value = getattr(model, "_steps_per_execution", None)
    try:
        return int(np.asarray(value))
    except (TypeError, ValueError):
        return None


def install(recorder: Recorder, stack: str, keras):
    """Wrap fit (and Keras 2's fit_generator) and tap the trained datasets. On a Keras
    whose internals fitprobe does not know, or where the hook cannot be placed, batches
    are still counted (callbacks), and a `tap-unavailable` event says why the per-batch
    details are missing. Returns a function that puts Keras back as it was (the worker
    never needs it; benchmarks do)."""
    undo = [_wrap_fit(recorder, keras.Model, "fit")]
    recorder.steps_per_execution = _steps_per_execution
    if stack == "keras2" and hasattr(keras.Model, "fit_generator"):
        undo.append(_wrap_fit(recorder, keras.Model, "fit_generator"))
    low, high = SUPPORTED[stack]
    why = None
    if not low <= major_minor(keras.__version__) < high:
        why = f"Keras {keras.__version__} is outside the versions fitprobe knows"
    else:
        try:
            tap = _tap_keras3 if stack == "keras3" else _tap_keras2
            undo.append(tap(recorder) if stack == "keras3" else tap(recorder, keras))
        except (ImportError, AttributeError) as exc:
            why = f"Keras {keras.__version__} has moved what the hook reaches for ({exc})"
    if why:
        recorder.emit(
            "tap-unavailable",
            keras_version=keras.__version__,
            supported=SUPPORTED_TEXT[stack],
            reason=why,
        )

    def uninstall() -> None:
        for step in reversed(undo):
            step()

    return uninstall
