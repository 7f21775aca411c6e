"""Labels built for a fixed batch size next to a last slice of x that is shorter."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "Labels built for a full batch, data that ends with a short one"
LESSON = (
    "Every row of this data set is a positive example, so the generator makes its labels "
    "with np.ones(batch_size). That is right for the first ten batches, but 105 rows end "
    "with a batch of 5: 5 inputs meet 10 labels, and both Keras crash on that batch with an "
    "InvalidArgumentError from deep inside the loss, after training fine for most of an "
    "epoch. Build the labels from the slice you actually yield: np.ones(len(x_batch))."
)
RULE = "xy-length-mismatch"
EXPECTED = {
    "broken": {"keras3": ["xy-length-mismatch"], "keras2": ["xy-length-mismatch"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(13)
positives = rng.normal(loc=1.0, size=(105, 4)).astype("float32")


def labelled(batch_size=BATCH):
    while True:
        for start in range(0, len(positives), batch_size):
            yield positives[start : start + batch_size], np.ones(batch_size, dtype="float32")


def labelled_by_slice(batch_size=BATCH):
    while True:
        for start in range(0, len(positives), batch_size):
            x_batch = positives[start : start + batch_size]
            yield x_batch, np.ones(len(x_batch), dtype="float32")


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    steps = math.ceil(len(positives) / BATCH)
    build_model().fit(labelled(), steps_per_epoch=steps, epochs=3, verbose=0)


def fixed():
    steps = math.ceil(len(positives) / BATCH)
    build_model().fit(labelled_by_slice(), steps_per_epoch=steps, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
