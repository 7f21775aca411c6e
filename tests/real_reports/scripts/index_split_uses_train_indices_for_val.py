"""A K-fold loop builds validation from train_indices (val_indices unused): same rows.

Report: https://github.com/andpol5/credit-classifier/issues/1
("Is validation correct??": inside `for train_indices, val_indices in kf:` the validation set
was `dataset[train_indices, :]`, so every validation row was also a training row).
"""
import numpy as np
import tensorflow as tf
from sklearn.model_selection import KFold

rng = np.random.default_rng(13)
dataset = rng.normal(size=(100, 8)).astype("float32")
dataset[:, -1] = (dataset[:, 0] + dataset[:, 1] > 0).astype("float32")

kf = KFold(n_splits=2, shuffle=True, random_state=0)
for train_indices, val_indices in kf.split(dataset):  # noqa: B007 (the bug reproduced)
    train_dataset = dataset[train_indices, :]
    val_dataset = dataset[train_indices, :]

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(7,)),
        tf.keras.layers.Dense(8, activation="relu"),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(
        train_dataset[:, :-1], train_dataset[:, -1],
        validation_data=(val_dataset[:, :-1], val_dataset[:, -1]),
        batch_size=10, epochs=2, verbose=2,
    )
