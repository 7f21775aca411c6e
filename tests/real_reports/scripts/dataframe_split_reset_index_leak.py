"""Split by df.sample(frac).reset_index(drop=True), then df.drop(train.index): rows overlap.

Report: https://github.com/abhimishra91/transformers-tutorials/issues/7
("dataset split is invalid (because of reset_index)": after reset_index the drop removes the
first rows by position instead of the sampled ones, so train and validation overlap).
"""
import numpy as np
import pandas as pd
import tensorflow as tf

SEED = 42
TRAIN_SIZE = 0.8

rng = np.random.default_rng(SEED)
df = pd.DataFrame(rng.normal(size=(150, 5)), columns=[f"f{i}" for i in range(5)])
df["target"] = df["f0"] * 2.0 - df["f3"] + rng.normal(scale=0.1, size=150)
df.to_csv("measurements.csv", index=False)

df = pd.read_csv("measurements.csv")
train_dataset = df.sample(frac=TRAIN_SIZE, random_state=SEED).reset_index(drop=True)
val_dataset = df.drop(train_dataset.index).reset_index(drop=True)
print(f"train {len(train_dataset)} rows, validation {len(val_dataset)} rows")

feature_cols = [f"f{i}" for i in range(5)]
model = tf.keras.Sequential([
    tf.keras.Input(shape=(5,)),
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.Dense(1),
])
model.compile(optimizer="adam", loss="mse")
model.fit(
    train_dataset[feature_cols].to_numpy("float32"),
    train_dataset["target"].to_numpy("float32"),
    validation_data=(
        val_dataset[feature_cols].to_numpy("float32"),
        val_dataset["target"].to_numpy("float32"),
    ),
    batch_size=16,
    epochs=3,
    verbose=2,
)
