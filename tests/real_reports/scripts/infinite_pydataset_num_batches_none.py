"""Healthy (Keras 3 only): infinite PyDataset (num_batches is None) with steps_per_epoch.

Report: https://github.com/keras-team/keras/issues/19528
("Support Infinite PyDataset": toy data generated on the fly; fixed by keras-team/keras#19624,
which reads `num_batches` and lets it be None). On Keras 2, tf.keras.utils has no PyDataset.
"""
import numpy as np
import tensorflow as tf


class ToyRegression(tf.keras.utils.PyDataset):
    def __init__(self, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = batch_size
        self.rng = np.random.default_rng(17)

    @property
    def num_batches(self):
        return None

    def __getitem__(self, index):
        x = self.rng.uniform(-1, 1, size=(self.batch_size, 2)).astype("float32")
        y = (np.sin(3 * x[:, :1]) + x[:, 1:] ** 2).astype("float32")
        return x, y


model = tf.keras.Sequential([
    tf.keras.Input(shape=(2,)),
    tf.keras.layers.Dense(32, activation="tanh"),
    tf.keras.layers.Dense(1),
])
model.compile(optimizer="adam", loss="mse")
model.fit(ToyRegression(batch_size=32), steps_per_epoch=25, epochs=3, verbose=2)
