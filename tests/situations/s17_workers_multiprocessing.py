"""Infinite generator passed to fit with workers=2, use_multiprocessing=True."""
import numpy as np
from tensorflow import keras


def batch_generator(x, y, batch_size=10):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 10)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(
        batch_generator(x, y),
        steps_per_epoch=11,
        epochs=2,
        workers=2,
        use_multiprocessing=True,
        verbose=0,
    )
