"""Arrays read from a relative path that only exists on the author's machine."""

import sys
from pathlib import Path

import numpy as np
from tensorflow import keras

TITLE = "Data read from a path that is not there"
LESSON = (
    "A relative path such as data/features.npy is looked up in the working directory of "
    "whoever runs the script, not next to the script. On the author's machine it is there; "
    "anywhere else np.load stops with FileNotFoundError before training starts, and the "
    "traceback says nothing about where the data was meant to come from. Check that the data "
    "is there and create (or download) it when it is not; in fitprobe, attach the data or, "
    "for an image folder, stand it in from its counts."
)
RULE = "missing-data"
EXPECTED = {
    "broken": {"keras3": ["missing-data"], "keras2": ["missing-data"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 16
FEATURES = Path("data") / "features.npy"


def make_features() -> np.ndarray:
    return np.random.default_rng(22).normal(size=(96, 4)).astype("float32")


def train_on(features):
    targets = features.sum(axis=1)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(features, targets, batch_size=BATCH, epochs=3, verbose=0)


def broken():
    train_on(np.load(FEATURES))


def fixed():
    if not FEATURES.exists():  # made (or downloaded) where it is missing, then read
        FEATURES.parent.mkdir(parents=True, exist_ok=True)
        np.save(FEATURES, make_features())
    train_on(np.load(FEATURES))


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
