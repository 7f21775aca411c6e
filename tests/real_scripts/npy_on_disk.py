"""Arrays saved by an earlier step, loaded from a relative path."""
import numpy as np
from tensorflow import keras

x = np.load("data/features.npy")
y = np.load("data/targets.npy")
model = keras.Sequential([keras.Input(shape=(x.shape[1],)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, batch_size=25, epochs=2, verbose=0)
