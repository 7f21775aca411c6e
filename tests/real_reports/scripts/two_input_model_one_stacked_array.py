"""A two-input functional model fed one stacked array instead of a list of two arrays.

Report: https://github.com/percent4/keras_bert_multi_label_cls/issues/4
('ValueError: Layer "model_2" expects 2 input(s), but it received 1 input tensors' when the
token and segment arrays reach fit() as a single array).
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(6)
n = 64
token_ids = rng.integers(1, 50, size=(n, 12))
segment_ids = rng.integers(0, 2, size=(n, 12))
labels = rng.integers(0, 2, size=(n, 1)).astype("float32")

tokens_in = tf.keras.Input(shape=(12,), name="tokens")
segments_in = tf.keras.Input(shape=(12,), name="segments")
embedded = tf.keras.layers.Embedding(50, 8)(tokens_in)
segment_embedded = tf.keras.layers.Embedding(2, 8)(segments_in)
merged = tf.keras.layers.Add()([embedded, segment_embedded])
pooled = tf.keras.layers.GlobalAveragePooling1D()(merged)
output = tf.keras.layers.Dense(1, activation="sigmoid")(pooled)
model = tf.keras.Model(inputs=[tokens_in, segments_in], outputs=output)
model.compile(optimizer="adam", loss="binary_crossentropy")

x_train = np.stack([token_ids, segment_ids], axis=1)  # shape (64, 2, 12)
model.fit(x_train, labels, batch_size=16, epochs=2)
