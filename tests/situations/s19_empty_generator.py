"""Generator that yields nothing (its filter matches no rows), steps_per_epoch=10."""
import numpy as np
from tensorflow import keras


def batch_generator(x, y, batch_size=10):
    keep = np.flatnonzero(np.abs(x[:, 0]) > 100.0)  # threshold meant for raw, unscaled data
    for start in range(0, len(keep), batch_size):
        idx = keep[start:start + batch_size]
        yield x[idx], y[idx]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 10)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(batch_generator(x, y), steps_per_epoch=10, verbose=0)
