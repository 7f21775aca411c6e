"""validation_steps = math.floor(n_val / batch_size) is 0 (12 rows, batch 16), endless generators.

Report: https://github.com/rizkiarm/LipNet/issues/22
(a stray file shrank the validation set and "the validation_step is then calculated as 0";
see also rizkiarm/LipNet#10: "if the validation_steps == 0 will raise this ValueError").
"""
import math

import numpy as np
import tensorflow as tf

batch_size = 16
rng = np.random.default_rng(5)
x = rng.normal(size=(76, 6)).astype("float32")
y = (x[:, 0] > 0).astype("float32")
x_train, y_train, x_val, y_val = x[:64], y[:64], x[64:], y[64:]


def endless(x, y, batch_size):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


model = tf.keras.Sequential([
    tf.keras.Input(shape=(6,)),
    tf.keras.layers.Dense(8, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(
    endless(x_train, y_train, batch_size),
    steps_per_epoch=int(len(x_train) / batch_size),
    validation_data=endless(x_val, y_val, batch_size),
    validation_steps=math.floor(len(x_val) / batch_size),
    epochs=3,
    verbose=2,
)
