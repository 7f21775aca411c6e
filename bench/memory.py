"""Probe memory on a long run: 100k trained batches, probed vs plain, side by side.
Target: the probe adds at most 50 MB over a plain fit (recording is O(batches) with a
small constant, not O(data)).

    .venv/bin/python bench/memory.py [--batches N] [--keras 3|2]

The script trains a tiny model on an endless generator for N batches (5 epochs).
Plain: the peak RSS of `python SCRIPT`. Probed: the peak RSS of the probe's worker
(the same script, with fitprobe's interception and per-batch recording in it) plus
what the parent (this process, which probes in-process and keeps the report) grew by.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostics import probe, to_json  # noqa: E402

SCRIPT = """
import sys
import numpy as np
from tensorflow import keras

STEPS = int(sys.argv[1]) // 5
rows = np.random.default_rng(0).normal(size=(4000, 4)).astype("float32")


def batches():
    while True:
        for start in range(0, len(rows), 8):
            yield rows[start:start + 8], rows[start:start + 8, :1]


model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(batches(), steps_per_epoch=STEPS, epochs=5, verbose=0)
"""
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100_000)
    parser.add_argument("--keras", choices=["3", "2"], default="3")
    ns = parser.parse_args()
    script = Path(tempfile.mkdtemp(prefix="fitprobe-bench-")) / "long_run.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="1")
    if ns.keras == "2":
        env["TF_USE_LEGACY_KERAS"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", PEAK, sys.executable, str(script), str(ns.batches)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    plain = int(done.stdout.split()[-1]) / 1024

    before = peak_mb()
    report = probe(
        script,
        keras=ns.keras,
        script_args=[str(ns.batches)],
        epochs=5,
        max_steps=ns.batches,
        timeout=3600,
    )
    parent = peak_mb() - before
    if report["status"] != "ok":
        sys.exit(f"the probe failed: {report['verdict']}")
    trained = sum(e["observed_batches"] for r in report["runs"] for e in r["epochs"])
    worker = report["stacks"][0]["peak_rss_mb"]
    size = len(to_json(report, indent=None)) / 1e6
    added = (worker - plain) + parent
    print(
        f"{trained} trained batches, Keras {ns.keras}, {os.cpu_count()} cores, "
        f"isolation: {report['environment']['isolation']}"
    )
    print(f"  plain fit, peak RSS          {plain:8.1f} MB")
    print(f"  probe worker, peak RSS       {worker:8.1f} MB  ({worker - plain:+.1f} MB)")
    print(f"  probe parent, growth         {parent:8.1f} MB  (the report: {size:.1f} MB of JSON)")
    verdict = "meets" if added <= 50 else "misses"
    print(f"added by the probe: {added:.1f} MB ({verdict} the 50 MB target)")
    print(json.dumps({"plain_mb": plain, "worker_mb": worker, "parent_mb": parent}))
    return 0 if added <= 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
