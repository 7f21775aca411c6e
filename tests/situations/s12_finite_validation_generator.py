"""Infinite training generator with a finite validation generator of 11 batches."""
import numpy as np
from tensorflow import keras


def train_batches(x, y, batch_size=10):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


def val_batches(x, y, batch_size=10):
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], y[start:start + batch_size]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(size=(110, 10)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    x_val = rng.normal(size=(110, 10)).astype("float32")
    y_val = x_val.sum(axis=1, keepdims=True)

    model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(
        train_batches(x, y),
        steps_per_epoch=11,
        validation_data=val_batches(x_val, y_val),
        validation_steps=11,
        epochs=4,
        verbose=0,
    )
