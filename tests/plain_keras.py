"""Ground truth: run a script plainly, on real Keras, with nothing of fitprobe's in the way.

`plain_batches(script, workdir)` runs the script in a fresh Python per stack (Keras 3;
Keras 2 through `TF_USE_LEGACY_KERAS=1`), in `workdir`, with real data. The only thing
added is a callback that counts `on_train_batch_end` per epoch, appended to every
`Model.fit` call (Keras 2's `fit_generator` goes through `fit`). It returns, per stack,
one list of batches per epoch for each fit() call, or the exception that ended the script.

Probe tests compare fitprobe's observations with these numbers, measured side by side in
the same test, so anyone can re-measure the truth the other tests rest on.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RUNNER = r'''
import json, os, runpy, sys, traceback
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf
if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
    try:
        import tf_keras as keras
    except ImportError:  # TensorFlow 2.15 and older: tf.keras is Keras 2
        keras = tf.keras
else:
    import keras
out_path, script = sys.argv[1], sys.argv[2]
calls = []

class Count(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []
    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(0)
    def on_train_batch_end(self, batch, logs=None):
        if self.epochs:
            self.epochs[-1] += 1

original = keras.Model.fit
def fit(self, *args, **kwargs):
    counter = Count()
    calls.append(counter.epochs)
    kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [counter]
    return original(self, *args, **kwargs)
keras.Model.fit = fit

result = {"fits": calls, "exception": None}
sys.argv = [script] + sys.argv[3:]
sys.path.insert(0, os.path.dirname(script))
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit:
    pass
except BaseException as exc:
    result["exception"] = type(exc).__name__
    traceback.print_exc()
with open(out_path, "w") as f:
    json.dump(result, f)
os._exit(0)
'''

# Keras 2 is `tf_keras` where it is installed (TensorFlow 2.16 and newer); older
# TensorFlow's own tf.keras is Keras 2, and the variable would break it.
STACK_ENV = {
    "keras3": {},
    "keras2": {"TF_USE_LEGACY_KERAS": "1"} if importlib.util.find_spec("tf_keras") else {},
}


def _run(stack, script: Path, workdir: Path, args: list[str], timeout: float, pythonpath) -> dict:
    with tempfile.TemporaryDirectory(prefix="plain-keras-") as tmp:
        out = Path(tmp) / "result.json"
        env = {
            **os.environ,
            **STACK_ENV[stack],
            "CUDA_VISIBLE_DEVICES": "-1",
            "MPLBACKEND": "Agg",
            "HOME": tmp,
        }
        env.pop("PYTHONPATH", None)
        if pythonpath:  # packages the script's own environment has (a tracker, say)
            env["PYTHONPATH"] = str(pythonpath)
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(out), str(script), *args],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if not out.exists():
            raise RuntimeError(f"plain {stack} run of {script.name} died:\n{done.stderr[-3000:]}")
        result = json.loads(out.read_text())
        result["stderr"] = done.stderr[-3000:]
        return result


def plain_batches(
    script, workdir, *, stacks=("keras3", "keras2"), args=(), timeout: float = 300,
    pythonpath=None,
) -> dict[str, dict]:
    """{stack: {"fits": [[batches per epoch], ...], "exception": name | None}}."""
    script, workdir = Path(script).resolve(), Path(workdir).resolve()
    with ThreadPoolExecutor(len(stacks)) as pool:
        futures = {
            s: pool.submit(_run, s, script, workdir, list(args), timeout, pythonpath)
            for s in stacks
        }
        return {s: f.result() for s, f in futures.items()}


def probed_batches(report: dict, stack: str) -> list[list[int]]:
    """fitprobe's observations in the same shape: per fit() call, trained batches per epoch."""
    return [
        [e["observed_batches"] for e in run["epochs"] if not e.get("partial")]
        for run in report["runs"]
        if run["stack"] == stack
    ]
