"""from_generator(lambda: gen) over one generator object, no .repeat(), no steps_per_epoch.

Report: https://github.com/tensorflow/tensorflow/issues/29123
(comment: "I had a python generator: gen; tf.data.Dataset.from_generator(lambda: gen, ....)
does not support repeat"; here the user relies on fit() to restart the dataset every epoch).
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(4)
x = rng.normal(size=(50, 3)).astype("float32")
y = (x @ np.array([1.0, -2.0, 0.5], dtype="float32")).astype("float32")


def rows():
    yield from zip(x, y, strict=True)


gen = rows()
train = tf.data.Dataset.from_generator(
    lambda: gen,
    output_types=(tf.float32, tf.float32),
    output_shapes=((3,), ()),
).batch(10)

model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(train, epochs=4, verbose=2)
