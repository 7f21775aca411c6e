"""A generator whose try/except ends it quietly at the first bad file."""

import sys

import numpy as np
from tensorflow import keras

TITLE = "A try/except that quietly ends the generator"
LESSON = (
    "The generator reads one shard per batch, and wraps the read in try/except so that "
    "one bad shard 'does not crash training'. But the except block returns, which ends the "
    "generator: after 3 good shards there is no more data, and no error either. Keras 2 "
    "warns that the input ran out and stops training; Keras 3 warns and keeps training "
    "every epoch on the few batches it already has. The fix: let the exception surface, "
    "or skip just the bad shard with `continue` and count it."
)
RULE = "generator-swallowed-error"
EXPECTED = {
    "broken": {
        "keras3": ["generator-swallowed-error", "replayed-peeked-batches"],
        "keras2": ["generator-swallowed-error"],
    },
    "fixed": {"keras3": [], "keras2": []},
}

BATCH = 10
rng = np.random.default_rng(4)
shards = [rng.normal(size=(BATCH, 6)).astype("float32") for _ in range(10)]
shards[3] = shards[3][:, :5]  # a truncated shard: 5 columns instead of 6


def read(shard):
    if shard.shape[1] != 6:
        raise ValueError(f"shard has {shard.shape[1]} columns, expected 6")
    return shard, shard.sum(axis=1)


def quiet_batches():
    while True:
        for shard in shards:
            try:
                x, y = read(shard)
            except ValueError:
                return  # meant as "skip it", but it ends the generator
            yield x, y


def counting_batches(skipped):
    while True:
        for shard in shards:
            try:
                x, y = read(shard)
            except ValueError as err:
                skipped.append(str(err))
                continue
            yield x, y


def build_model():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def broken():
    build_model().fit(quiet_batches(), steps_per_epoch=len(shards), epochs=4, verbose=0)


def fixed():
    skipped = []
    good = sum(1 for s in shards if s.shape[1] == 6)
    build_model().fit(counting_batches(skipped), steps_per_epoch=good, epochs=4, verbose=0)
    print(f"skipped {len(set(skipped))} bad shard(s)")


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1] if len(sys.argv) > 1 else "broken"]()
