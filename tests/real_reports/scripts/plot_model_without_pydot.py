"""plot_model() before fit() with pydot not installed: fit() is never reached.

Report: https://github.com/keras-team/keras/issues/10935
("ImportError: Failed to import pydot. Please install pydot." from `plot_model(model)`).
Meaningful where pydot (or graphviz) is missing, as in this project's .venv.
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(14)
x = rng.normal(size=(80, 10)).astype("float32")
y = tf.keras.utils.to_categorical(rng.integers(0, 3, size=80), 3)

inputs = tf.keras.Input(shape=(10,))
hidden = tf.keras.layers.Dense(16, activation="relu")(inputs)
outputs = tf.keras.layers.Dense(3, activation="softmax")(hidden)
model = tf.keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

tf.keras.utils.plot_model(model, to_file="model.png", show_shapes=True)

model.fit(x, y, batch_size=16, epochs=3, validation_split=0.2)
