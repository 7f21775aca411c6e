"""Sequence with __len__ == 10 trained with steps_per_epoch=4 for 3 epochs."""
import numpy as np
from tensorflow import keras


class ArraySequence(keras.utils.Sequence):
    def __init__(self, x, y, batch_size=10, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = x, y
        self.batch_size = batch_size

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, idx):
        lo = idx * self.batch_size
        return self.x[lo:lo + self.batch_size], self.y[lo:lo + self.batch_size]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 10)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(ArraySequence(x, y), steps_per_epoch=4, epochs=3, verbose=0)
