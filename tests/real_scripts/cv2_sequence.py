"""A Sequence that reads image files with OpenCV, one batch of paths at a time.

Modelled on the file-backed loaders in segmentation and classification threads:
`glob` finds the files, `cv2.imread` + `cv2.resize` read each batch, the label comes
from the file name.
"""
import glob
import math
import os

import cv2
import numpy as np
from tensorflow import keras


class ImageFiles(keras.utils.Sequence):
    def __init__(self, paths, batch_size, size=(32, 32)):
        super().__init__()
        self.paths, self.batch_size, self.size = sorted(paths), batch_size, size

    def __len__(self):
        return math.ceil(len(self.paths) / self.batch_size)

    def __getitem__(self, index):
        chunk = self.paths[index * self.batch_size:(index + 1) * self.batch_size]
        x = np.stack([cv2.resize(cv2.imread(p), self.size) for p in chunk]).astype("float32")
        y = np.array([float(os.path.basename(p).startswith("dog")) for p in chunk], "float32")
        return x / 255.0, y


files = glob.glob(os.path.join("images", "*.png"))
model = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.Conv2D(4, 3),
                          keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(ImageFiles(files, batch_size=8), epochs=2, verbose=2)
