"""A two-input model fed one array with both inputs stacked side by side."""

import sys

import numpy as np
from tensorflow import keras

TITLE = "Two inputs stacked into one array"
LESSON = (
    "The model has two inputs, a 6-value measurement and a 3-value context, but the script "
    "concatenates them into one array of 9 columns before calling fit(). Keras refuses the "
    "batch from inside its traced training step: Keras 3 says the layer expects 2 inputs but "
    "received 1, Keras 2 wraps the same in a page of frames. fitprobe records the batch's "
    "structure before Keras sees it and compares it with the model's inputs. The fix: one "
    "array per input, in order, or a dict keyed by input name."
)
RULE = "input-structure-mismatch"
EXPECTED = {
    "broken": {"keras3": ["input-structure-mismatch"], "keras2": ["input-structure-mismatch"]},
    "fixed": {"keras3": [], "keras2": []},
}

rng = np.random.default_rng(47)
measurement = rng.normal(size=(80, 6)).astype("float32")
context = rng.normal(size=(80, 3)).astype("float32")
targets = measurement.sum(axis=1) - context.sum(axis=1)


def build_model():
    signal = keras.Input(shape=(6,), name="measurement")
    where = keras.Input(shape=(3,), name="context")
    joined = keras.layers.Concatenate()([signal, where])
    model = keras.Model([signal, where], keras.layers.Dense(1)(joined))
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    stacked = np.concatenate([measurement, context], axis=1)
    build_model().fit(stacked, targets, batch_size=16, epochs=2, verbose=0)


def fixed():
    build_model().fit([measurement, context], targets, batch_size=16, epochs=2, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
