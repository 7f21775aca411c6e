"""steps_per_execution with a generator of unknown length: Keras 2 refuses to start."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "steps_per_execution without a known epoch length"
LESSON = (
    "compile(steps_per_execution=4) runs four training steps per call into TensorFlow, so Keras "
    "must know how many steps an epoch has. A one-pass generator does not say: Keras 2 stops at "
    "once with 'Could not infer the size of the data', a crash no more specific rule explains, "
    "while Keras 3 trains a first pass and then only the batches it cached. The fix: an endless "
    "generator and an explicit steps_per_epoch."
)
RULE = "fit-raised"
EXPECTED = {
    "broken": {
        "keras3": ["finite-generator-exhausted", "replayed-peeked-batches"],
        "keras2": ["fit-raised"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
points = np.random.default_rng(13).normal(size=(110, 5)).astype("float32")
heights = points[:, 0] - points[:, 1]


def one_pass():
    for start in range(0, len(points), BATCH):
        yield points[start : start + BATCH], heights[start : start + BATCH]


def endless():
    while True:
        yield from one_pass()


def build_model():
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", steps_per_execution=4)
    return model


def broken():
    build_model().fit(one_pass(), epochs=3, verbose=0)


def fixed():
    steps = math.ceil(len(points) / BATCH)
    build_model().fit(endless(), steps_per_epoch=steps, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
