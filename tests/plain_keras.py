"""Ground truth: run a script plainly, on real Keras, with nothing of fitprobe's in the way.

`plain_batches(script, workdir)` runs the script in a fresh Python per stack (Keras 3;
Keras 2 through `TF_USE_LEGACY_KERAS=1`), in `workdir`, with real data. The only thing
added is a callback that counts `on_train_batch_end` and `on_test_batch_end` per epoch,
appended to every `Model.fit` call (Keras 2's `fit_generator` goes through `fit`). It
returns, per stack, for each fit() call one list of trained batches per epoch and one of
validation batches per epoch (every epoch that began: one that crashed counts the batches
trained before the crash), and the exception that ended the script, if one did.

Nothing of fitprobe's is imported in the plain process: the runner below is the whole of
what runs beside the script, so anyone can read what "plain Keras" means here.

Caps, all off unless asked (`Caps`). A probe caps what the user's script may run; to
compare like with like, the plain run can be capped the same way, by the same means a
probe uses, each recorded in the result so a test can check the probe said so too:
- `epochs`: fit()'s `epochs` argument becomes `min(epochs, initial_epoch + cap)`;
- `max_steps`: after that many trained batches in one epoch the counter sets
  `model.stop_training` (the epoch ends there, and with it the fit() call). This is also
  what stops an epoch that never ends (a repeated tf.data without `steps_per_epoch` on
  Keras 3). Unlike a probe, the counter cannot tell an epoch of exactly `max_steps`
  batches from a longer one: it stops that fit() too;
- `max_val_steps`: after that many validation batches in one epoch the counter raises a
  private exception, caught around fit(), which then returns `model.history` as if done;
- `max_fit_calls`: the next fit() call raises a private `BaseException` (the script's
  `except Exception` does not swallow it) that ends the script;
- `time_limit`: seconds after TensorFlow is imported, a watchdog thread writes what was
  counted so far and ends the process (`timed_out`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

RUNNER = r"""
import inspect, json, os, runpy, sys, threading, traceback
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf
if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
    try:
        import tf_keras as keras
    except ImportError:  # TensorFlow 2.15 and older: tf.keras is Keras 2
        keras = tf.keras
else:
    import keras
out_path, script, caps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
result = {
    "fits": [], "val": [], "calls": [], "fit_call_cap": None, "timed_out": False,
    "exception": None, "exception_text": None,
}
lock = threading.Lock()


def dump():
    for _ in range(10):  # the training thread may be appending while the watchdog writes
        try:
            text = json.dumps(result)
            break
        except RuntimeError:
            continue
    with open(out_path + ".tmp", "w") as f:
        f.write(text)
    os.replace(out_path + ".tmp", out_path)


class ValidationCap(Exception):
    pass


class FitCallCap(BaseException):
    pass


class Count(keras.callbacks.Callback):
    def __init__(self, trained, val, call):
        super().__init__()
        self.trained, self.val, self.call = trained, val, call
    def on_epoch_begin(self, epoch, logs=None):
        self.trained.append(0)
        self.val.append(0)
    def on_epoch_end(self, epoch, logs=None):
        self.call["epochs_ended"] += 1
    def on_train_batch_end(self, batch, logs=None):
        if not self.trained:
            return
        self.trained[-1] += 1
        cap = caps.get("max_steps")
        if cap and self.trained[-1] >= cap and not self.model.stop_training:
            self.call["cap"], self.call["cap_epoch"] = "max-steps", len(self.trained) - 1
            self.model.stop_training = True
    def on_test_batch_end(self, batch, logs=None):
        if not self.val:
            return
        self.val[-1] += 1
        cap = caps.get("max_val_steps")
        if cap and self.val[-1] >= cap:
            self.call["cap"], self.call["cap_epoch"] = "max-validation-steps", len(self.val) - 1
            raise ValidationCap()


original = keras.Model.fit
signature = inspect.signature(original)


def fit(self, *args, **kwargs):
    if caps.get("max_fit_calls") is not None and len(result["calls"]) >= caps["max_fit_calls"]:
        result["fit_call_cap"] = caps["max_fit_calls"]
        raise FitCallCap()
    trained, val = [], []
    call = {
        "epochs_requested": None, "epochs_run": None, "initial_epoch": 0, "epochs_ended": 0,
        "cap": None, "cap_epoch": None, "exception": None, "stop_training": None,
        "returned": False,
    }
    result["fits"].append(trained)
    result["val"].append(val)
    result["calls"].append(call)
    try:
        bound = signature.bind(self, *args, **kwargs)
    except TypeError:  # Keras itself rejects these arguments: let it say how
        bound = None
    appended_to = None
    if bound is not None:
        a = bound.arguments
        requested, initial = a.get("epochs", 1), a.get("initial_epoch") or 0
        call["initial_epoch"] = int(initial)
        if isinstance(requested, (int, np.integer)) and not isinstance(requested, bool):
            call["epochs_requested"] = call["epochs_run"] = int(requested)
            if caps.get("epochs"):
                call["epochs_run"] = min(int(requested), int(initial) + caps["epochs"])
                a["epochs"] = call["epochs_run"]
        counter = Count(trained, val, call)
        user = a.get("callbacks")
        if user is None:
            a["callbacks"] = [counter]
        elif isinstance(user, (list, tuple)):
            a["callbacks"] = [*user, counter]
        elif hasattr(user, "append") and hasattr(user, "callbacks"):  # a CallbackList
            user.append(counter)
            appended_to = user
        else:  # one callback, not in a list (Keras flattens it)
            a["callbacks"] = [user, counter]
        args, kwargs = bound.args[1:], bound.kwargs
    try:
        history = original(self, *args, **kwargs)
    except ValidationCap:
        history = getattr(self, "history", None)
    except BaseException as exc:
        call["exception"] = type(exc).__name__
        raise
    finally:
        call["stop_training"] = bool(getattr(self, "stop_training", False))
        call["returned"] = True  # or raised: fit() is over (a timeout may come first)
        if appended_to is not None and counter in appended_to.callbacks:
            appended_to.callbacks.remove(counter)
    return history


keras.Model.fit = fit


def expire():
    with lock:
        result["timed_out"] = True
        dump()
        os._exit(0)


if caps.get("time_limit"):
    watchdog = threading.Timer(caps["time_limit"], expire)
    watchdog.daemon = True
    watchdog.start()

sys.argv = [script] + sys.argv[4:]
sys.path.insert(0, os.path.dirname(script))
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit:
    pass
except FitCallCap:
    pass
except BaseException as exc:
    result["exception"] = type(exc).__name__
    result["exception_text"] = "".join(traceback.format_exception(exc))[-20000:]
    traceback.print_exc()
with lock:
    dump()
    os._exit(0)
"""

# Keras 2 is `tf_keras` where it is installed (TensorFlow 2.16 and newer); older
# TensorFlow's own tf.keras is Keras 2, and the variable would break it.
STACK_ENV = {
    "keras3": {},
    "keras2": {"TF_USE_LEGACY_KERAS": "1"} if importlib.util.find_spec("tf_keras") else {},
}
KEPT_OUTPUT = 20_000  # characters of stdout and of stderr kept in a result (the last ones)


@dataclass(frozen=True)
class Caps:
    """What a plain run is capped by (None: not capped); see the module docstring."""

    epochs: int | None = None
    max_steps: int | None = None
    max_val_steps: int | None = None
    max_fit_calls: int | None = None
    time_limit: float | None = None


def plain_run(
    stack: str,
    script,
    workdir=None,
    *,
    args=(),
    caps: Caps = Caps(),
    timeout: float = 300,
    pythonpath=None,
) -> dict:
    """One plain run of `script` on `stack`, in a fresh Python, in `workdir` (None: a new
    empty folder). The result: `fits` and `val` (per fit() call, batches per epoch);
    `calls` (per fit() call: epochs asked and run, epochs ended, the cap that stopped it
    and in which epoch, the exception it raised, `model.stop_training` after it, whether
    it `returned` at all, which it has not where the time limit ended the run inside it);
    `fit_call_cap`, `timed_out`; the script's `exception` (name) and `exception_text`;
    `ran_out_of_data` (Keras printed its warning); `stdout` and `stderr`."""
    script = Path(script).resolve()
    with tempfile.TemporaryDirectory(prefix="plain-keras-") as tmp:
        out = Path(tmp) / "result.json"
        if workdir is None:
            workdir = Path(tmp) / "work"
            workdir.mkdir()
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
        limit = timeout if caps.time_limit is None else max(timeout, caps.time_limit + 120)
        # Output goes to files, not pipes: a process the script forked (multiprocessing
        # workers) may outlive the runner, and would hold pipes open.
        with open(Path(tmp) / "stdout", "w+") as stdout, open(Path(tmp) / "stderr", "w+") as err:
            proc = subprocess.Popen(
                [sys.executable, "-c", RUNNER, str(out), str(script),
                 json.dumps(asdict(caps)), *args],
                cwd=Path(workdir).resolve(),
                env=env,
                stdout=stdout,
                stderr=err,
                text=True,
                start_new_session=True,
            )  # fmt: skip
            try:
                proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                _kill_session(proc)
                raise
            finally:
                _kill_session(proc)  # whatever it left behind in its own session
            stdout.seek(0)
            err.seek(0)
            printed, stderr = stdout.read(), err.read()
        if not out.exists():
            raise RuntimeError(f"plain {stack} run of {script.name} died:\n{stderr[-3000:]}")
        result = json.loads(out.read_text())
        result["ran_out_of_data"] = "ran out of data" in stderr
        result["stdout"] = printed[-KEPT_OUTPUT:]
        result["stderr"] = stderr[-KEPT_OUTPUT:]
        return result


def _kill_session(proc: subprocess.Popen) -> None:
    """End the run's own session (it started one: `start_new_session`), leftovers too."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def plain_batches(
    script,
    workdir,
    *,
    stacks=("keras3", "keras2"),
    args=(),
    timeout: float = 300,
    pythonpath=None,
    caps: Caps = Caps(),
) -> dict[str, dict]:
    """{stack: plain_run(...)}: {"fits": [[batches per epoch], ...], "val": [[validation
    batches per epoch], ...], "exception": name | None, ...}, both stacks side by side."""
    with ThreadPoolExecutor(len(stacks)) as pool:
        futures = {
            s: pool.submit(
                plain_run, s, script, workdir, args=list(args), caps=caps, timeout=timeout,
                pythonpath=pythonpath,
            )
            for s in stacks
        }  # fmt: skip
        return {s: f.result() for s, f in futures.items()}


# fitprobe's observations in the same shape. Every epoch that began counts, as in the plain
# run: an epoch that crashed, hit the validation cap or the time limit is a `partial`
# epoch in the report, with the batches observed before it ended.


def probed_batches(report: dict, stack: str) -> list[list[int]]:
    """Per fit() call, trained batches per epoch (partial epochs included)."""
    return [
        [e["observed_batches"] for e in run["epochs"]]
        for run in report["runs"]
        if run["stack"] == stack
    ]


def probed_validation(report: dict, stack: str) -> list[list[int]]:
    """Per fit() call, validation batches per epoch (0 where an epoch validated nothing)."""
    return [
        [e.get("val_batches") or 0 for e in run["epochs"]]
        for run in report["runs"]
        if run["stack"] == stack
    ]
