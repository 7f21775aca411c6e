"""Sequence whose __len__ returns 15 although it only holds data for 10 batches."""
import numpy as np
from tensorflow import keras


class ZeroTargetSequence(keras.utils.Sequence):
    """Feature batches with an all-zero regression target."""

    def __init__(self, x, batch_size, num_rows):
        super().__init__()
        self.x = x
        self.batch_size = batch_size
        self.num_rows = num_rows

    def __len__(self):
        return self.num_rows // self.batch_size

    def __getitem__(self, idx):
        lo = idx * self.batch_size
        return self.x[lo:lo + self.batch_size], np.zeros(self.batch_size)


keras.utils.set_random_seed(0)  # reproducible runs
rng = np.random.default_rng(0)
x = rng.normal(size=(100, 10)).astype("float32")

model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
# Row count taken from the metadata file, written before duplicates were dropped.
sequence = ZeroTargetSequence(x, batch_size=10, num_rows=150)
model.fit(sequence, epochs=3, verbose=0)
