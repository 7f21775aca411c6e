"""A correct Sequence of 10 batches, asked for 15 batches per epoch."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "steps_per_epoch larger than the Sequence"
LESSON = (
    "A Sequence knows its own length: this one holds 10 batches, and Keras asks it for exactly "
    "those indices. steps_per_epoch=15 does not make Keras loop over them; it runs out of data "
    "after 10. Keras 2 then stops training after the first epoch, while Keras 3 warns and cuts "
    "every epoch to the 10 batches there are. For a Sequence (or arrays), leave steps_per_epoch "
    "out: one epoch is one pass, len() batches."
)
RULE = "steps-per-epoch-too-large"
EXPECTED = {
    "broken": {
        "keras3": ["steps-per-epoch-too-large"],
        "keras2": ["steps-per-epoch-too-large"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(22).normal(size=(100, 6)).astype("float32")
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
    build_model().fit(Batches(features, targets, BATCH), steps_per_epoch=15, epochs=3, verbose=0)


def fixed():
    build_model().fit(Batches(features, targets, BATCH), epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
