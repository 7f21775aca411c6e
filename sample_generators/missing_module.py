"""A script shared together with its experiment tracker, which is not installed here."""

import sys

import numpy as np
from tensorflow import keras

TITLE = "An experiment tracker the script cannot train without"
LESSON = (
    "Scripts travel with the tools of the machine they were written on: an experiment "
    "tracker, a plotting helper, a notification bot. Where one is not installed, the script "
    "stops at its import with ModuleNotFoundError before a single batch is trained, and the "
    "input pipeline never gets looked at. None of these tools feeds fit(): import them "
    "inside try/except ImportError and train without them, or, in fitprobe, stub them."
)
RULE = "missing-module"
EXPECTED = {
    "broken": {"keras3": ["missing-module"], "keras2": ["missing-module"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 12
rng = np.random.default_rng(21)
features = rng.normal(size=(72, 5)).astype("float32")
targets = (features @ rng.normal(size=5)).astype("float32")


def batches(batch_size=BATCH):
    while True:
        for start in range(0, len(features), batch_size):
            yield features[start : start + batch_size], targets[start : start + batch_size]


def build_model():
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    import wandb  # the tracker of the machine this was written on

    wandb.init(project="gallery", mode="offline")
    model = build_model()
    model.fit(batches(), steps_per_epoch=len(features) // BATCH, epochs=3, verbose=0)
    wandb.finish()


def fixed():
    try:
        import wandb
    except ImportError:  # the tracker is optional: training does not need it
        wandb = None
    if wandb is not None:
        wandb.init(project="gallery", mode="offline")
    model = build_model()
    model.fit(batches(), steps_per_epoch=len(features) // BATCH, epochs=3, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
