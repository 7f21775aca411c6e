"""A batched dataset split with .skip(20): 20 batches, not 20 samples, and nothing is left."""

import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras

TITLE = "A dataset split that leaves nothing to train on"
LESSON = (
    "After .batch(10), .skip() and .take() count batches, not samples. Meaning to hold out the "
    "first 20 samples, this script skips 20 batches of a dataset that only has 10, so the "
    "training dataset is empty. Keras 3 runs all three epochs with 0 batches and a warning, and "
    "fit() returns as if nothing happened; Keras 2 refuses with ValueError: Expected input data "
    "to be non-empty. The fix: skip rows before batching, and check cardinality()."
)
RULE = "empty-epoch"
EXPECTED = {
    "broken": {"keras3": ["empty-epoch"], "keras2": ["empty-epoch"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
HELD_OUT = 20  # samples kept aside for a later test
features = np.random.default_rng(29).normal(size=(100, 6)).astype("float32")
targets = features @ np.linspace(-1.0, 1.0, 6, dtype="float32")


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def rows():
    return tf.data.Dataset.from_tensor_slices((features, targets))


def broken():
    train = rows().batch(BATCH).skip(HELD_OUT)
    build_model().fit(train, epochs=3, verbose=0)


def fixed():
    train = rows().skip(HELD_OUT).batch(BATCH)
    build_model().fit(train, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
