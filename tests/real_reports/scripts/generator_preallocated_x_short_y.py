"""A generator preallocates x for a full batch but slices y: the last x and y differ in length.

Report: https://github.com/tensorflow/tensorflow/issues/47894
("Last batch always pad up to the batch size and cause error 'logits and labels must be
broadcastable'": labels 13 x 24 against predictions 32 x 24 in the last batch of a generator).
"""
import numpy as np
import tensorflow as tf

BATCH_SIZE = 16
rng = np.random.default_rng(9)
signals = rng.normal(size=(90, 20, 3)).astype("float32")
targets = tf.keras.utils.to_categorical(rng.integers(0, 4, size=90), 4)


def data_generator(indices, batch_size):
    while True:
        for start in range(0, len(indices), batch_size):
            batch_idx = indices[start:start + batch_size]
            x = np.zeros((batch_size, 20, 3), dtype="float32")
            for i, k in enumerate(batch_idx):
                x[i] = signals[k]
            y = targets[batch_idx]
            yield x, y


train_idx = np.arange(90)
model = tf.keras.Sequential([
    tf.keras.Input(shape=(20, 3)),
    tf.keras.layers.Conv1D(8, 5, activation="relu"),
    tf.keras.layers.GlobalMaxPooling1D(),
    tf.keras.layers.Dense(4, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(
    data_generator(train_idx, BATCH_SIZE),
    steps_per_epoch=(len(train_idx) + BATCH_SIZE - 1) // BATCH_SIZE,
    epochs=2,
)
