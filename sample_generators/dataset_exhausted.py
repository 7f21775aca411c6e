"""A tf.data.Dataset without .repeat(), asked for more batches than it holds."""

import math
import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras

TITLE = "A one-pass dataset asked for two passes per epoch"
LESSON = (
    "A tf.data.Dataset without .repeat() holds exactly one pass over the data: here 10 batches. "
    "With steps_per_epoch=20 Keras keeps reading the same iterator and runs off its end. "
    "Keras 2 warns that the input ran out of data and stops after the first epoch; Keras 3 "
    "warns too, restarts the dataset at every epoch and trains 10 batches per epoch instead of "
    "20. The fix: end the pipeline with .repeat() so the dataset can serve steps_per_epoch x "
    "epochs batches, or leave steps_per_epoch out and let each epoch be one pass."
)
RULE = "dataset-exhausted"
EXPECTED = {
    "broken": {"keras3": ["dataset-exhausted"], "keras2": ["dataset-exhausted"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
features = np.random.default_rng(21).normal(size=(100, 6)).astype("float32")
targets = features @ np.linspace(-1.0, 1.0, 6, dtype="float32")


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def batches():
    return tf.data.Dataset.from_tensor_slices((features, targets)).batch(BATCH)


def broken():
    build_model().fit(batches(), steps_per_epoch=20, epochs=3, verbose=0)


def fixed():
    steps = 2 * math.ceil(len(features) / BATCH)  # two passes per epoch, as intended
    build_model().fit(batches().repeat(), steps_per_epoch=steps, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
