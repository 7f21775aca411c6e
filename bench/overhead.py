"""Instrumentation overhead on an image pipeline: probed fit vs plain fit, side by side.
Target: at most 1.08x (public TensorFlow APIs only; see bench/README.md).

    .venv/bin/python bench/overhead.py [--pairs N] [--steps N] [--keras 3|2]

Batches of 32 x 64 x 64 x 3 float32 images come from a generator and go through a
small Conv2D model; only `fit()` over a few hundred steps is timed, after a short
warm-up fit (tracing), so process start and the TensorFlow import (cold_probe.py)
do not count.

1. The target, A/B in one process: TensorFlow is imported once; plain fits and fits
   with fitprobe's interception installed (the same `Recorder`, Keras hooks and
   per-batch tap as in a worker, its events decoded by a second process as the probe's
   parent does) alternate, N pairs in ABBA order; the target is the median of the
   pairs' ratios, printed with a distribution-free 95% interval. Each arm's time runs
   from the fit() call to Keras's end of training, plus, for the probed arm, the
   probe's own work after the fit (its `_finish`). What is left out, in both arms
   alike and printed apart: TensorFlow tearing down the fit's data iterator. In
   TensorFlow 2.21 that waits for the tf.data autotuner's thread to wake up on its own
   schedule (10 ms, 20 ms, 40 ms, ... after the iterator was made), so it adds 0 to
   ~2.5 s at random to a fit of this length, which swamps a 5% effect. For the same
   reason the warm-up fit's iterator is collected before the timed fit starts.
2. For context, whole runs: `python SCRIPT` vs the real probe
   (`python -m diagnostics probe SCRIPT`, sandboxed worker and all), medians.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET = 1.08  # probed / plain, median of the A/B pairs

ROOT = Path(__file__).resolve().parent.parent
PIPELINE = """
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
images = rng.random((512, 64, 64, 3), dtype=np.float32)
labels = rng.integers(0, 10, 512)


def batches():
    while True:
        for start in range(0, len(images), 32):
            yield images[start:start + 32], labels[start:start + 32]


def model():
    m = keras.Sequential([
        keras.Input(shape=(64, 64, 3)),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.MaxPooling2D(4),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10),
    ])
    m.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


class TrainEnd(keras.callbacks.Callback):  # touches no batch hook: Keras stays async
    def on_train_end(self, logs=None):
        import time
        self.at = time.perf_counter()


def timed_fit(steps, after_training=lambda: 0.0):
    # -> (the fit up to its end of training, plus after_training(); the rest of the
    # fit() call: TensorFlow tearing down the data iterator)
    import gc
    import time
    m = model()
    m.fit(batches(), steps_per_epoch=10, epochs=1, verbose=0)  # tracing, warm-up
    gc.collect()  # the warm-up's iterator goes now, not inside the timed fit
    end = TrainEnd()
    start = time.perf_counter()
    m.fit(batches(), steps_per_epoch=steps // 3, epochs=3, verbose=0, callbacks=[end])
    returned = time.perf_counter()
    extra = after_training()
    return end.at - start + extra, returned - end.at - extra
"""
SCRIPT = (
    PIPELINE
    + """
import sys
print(f"FIT_SECONDS {sum(timed_fit(int(sys.argv[1]))):.4f}")
"""
)

# The probed arm's set-up, as in a worker; `overhead_parts.py` shares it.
PROBED = (
    PIPELINE
    + """
import json, os, subprocess, sys, time
sys.path.insert(0, sys.argv[1])  # the project's root
from diagnostics.schema import ProbeOptions
from diagnostics.worker.recorder import Recorder, install_warning_capture
from diagnostics.worker.keras_hooks import install
from diagnostics.worker.userframes import UserFiles
from diagnostics.worker.main import EventStream

stack = "keras2" if os.environ.get("TF_USE_LEGACY_KERAS") == "1" else "keras3"
# What the engine does with a worker's events, in a process of its own as there: read
# them, assemble the runs, and at the end say how many batches it saw trained.
PARENT = '''
import json, sys
sys.path.insert(0, sys.argv[1])
from diagnostics.engine.assemble import StackAssembler
assembler = StackAssembler(sys.argv[2])
for line in sys.stdin.buffer:
    event = json.loads(line)
    event["stack"] = sys.argv[2]
    assembler.feed(event)
print(sum(e["observed_batches"] for r in assembler.runs for e in r["epochs"]))
'''
read_fd, write_fd = os.pipe()
parent = subprocess.Popen(
    [sys.executable, "-c", PARENT, sys.argv[1], stack],
    stdin=read_fd, stdout=subprocess.PIPE, text=True,
)
os.close(read_fd)
events = EventStream(write_fd)
caps = ProbeOptions(epochs=5, max_steps=2000, max_val_steps=2000, max_fit_calls=10_000)
recorder = Recorder(events.emit, stack, keras, caps, UserFiles({}))
install_warning_capture(recorder)
finished = []  # how long the probe's own work after each fit() took
finish = recorder._finish


def timed_finish(*args, **kwargs):
    start = time.perf_counter()
    try:
        return finish(*args, **kwargs)
    finally:
        finished.append(time.perf_counter() - start)


recorder._finish = timed_finish


def probed_fit(steps):
    uninstall = install(recorder, stack, keras)
    try:
        return timed_fit(steps, after_training=lambda: finished.pop())
    finally:
        uninstall()


def end_events():  # -> how many batches the second process saw trained
    events.emit("bench-end")  # not a batch event: the last burst goes out before it
    os.close(write_fd)
    return int(parent.communicate()[0])
"""
)
AB = (
    PROBED
    + """
steps, pairs = int(sys.argv[2]), int(sys.argv[3])
results, teardowns = [], []
for i in range(pairs):  # ABBA: a drift in the machine's speed hits both arms alike
    if i % 2 == 0:
        plain, probed = timed_fit(steps), probed_fit(steps)
    else:
        probed, plain = probed_fit(steps), timed_fit(steps)
    results.append([plain[0], probed[0]])
    teardowns.append([plain[1], probed[1]])
print(json.dumps({"pairs": results, "teardowns": teardowns, "trained": end_events()}))
"""
)


def bench_env(keras: str) -> dict:
    """The environment of a plain run on one stack: CPU only, TensorFlow's logs quiet."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1")
    return dict(env, TF_USE_LEGACY_KERAS="1") if keras == "2" else env


def run_harness(folder: Path, name: str, source: str, args: list, keras: str) -> dict:
    """Run a timing harness (`source`, as `folder/name`) in a fresh Python, its
    arguments the project's root then `args`; -> its last line of output, as JSON."""
    path = folder / name
    path.write_text(source)
    cmd = [sys.executable, str(path), str(ROOT), *map(str, args)]
    done = subprocess.run(cmd, env=bench_env(keras), capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the {name} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fit_seconds(text: str) -> float:
    found = re.search(r"FIT_SECONDS ([0-9.]+)", text)
    if not found:
        sys.exit(f"no timing in the output:\n{text[-2000:]}")
    return float(found.group(1))


def median_interval(values: list) -> tuple:
    """A distribution-free 95% interval for the median of `values` (sorted): the order
    statistics a binomial(n, 1/2) count puts either side of it."""
    n = len(values)
    k = max(int((n - 1.96 * math.sqrt(n)) / 2), 0)
    return values[k], values[n - 1 - k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3, help="whole runs each, for context")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--keras", choices=["3", "2"], default="3")
    ns = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fitprobe-bench-"))
    (folder / "image_pipeline.py").write_text(SCRIPT)
    env, plain_env = bench_env("3"), bench_env(ns.keras)
    result = run_harness(folder, "ab.py", AB, [ns.steps, ns.pairs], ns.keras)
    pairs = result["pairs"]
    ratios = sorted(b / a for a, b in pairs)
    ratio = statistics.median(ratios)
    low, high = median_interval(ratios)
    fastest = min(b for _, b in pairs) / min(a for a, _ in pairs)

    script = folder / "image_pipeline.py"
    plain_cmd = [sys.executable, str(script), str(ns.steps)]
    probe_cmd = [
        sys.executable, "-m", "diagnostics", "probe", str(script), "--keras", ns.keras,
        "--script-args", str(ns.steps), "--timeout", "600", "--json",
    ]  # fmt: skip
    plain_runs, probed_runs = [], []
    for _ in range(ns.runs):
        out = subprocess.run(plain_cmd, env=plain_env, capture_output=True, text=True)
        plain_runs.append(fit_seconds(out.stdout))
        out = subprocess.run(probe_cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        report = json.loads(out.stdout)
        if report["status"] != "ok":
            sys.exit(f"the probe failed: {report['verdict']}")
        probed_runs.append(fit_seconds(report["stacks"][0]["stdout"]["text"]))

    print(
        f"image pipeline: {ns.steps} timed steps of 32x64x64x3 float32, Keras {ns.keras}, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"1. A/B in one process, {ns.pairs} pairs ({result['trained']} batches observed, "
        "rows hashed with tf.fingerprint):"
    )
    print(f"   plain fit  {statistics.median(a for a, _ in pairs):.2f} s median   "
          + " ".join(f"{a:.2f}" for a, _ in pairs))  # fmt: skip
    print(f"   probed fit {statistics.median(b for _, b in pairs):.2f} s median   "
          + " ".join(f"{b:.2f}" for _, b in pairs))  # fmt: skip
    torn = result["teardowns"]
    plain_torn, probed_torn = [a for a, _ in torn], [b for _, b in torn]
    print(
        "   left out, the iterator's teardown: "
        f"plain {statistics.median(plain_torn):.2f} s median (max {max(plain_torn):.2f}), "
        f"probed {statistics.median(probed_torn):.2f} s (max {max(probed_torn):.2f})"
    )
    p, q = statistics.median(plain_runs), statistics.median(probed_runs)
    print(f"2. whole runs, {ns.runs} each: plain {p:.2f} s, probed (sandboxed worker) {q:.2f} s "
          f"({q / p:.2f}x; {' '.join(f'{v:.2f}' for v in plain_runs)} vs "
          f"{' '.join(f'{v:.2f}' for v in probed_runs)})")  # fmt: skip
    print(f"   fastest fits: probed / plain {fastest:.3f}x")
    verdict = "meets" if ratio <= TARGET else "misses"
    print(
        f"probed / plain, median of the pairs: {ratio:.3f}x "
        f"(95%: {low:.3f}-{high:.3f}; {verdict} the {TARGET}x target)"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
