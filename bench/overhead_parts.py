"""Where the instrumentation overhead goes: a plain fit against probed fits with parts
of the dataset tap switched off, all in one process, side by side.

    .venv/bin/python bench/overhead_parts.py [--rounds N] [--steps N] [--keras 3|2]

The same image pipeline, model and timing as `overhead.py` (which holds the target).
Each round runs every arm once, in an order rotated from round to round, so a drift
in the machine's speed hits all arms alike. Arms:

  plain       no fitprobe
  hooks       fitprobe's callbacks and fit() wrapper, no tap in the pipeline
  shapes      the tap, describing each batch by its shapes only
  no-hash     the tap, without the row fingerprints (the NaN/Inf check alone)
  full        the tap as a probe runs it

Per arm: the median fit and the geometric mean of its ratios to the plain fit of the
same round, with a 95% interval. On a shared 2-core VM 30 rounds know an
arm's ratio to within about ±0.01–0.02.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import PROBED, run_harness  # noqa: E402

ARMS = {
    "plain": "",
    "hooks": "keras_hooks.tap_dataset = lambda dataset, channel: dataset",
    "shapes": "keras_hooks._hashable = lambda leaves: False\n"
    "keras_hooks._finiteness = lambda floats: tf.zeros([1], tf.float64)",
    "no-hash": "keras_hooks._hashable = lambda leaves: False",
    "full": "",
}
PARTS = (
    PROBED
    + """
import tensorflow as tf
from diagnostics.worker import keras_hooks

ARMS = json.loads(open(sys.argv[4]).read())
original = dict(vars(keras_hooks))
steps, rounds = int(sys.argv[2]), int(sys.argv[3])
names = list(ARMS)
times = {name: [] for name in names}
for i in range(rounds):
    for name in names[i % len(names):] + names[:i % len(names)]:
        vars(keras_hooks).update(original)
        exec(ARMS[name])
        fit = timed_fit if name == "plain" else probed_fit
        times[name].append(fit(steps)[0])
vars(keras_hooks).update(original)
print(json.dumps({"times": times, "trained": end_events()}))
"""
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--keras", choices=["3", "2"], default="3")
    ns = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fitprobe-bench-"))
    arms = folder / "arms.json"
    arms.write_text(json.dumps(ARMS))
    result = run_harness(folder, "parts.py", PARTS, [ns.steps, ns.rounds, arms], ns.keras)
    times = result["times"]
    print(
        f"image pipeline: {ns.steps} timed steps of 32x64x64x3 float32, Keras {ns.keras}, "
        f"{os.cpu_count()} cores; {ns.rounds} rounds, {result['trained']} batches observed"
    )
    for name, fits in times.items():
        logs = [math.log(t / p) for t, p in zip(fits, times["plain"], strict=True)]
        ratio = math.exp(statistics.mean(logs))
        spread = 1.96 * statistics.stdev(logs) / math.sqrt(len(logs)) if len(logs) > 1 else 0
        print(
            f"  {name:8s} {statistics.median(fits):.3f} s median   "
            f"{ratio:.3f}x plain (95%: {math.exp(math.log(ratio) - spread):.3f}"
            f"-{math.exp(math.log(ratio) + spread):.3f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
