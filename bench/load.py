"""The app under load, as `make run` starts it: real Chromium tabs against `fitprobe serve`.

    .venv/bin/python bench/load.py [--tabs 8] [--port PORT]

1. First probe: the server is launched, and as soon as it answers its health endpoint
   a tab opens the Probe page and probes the embedded default example. Target: its
   verdict within 8 s of the click (the warm pool started with the server).
2. Load: `--tabs` tabs (8) open the Probe page and click Probe at once. Targets: every
   tab gets its verdict; the health endpoint, polled every 100 ms from another thread,
   answers with p95 under 500 ms; the server's RSS ends where it started (within 25%),
   its peak printed beside it.

Numbers are measured in one run, side by side; the exit status is 0 when every target
is met. Chromium's own tabs share the cores with the server: the figures include them,
as they would for users on the same machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("FITPROBE_CHROMIUM", "/usr/bin/chromium")
FIRST_VERDICT_S = 8.0
HEALTH_P95_S = 0.5
RSS_GROWTH = 1.25
VERDICT_TIMEOUT_S = 900.0


class Health(threading.Thread):
    """Polls the health endpoint every 100 ms: (seconds since start, latency or None)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.samples, self.stopped = url + "_stcore/health", [], threading.Event()
        self.start_at = time.monotonic()

    def run(self) -> None:
        while not self.stopped.is_set():
            began = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as reply:
                    ok = reply.status == 200
            except OSError:
                ok = False
            took = time.monotonic() - began
            self.samples.append((began - self.start_at, took if ok else None))
            self.stopped.wait(max(0.0, 0.1 - took))

    def between(self, start: float, end: float) -> list[float | None]:
        return [lat for t, lat in self.samples if start <= t <= end]


class Rss(threading.Thread):
    """The server process's resident memory (MB), every 0.5 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stopped = pid, [], threading.Event()

    def now(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            try:
                self.samples.append(self.now())
            except OSError:
                return


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe_button(page):
    return page.get_by_role("button", name="Probe", exact=True)


def verdict(page):
    return page.get_by_test_id("stAlertContainer").filter(has_text=re.compile("Keras [23]"))


def open_probe_page(page, url: str) -> None:
    page.goto(url)
    probe_button(page).wait_for(timeout=120_000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=8)
    parser.add_argument("--port", type=int, default=0)
    ns = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = ns.port or free_port()
    url = f"http://127.0.0.1:{port}/"
    data = tempfile.mkdtemp(prefix="fitprobe-bench-load-")
    log = open(Path(data) / "server.log", "wb")
    launched = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "diagnostics", "serve", "--port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "FITPROBE_DATA_DIR": data}, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    health = Health(url)
    health.start()
    rss = Rss(server.pid)
    rss.start()
    try:
        while not any(lat is not None for _, lat in health.samples):
            if server.poll() is not None or time.monotonic() - launched > 120:
                sys.exit(f"the server did not start: see {log.name}")
            time.sleep(0.05)
        up_s = time.monotonic() - launched
        args = ["--disable-gpu", "--no-first-run", "--disable-background-networking"]
        args += ["--no-sandbox"] if os.geteuid() == 0 else []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=args)
            # 1. The first probe, as soon as the server is up.
            first = browser.new_page()
            open_probe_page(first, url)
            clicked = time.monotonic()
            probe_button(first).click()
            verdict(first).first.wait_for(timeout=VERDICT_TIMEOUT_S * 1000)
            first_s = time.monotonic() - clicked
            launch_to_verdict = time.monotonic() - launched
            first.close()
            time.sleep(3.0)  # the pool refills, the server settles
            rss_before = rss.now()
            # 2. The load: every tab clicks Probe at once.
            pages = [browser.new_page() for _ in range(ns.tabs)]
            for page in pages:
                open_probe_page(page, url)
            load_start = time.monotonic() - health.start_at
            started = time.monotonic()
            for page in pages:
                probe_button(page).click()
            done: dict[int, float] = {}
            while len(done) < len(pages) and time.monotonic() - started < VERDICT_TIMEOUT_S:
                for i, page in enumerate(pages):
                    if i not in done and verdict(page).count():
                        done[i] = time.monotonic() - started
                time.sleep(0.25)
            load_end = time.monotonic() - health.start_at
            time.sleep(5.0)
            rss_after = rss.now()
            browser.close()
    finally:
        health.stopped.set()
        rss.stopped.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    shutil.rmtree(data, ignore_errors=True)

    during = health.between(load_start, load_end)
    answered = [lat for lat in during if lat is not None]
    failed = len(during) - len(answered)
    p50, p95 = percentile(answered, 0.5), percentile(answered, 0.95)
    peak = max(rss.samples or [rss_after])
    growth = rss_after / rss_before
    print(f"{os.cpu_count()} cores, {ns.tabs} tabs, Chromium {CHROMIUM}")
    print(f"server up (health 200) {up_s:.1f} s after launch")
    print(
        f"first probe: verdict {first_s:.1f} s after the click, {launch_to_verdict:.1f} s "
        f"after launch (target {FIRST_VERDICT_S:g} s after the click)"
    )
    finished = sorted(done.values())
    print(
        f"load: {len(done)}/{ns.tabs} verdicts; first {finished[0]:.1f} s, median "
        f"{statistics.median(finished):.1f} s, last {finished[-1]:.1f} s after the clicks"
        if finished
        else f"load: 0/{ns.tabs} verdicts"
    )
    print(
        f"health during the load: {len(during)} polls, p50 {p50 * 1000:.0f} ms, p95 "
        f"{p95 * 1000:.0f} ms, max {max(answered) * 1000:.0f} ms, {failed} unanswered"
    )
    print(
        f"server RSS: {rss_before:.0f} MB before the load, peak {peak:.0f} MB, "
        f"{rss_after:.0f} MB after ({growth:.2f}x)"
    )
    targets = {
        f"first verdict <= {FIRST_VERDICT_S:g} s": first_s <= FIRST_VERDICT_S,
        f"{ns.tabs}/{ns.tabs} verdicts": len(done) == ns.tabs,
        f"health p95 < {HEALTH_P95_S * 1000:.0f} ms": p95 < HEALTH_P95_S and not failed,
        f"RSS after/before <= {RSS_GROWTH}": growth <= RSS_GROWTH,
    }
    for name, ok in targets.items():
        print(f"  {'meets' if ok else 'MISSES'}: {name}")
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
