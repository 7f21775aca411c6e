"""Rows of a CSV file, split with sklearn, fed by a hand-written generator.

Modelled on the driving-log and time-series threads: the generator walks its rows
once (no `while True`), and steps_per_epoch is `len(train_rows) // batch_size`.
"""
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from tensorflow import keras

frame = pd.read_csv("measurements.csv")
train_rows, val_rows = train_test_split(frame, test_size=0.2, random_state=0)
batch_size = 16


def batches(rows, batch_size=batch_size):
    rows = rows.sample(frac=1.0, random_state=0)
    for start in range(0, len(rows), batch_size):
        chunk = rows.iloc[start:start + batch_size]
        x = chunk[["a", "b", "c"]].to_numpy(dtype="float32")
        y = chunk["target"].to_numpy(dtype="float32")
        yield x, y


model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(batches(train_rows), steps_per_epoch=len(train_rows) // batch_size, epochs=4, verbose=2)
