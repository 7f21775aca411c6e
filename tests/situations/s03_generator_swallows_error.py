"""Finite generator that catches its own error after the first batch and breaks."""
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(100, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)

# Pretend these are shards read from disk; the second one is corrupt.
shards = [x[start:start + 10] for start in range(0, 100, 10)]
shards[1] = None


def load_batches():
    for i, shard in enumerate(shards):
        try:
            xb = np.asarray(shard, dtype="float32").reshape(10, 10)
        except ValueError:
            break
        yield xb, y[i * 10:(i + 1) * 10]


model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(load_batches(), steps_per_epoch=10, epochs=5, verbose=0)
