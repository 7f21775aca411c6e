"""steps_per_epoch=len(x) with an endless generator of batches of 10."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "steps_per_epoch set to the number of samples"
LESSON = (
    "steps_per_epoch counts batches, not samples. With 100 samples in batches of 10, "
    "steps_per_epoch=len(x) asks for 100 batches per epoch: ten passes over the data in what "
    "the code calls one epoch. With this endless generator both stacks do exactly that, so "
    "every per-epoch number (loss, callbacks, checkpoints, schedules) is ten times too coarse "
    "and training takes ten times longer than planned. The fix: math.ceil(len(x) / batch_size)."
)
RULE = "steps-count-samples"
EXPECTED = {
    "broken": {"keras3": ["steps-count-samples"], "keras2": ["steps-count-samples"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(26).normal(size=(100, 6)).astype("float32")
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
    build_model().fit(endless(), steps_per_epoch=len(features), epochs=2, verbose=0)


def fixed():
    steps = math.ceil(len(features) / BATCH)
    build_model().fit(endless(), steps_per_epoch=steps, epochs=2, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
