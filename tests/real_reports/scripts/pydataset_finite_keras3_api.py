"""A finite keras.utils.PyDataset (Keras 3 API): on Keras 2, tf.keras.utils has no PyDataset.

Report: https://github.com/keras-team/keras/issues/20098
("module 'keras.utils' has no attribute 'PyDataset'": the class exists from Keras 3 on; the
older stack has only Sequence).
"""
import math

import numpy as np
import tensorflow as tf

rng = np.random.default_rng(19)
x = rng.normal(size=(70, 5)).astype("float32")
y = (x.mean(axis=1) > 0).astype("float32")


class ArrayBatches(tf.keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        low = index * self.batch_size
        high = min(low + self.batch_size, len(self.x))
        return self.x[low:high], self.y[low:high]


model = tf.keras.Sequential([
    tf.keras.Input(shape=(5,)),
    tf.keras.layers.Dense(8, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(ArrayBatches(x, y, batch_size=16), epochs=3, verbose=2)
