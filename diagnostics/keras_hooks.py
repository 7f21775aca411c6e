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

The tap appends a synchronous `map` whose `py_function` hands the pulled
tensors to a `Channel` and returns them unchanged (same structure, shapes and
cardinality), so it sees exactly what each training step consumed, in order,
including batches Keras replays from its own cache. If these internals move,
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


def tap_dataset(dataset, channel):
    """`dataset` with a synchronous observer as its last step, or unchanged if that is unsafe."""
    import tensorflow as tf

    spec = dataset.element_spec
    # tf.data unpacks only plain tuples into map arguments (not namedtuples).
    unpacked = type(spec) is tuple

    def observe(*args):
        element = args if unpacked else args[0]
        is_sequence = isinstance(element, tuple) and len(element) > 0
        x_part = element[0] if is_sequence else element
        y_part = element[1] if is_sequence and len(element) > 1 else None
        x_leaves = [t for t in tf.nest.flatten(x_part) if isinstance(t, tf.Tensor)]
        y_leaves = [t for t in tf.nest.flatten(y_part) if isinstance(t, tf.Tensor)]
        flat = tf.nest.flatten(element)
        n_x = len(x_leaves)
        token = tf.py_function(
            lambda *tensors: channel.on_element(tensors, n_x), x_leaves + y_leaves, Tout=tf.int64
        )
        with tf.control_dependencies([token]):
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
    return tapped


def _tap_keras3(recorder: Recorder) -> None:
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


def _tap_keras2(recorder: Recorder) -> None:
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


def _wrap_fit(recorder: Recorder, model_class, name: str) -> None:
    original = getattr(model_class, name)

    @functools.wraps(original)
    def observed(self, *args, **kwargs):
        if recorder.active is not None:  # fit_generator -> fit, or super().fit(): one call
            return original(self, *args, **kwargs)
        return recorder.observe_fit(original, self, args, kwargs, api=name)

    setattr(model_class, name, observed)


def install(recorder: Recorder, stack: str, keras) -> None:
    """Wrap fit (and Keras 2's fit_generator) and tap the trained datasets."""
    _wrap_fit(recorder, keras.Model, "fit")
    if stack == "keras2" and hasattr(keras.Model, "fit_generator"):
        _wrap_fit(recorder, keras.Model, "fit_generator")
    try:
        (_tap_keras3 if stack == "keras3" else _tap_keras2)(recorder)
    except (ImportError, AttributeError) as exc:
        recorder.emit("probe-note", message=f"batch tap unavailable on this Keras: {exc!r}")
