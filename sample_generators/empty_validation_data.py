"""A hold-out split whose condition can never be true, so the validation set is empty."""

import sys

import numpy as np
from tensorflow import keras

TITLE = "A validation split that selects no rows"
LESSON = (
    "Every fifth record is meant for validation, but `record_id % 5 == 5` is never true: "
    "x_val has no rows at all, and nothing says so. Keras 3 trains on and simply never logs "
    "a val_loss (callbacks watching it have nothing to watch); Keras 2 trains the first epoch "
    'and then crashes with "Expected input data to be non-empty". The fix: check the split '
    "(`% 5 == 0`) and assert that the validation set holds at least one batch before "
    "calling fit()."
)
RULE = "empty-validation-data"
CHART = "validation"
EXPECTED = {
    "broken": {"keras3": ["empty-validation-data"], "keras2": ["empty-validation-data"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(21)
record_id = np.arange(125)
features = rng.normal(size=(125, 4)).astype("float32")
labels = (features[:, :2].sum(axis=1) > 0).astype("float32")


def split(is_val):
    return (features[~is_val], labels[~is_val]), (features[is_val], labels[is_val])


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def train(is_val):
    (x, y), (x_val, y_val) = split(is_val)
    build_model().fit(x, y, batch_size=BATCH, epochs=3, validation_data=(x_val, y_val), verbose=0)


def broken():
    train(record_id % 5 == 5)  # a remainder of 5 never happens: no validation rows


def fixed():
    is_val = record_id % 5 == 0
    assert is_val.sum() >= BATCH, "the validation split is (nearly) empty"
    train(is_val)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
