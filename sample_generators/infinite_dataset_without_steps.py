"""A dataset that repeats forever, passed to fit() without steps_per_epoch."""

import math
import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras

TITLE = "An endless dataset with no steps_per_epoch"
LESSON = (
    "dataset.repeat() with no count never ends, and an epoch ends where the data ends unless "
    "steps_per_epoch says otherwise. Without it, Keras 3 trains the first epoch forever: no "
    "epoch end, no callbacks, no history, a script that hangs. Keras 2 refuses the call at once "
    "with ValueError: When providing an infinite dataset, you must specify the number of steps "
    "to run. The fix: pass steps_per_epoch (one pass is 10 batches here), or drop .repeat()."
)
RULE = "infinite-dataset-without-steps"
EXPECTED = {
    "broken": {
        "keras3": ["infinite-dataset-without-steps"],
        "keras2": ["infinite-dataset-without-steps"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(28).normal(size=(100, 6)).astype("float32")
targets = features @ np.linspace(-1.0, 1.0, 6, dtype="float32")


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def endless():
    return tf.data.Dataset.from_tensor_slices((features, targets)).batch(BATCH).repeat()


def broken():
    build_model().fit(endless(), epochs=2, verbose=0)


def fixed():
    steps = math.ceil(len(features) / BATCH)
    build_model().fit(endless(), steps_per_epoch=steps, epochs=2, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
