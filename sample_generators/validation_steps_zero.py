"""validation_steps computed with `//` from a validation set smaller than one batch."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "validation_steps rounds down to 0"
LESSON = (
    "With 8 validation rows and batches of 10, `len(x_val) // 10` is 0. Keras 2 trains the "
    "first epoch and then crashes when validation starts, with an error that names the wrong "
    "argument (\"steps_per_epoch must be positive\"). Keras 3 treats 0 as 'no limit' and "
    "validates on everything, which only works because these validation arrays are finite. "
    "The fix: round up, and never ask for fewer than one step: "
    "max(1, math.ceil(len(x_val) / batch_size))."
)
RULE = "validation-steps-zero"
CHART = "validation"
EXPECTED = {
    "broken": {"keras3": ["validation-steps-zero"], "keras2": ["validation-steps-zero"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(5)
x = rng.uniform(-1, 1, size=(108, 3)).astype("float32")
y = (2 * x[:, 0] - x[:, 2]).astype("float32")
x_train, y_train = x[:100], y[:100]
x_val, y_val = x[100:], y[100:]  # 8 rows: less than one batch


def build_model():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(
        x_train,
        y_train,
        batch_size=BATCH,
        epochs=3,
        validation_data=(x_val, y_val),
        validation_steps=len(x_val) // BATCH,
        verbose=0,
    )


def fixed():
    build_model().fit(
        x_train,
        y_train,
        batch_size=BATCH,
        epochs=3,
        validation_data=(x_val, y_val),
        validation_steps=max(1, math.ceil(len(x_val) / BATCH)),
        verbose=0,
    )


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
