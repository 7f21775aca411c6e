"""tf.data dataset of 10 batches without .repeat(), steps_per_epoch=4."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(100, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)

train_ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)

model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(train_ds, steps_per_epoch=4, epochs=5, verbose=0)
