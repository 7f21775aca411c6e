"""A file-backed Sequence over .npy files whose __len__ floors and whose on_epoch_end shuffles.

Report: https://github.com/shervinea/enzynet/pull/30
("round up the number of batches per epoch": with np.floor, 35 samples in batches of 10 give 3
batches and the remaining 5 samples are left out; the Keras docs' Sequence uses ceil).
"""
import glob
import os

import numpy as np
import tensorflow as tf

os.makedirs("samples", exist_ok=True)
rng = np.random.default_rng(0)
for i in range(35):
    label = i % 2
    row = rng.normal(label, 1.0, size=(16,)).astype("float32")
    np.save(f"samples/sample_{i:03d}_{label}.npy", row)


class NpyFiles(tf.keras.utils.Sequence):
    def __init__(self, files, batch_size=10, shuffle=True):
        super().__init__()
        self.files = list(files)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.on_epoch_end()

    def __len__(self):
        return len(self.files) // self.batch_size

    def __getitem__(self, index):
        batch = self.files[index * self.batch_size:(index + 1) * self.batch_size]
        x = np.stack([np.load(path) for path in batch])
        y = np.array([float(path[-5]) for path in batch], dtype="float32")
        return x, y

    def on_epoch_end(self):
        if self.shuffle:
            np.random.shuffle(self.files)


files = sorted(glob.glob("samples/*.npy"))
train_seq = NpyFiles(files, batch_size=10)

model = tf.keras.Sequential([
    tf.keras.Input(shape=(16,)),
    tf.keras.layers.Dense(8, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(train_seq, epochs=3, verbose=2)
