"""from_generator(lambda: gen) with `gen` created once, then .repeat() and steps_per_epoch.

Report: https://github.com/tensorflow/tensorflow/issues/29123
("tf.data.Dataset.from_generator() empties after use even with repeat()"; a commenter had
`from_generator(lambda: gen, ...)` with a generator object made once: repeat() cannot restart it).
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(2)
x = rng.normal(size=(60, 5)).astype("float32")
y = (x[:, 0] - x[:, 1] > 0).astype("float32")
BATCH = 10


def read_batches():
    for start in range(0, len(x), BATCH):
        yield x[start:start + BATCH], y[start:start + BATCH]


gen = read_batches()
dataset = tf.data.Dataset.from_generator(
    lambda: gen,
    output_signature=(
        tf.TensorSpec(shape=(None, 5), dtype=tf.float32),
        tf.TensorSpec(shape=(None,), dtype=tf.float32),
    ),
).repeat()

model = tf.keras.Sequential([
    tf.keras.Input(shape=(5,)),
    tf.keras.layers.Dense(8, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(dataset, steps_per_epoch=len(x) // BATCH, epochs=3, verbose=2)
