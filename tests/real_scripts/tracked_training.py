"""Training logged to an experiment tracker (wandb), as many shared scripts are.

The tracker is not on the data path: its calls and its Keras callback change nothing
about the batches trained.
"""
import numpy as np
import wandb
from tensorflow import keras
from wandb.keras import WandbCallback

wandb.init(project="fit-debugging", config={"batch_size": 20, "epochs": 3})
config = wandb.config

rng = np.random.default_rng(5)
x = rng.normal(size=(120, 6)).astype("float32")
y = (x @ rng.normal(size=6)).astype("float32")


def endless(batch_size=20):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(endless(), steps_per_epoch=6, epochs=3, verbose=0, callbacks=[WandbCallback()])
wandb.log({"final_loss": 0.0})
wandb.finish()
