"""steps_per_epoch = len(train_gen) // batch_size is 0: len() already counts batches.

Report: https://github.com/mattroz/mobilenet_segmentation/issues/2
(steps_per_epoch and validation_steps were the generator's length divided by the batch size
again, so an epoch was far shorter than the generator). Same spelling family as
keras-team/keras#6549 (`generator.samples // batch_size`).
"""
import numpy as np
import tensorflow as tf

BATCH_SIZE = 16

rng = np.random.default_rng(11)
images = rng.uniform(0, 255, size=(60, 12, 12, 3)).astype("float32")
labels = rng.integers(0, 2, size=60).astype("float32")

datagen = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1.0 / 255, horizontal_flip=True)
train_gen = datagen.flow(images, labels, batch_size=BATCH_SIZE, seed=1)
print("batches per pass:", len(train_gen), "steps_per_epoch:", len(train_gen) // BATCH_SIZE)

model = tf.keras.Sequential([
    tf.keras.Input(shape=(12, 12, 3)),
    tf.keras.layers.Conv2D(4, 3, activation="relu"),
    tf.keras.layers.GlobalAveragePooling2D(),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(train_gen, steps_per_epoch=len(train_gen) // BATCH_SIZE, epochs=3, verbose=2)
