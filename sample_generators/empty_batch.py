"""A batch count rounded up with `// + 1`: one empty batch too many when the rows divide evenly."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "One batch too many: an empty batch every epoch"
LESSON = (
    "`len(x) // batch_size + 1` is a common way to 'round up' the number of batches, but when "
    "the rows divide evenly (100 rows, batches of 10) it counts one batch too many. The last "
    "slice starts past the end of the data, NumPy returns empty arrays without complaint, and "
    "Keras trains a step on 0 rows in every epoch. math.ceil(len(x) / batch_size) counts "
    "exactly the batches the data holds."
)
RULE = "empty-batch"
EXPECTED = {
    "broken": {"keras3": ["empty-batch"], "keras2": ["empty-batch"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(29)
features = rng.normal(size=(100, 4)).astype("float32")
targets = (features @ np.array([[1.0], [0.5], [-0.5], [2.0]], dtype="float32")).astype("float32")


def batches(steps):
    while True:
        for i in range(steps):
            rows = slice(i * BATCH, (i + 1) * BATCH)
            yield features[rows], targets[rows]


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    steps = len(features) // BATCH + 1
    build_model().fit(batches(steps), steps_per_epoch=steps, epochs=3, verbose=0)


def fixed():
    steps = math.ceil(len(features) / BATCH)
    build_model().fit(batches(steps), steps_per_epoch=steps, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
