"""A Sequence reading PNG files with PIL; __len__ = int(np.floor(len(paths) / batch_size)).

Report: https://github.com/keras-team/keras/issues/10758
("ValueError when using custom Generator": a DataGenerator(Sequence) over file paths whose
__len__ is int(np.floor(len(self.filepaths) / self.batch_size))). Here shuffle=False: the same
5 of 45 images are never requested in any epoch.
"""
import os

import numpy as np
import tensorflow as tf
from PIL import Image

os.makedirs("images", exist_ok=True)
rng = np.random.default_rng(1)
paths, labels = [], []
for i in range(45):
    label = i % 3
    pixels = rng.integers(0, 256, size=(10, 10, 3), dtype=np.uint8)
    path = os.path.join("images", f"img_{i:03d}.png")
    Image.fromarray(pixels).save(path)
    paths.append(path)
    labels.append(label)


class DataGenerator(tf.keras.utils.Sequence):
    def __init__(self, filepaths, labels, batch_size=8, n_classes=3, shuffle=True):
        super().__init__()
        self.filepaths = filepaths
        self.labels = labels
        self.batch_size = batch_size
        self.n_classes = n_classes
        self.shuffle = shuffle
        self.on_epoch_end()

    def __len__(self):
        return int(np.floor(len(self.filepaths) / self.batch_size))

    def __getitem__(self, index):
        indexes = self.indexes[index * self.batch_size:(index + 1) * self.batch_size]
        x = np.stack([np.asarray(Image.open(self.filepaths[k]), dtype="float32") / 255.0
                      for k in indexes])
        y = tf.keras.utils.to_categorical([self.labels[k] for k in indexes], self.n_classes)
        return x, y

    def on_epoch_end(self):
        self.indexes = np.arange(len(self.filepaths))
        if self.shuffle:
            np.random.shuffle(self.indexes)


model = tf.keras.Sequential([
    tf.keras.Input(shape=(10, 10, 3)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(3, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
# Fixed order while debugging, so runs are comparable.
model.fit(DataGenerator(paths, labels, batch_size=8, shuffle=False), epochs=3, verbose=2)
