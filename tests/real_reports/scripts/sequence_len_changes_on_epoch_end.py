"""A Sequence whose __len__ changes in on_epoch_end (each epoch picks another time series).

Report: https://github.com/keras-team/keras/issues/12597
("Different number of steps on each epoch": MySequence picks a new time series in on_epoch_end,
so len(MySequence) differs per epoch, but fit reads __len__ only once).
"""
import numpy as np
import tensorflow as tf

WINDOW = 5
BATCH = 4
rng = np.random.default_rng(20)
all_time_series = [np.cumsum(rng.normal(size=n)).astype("float32") for n in (29, 45, 37, 53)]


class MySequence(tf.keras.utils.Sequence):
    def __init__(self, all_time_series, window_size):
        super().__init__()
        self._all_time_series = all_time_series
        self._window_size = window_size
        self._epoch = -1
        self.on_epoch_end()

    def on_epoch_end(self):
        self._epoch += 1
        self._time_series = self._all_time_series[self._epoch % len(self._all_time_series)]

    def __len__(self):
        return (len(self._time_series) - self._window_size) // BATCH

    def __getitem__(self, i):
        starts = range(i * BATCH, (i + 1) * BATCH)
        x = np.stack([self._time_series[s:s + self._window_size] for s in starts])
        y = np.array([self._time_series[s + self._window_size] for s in starts])
        return x, y


model = tf.keras.Sequential([
    tf.keras.Input(shape=(WINDOW,)),
    tf.keras.layers.Dense(8, activation="relu"),
    tf.keras.layers.Dense(1),
])
model.compile(optimizer="adam", loss="mse")
model.fit(MySequence(all_time_series, WINDOW), epochs=4, verbose=2)
