"""tf.data.Dataset.from_generator given a lambda that returns one generator object."""

import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras

TITLE = "from_generator with a generator made once"
LESSON = (
    "tf.data calls the function given to from_generator once per pass over the dataset. "
    "`lambda: samples` returns the same generator object every time, and a generator can be "
    "iterated only once: the first pass gets 12 batches, every later pass gets none. With "
    ".repeat() and steps_per_epoch, Keras 3 trains epochs 1 and 2 on nothing (their loss is "
    "not a measurement) and Keras 2 stops after the first epoch. The fix: a function that makes "
    "a new generator on each call, `lambda: rows(...)`."
)
RULE = "from-generator-reused"
EXPECTED = {
    "broken": {
        "keras3": ["empty-epoch", "from-generator-reused"],
        "keras2": ["empty-epoch", "from-generator-reused"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(43)
features = rng.normal(size=(120, 4)).astype("float32")
targets = features @ np.array([0.5, -1.0, 2.0, 0.0], dtype="float32")
SPEC = (tf.TensorSpec((4,), tf.float32), tf.TensorSpec((), tf.float32))


def rows(x, y):
    for i in range(len(x)):
        yield x[i], y[i]


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def train(dataset):
    build_model().fit(dataset.batch(BATCH).repeat(), steps_per_epoch=12, epochs=3, verbose=0)


def broken():
    samples = rows(features, targets)
    train(tf.data.Dataset.from_generator(lambda: samples, output_signature=SPEC))


def fixed():
    train(tf.data.Dataset.from_generator(lambda: rows(features, targets), output_signature=SPEC))


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
