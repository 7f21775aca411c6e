"""Infinite generator that raises ValueError("bad row 50") when it reaches row 50."""
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(100, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)


def load_row(i):
    if i == 50:
        raise ValueError(f"bad row {i}")
    return x[i], y[i]


def batch_generator(batch_size=10):
    while True:
        for start in range(0, len(x), batch_size):
            rows = [load_row(i) for i in range(start, start + batch_size)]
            yield np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])


if __name__ == "__main__":
    model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(batch_generator(), steps_per_epoch=10, epochs=5, verbose=0)
