"""NumPy arrays with EarlyStopping(monitor="loss", patience=0, min_delta=10)."""
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(100, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)

model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
early_stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10)
model.fit(x, y, batch_size=10, epochs=5, callbacks=[early_stop], verbose=0)
