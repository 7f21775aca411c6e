"""Keras 2's loader arguments (workers, max_queue_size) passed to Keras 3's fit()."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "Loader arguments that Keras 3's fit() no longer takes"
LESSON = (
    "Keras 2 let fit() start worker threads for a Sequence: `fit(batches, workers=4, "
    "max_queue_size=20)`. Keras 3 moved these settings to the data itself, so the same call "
    "stops at once with TypeError: unexpected keyword argument 'workers', before any training. "
    "On Keras 3, subclass keras.utils.PyDataset and pass workers, use_multiprocessing and "
    "max_queue_size to its super().__init__()."
)
RULE = "unsupported-fit-argument"
EXPECTED = {
    "broken": {"keras3": ["unsupported-fit-argument"], "keras2": []},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
KERAS3 = hasattr(keras.utils, "PyDataset")  # Keras 2 has only keras.utils.Sequence
rng = np.random.default_rng(17)
features = rng.normal(size=(100, 8)).astype("float32")
targets = features[:, :4].sum(axis=1, keepdims=True)


class Batches(keras.utils.PyDataset if KERAS3 else keras.utils.Sequence):
    def __init__(self, x, y, batch_size, **loader):
        super().__init__(**loader)  # Keras 3: workers, use_multiprocessing, max_queue_size
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


def build_model():
    model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    batches = Batches(features, targets, BATCH)
    build_model().fit(batches, epochs=3, verbose=0, workers=4, max_queue_size=20)


def fixed():
    loader = {"workers": 4, "max_queue_size": 20}
    if KERAS3:  # the data owns its loading settings
        build_model().fit(Batches(features, targets, BATCH, **loader), epochs=3, verbose=0)
    else:  # Keras 2: fit() still takes them
        build_model().fit(Batches(features, targets, BATCH), epochs=3, verbose=0, **loader)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
