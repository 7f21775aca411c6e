"""steps_per_epoch = int(num_train_examples / train_batch_size) is 0 on a `.repeat()`ed tf.data set.

Report: https://github.com/google-research/google-research/issues/1317
("ValueError: Unexpected result of `train_function` (Empty logs)" with --num_train_examples=8
and --train_batch_size=32: the steps per epoch computed from them is 0).
"""
import numpy as np
import pandas as pd
import tensorflow as tf

NUM_TRAIN_EXAMPLES = 8
TRAIN_BATCH_SIZE = 32
EPOCHS = 2

rng = np.random.default_rng(3)
frame = pd.DataFrame(rng.normal(size=(NUM_TRAIN_EXAMPLES, 4)), columns=["a", "b", "c", "d"])
frame["label"] = (frame["a"] + frame["b"] > 0).astype("float32")
frame.to_csv("train.csv", index=False)

train = pd.read_csv("train.csv")
features = train[["a", "b", "c", "d"]].to_numpy("float32")
labels = train["label"].to_numpy("float32")

dataset = (
    tf.data.Dataset.from_tensor_slices((features, labels))
    .shuffle(NUM_TRAIN_EXAMPLES)
    .batch(TRAIN_BATCH_SIZE)
    .repeat()
)

steps_per_epoch = int(NUM_TRAIN_EXAMPLES / TRAIN_BATCH_SIZE)

model = tf.keras.Sequential([
    tf.keras.Input(shape=(4,)),
    tf.keras.layers.Dense(8, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(dataset, epochs=EPOCHS, steps_per_epoch=steps_per_epoch, verbose=2)
