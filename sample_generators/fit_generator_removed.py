"""Training with model.fit_generator(), which Keras 3 no longer has."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "fit_generator() from an old tutorial"
LESSON = (
    "Many tutorials still call model.fit_generator(). Keras 2 runs it, as a deprecated "
    "wrapper around fit(); Keras 3 removed it, so the script stops with AttributeError "
    "before a single batch is trained. fit() has accepted generators, Sequences and "
    "tf.data datasets directly since TensorFlow 2.1: the fix is to call fit() with the "
    "same arguments."
)
RULE = "fit-generator-removed"
EXPECTED = {
    "broken": {"keras3": ["fit-generator-removed"], "keras2": ["fit-generator-removed"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(2)
samples = rng.normal(size=(60, 3)).astype("float32")
values = samples @ np.array([0.5, -1.0, 2.0], dtype="float32")


def batches(batch_size=BATCH):
    while True:
        for start in range(0, len(samples), batch_size):
            yield samples[start : start + batch_size], values[start : start + batch_size]


def build_model():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    model = build_model()
    model.fit_generator(
        batches(), steps_per_epoch=math.ceil(len(samples) / BATCH), epochs=3, verbose=0
    )


def fixed():
    model = build_model()
    model.fit(batches(), steps_per_epoch=math.ceil(len(samples) / BATCH), epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
