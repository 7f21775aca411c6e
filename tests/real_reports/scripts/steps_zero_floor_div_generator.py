"""steps_per_epoch = len(x_train) // batch_size is 0 (20 rows, batch 32), endless generator.

Report: https://github.com/tensorflow/tensorflow/issues/38064
("UnboundLocalError: local variable 'logs' referenced before assignment on training with little
data"; commenters trace it to steps_per_epoch or validation_steps coming out as 0).
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(7)
x_train = rng.normal(size=(20, 8)).astype("float32")
y_train = (x_train.sum(axis=1) > 0).astype("float32")

batch_size = 32


def batch_generator(x, y, batch_size):
    while True:
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            rows = order[start:start + batch_size]
            yield x[rows], y[rows]


model = tf.keras.Sequential([
    tf.keras.Input(shape=(8,)),
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

model.fit(
    batch_generator(x_train, y_train, batch_size),
    steps_per_epoch=len(x_train) // batch_size,
    epochs=3,
    verbose=2,
)
