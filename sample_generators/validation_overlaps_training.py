"""A take/skip split of a dataset that reshuffles on every iteration."""

import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras

TITLE = "A train/validation split that leaks"
LESSON = (
    "shuffle() reshuffles every time the dataset is iterated, unless told otherwise. Splitting "
    "after it with take(160) and skip(160) does not split the rows: each iteration of the "
    "training part and of the validation part draws from a different order, so most "
    "validation rows are trained on as well, and val_loss looks better than the model is. "
    "fitprobe fingerprints the rows of both and counts the ones they share. The fix: shuffle "
    "once with reshuffle_each_iteration=False before splitting, then shuffle the training part."
)
RULE = "validation-overlaps-training"
CHART = "coverage"  # training draws rows of the validation part
EXPECTED = {
    "broken": {
        "keras3": ["validation-overlaps-training"],
        "keras2": ["validation-overlaps-training"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

rng = np.random.default_rng(53)
features = rng.normal(size=(200, 4)).astype("float32")
targets = features @ np.array([1.0, 0.5, -0.5, 2.0], dtype="float32")


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def train(rows):
    training = rows.take(160).shuffle(160).batch(16)
    validation = rows.skip(160).batch(16)
    build_model().fit(training, validation_data=validation, epochs=3, verbose=0)


def broken():
    rows = tf.data.Dataset.from_tensor_slices((features, targets)).shuffle(200, seed=1)
    train(rows)


def fixed():
    rows = tf.data.Dataset.from_tensor_slices((features, targets)).shuffle(
        200, seed=1, reshuffle_each_iteration=False
    )
    train(rows)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
