"""Generator that yields a list [x, y] instead of a tuple (x, y)."""
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(100, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)


def batch_generator(batch_size=10):
    while True:
        for start in range(0, len(x), batch_size):
            yield [x[start:start + batch_size], y[start:start + batch_size]]


model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(batch_generator(), steps_per_epoch=10, epochs=2, verbose=0)
