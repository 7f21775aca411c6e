"""A model built with named (dict) inputs, trained from a Sequence whose batches give x as a list.

Report: https://github.com/keras-team/keras/issues/19127
("Incorrect error message given for named inputs when unnamed input provided to fit()": a
PyDataset's __getitem__ has to return a dict keyed by input name, otherwise an unrelated error).
"""
import numpy as np
import pandas as pd
import tensorflow as tf

rng = np.random.default_rng(8)
frame = pd.DataFrame({
    "age": rng.uniform(18, 80, size=90),
    "income": rng.uniform(10, 200, size=90),
    "visits": rng.integers(0, 12, size=90),
})
frame["churned"] = (frame["visits"] < 3).astype("float32")
NUMERIC = ["age", "income", "visits"]

inputs = {name: tf.keras.Input(shape=(1,), name=name) for name in NUMERIC}
merged = tf.keras.layers.Concatenate()(list(inputs.values()))
hidden = tf.keras.layers.Dense(8, activation="relu")(merged)
output = tf.keras.layers.Dense(1, activation="sigmoid")(hidden)
model = tf.keras.Model(inputs=inputs, outputs=output)
model.compile(optimizer="adam", loss="binary_crossentropy")


class Rows(tf.keras.utils.Sequence):
    def __init__(self, frame, batch_size):
        super().__init__()
        self.frame, self.batch_size = frame, batch_size

    def __len__(self):
        return int(np.ceil(len(self.frame) / self.batch_size))

    def __getitem__(self, index):
        chunk = self.frame.iloc[index * self.batch_size:(index + 1) * self.batch_size]
        features = [chunk[[name]].to_numpy("float32") for name in NUMERIC]
        return features, chunk["churned"].to_numpy("float32")


model.fit(Rows(frame, 30), epochs=2, verbose=2)
