"""EarlyStopping with a min_delta no loss can reach: training stops after two epochs."""

import sys

import numpy as np
from tensorflow import keras

TITLE = "EarlyStopping set up to stop at once"
LESSON = (
    "EarlyStopping ends training when the monitored value stops improving by at least "
    "min_delta for `patience` epochs. Here min_delta is 10 on a loss far below 10, so no epoch "
    "can count as an improvement and training stops after the second epoch, long before the "
    "five it asks for. fitprobe reports which callback stopped training and when; the fix is "
    "a min_delta on the scale of the loss and a little patience."
)
RULE = "callback-stopped-training"
EXPECTED = {"broken": {"keras3": [], "keras2": []}, "fixed": {"keras3": [], "keras2": []}}

features = np.random.default_rng(21).normal(size=(100, 4)).astype("float32")
targets = features @ np.array([1.5, -2.0, 0.5, 1.0], dtype="float32")


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


def broken():
    stop = keras.callbacks.EarlyStopping(monitor="loss", min_delta=10, patience=0)
    build_model().fit(features, targets, batch_size=10, epochs=5, callbacks=[stop], verbose=0)


def fixed():
    stop = keras.callbacks.EarlyStopping(monitor="loss", min_delta=1e-4, patience=3)
    build_model().fit(features, targets, batch_size=10, epochs=5, callbacks=[stop], verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
