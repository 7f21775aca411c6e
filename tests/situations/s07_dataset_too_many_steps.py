"""tf.data dataset of 10 batches without .repeat(), but steps_per_epoch=20."""
import numpy as np
import tensorflow as tf


def make_dataset(batch_size=10):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 10)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


if __name__ == "__main__":
    model = tf.keras.Sequential([tf.keras.Input(shape=(10,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(make_dataset(), steps_per_epoch=20, epochs=5, verbose=0)
