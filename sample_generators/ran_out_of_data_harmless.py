"""One epoch over a one-pass generator: Keras warns that the input ran out, and it is fine."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "A 'ran out of data' warning that means nothing"
LESSON = (
    "Keras prints 'Your input ran out of data; interrupting training' whenever a data source "
    "ends before Keras expected it to, and with a generator of unknown length Keras 3 cannot "
    "expect anything: after one full pass of this one-pass generator, the single epoch that was "
    "asked for is complete, yet the warning appears. fitprobe checks whether any epoch was "
    "actually cut short before calling the warning harmful. Giving steps_per_epoch removes it."
)
RULE = "ran-out-of-data-harmless"
SAME_CHARTS = True  # the warning changes nothing trained
EXPECTED = {"broken": {"keras3": [], "keras2": []}, "fixed": {"keras3": [], "keras2": []}}

BATCH = 10
rows = np.random.default_rng(4).normal(size=(80, 3)).astype("float32")
values = rows.mean(axis=1)


def one_pass():
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH], values[start : start + BATCH]


def build_model():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(one_pass(), epochs=1, verbose=0)


def fixed():
    build_model().fit(one_pass(), steps_per_epoch=math.ceil(len(rows) / BATCH), epochs=1, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
