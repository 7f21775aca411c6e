"""EarlyStopping(val_loss, patience=0, restore_best_weights) ends a 5-epoch run after epoch 2.

Report: https://github.com/keras-team/keras/issues/20323
("EarlyStopping() does not return the model weights corresponding to the epoch with the best
value of the monitored quantity": a run cut short by EarlyStopping, weights restored from the
best epoch). Here the validation rows come from a later period that drifts the other way.
"""
import numpy as np
import tensorflow as tf

tf.keras.utils.set_random_seed(0)
rng = np.random.default_rng(18)
weights = np.array([1.5, -2.0, 0.7, 0.3], dtype="float32")
x_train = rng.normal(size=(200, 4)).astype("float32")
y_train = x_train @ weights + rng.normal(scale=0.1, size=200).astype("float32")
x_val = rng.normal(size=(40, 4)).astype("float32")
y_val = -(x_val @ weights)  # the later period: the relation flipped

model = tf.keras.Sequential([tf.keras.Input(shape=(4,)), tf.keras.layers.Dense(1)])
model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="mse")
stopper = tf.keras.callbacks.EarlyStopping(
    monitor="val_loss", patience=0, restore_best_weights=True, verbose=1
)
history = model.fit(
    x_train, y_train,
    validation_data=(x_val, y_val),
    batch_size=20, epochs=5, callbacks=[stopper], verbose=2,
)
print("epochs run:", len(history.history["loss"]), "stopped at:", stopper.stopped_epoch)
