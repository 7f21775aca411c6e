"""A probe's memory is bounded for all its processes together: children the script
forks share one cap, and /dev/shm is a small private tmpfs whose pages count against
it, not the host's. On a machine without a writable memory cgroup or bubblewrap the
tests skip, and in CI (CI=true or CI=1) they fail: there they must hold (`require`)."""

from __future__ import annotations

import os

import pytest

from diagnostics import probe_code
from diagnostics.engine.sandbox import BWRAP, SHM_BYTES, detect, resource_cgroups

from .conftest import require

pytestmark = pytest.mark.slow

FIT = """
import numpy as np
from tensorflow import keras
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32"), verbose=0)
"""


def _memory_cgroup() -> bool:
    groups, words = resource_cgroups(1024)
    for group in groups:
        group.remove()
    return words.startswith("memory: cgroup")


def test_forked_children_share_the_probes_memory_cap():
    require(_memory_cgroup(), "no writable memory cgroup on this machine")
    # Four children of 700 MB each: every one is under a per-process limit of 2 GB,
    # together (with TensorFlow's own) far over the probe's 2 GB.
    code = """
import os
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        block = bytearray(700 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1  # touch every page
        os._exit(0)
    children.append(pid)
ended = [os.waitpid(pid, 0)[1] for pid in children]
print("children ok:", sum(1 for status in ended if status == 0))
""" + FIT
    report = probe_code(code, keras="3", memory_mb=2048, timeout=180)
    (stack,) = report["stacks"]
    assert stack["limits"].startswith("memory: cgroup v")
    assert "2048 MB for all its processes together" in stack["limits"]
    assert stack["memory_kills"] >= 1  # the kernel ended processes at the probe's limit
    printed = stack["stdout"]["text"]
    if "children ok:" in printed:  # the kernel ended children: the script went on
        survived = int(printed.split("children ok:")[1].split()[0])
        assert survived < 4, printed
    else:  # it ended the worker itself (the largest): the report says why
        assert stack["status"] == "crashed", stack["reason"]
        assert "went over the probe's memory limit" in stack["reason"]


def test_dev_shm_is_private_and_capped():
    require(detect().level == BWRAP, "no bubblewrap sandbox on this machine")
    code = """
import os
written = 0
try:
    with open("/dev/shm/fill", "wb") as f:
        block = b"x" * (16 * 1024 * 1024)
        while written < 2 * 1024**3:
            f.write(block)
            f.flush()
            written += len(block)
except OSError as exc:
    print("stopped:", exc.strerror)
print("written MB:", written // 2**20)
""" + FIT
    report = probe_code(code, keras="3", timeout=180)
    printed = report["stacks"][0]["stdout"]["text"]
    assert "stopped: No space left on device" in printed, printed
    written = int(printed.split("written MB:")[1].split()[0])
    assert written <= SHM_BYTES // 2**20
    assert not os.path.exists("/dev/shm/fill")  # the host's /dev/shm was never touched
