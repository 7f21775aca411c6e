"""Module mode: instantiate the chosen data source and a stand-in model for it.

Runs in the worker. The stand-in model is the smallest model that accepts the
source's first batch: one Input per x component (shapes and dtypes from that
batch), flattened, concatenated, one Dense layer shaped like y, mean squared
error. It exists to make Keras pull data exactly as it would for the user's
real model; its accuracy is irrelevant.
"""

from __future__ import annotations

import inspect
import runpy

import numpy as np


class SourceProblem(Exception):
    """The chosen source cannot be probed; the message is for the user."""


def _instantiate(obj, args: dict, name: str):
    try:
        return obj(**args) if callable(obj) else obj
    except TypeError as exc:
        params = ""
        try:
            params = str(inspect.signature(obj))
        except (TypeError, ValueError):
            pass
        raise SourceProblem(
            f"cannot call {name}{params} with {args or 'no arguments'}: {exc}"
        ) from None


def _first_batch(make, data):
    """One batch to read shapes from, without consuming the one Keras will train on."""
    if inspect.isgenerator(data):
        peek = make()
        return next(peek) if inspect.isgenerator(peek) else None
    if hasattr(data, "element_spec"):
        return next(iter(data.take(1)))
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        return data[0]
    raise SourceProblem(
        f"{type(data).__name__} is not a generator, Sequence/PyDataset or tf.data.Dataset"
    )


def _components(x):
    if isinstance(x, dict):
        return list(x.items())
    if isinstance(x, list | tuple):
        return [(f"input_{i}", v) for i, v in enumerate(x)]
    return [("x", x)]


def build_standin(keras, batch):
    if not isinstance(batch, tuple | list) or len(batch) not in (2, 3):
        raise SourceProblem(
            f"the source's batches are {type(batch).__name__}; module mode needs (x, y) "
            "or (x, y, sample_weight) batches"
        )
    x, y = batch[0], batch[1]
    inputs, features = {}, []
    for name, value in _components(x):
        shape = tuple(np.shape(value))[1:]
        inp = keras.Input(shape=shape, name=name)
        inputs[name] = inp
        h = inp
        if len(shape) == 0:
            h = keras.layers.Reshape((1,))(h)
        elif len(shape) > 1:
            h = keras.layers.Flatten()(h)
        features.append(h)
    h = features[0] if len(features) == 1 else keras.layers.Concatenate()(features)
    y_shape = tuple(np.shape(y))[1:]
    out = keras.layers.Dense(int(np.prod(y_shape)) if y_shape else 1)(h)
    if len(y_shape) > 1:
        out = keras.layers.Reshape(y_shape)(out)
    model_inputs = inputs if isinstance(x, dict) else list(inputs.values())
    if len(model_inputs) == 1 and not isinstance(x, dict | list | tuple):
        model_inputs = model_inputs[0]
    model = keras.Model(model_inputs, out)
    model.compile(optimizer="adam", loss="mse")
    return model


def run_module(options, placement, keras, emit) -> None:
    """Instantiate the chosen source (`options.source`, its `args`) of the module at
    `placement.path`, and fit a stand-in model on it, for the epochs the probe allows."""
    namespace = runpy.run_path(placement.path, run_name="fitprobe_module")

    def make_from(name, args):
        if name not in namespace:
            raise SourceProblem(f"no data source named {name!r} in {placement.display_name}")
        return lambda: _instantiate(namespace[name], dict(args or {}), name)

    make = make_from(options.source, options.args)
    data = make()
    model = build_standin(keras, _first_batch(make, data))
    emit("standin", layers=[type(layer).__name__ for layer in model.layers], loss="mse")
    validation = None
    if options.validation_source:
        validation = make_from(options.validation_source, options.validation_args)()
    model.fit(
        data,
        epochs=options.epochs,
        steps_per_epoch=options.steps_per_epoch,
        validation_data=validation,
        validation_steps=options.validation_steps,
        verbose=0,
    )
