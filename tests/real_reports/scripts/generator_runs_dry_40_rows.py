"""A generator over 40 rows with no `while True` runs dry after one pass; steps_per_epoch=4.

Report: https://github.com/jaungiers/LSTM-Neural-Network-for-Time-Series-Prediction/issues/35
("ValueError when training with more than 1 epoch": the training generator made one pass over
the windows and stopped; "Keras generators must be infinite, so just add a while True").
"""
import numpy as np
import tensorflow as tf

SEQ_LEN = 6
BATCH_SIZE = 10

t = np.arange(40 + SEQ_LEN, dtype="float32")
series = np.sin(t / 4.0)
windows = np.stack([series[i:i + SEQ_LEN] for i in range(40)])[..., None]
next_values = series[SEQ_LEN:SEQ_LEN + 40]


def generate_train_batch(batch_size):
    i = 0
    while i + batch_size <= len(windows):
        yield windows[i:i + batch_size], next_values[i:i + batch_size]
        i += batch_size


model = tf.keras.Sequential([
    tf.keras.Input(shape=(SEQ_LEN, 1)),
    tf.keras.layers.LSTM(8),
    tf.keras.layers.Dense(1),
])
model.compile(optimizer="adam", loss="mse")
steps_per_epoch = len(windows) // BATCH_SIZE
model.fit(generate_train_batch(BATCH_SIZE), steps_per_epoch=steps_per_epoch, epochs=3, verbose=2)
