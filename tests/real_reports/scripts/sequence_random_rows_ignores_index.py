"""Healthy: a Sequence whose __getitem__ ignores its index and draws random augmented rows.

Report: https://github.com/keras-team/keras/pull/9450
(review of TimeseriesGenerator: with shuffle on, __getitem__ draws `np.random.randint(...)` rows
for every batch instead of slicing by index, so each batch is a fresh random sample).
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(15)
x_all = rng.normal(size=(120, 6)).astype("float32")
y_all = (x_all[:, 0] * x_all[:, 1] > 0).astype("float32")


class RandomAugmentedBatches(tf.keras.utils.Sequence):
    """Every call returns a new random batch: the index is deliberately not used."""

    def __init__(self, x, y, batch_size=16, steps=12, noise=0.05):
        super().__init__()
        self.x, self.y = x, y
        self.batch_size, self.steps, self.noise = batch_size, steps, noise

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        rows = np.random.randint(0, len(self.x), size=self.batch_size)
        jitter = np.random.normal(scale=self.noise, size=(self.batch_size, self.x.shape[1]))
        return (self.x[rows] + jitter).astype("float32"), self.y[rows]


model = tf.keras.Sequential([
    tf.keras.Input(shape=(6,)),
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(RandomAugmentedBatches(x_all, y_all), epochs=3, verbose=2)
