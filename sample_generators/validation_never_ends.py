"""An endless validation generator without validation_steps."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "An endless validation generator without validation_steps"
LESSON = (
    "Training generators loop forever so that every epoch gets fresh batches, and the same "
    "pattern is often reused for validation. But without validation_steps, fit() validates "
    "until the validation data ends, and this generator never ends: the first epoch trains "
    "its 10 batches, validation starts, and training hangs there on both Keras 2 and Keras 3 "
    "(the probe stops it after a cap on validation batches). The fix: say how many batches "
    "one validation takes, validation_steps = math.ceil(len(x_val) / batch_size)."
)
RULE = "validation-never-ends"
CHART = "validation"
EXPECTED = {
    "broken": {"keras3": ["validation-never-ends"], "keras2": ["validation-never-ends"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(8)
x_train = rng.normal(size=(100, 5)).astype("float32")
y_train = x_train.mean(axis=1)
x_val = rng.normal(size=(20, 5)).astype("float32")
y_val = x_val.mean(axis=1)


def looping(x, y, batch_size=BATCH):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]


def build_model():
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(
        looping(x_train, y_train),
        steps_per_epoch=math.ceil(len(x_train) / BATCH),
        validation_data=looping(x_val, y_val),
        epochs=3,
        verbose=0,
    )


def fixed():
    build_model().fit(
        looping(x_train, y_train),
        steps_per_epoch=math.ceil(len(x_train) / BATCH),
        validation_data=looping(x_val, y_val),
        validation_steps=math.ceil(len(x_val) / BATCH),
        epochs=3,
        verbose=0,
    )


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
