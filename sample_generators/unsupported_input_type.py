"""Rows parsed from CSV text into nested Python lists and passed straight to fit()."""

import csv
import io
import sys

import numpy as np
from tensorflow import keras

TITLE = "Nested Python lists as training data"
LESSON = (
    "Rows read with the csv module end up as lists of lists of floats. Keras 2 quietly "
    "converted such nested lists to a tensor and trained, so this used to work. Keras 3 "
    "checks the type of the data first and refuses anything it has no adapter for: fit() "
    "stops with 'Unrecognized data type: x=[[...' and prints the whole list, hiding the one "
    "word that matters, list. Convert the rows with np.asarray(..., dtype='float32')."
)
RULE = "unsupported-input-type"
EXPECTED = {
    "broken": {"keras3": ["unsupported-input-type"], "keras2": []},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(7)
table = rng.normal(size=(60, 5)).round(3)
table[:, 4] = table[:, :4].sum(axis=1)  # the last column is the target
text = "\n".join(",".join(str(v) for v in row) for row in table)

rows = [[float(v) for v in line] for line in csv.reader(io.StringIO(text))]
inputs = [row[:4] for row in rows]
labels = [row[4] for row in rows]


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(inputs, labels, batch_size=BATCH, epochs=3, verbose=0)


def fixed():
    x = np.asarray(inputs, dtype="float32")
    y = np.asarray(labels, dtype="float32")
    build_model().fit(x, y, batch_size=BATCH, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
