"""Sequence whose __len__ returns 5 although it holds data for 10 batches."""
import numpy as np
from tensorflow import keras


class ArraySequence(keras.utils.Sequence):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y = x, y
        self.batch_size = batch_size

    def __len__(self):
        return len(self.x) // self.batch_size // 2

    def __getitem__(self, idx):
        sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        return self.x[sl], self.y[sl]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 10)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(ArraySequence(x, y, batch_size=10), epochs=5, verbose=0)
