"""tf.data dataset with .repeat() and no steps_per_epoch, epochs=2."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(100, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)

dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(100, seed=0).batch(10).repeat()

model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(dataset, epochs=2, verbose=0)
