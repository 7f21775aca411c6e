"""A Sequence whose __len__ rounds down and drops the last, partial batch."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "__len__ with `//` loses the last rows"
LESSON = (
    "Keras asks a Sequence for batches 0 .. len() - 1 and nothing else. With 105 rows and "
    "batches of 10, `len(self.x) // self.batch_size` is 10, so the 5 rows of the partial "
    "last batch (rows 100-104) are never requested, in any epoch, on Keras 2 or Keras 3. "
    "Training looks normal: every epoch has its 10 batches. The fix: round up, "
    "math.ceil(len(self.x) / self.batch_size), and let the last batch be smaller."
)
RULE = "sequence-len-too-small"
EXPECTED = {
    "broken": {"keras3": ["sequence-len-too-small"], "keras2": ["sequence-len-too-small"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(6)
x = rng.normal(size=(105, 4)).astype("float32")
y = x[:, 0] * 3 - x[:, 3]


class FloorBatches(keras.utils.Sequence):
    def __init__(self, x, y, batch_size=BATCH):
        super().__init__()
        self.x, self.y = x, y
        self.batch_size = batch_size

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


class CeilBatches(FloorBatches):
    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(FloorBatches(x, y), epochs=3, verbose=0)


def fixed():
    build_model().fit(CeilBatches(x, y), epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
