"""A generator that parses text records and meets one it cannot parse."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "One unparsable record crashes training mid-epoch"
LESSON = (
    "The generator turns text records into numbers, and record 47 is 'n/a'. When the "
    "generator reaches it, float() raises ValueError inside TensorFlow's input pipeline, and "
    "the traceback Keras prints ends in a TensorFlow error about a PyFunc, with your "
    "exception quoted in the middle. The crash is real and the same on both stacks; the "
    "point is where to look: the line in your generator. The fix: clean or drop bad "
    "records before training, and count what you drop."
)
RULE = "generator-raised"
EXPECTED = {
    "broken": {"keras3": ["generator-raised"], "keras2": ["generator-raised"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(17)
records = [f"{a:.3f},{b:.3f}" for a, b in rng.normal(size=(100, 2))]
records[47] = "n/a,0.5"


def parse(record):
    return [float(field) for field in record.split(",")]


def batches(rows, batch_size=BATCH):
    while True:
        for start in range(0, len(rows), batch_size):
            numbers = np.array([parse(r) for r in rows[start : start + batch_size]], "float32")
            yield numbers[:, :1], numbers[:, 1]


def parses(record):
    try:
        parse(record)
    except ValueError:
        return False
    return True


def build_model():
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def train(rows):
    steps = math.ceil(len(rows) / BATCH)
    build_model().fit(batches(rows), steps_per_epoch=steps, epochs=3, verbose=0)


def broken():
    train(records)


def fixed():
    clean = [r for r in records if parses(r)]
    print(f"dropped {len(records) - len(clean)} unparsable records")
    train(clean)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
