"""A generator that loops over a list of data shards which turned out to be empty."""

import math
import sys

import numpy as np
from tensorflow import keras

TITLE = "A generator that yields nothing"
LESSON = (
    "This generator streams batches from the data shards whose names match a pattern, but "
    "the pattern asks for '.npy' files while the shards are '.npz', so the list is empty and "
    "the generator ends before its first yield. Neither Keras says that plainly: Keras 3 stops "
    "with 'Received an empty generator', Keras 2 lets a bare StopIteration with no message "
    "escape from fit(). Check what a generator draws from before training."
)
RULE = "empty-generator"
EXPECTED = {
    "broken": {"keras3": ["empty-generator"], "keras2": ["empty-generator"]},
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(19)
shards = {}
for name in ("part-0.npz", "part-1.npz", "part-2.npz"):
    x = rng.normal(size=(30, 5)).astype("float32")
    shards[name] = (x, x.sum(axis=1, keepdims=True))


def shard_batches(suffix):
    for name in [n for n in shards if n.endswith(suffix)]:
        x, y = shards[name]
        for start in range(0, len(x), BATCH):
            yield x[start : start + BATCH], y[start : start + BATCH]


def shard_batches_forever(suffix):
    names = [n for n in shards if n.endswith(suffix)]
    if not names:
        raise ValueError(f"no shard ends with {suffix!r}")
    while True:
        for name in names:
            x, y = shards[name]
            for start in range(0, len(x), BATCH):
                yield x[start : start + BATCH], y[start : start + BATCH]


def build_model():
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(shard_batches(".npy"), steps_per_epoch=9, epochs=2, verbose=0)


def fixed():
    steps = sum(math.ceil(len(x) / BATCH) for x, _ in shards.values())
    build_model().fit(shard_batches_forever(".npz"), steps_per_epoch=steps, epochs=2, verbose=0)


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
