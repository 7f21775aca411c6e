"""steps_per_epoch computed with Keras's default batch size, not the generator's."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "steps_per_epoch from the wrong batch size"
LESSON = (
    "The generator yields batches of 10, but steps_per_epoch was computed as len(x) // 32, "
    "the batch size Keras uses by default: 3 steps instead of 10. Nothing fails. Each "
    "'epoch' is 30 samples, consecutive epochs walk through different slices of the data, "
    "and per-epoch metrics, EarlyStopping patience and the epoch count all mean something "
    "else than intended. The fix: derive steps_per_epoch from the batch size the generator "
    "really uses, math.ceil(len(x) / batch_size)."
)
RULE = "steps-per-epoch-too-small"
EXPECTED = {
    "broken": {
        "keras3": ["steps-per-epoch-too-small"],
        "keras2": ["steps-per-epoch-too-small"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(12)
x = rng.normal(size=(100, 5)).astype("float32")
y = (x @ np.arange(1, 6, dtype="float32")) / 5


def endless(batch_size=BATCH):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]


def build_model():
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(endless(), steps_per_epoch=len(x) // 32, epochs=5, verbose=0)


def fixed():
    build_model().fit(endless(), steps_per_epoch=math.ceil(len(x) / BATCH), epochs=5, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
