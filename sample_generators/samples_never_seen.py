"""An endless generator whose range() stops one batch early: the last rows never come."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "A generator that never reaches the end of the data"
LESSON = (
    "This generator loops forever, but each pass runs range(0, len(x) - batch_size, batch_size), "
    "which stops one batch before the end: rows 90-99 are never yielded, in any epoch, on either "
    "stack. Nothing fails and the loss goes down; the model simply never sees those samples. "
    "Coverage of the source array shows the hole. The fix: range(0, len(x), batch_size), which "
    "also yields the last batch (shorter, when the rows do not divide evenly)."
)
RULE = "samples-never-seen"
CHART = "coverage"
EXPECTED = {
    "broken": {"keras3": ["samples-never-seen"], "keras2": ["samples-never-seen"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(24).normal(size=(100, 6)).astype("float32")
targets = features @ np.linspace(-1.0, 1.0, 6, dtype="float32")


def stops_early(batch_size=BATCH):
    while True:
        for start in range(0, len(features) - batch_size, batch_size):
            yield features[start : start + batch_size], targets[start : start + batch_size]


def every_row(batch_size=BATCH):
    while True:
        for start in range(0, len(features), batch_size):
            yield features[start : start + batch_size], targets[start : start + batch_size]


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


STEPS = math.ceil(len(features) / BATCH)


def broken():
    build_model().fit(stops_early(), steps_per_epoch=STEPS, epochs=3, verbose=0)


def fixed():
    build_model().fit(every_row(), steps_per_epoch=STEPS, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
