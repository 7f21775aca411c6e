"""A Sequence whose __len__ rounds up one batch too many: its last index is empty."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "A Sequence that promises one batch too many"
LESSON = (
    "Keras asks a Sequence for every index in range(len()). Here __len__ returns "
    "len(x) // batch_size + 1, meant to round up, which gives 11 for 100 rows that fill exactly "
    "10 batches. Index 10 slices past the end of the arrays and returns a batch of 0 samples, "
    "and every epoch trains a step on it without any error. The fix: "
    "math.ceil(len(x) / batch_size), which is right whether the rows divide evenly or not."
)
RULE = "sequence-len-too-large"
EXPECTED = {
    "broken": {"keras3": ["sequence-len-too-large"], "keras2": ["sequence-len-too-large"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(23).normal(size=(100, 6)).astype("float32")
targets = features @ np.linspace(-1.0, 1.0, 6, dtype="float32")


class Batches(keras.utils.Sequence):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return len(self.x) // self.batch_size + 1

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]


class RightSized(Batches):
    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(Batches(features, targets, BATCH), epochs=3, verbose=0)


def fixed():
    build_model().fit(RightSized(features, targets, BATCH), epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
