"""A one-pass generator with no steps_per_epoch, trained for five epochs."""

import sys

import numpy as np
from tensorflow import keras

TITLE = "Five epochs from one pass of a generator"
LESSON = (
    "Without steps_per_epoch, fit() runs a generator until it ends and calls that an epoch. "
    "This generator makes one pass (10 batches) and is then used up. Keras 3 does not stop: "
    "it keeps the 2 batches it peeked at start-up to learn the shapes, serves them again "
    "each time it restarts the generator, and trains epochs 1-4 on just those 2 batches "
    "(10, 2, 2, 2, 2). Keras 2 stops after an empty second epoch. The fix: a PyDataset (or "
    "a tf.data.Dataset), which fit() can read from the start again every epoch."
)
RULE = "replayed-peeked-batches"
EXPECTED = {
    "broken": {
        "keras3": ["finite-generator-exhausted", "replayed-peeked-batches"],
        "keras2": ["finite-generator-exhausted"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(9)
points = rng.normal(size=(100, 2)).astype("float32")
distance = np.sqrt((points**2).sum(axis=1))


def single_pass(batch_size=BATCH):
    for start in range(0, len(points), batch_size):
        yield points[start : start + batch_size], distance[start : start + batch_size]


class Batches(keras.utils.Sequence):
    def __init__(self, batch_size=BATCH):
        super().__init__()
        self.batch_size = batch_size

    def __len__(self):
        return -(-len(points) // self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return points[rows], distance[rows]


def build_model():
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(single_pass(), epochs=5, verbose=0)


def fixed():
    build_model().fit(Batches(), epochs=5, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
