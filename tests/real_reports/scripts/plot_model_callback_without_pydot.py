"""A callback that draws the model with plot_model when training starts, without pydot installed.

Report: https://github.com/keras-team/keras/issues/10935
(plot_model raises ImportError asking for pydot and graphviz; here it is called from a
callback's on_train_begin, so the crash comes out of fit() and looks like a training error).
"""
import numpy as np
import tensorflow as tf


class DrawModel(tf.keras.callbacks.Callback):
    """Saves a picture of the architecture next to the logs, once per run."""

    def on_train_begin(self, logs=None):
        tf.keras.utils.plot_model(self.model, to_file="architecture.png", show_shapes=True)


rng = np.random.default_rng(23)
x = rng.normal(size=(96, 5)).astype("float32")
y = (x[:, 0] > 0).astype("float32")

model = tf.keras.Sequential([
    tf.keras.Input(shape=(5,)),
    tf.keras.layers.Dense(8, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=16, epochs=3, callbacks=[DrawModel()], verbose=0)
