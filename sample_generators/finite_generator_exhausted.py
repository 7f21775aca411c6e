"""A generator that makes one pass over the data, fed to fit() for five epochs."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "A one-pass generator asked for five epochs"
LESSON = (
    "A generator object can be iterated once. This one has no `while True:` loop, so after "
    "one pass (10 batches) it is used up while fit() asks for steps_per_epoch x epochs = 50 "
    "batches. Keras 2 warns that the input ran out of data and stops after the second, empty "
    "epoch. Keras 3 warns too but keeps going, training every later epoch on the 2 batches it "
    "peeked at start-up. The fix: loop forever inside the generator, and let steps_per_epoch "
    "say how many batches make an epoch."
)
RULE = "finite-generator-exhausted"
EXPECTED = {
    "broken": {
        "keras3": ["finite-generator-exhausted", "replayed-peeked-batches"],
        "keras2": ["finite-generator-exhausted"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(11).normal(size=(100, 6)).astype("float32")
targets = features @ np.linspace(-1.0, 1.0, 6, dtype="float32")


def one_pass(batch_size=BATCH):
    for start in range(0, len(features), batch_size):
        yield features[start : start + batch_size], targets[start : start + batch_size]


def endless(batch_size=BATCH):
    while True:
        for start in range(0, len(features), batch_size):
            yield features[start : start + batch_size], targets[start : start + batch_size]


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(one_pass(), steps_per_epoch=10, epochs=5, verbose=0)


def fixed():
    steps = math.ceil(len(features) / BATCH)
    build_model().fit(endless(), steps_per_epoch=steps, epochs=5, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
