"""steps_per_epoch from floor division, on a data set smaller than one batch."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "steps_per_epoch that rounds down to 0"
LESSON = (
    "steps_per_epoch = len(samples) // batch_size is 0 as soon as there are fewer samples than "
    "one batch: here 46 labelled rows after filtering, and a batch of 64. Keras 2 refuses "
    "steps_per_epoch=0 with a ValueError before training starts. Keras 3 reads 0 as 'no "
    "limit', so with an endless generator the first epoch never ends: no validation, no "
    "epoch-end callbacks, training until someone stops it. The fix: max(1, math.ceil(rows / "
    "batch_size)), and a look at why the data is that small."
)
RULE = "steps-per-epoch-zero"
EXPECTED = {
    "broken": {"keras3": ["steps-per-epoch-zero"], "keras2": ["steps-per-epoch-zero"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 64
rng = np.random.default_rng(41)
table = rng.normal(size=(200, 5)).astype("float32")
labelled = table[table[:, 0] > 0.7]  # the rows that have a label: 46 of 200
targets = labelled[:, 1:].sum(axis=1)


def batches(x, y, batch_size):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]


def build_model():
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    steps = len(labelled) // BATCH
    build_model().fit(batches(labelled, targets, BATCH), steps_per_epoch=steps, epochs=3, verbose=0)


def fixed():
    steps = max(1, math.ceil(len(labelled) / BATCH))
    build_model().fit(batches(labelled, targets, BATCH), steps_per_epoch=steps, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
