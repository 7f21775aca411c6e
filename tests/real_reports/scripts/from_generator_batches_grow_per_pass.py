"""Curriculum from_generator: each pass yields more batches than the last; no steps_per_epoch.

Report: https://github.com/keras-team/keras/pull/8201
("Added finite generator support": "My experiments require data with different number of
samples per epoch (different number of batches) and I prefer not to predict ... this number").
"""
import numpy as np
import tensorflow as tf

BATCH = 10
rng = np.random.default_rng(21)
x = rng.normal(size=(90, 4)).astype("float32")
difficulty = np.abs(x).sum(axis=1)
order = np.argsort(difficulty)  # easiest first
y = (x[:, 0] > 0).astype("float32")
passes = {"count": 0}


def curriculum():
    passes["count"] += 1
    keep = order[:min(len(order), 30 * passes["count"])]  # 30, 60, 90 rows
    for start in range(0, len(keep), BATCH):
        rows = keep[start:start + BATCH]
        yield x[rows], y[rows]


dataset = tf.data.Dataset.from_generator(
    curriculum,
    output_signature=(
        tf.TensorSpec(shape=(None, 4), dtype=tf.float32),
        tf.TensorSpec(shape=(None,), dtype=tf.float32),
    ),
)

model = tf.keras.Sequential([
    tf.keras.Input(shape=(4,)),
    tf.keras.layers.Dense(8, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(dataset, epochs=3, verbose=2)
