"""A Sequence of 10 batches with steps_per_epoch=4: on Keras 3 every third epoch is short."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "Epochs of 4, 4 and 2 batches"
LESSON = (
    "steps_per_epoch=4 over a Sequence of 10 batches does not divide the pass. Keras 3 carries "
    "on where the previous epoch stopped and ends an epoch where the pass ends, so the epochs "
    "train 4, 4 and then only 2 batches, and per-epoch metrics and callbacks compare epochs of "
    "different weight. Keras 2 restarts at index 0 every epoch (4, 4, 4) and never reaches the "
    "rest of the data. The fix: leave steps_per_epoch out, so each epoch is one pass."
)
RULE = "variable-epoch-length"
EXPECTED = {
    "broken": {
        "keras3": ["steps-per-epoch-too-small", "variable-epoch-length"],
        "keras2": ["steps-per-epoch-too-small"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(25).normal(size=(100, 6)).astype("float32")
targets = features @ np.linspace(-1.0, 1.0, 6, dtype="float32")


class Batches(keras.utils.Sequence):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(Batches(features, targets, BATCH), steps_per_epoch=4, epochs=3, verbose=0)


def fixed():
    build_model().fit(Batches(features, targets, BATCH), epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
