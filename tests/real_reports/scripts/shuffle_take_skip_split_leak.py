"""Split by ds.shuffle(n) then take(k)/skip(k): reshuffled each epoch, so the splits share rows.

Report: https://github.com/tensorflow/tensorflow/issues/59279
("Add warning in Dataset.shuffle API for possible data leakage": shuffle() with the default
reshuffle_each_iteration, followed by take/skip, leaks validation rows into training).
"""
import numpy as np
import tensorflow as tf

BUFFER_SIZE = 200
BATCH_SIZE = 20
TRAIN_BATCHES = 8

rng = np.random.default_rng(12)
features = rng.normal(size=(200, 6)).astype("float32")
labels = (features[:, :3].sum(axis=1) > 0).astype("float32")

dataset = tf.data.Dataset.from_tensor_slices((features, labels))
dataset = dataset.shuffle(buffer_size=BUFFER_SIZE)
dataset = dataset.batch(BATCH_SIZE)

train_dataset = dataset.take(TRAIN_BATCHES)
val_dataset = dataset.skip(TRAIN_BATCHES)

model = tf.keras.Sequential([
    tf.keras.Input(shape=(6,)),
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(train_dataset, validation_data=val_dataset, epochs=3, verbose=2)
