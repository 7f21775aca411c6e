"""One missing value in the data: the loss turns NaN and stays NaN."""

import sys

import numpy as np
from tensorflow import keras

TITLE = "One NaN that poisons the whole model"
LESSON = (
    "One empty cell in the source table became a NaN in row 37. The batch holding it has a "
    "NaN loss, so NaN gradients, and after that single update every weight is NaN: the loss "
    "reads nan for every later batch and epoch while fit() carries on as if nothing "
    "happened. Neither Keras checks the data for you (TerminateOnNaN would at least stop "
    "early). Find the non-finite rows and drop or impute them before training."
)
RULE = "nan-in-batch"
CHART = "loss"  # the batches are all trained; the loss is NaN
EXPECTED = {
    "broken": {"keras3": ["nan-in-batch"], "keras2": ["nan-in-batch"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(37)
features = rng.normal(size=(80, 5)).astype("float32")
targets = features.sum(axis=1, keepdims=True)
features[37, 2] = np.nan  # an empty cell in the exported table


def build_model():
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(features, targets, batch_size=BATCH, epochs=3, verbose=0)


def fixed():
    column_means = np.nanmean(features, axis=0)
    clean = np.where(np.isnan(features), column_means, features)
    build_model().fit(clean, targets, batch_size=BATCH, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
