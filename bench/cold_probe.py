"""Cold CLI probe vs plain `python script.py`, measured side by side in one run.

    .venv/bin/python bench/cold_probe.py [SCRIPT] [--repeat N] [--keras 3|2]

Runs the script plainly and through `python -m diagnostics probe SCRIPT --json`
alternately, N times each, and prints the medians and their ratio. The plain
run uses the same stack as the probe (TF_USE_LEGACY_KERAS=1 for Keras 2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCRIPT = ROOT / "tests" / "situations" / "s01_infinite_generator_half_steps.py"


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", default=str(DEFAULT_SCRIPT))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keras", choices=["3", "2"], default="3")
    ns = parser.parse_args()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="1")
    plain_env = dict(env, TF_USE_LEGACY_KERAS="1") if ns.keras == "2" else env
    plain_cmd = [sys.executable, ns.script]
    probe_cmd = [
        sys.executable,
        "-m",
        "diagnostics",
        "probe",
        ns.script,
        "--keras",
        ns.keras,
        "--json",
    ]
    plain, probed = [], []
    for _ in range(ns.repeat):
        plain.append(timed(plain_cmd, plain_env))
        probed.append(timed(probe_cmd, env))
    p, q = statistics.median(plain), statistics.median(probed)
    print(
        f"script: {Path(ns.script).name}, Keras {ns.keras}, "
        f"{ns.repeat} runs each, {os.cpu_count()} cores"
    )
    print(
        f"python script.py      median {p:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in plain)})"
    )
    print(
        f"cold CLI probe        median {q:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in probed)})"
    )
    print(f"ratio probe / plain   {q / p:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
