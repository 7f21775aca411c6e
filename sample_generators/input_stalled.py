"""A generator that waits forever for data that never comes, in the middle of epoch 0."""

import math
import sys
import threading

import numpy as np
from tensorflow import keras

TITLE = "A generator that stops delivering and hangs"
LESSON = (
    "fit() cannot tell a slow generator from a stuck one: it simply waits for the next batch. "
    "After three batches this generator waits for a signal from its loader that never comes "
    "(think of a dead network share or a crashed worker), so training hangs in epoch 0 with no "
    "error at all. fitprobe stops the run at its time limit and reports how many batches "
    "arrived before the data stopped. The fix is in the loader: a timeout on the read, so a "
    "stalled source raises instead of blocking forever."
)
RULE = "input-stalled"
EXPECTED = {
    "broken": {"keras3": ["input-stalled"], "keras2": ["input-stalled"]},
    "fixed": {"keras3": [], "keras2": []},
}
PROBE_TIMEOUT = 30

BATCH = 10
samples = np.random.default_rng(17).normal(size=(100, 4)).astype("float32")
scores = samples.sum(axis=1)


def stalling():
    ready = threading.Event()
    for start in range(0, 3 * BATCH, BATCH):
        yield samples[start : start + BATCH], scores[start : start + BATCH]
    ready.wait()  # the loader never sets it: the generator blocks here for good


def endless():
    while True:
        for start in range(0, len(samples), BATCH):
            yield samples[start : start + BATCH], scores[start : start + BATCH]


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(stalling(), steps_per_epoch=10, epochs=2, verbose=0)


def fixed():
    steps = math.ceil(len(samples) / BATCH)
    build_model().fit(endless(), steps_per_epoch=steps, epochs=2, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
