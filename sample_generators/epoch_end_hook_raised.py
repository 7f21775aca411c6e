"""A Sequence whose on_epoch_end() reshuffles an order it cannot change."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "A reshuffle in on_epoch_end() that crashes"
LESSON = (
    "This Sequence keeps its sample order in `range(len(x))` and reshuffles it in "
    "on_epoch_end(), but a range cannot be shuffled in place, so the hook raises TypeError. "
    "When it raises surprises people: Keras 3 calls on_epoch_end() once before the first "
    "epoch too, so fit() fails before a single batch is trained; Keras 2 trains epoch 0 and "
    "crashes at its end. Keep the order in a NumPy array, and call the hook once yourself "
    "after building the Sequence."
)
RULE = "epoch-end-hook-raised"
EXPECTED = {
    "broken": {"keras3": ["epoch-end-hook-raised"], "keras2": ["epoch-end-hook-raised"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(41)
features = rng.normal(size=(100, 4)).astype("float32")
targets = features[:, :2].sum(axis=1, keepdims=True)


class Shuffled(keras.utils.Sequence):
    def __init__(self, x, y, order):
        super().__init__()
        self.x, self.y, self.order = x, y, order

    def __len__(self):
        return math.ceil(len(self.x) / BATCH)

    def __getitem__(self, index):
        rows = self.order[index * BATCH : (index + 1) * BATCH]
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        rng.shuffle(self.order)


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    batches = Shuffled(features, targets, order=range(len(features)))
    build_model().fit(batches, epochs=3, verbose=0)


def fixed():
    batches = Shuffled(features, targets, order=np.arange(len(features)))
    batches.on_epoch_end()  # a bug in the hook would show here, outside fit()
    build_model().fit(batches, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
