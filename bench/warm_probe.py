"""Warm in-app probe latency: submit -> report through the app's job runner and warm pool,
minus the time the user's script itself takes. Target: at most 1.0 s (median).

    .venv/bin/python bench/warm_probe.py [SCRIPT] [--repeat N] [--keras both|3|2]

Each probe waits for the pool to be ready first (as a user does between two probes),
then times submit -> finished report. "User code" is the longest stack's time inside
the script (`script_s` of the report: the user's code, with the probe's interception
in it); what is left is fitprobe's own cost: handing out the job, starting the stacks,
collecting events, rules, verdict and saving to history. A cold probe (a worker
started for the job, as the command line does) is timed beside it for context.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostics.engine.jobs import JobRunner  # noqa: E402
from diagnostics.engine.pool import WorkerPool  # noqa: E402
from diagnostics.engine.sandbox import detect  # noqa: E402
from diagnostics.engine.store import DB_NAME, ReportStore  # noqa: E402

DEFAULT_SCRIPT = ROOT / "tests" / "situations" / "s03_generator_swallows_error.py"


def timed(runner: JobRunner, code: str, keras: str) -> tuple[float, float, bool]:
    """(seconds submit -> report, seconds in the user's script, all stacks warm)."""
    start = time.perf_counter()
    job_id = runner.submit(code=code, keras=keras, name="bench.py")
    while runner.get(job_id).state in ("queued", "running"):
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    job = runner.get(job_id)
    if job.report is None or job.report["status"] != "ok":
        sys.exit(f"the probe failed: {job.error or job.report['verdict']}")
    stacks = job.report["stacks"]
    return elapsed, max(s.get("script_s") or 0 for s in stacks), all(s["warm"] for s in stacks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", default=str(DEFAULT_SCRIPT))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keras", choices=["both", "3", "2"], default="both")
    ns = parser.parse_args()
    code = Path(ns.script).read_text(encoding="utf-8")
    store = ReportStore(Path(tempfile.mkdtemp(prefix="fitprobe-bench-")) / DB_NAME)
    pool = WorkerPool(1)
    warm_runner = JobRunner(store=store, pool=pool, max_parallel=1)
    cold_runner = JobRunner(store=store, max_parallel=1)
    warm, cold = [], []
    try:
        for _ in range(ns.repeat):
            if not pool.wait_ready(120):
                sys.exit("the pool did not get ready in 120 s")
            elapsed, user, all_warm = timed(warm_runner, code, ns.keras)
            if not all_warm:
                sys.exit("a probe did not get a warm worker")
            warm.append((elapsed, user))
            pool.wait_ready(120)  # let the refill finish before the cold probe too
            cold.append(timed(cold_runner, code, ns.keras)[:2])
    finally:
        pool.close()
    print(
        f"script: {Path(ns.script).name}, stacks: {ns.keras}, {ns.repeat} probes each, "
        f"{os.cpu_count()} cores, isolation: {detect().label}"
    )
    for label, runs in (("warm pool", warm), ("cold start", cold)):
        total = statistics.median(r[0] for r in runs)
        user = statistics.median(r[1] for r in runs)
        over = statistics.median(r[0] - r[1] for r in runs)
        print(
            f"  {label:10}  submit -> report {total:.2f} s   user code {user:.2f} s   "
            f"fitprobe {over:.2f} s"
        )
    overhead = statistics.median(r[0] - r[1] for r in warm)
    verdict = "meets" if overhead <= 1.0 else "misses"
    print(f"warm latency minus user code: {overhead:.2f} s median ({verdict} the 1.0 s target)")
    return 0 if overhead <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
