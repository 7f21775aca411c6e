"""Healthy: a toy Sequence that returns the same batch for every index (an overfit-one-batch check).

Report: https://github.com/keras-team/keras/issues/10944
(the reproduction's `Gen(Sequence)` returns the same zeros batch from __getitem__ whatever the
index; here the same idea is used on purpose to check the model can overfit one batch).
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(16)
fixed_x = rng.normal(size=(8, 4)).astype("float32")
fixed_y = rng.normal(size=(8, 2)).astype("float32")


class OneBatch(tf.keras.utils.Sequence):
    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        return fixed_x, fixed_y


model = tf.keras.Sequential([
    tf.keras.Input(shape=(4,)),
    tf.keras.layers.Dense(32, activation="relu"),
    tf.keras.layers.Dense(2),
])
model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="mse")
history = model.fit(OneBatch(10), validation_data=OneBatch(2), epochs=4, verbose=2)
print("final loss", history.history["loss"][-1])
