"""A generator that decodes every batch on the fly, slower than the model trains on it."""

import math
import sys
import time

import numpy as np
from tensorflow import keras

TITLE = "Training waits for a slow generator"
LESSON = (
    "Each step can only start when the next batch is ready. This generator spends 30 ms "
    "preparing every batch (standing in for image decoding or augmentation) while the model "
    "needs about a millisecond to train on it, so most of every epoch is spent waiting for "
    "data. fitprobe times the wait for data apart from the step itself. The fix: prepare the "
    "data once, or build a tf.data pipeline that maps in parallel and prefetches."
)
RULE = "input-bound"
CHART = "timeline"  # broken waits ~30 ms a batch, fixed well under 1 ms
EXPECTED = {"broken": {"keras3": [], "keras2": []}, "fixed": {"keras3": [], "keras2": []}}

BATCH = 10
raw = np.random.default_rng(8).normal(size=(250, 6)).astype("float32")
labels = raw.sum(axis=1)


def slow_decode(rows):
    time.sleep(0.03)  # decoding, augmentation, a remote read...
    return rows * 0.5


def decoded_on_the_fly():
    while True:
        for start in range(0, len(raw), BATCH):
            yield slow_decode(raw[start : start + BATCH]), labels[start : start + BATCH]


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    steps = math.ceil(len(raw) / BATCH)
    build_model().fit(decoded_on_the_fly(), steps_per_epoch=steps, epochs=2, verbose=0)


def fixed():
    decoded = raw * 0.5  # decoded once, before training
    build_model().fit(decoded, labels, batch_size=BATCH, epochs=2, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
