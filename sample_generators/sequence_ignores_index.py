"""A Sequence whose __getitem__ forgets to multiply the index by the batch size."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "A Sequence that slices by index, not by batch"
LESSON = (
    "Keras asks a Sequence for batches 0, 1, 2, ... and trusts __getitem__(index) to return "
    "batch number `index`. This one slices rows index to index + batch_size, forgetting to "
    "multiply by the batch size, so consecutive batches overlap by 9 rows: each epoch trains "
    "100 rows but only 19 distinct samples, and rows 19-99 are never seen, on Keras 2 and "
    "Keras 3 alike. The loss still goes down. The fix: slice from index * batch_size to "
    "(index + 1) * batch_size."
)
RULE = "sequence-ignores-index"
CHART = "coverage"
EXPECTED = {
    "broken": {"keras3": ["sequence-ignores-index"], "keras2": ["sequence-ignores-index"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(13)
inputs = rng.normal(size=(100, 8)).astype("float32")
targets = inputs[:, ::2].sum(axis=1)


class ShiftedRows(keras.utils.Sequence):
    """The bug: `index` is used as a row number, not as a batch number."""

    def __init__(self, x, y, batch_size=BATCH):
        super().__init__()
        self.x, self.y = x, y
        self.batch_size = batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = slice(index, index + self.batch_size)
        return self.x[rows], self.y[rows]


class BatchRows(ShiftedRows):
    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


def build_model():
    model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(ShiftedRows(inputs, targets), epochs=3, verbose=0)


def fixed():
    build_model().fit(BatchRows(inputs, targets), epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
