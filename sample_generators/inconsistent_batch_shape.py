"""Batches from two data exports, the second of which lost a column."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "Two data exports with different columns"
LESSON = (
    "The generator streams two exports of the same table one after the other, but the newer "
    "export dropped a column: its batches have 5 features where the first ones had 6. "
    "Training runs fine through the first export and crashes on the first batch of the "
    "second. Keras 3 stops in the input pipeline (it fixed the shape from the first batches "
    "it peeked at), Keras 2 in the first Dense layer. Align the columns where the batches "
    "are built."
)
RULE = "inconsistent-batch-shape"
EXPECTED = {
    "broken": {"keras3": ["inconsistent-batch-shape"], "keras2": ["inconsistent-batch-shape"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
COLUMNS = ["age", "height", "weight", "pulse", "steps", "sleep"]
rng = np.random.default_rng(31)
march = {c: rng.normal(size=50).astype("float32") for c in COLUMNS}
april = {c: rng.normal(size=50).astype("float32") for c in COLUMNS if c != "pulse"}


def target_of(export):
    return (export["age"] + export["weight"]).reshape(-1, 1)


def as_rows(export, columns):
    return np.stack([export[c] for c in columns], axis=1)


def batches(align):
    parts = []
    for export in (march, april):
        if align:  # every column, in one order; a missing one filled with 0 (its mean)
            full = {c: export.get(c, np.zeros(len(export["age"]), "float32")) for c in COLUMNS}
            parts.append((as_rows(full, COLUMNS), target_of(export)))
        else:
            parts.append((as_rows(export, list(export)), target_of(export)))
    while True:
        for x, y in parts:
            for start in range(0, len(x), BATCH):
                yield x[start : start + BATCH], y[start : start + BATCH]


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(batches(align=False), steps_per_epoch=10, epochs=3, verbose=0)


def fixed():
    steps = 2 * math.ceil(50 / BATCH)
    build_model().fit(batches(align=True), steps_per_epoch=steps, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
