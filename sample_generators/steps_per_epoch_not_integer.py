"""steps_per_epoch computed with `/`: 100 samples / 10 = 10.0, a float."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "steps_per_epoch computed with /"
LESSON = (
    "len(x) / batch_size is a float even when it divides evenly: 100 / 10 is 10.0, not 10. "
    "Keras 2 accepts a float steps_per_epoch (it rounds it up), so this script has always "
    "worked there. Keras 3 refuses any float and crashes before the first batch with TypeError: "
    "'float' object cannot be interpreted as an integer, a message that does not say which "
    "argument is wrong. The fix: math.ceil(len(x) / batch_size), an int on every stack."
)
RULE = "steps-per-epoch-not-integer"
EXPECTED = {
    "broken": {"keras3": ["steps-per-epoch-not-integer"], "keras2": []},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(27).normal(size=(100, 6)).astype("float32")
targets = features @ np.linspace(-1.0, 1.0, 6, dtype="float32")


def endless(batch_size=BATCH):
    while True:
        for start in range(0, len(features), batch_size):
            yield features[start : start + batch_size], targets[start : start + batch_size]


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(endless(), steps_per_epoch=len(features) / BATCH, epochs=3, verbose=0)


def fixed():
    steps = math.ceil(len(features) / BATCH)
    build_model().fit(endless(), steps_per_epoch=steps, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
