"""A plain generator that loads slow batches, read by four worker threads at once."""

import math
import sys
import time

import numpy as np
from tensorflow import keras

TITLE = "One generator shared by four loader threads"
LESSON = (
    "Loading is slow, so the script asks Keras 2 for four loader threads with "
    "`fit(..., workers=4)`. But a generator has one position and cannot be advanced by two "
    "threads at once: as soon as one thread is inside it while another calls next(), Keras 2 "
    "crashes with 'Your generator is NOT thread-safe' (with processes instead of threads, "
    "each worker replays its own copy and batches are duplicated). Keras 3 rejects `workers` "
    "in fit() outright. A Sequence / PyDataset is read by index, so any number of workers "
    "can share it safely."
)
RULE = "non-threadsafe-generator"
EXPECTED = {
    "broken": {"keras3": ["unsupported-fit-argument"], "keras2": ["non-threadsafe-generator"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
KERAS3 = hasattr(keras.utils, "PyDataset")  # Keras 2 has only keras.utils.Sequence
rng = np.random.default_rng(23)
features = rng.normal(size=(100, 6)).astype("float32")
targets = features @ np.full((6, 1), 0.5, dtype="float32")


def load(rows):
    time.sleep(0.01)  # stands for reading and decoding files
    return features[rows], targets[rows]


def batches():
    while True:
        for start in range(0, len(features), BATCH):
            yield load(slice(start, start + BATCH))


class Batches(keras.utils.PyDataset if KERAS3 else keras.utils.Sequence):
    def __init__(self, **loader):
        super().__init__(**loader)  # Keras 3: workers, use_multiprocessing, max_queue_size

    def __len__(self):
        return math.ceil(len(features) / BATCH)

    def __getitem__(self, index):
        return load(slice(index * BATCH, (index + 1) * BATCH))


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(batches(), steps_per_epoch=10, epochs=3, verbose=0, workers=4)


def fixed():
    if KERAS3:
        build_model().fit(Batches(workers=4), epochs=3, verbose=0)
    else:
        build_model().fit(Batches(), epochs=3, verbose=0, workers=4)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
