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

The tap appends a synchronous `map` that stamps each pulled batch into a queue (in
TensorFlow ops) and returns the tensors unchanged (same structure, shapes and
cardinality), so it sees exactly what each training step consumed, in order,
including batches Keras replays from its own cache; the `Channel` describes the
queued batches on a thread of its own. If these internals move,
the probe still counts batches; only the per-batch details go missing.
"""

from __future__ import annotations

import functools

from .intercept import Recorder

__all__ = ["install"]


# Transformations after which tf.data's `inject_prefetch` adds nothing: the
# pipeline already ends asynchronously (tensorflow/core/grappler/optimizers/data/
# inject_prefetch.cc looks at the last node the same way).
ASYNC_ENDINGS = ("Prefetch", "ParallelMap", "ParallelBatch", "ParallelInterleave", "MapAndBatch")
PASS_THROUGH = ("_OptionsDataset",)  # wrappers that are not a transformation


def _would_inject_prefetch(dataset) -> bool:
    """True when tf.data would append a prefetch to this pipeline on its own."""
    options = dataset.options()
    if (
        options.autotune.enabled is False
        or options.experimental_optimization.inject_prefetch is False
    ):
        return False
    last = dataset
    while type(last).__name__ in PASS_THROUGH and hasattr(last, "_input_dataset"):
        last = last._input_dataset
    name = type(last).__name__
    return not any(marker in name for marker in ASYNC_ENDINGS)


QUEUE_CAPACITY = 1_000_000  # elements the tap may hold before the observer drains them


def _canonical_rows(tensor):
    """A tensor's rows as uint8 bytes in the canonical dtype of `fingerprint.py`, or None."""
    import tensorflow as tf

    if tensor.shape.rank is None or tensor.shape.rank == 0:
        return None
    if tensor.dtype.is_floating:
        tensor = tf.cast(tensor, tf.float32)
    elif tensor.dtype.is_integer or tensor.dtype == tf.bool:
        tensor = tf.cast(tensor, tf.int64)
    else:
        return None
    shape = tf.shape(tensor, out_type=tf.int64)
    width = tf.reduce_prod(shape[1:]) * tensor.dtype.size  # not -1: a batch may be empty
    return tf.reshape(tf.bitcast(tensor, tf.uint8), tf.stack([shape[0], width]))


def _payload(x_leaves, y_leaves):
    """One float64 vector describing a batch (see `Channel.on_payload` for the layout),
    in TensorFlow ops; whether it carries row fingerprints."""
    import tensorflow as tf

    leaves = list(x_leaves) + list(y_leaves)
    floats = [tf.reduce_any(~tf.math.is_finite(t)) for t in leaves if t.dtype.is_floating]
    nonfinite = tf.reduce_any(tf.stack(floats)) if floats else tf.constant(False)
    parts = [tf.zeros([1], tf.float64), tf.reshape(tf.cast(nonfinite, tf.float64), [1])]
    for t in leaves:
        shape = tf.cast(tf.shape(t, out_type=tf.int64), tf.float64)
        parts += [tf.reshape(tf.cast(tf.size(shape), tf.float64), [1]), shape]
    rows = [_canonical_rows(t) for t in x_leaves]
    hashable = bool(rows) and all(r is not None for r in rows)
    if hashable:
        joined = rows[0] if len(rows) == 1 else tf.concat(rows, axis=1)
        parts.append(tf.bitcast(tf.fingerprint(joined), tf.float64))  # [n, 8] bytes -> [n]
    return tf.concat(parts, axis=0), hashable


def tap_dataset(dataset, channel):
    """`dataset` with an observer as its last step, or unchanged if that is unsafe.

    The observer in the pipeline only numbers and time-stamps each pulled batch and
    queues it, in TensorFlow ops: no Python and no hashing runs in the
    training step's way. The channel's consumer thread describes each queued batch
    (shapes, NaN/Inf, row fingerprints, again in TensorFlow ops) beside the training.
    """
    import tensorflow as tf

    spec = dataset.element_spec
    # tf.data unpacks only plain tuples into map arguments (not namedtuples).
    unpacked = type(spec) is tuple
    pulled = tf.Variable(0, dtype=tf.int64, trainable=False)  # batches the tap let through

    def split(element, kind):
        """The x and y leaves (tensors, or their specs) of one element."""
        is_sequence = isinstance(element, tuple) and len(element) > 0
        x_part = element[0] if is_sequence else element
        y_part = element[1] if is_sequence and len(element) > 1 else None
        x_leaves = [t for t in tf.nest.flatten(x_part) if isinstance(t, kind)]
        y_leaves = [t for t in tf.nest.flatten(y_part) if isinstance(t, kind)]
        return x_leaves, y_leaves

    x_specs, y_specs = split(spec, tf.TensorSpec)
    n_x = len(x_specs)
    queue = tf.queue.FIFOQueue(  # [its number, the time it was pulled] + the tensors
        QUEUE_CAPACITY, [tf.float64] + [t.dtype for t in x_specs + y_specs], shapes=None
    )

    def observe(*args):
        element = args if unpacked else args[0]
        x_leaves, y_leaves = split(element, tf.Tensor)
        number = tf.cast(pulled.assign_add(1), tf.float64)  # 1, 2, ... in pull order
        stamp = tf.stack([number, tf.timestamp()])
        flat = tf.nest.flatten(element)
        with tf.control_dependencies([queue.enqueue([stamp] + x_leaves + y_leaves)]):
            flat = [tf.identity(t) if isinstance(t, tf.Tensor) else t for t in flat]
        return tf.nest.pack_sequence_as(element, flat)

    # tf.data would append a prefetch after our synchronous map, reading one batch
    # ahead of training behind the tap's back: switch that off, and put the prefetch
    # it would have added to the user's pipeline in front of the tap instead.
    source = dataset.prefetch(tf.data.AUTOTUNE) if _would_inject_prefetch(dataset) else dataset
    options = tf.data.Options()
    options.experimental_optimization.inject_prefetch = False
    try:
        tapped = source.map(observe).with_options(options)
        tf.nest.assert_same_structure(spec, tapped.element_spec, check_types=True)
        if tf.nest.flatten(spec) != tf.nest.flatten(tapped.element_spec):
            raise ValueError("element spec changed")
    except (TypeError, ValueError) as exc:
        channel.emit("probe-note", message=f"batches not observed for this input: {exc!r}")
        return dataset
    dtypes = [t.dtype.name for t in x_specs + y_specs]
    hashed = {}

    @tf.function(reduce_retracing=True)
    def describe(*leaves):
        vector, hashed["x"] = _payload(leaves[:n_x], leaves[n_x:])
        return vector

    def describe_now(leaves):
        vector = describe(*leaves).numpy()
        return vector, hashed["x"]

    channel.attach(queue, pulled, describe_now, dtypes=dtypes, n_x=n_x)
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


def _tap_keras2(recorder: Recorder):
    from tf_keras.src.engine import data_adapter

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


def install(recorder: Recorder, stack: str, keras):
    """Wrap fit (and Keras 2's fit_generator) and tap the trained datasets. Returns a
    function that puts Keras back as it was (the worker never needs it; benchmarks do)."""
    undo = [_wrap_fit(recorder, keras.Model, "fit")]
    if stack == "keras2" and hasattr(keras.Model, "fit_generator"):
        undo.append(_wrap_fit(recorder, keras.Model, "fit_generator"))
    try:
        undo.append((_tap_keras3 if stack == "keras3" else _tap_keras2)(recorder))
    except (ImportError, AttributeError) as exc:
        recorder.emit("probe-note", message=f"batch tap unavailable on this Keras: {exc!r}")

    def uninstall() -> None:
        for step in reversed(undo):
            step()

    return uninstall
