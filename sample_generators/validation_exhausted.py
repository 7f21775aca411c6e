"""A one-pass generator passed as validation_data to a four-epoch fit()."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "A one-pass validation generator"
LESSON = (
    "fit() reads validation_data again at the end of every epoch, but a generator object can "
    "only be read once. This validation generator has no `while True:` loop: after the first "
    "validation it is used up. Keras 3 warns and computes every later val_loss on the 2 "
    "batches it peeked at start-up (validation batches 3, 2, 2, 2); Keras 2 silently stops "
    "validating (3, 0, 0, 0), so val_loss vanishes from the logs. The fix: make the validation "
    "generator endless and let validation_steps say how many batches one validation takes."
)
RULE = "validation-exhausted"
CHART = "validation"
EXPECTED = {
    "broken": {"keras3": ["validation-exhausted"], "keras2": ["validation-exhausted"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(3)
weights = rng.normal(size=4).astype("float32")
train_x = rng.normal(size=(80, 4)).astype("float32")
train_y = train_x @ weights
val_x = rng.normal(size=(30, 4)).astype("float32")
val_y = val_x @ weights


def forever(x, y, batch_size=BATCH):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]


def one_pass(x, y, batch_size=BATCH):
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size], y[start : start + batch_size]


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def broken():
    build_model().fit(
        forever(train_x, train_y),
        steps_per_epoch=math.ceil(len(train_x) / BATCH),
        validation_data=one_pass(val_x, val_y),
        validation_steps=math.ceil(len(val_x) / BATCH),
        epochs=4,
        verbose=0,
    )


def fixed():
    build_model().fit(
        forever(train_x, train_y),
        steps_per_epoch=math.ceil(len(train_x) / BATCH),
        validation_data=forever(val_x, val_y),
        validation_steps=math.ceil(len(val_x) / BATCH),
        epochs=4,
        verbose=0,
    )


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
