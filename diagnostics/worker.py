"""The probe worker: one process per stack, started by `probe.py`, never imported by it.

It applies its resource limits, imports TensorFlow with the right Keras
(`TF_USE_LEGACY_KERAS=1` was set by the parent, before any import, for
Keras 2), installs the interception (`intercept`, `keras_hooks`), runs the
user's script as `__main__` (or module mode's source), and streams JSON-lines
events on the file descriptor named by `FITPROBE_EVENT_FD`. The user's own
stdout and stderr go where they always go; the parent captures them.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import runpy
import sys
import threading
import time
import traceback

EVENT_FD_ENV = "FITPROBE_EVENT_FD"


class EventStream:
    def __init__(self, fd: int):
        self.fd = fd
        self.start = time.time()
        self.lock = threading.Lock()

    def emit(self, kind: str, **fields) -> None:
        record = {"type": kind, "t": round(time.time() - self.start, 4), **fields}
        data = (json.dumps(record, default=str, allow_nan=False) + "\n").encode()
        with self.lock:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]


def apply_limits(job: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    memory = job.get("memory_mb")
    if memory:
        # RLIMIT_DATA, not RLIMIT_AS: TensorFlow reserves ~2.3 GB of address space.
        limit = int(memory) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    file_mb = job.get("file_size_mb")
    if file_mb:
        limit = int(file_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def main(argv: list[str]) -> int:
    with open(argv[1]) as f:
        job = json.load(f)
    events = EventStream(int(os.environ[EVENT_FD_ENV]))
    apply_limits(job)
    stack = job["stack"]
    started = time.perf_counter()
    import tensorflow as tf

    if stack == "keras2":
        import tf_keras as keras
    else:
        import keras
    import_s = time.perf_counter() - started

    gpus = tf.config.list_physical_devices("GPU")
    if job["device"] == "gpu" and not gpus:
        events.emit(
            "input-error", message="--device gpu was asked for, but TensorFlow sees no GPU here"
        )
        return 3
    device = "cpu"
    if gpus and job["device"] != "cpu":
        details = tf.config.experimental.get_device_details(gpus[0])
        device = f"gpu ({details.get('device_name', gpus[0].name)})"

    from .intercept import Caps, FitCallCapReached, Recorder, install_warning_capture
    from .keras_hooks import install
    from .standin import SourceProblem, run_module
    from .userframes import UserFiles, describe_exception

    events.emit(
        "stack-start",
        stack=stack,
        keras_version=keras.__version__,
        tensorflow=tf.__version__,
        python=platform.python_version(),
        device=device,
        import_s=round(import_s, 3),
        pid=os.getpid(),
    )
    user_files = UserFiles({job["path"]: job["display_name"]})
    recorder = Recorder(events.emit, stack, keras, Caps(**job["caps"]), user_files)
    install_warning_capture(recorder)
    install(recorder, stack, keras)

    sys.argv = [job["path"], *job.get("script_args", [])]
    sys.path.insert(0, os.path.dirname(job["path"]))
    script_exception = exit_code = None
    fit_call_cap = False
    try:
        if job["mode"] == "module":
            run_module(job, keras, events.emit)
        else:
            runpy.run_path(job["path"], run_name="__main__")
    except SourceProblem as exc:
        events.emit("input-error", message=str(exc))
        return 3
    except FitCallCapReached:
        fit_call_cap = True
    except SystemExit as exc:
        exit_code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # user code failed: an observation, not a crash
        script_exception = describe_exception(exc, user_files)
        script_exception["raised_by_fit"] = id(exc) in recorder.fit_exceptions
        script_exception["traceback"] = "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-12)
        )[-6000:]
    events.emit(
        "stack-end",
        fit_calls=recorder.calls,
        script_exception=script_exception,
        exit_code=exit_code,
        fit_call_cap=recorder.caps.max_fit_calls if fit_call_cap else None,
        warning_totals=recorder.warning_totals(),
    )
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
    # Skip interpreter teardown: TensorFlow's threads can hang it, and the
    # user's atexit handlers have nothing left to do for the probe.
    os._exit(code)
