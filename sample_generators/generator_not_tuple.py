"""A generator that yields each batch as a list [x, y] instead of a tuple (x, y)."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "A generator that yields lists instead of tuples"
LESSON = (
    "Keras reads the structure of what a generator yields: a tuple means (inputs, targets), "
    "a list means several inputs. Keras 2 was lenient and trained on `[x, y]` as if it were "
    "`(x, y)`, so code like this worked for years. Keras 3 is strict: fit() stops before the "
    "first batch with 'the generator must return a tuple'. The fix is one pair of brackets: "
    "yield `x_batch, y_batch`."
)
RULE = "generator-not-tuple"
EXPECTED = {
    "broken": {"keras3": ["generator-not-tuple"], "keras2": []},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(18)
features = rng.uniform(-1.0, 1.0, size=(80, 4)).astype("float32")
targets = (features[:, :1] * 2.0 - features[:, 1:2]).astype("float32")


def as_lists(batch_size=BATCH):
    while True:
        for start in range(0, len(features), batch_size):
            end = start + batch_size
            yield [features[start:end], targets[start:end]]


def as_tuples(batch_size=BATCH):
    while True:
        for start in range(0, len(features), batch_size):
            end = start + batch_size
            yield features[start:end], targets[start:end]


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def broken():
    steps = math.ceil(len(features) / BATCH)
    build_model().fit(as_lists(), steps_per_epoch=steps, epochs=2, verbose=0)


def fixed():
    steps = math.ceil(len(features) / BATCH)
    build_model().fit(as_tuples(), steps_per_epoch=steps, epochs=2, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
