"""fit(..., shuffle=True) with a generator, which Keras reads in the order it yields."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "shuffle=True passed with a generator"
LESSON = (
    "fit()'s shuffle only reorders data Keras indexes itself: arrays, and the batch order of a "
    "Sequence. A generator is read in the order it yields, so shuffle=True here changes nothing "
    "and the samples, sorted by target, reach the model in the same order every epoch. Keras 3 "
    "prints a warning (also when shuffle was never passed); Keras 2 ignores it silently. The "
    "fix: shuffle inside the generator, with a fresh permutation of the rows at every pass."
)
RULE = "shuffle-ignored"
CHART = "order"  # the same rows every epoch, in the same order or not
EXPECTED = {
    "broken": {"keras3": ["shuffle-ignored"], "keras2": ["shuffle-ignored"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(30).normal(size=(100, 6)).astype("float32")
targets = features @ np.linspace(-1.0, 1.0, 6, dtype="float32")
order = np.argsort(targets)  # the file arrives sorted by target
features, targets = features[order], targets[order]
STEPS = math.ceil(len(features) / BATCH)


def in_file_order(batch_size=BATCH):
    while True:
        for start in range(0, len(features), batch_size):
            yield features[start : start + batch_size], targets[start : start + batch_size]


def shuffled(batch_size=BATCH, seed=0):
    rng = np.random.default_rng(seed)
    while True:
        rows = rng.permutation(len(features))
        for start in range(0, len(features), batch_size):
            picked = rows[start : start + batch_size]
            yield features[picked], targets[picked]


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(in_file_order(), steps_per_epoch=STEPS, epochs=3, shuffle=True, verbose=0)


def fixed():
    build_model().fit(shuffled(), steps_per_epoch=STEPS, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
