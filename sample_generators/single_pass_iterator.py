"""Pre-cut batches zipped together and handed to fit() for several epochs."""

import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras

TITLE = "A zip() of batches used for five epochs"
LESSON = (
    "Zipping pre-cut input and label batches looks like a handy data pipeline, but zip() "
    "returns an iterator, which can be read exactly once and never restarted. Keras 3 does "
    "not accept plain iterators at all ('Unrecognized data type'). Keras 2 trains the first "
    "epoch, then the iterator is empty: it warns that the input ran out of data and stops "
    "after an empty second epoch. Give fit() data it can read again, such as a tf.data "
    "Dataset or arrays."
)
RULE = "single-pass-iterator"
EXPECTED = {
    "broken": {"keras3": ["single-pass-iterator"], "keras2": ["single-pass-iterator"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(5)
features = rng.normal(size=(100, 3)).astype("float32")
targets = (features[:, :1] - features[:, 2:]).astype("float32")
x_batches = np.split(features, len(features) // BATCH)
y_batches = np.split(targets, len(targets) // BATCH)


def build_model():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(zip(x_batches, y_batches, strict=True), epochs=5, verbose=0)


def fixed():
    dataset = tf.data.Dataset.from_tensor_slices((features, targets)).batch(BATCH)
    build_model().fit(dataset, epochs=5, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
