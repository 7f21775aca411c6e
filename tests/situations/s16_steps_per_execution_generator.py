"""Finite generator of 11 batches with compile(steps_per_execution=4) and no steps_per_epoch."""
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(110, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)


def batch_generator(batch_size=10):
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], y[start:start + batch_size]


model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse", steps_per_execution=4)
model.fit(batch_generator(), epochs=3, verbose=0)
