"""Sequence whose __len__ returns 5 (data for 10 batches) with steps_per_epoch=10."""
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(100, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)


class HalfSequence(keras.utils.Sequence):
    def __init__(self, x, y, batch_size=10):
        super().__init__()
        self.x, self.y = x, y
        self.batch_size = batch_size

    def __len__(self):
        return 5

    def __getitem__(self, idx):
        lo = idx * self.batch_size
        return self.x[lo:lo + self.batch_size], self.y[lo:lo + self.batch_size]


model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(HalfSequence(x, y), steps_per_epoch=10, epochs=2, verbose=0)
