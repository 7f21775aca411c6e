"""One NaN in row 55 of the data, infinite generator and TerminateOnNaN()."""
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(110, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)
x[55, 3] = np.nan  # a missing value that slipped through preprocessing


def batch_generator(batch_size=10):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


if __name__ == "__main__":
    model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(
        batch_generator(),
        steps_per_epoch=11,
        epochs=3,
        callbacks=[keras.callbacks.TerminateOnNaN()],
        verbose=0,
    )
