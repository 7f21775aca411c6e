"""The probe worker: one process per stack and job, started by `engine.isolation`, never
imported by the parent.

    python -m diagnostics.worker STACK DEVICE MEMORY_MB FILE_MB EVENT_FD

It applies its resource limits, imports TensorFlow with the right Keras
(`TF_USE_LEGACY_KERAS=1` was set by the parent, before any import, for Keras 2),
says `worker-ready`, and waits for its one job: a JSON line on stdin (the pipe stays
open for the parent's `where`, asked before it stops the worker: `listen_for_commands`).
A cold probe sends the job at once; the warm pool (`pool.py`) starts workers ahead of
time and sends it when a probe comes. With the job, the worker caps its CPU
time (after the import, which alone takes seconds), installs the interception
(`recorder`, `keras_hooks`), runs the user's script as `__main__` (or module mode's
source) and streams JSON-lines events to the parent on the pipe it was started with,
moved first to a descriptor of no particular number that no child inherits, and
named nowhere the script looks (no environment variable). Once it has its job, every
line is framed under the job's key (`schema.frame`), so the parent drops lines the
script writes there itself. The user's own stdout and stderr go where they always go;
the parent captures them. Then it exits: a worker never runs a second job.
"""

from __future__ import annotations

import fcntl
import importlib.util
import itertools
import json
import os
import platform
import resource
import runpy
import secrets
import signal
import sys
import threading
import time

from diagnostics.schema import WHERE_COMMAND, frame, job_key, read_job

LOCAL_ENV = "FITPROBE_LOCAL"
NPROC_ENV = "FITPROBE_NPROC"
OPEN_FILES = 4096  # RLIMIT_NOFILE
CPU_MARGIN_S = 30  # on top of the job's time limit × cores: a backstop, not the timeout


class EventStream:
    """JSON-lines events to the parent. Per-batch events (thousands an epoch) are written
    in bursts: every `BURST` of them, before any other event, and at least every
    `FLUSH_EVERY_S` (a thread does that), so a hung or killed run loses at most that."""

    BURST = 64
    FLUSH_EVERY_S = 0.25

    def __init__(self, fd: int):
        self.fd = fd
        self.pid = os.getpid()
        self.start = time.time()
        self.lock = threading.Lock()
        self._batches: list[bytes] = []
        self._line = lambda payload: payload + b"\n"  # before the job: no key yet
        threading.Thread(target=self._flusher, name="fitprobe-events", daemon=True).start()

    def authenticate(self, key: bytes) -> None:
        """Frame every line from now on under the job's key, numbered in writing order.
        The key stays in this closure only."""
        numbers = itertools.count()

        def line(payload: bytes) -> bytes:
            return frame(key, next(numbers), payload)

        with self.lock:
            self._line = line

    def emit(self, kind: str, **fields) -> None:
        if os.getpid() != self.pid:  # a copy the user's code forked: it does not report
            return
        record = {"type": kind, "t": round(time.time() - self.start, 4), **fields}
        payload = json.dumps(record, default=str, allow_nan=False).encode()
        with self.lock:
            data = self._line(payload)  # numbered here, under the lock: in writing order
            if kind == "batch":
                self._batches.append(data)
                if len(self._batches) < self.BURST:
                    return
                data = b""
            self._write(b"".join(self._batches) + data)
            self._batches = []

    def _flusher(self) -> None:
        while True:
            time.sleep(self.FLUSH_EVERY_S)
            with self.lock:
                if self._batches and os.getpid() == self.pid:
                    self._write(b"".join(self._batches))
                    self._batches = []

    def _write(self, data: bytes) -> None:  # under the lock
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


def _limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def apply_limits(memory_mb: int | None, file_mb: int | None) -> None:
    """Before TensorFlow is imported: no core dumps, memory, file size, open files (none
    of it in local mode: the user's own machine)."""
    if os.environ.get(LOCAL_ENV):
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # A write past the file-size limit fails with OSError (EFBIG), an observation,
    # instead of killing the worker with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    if memory_mb:
        # RLIMIT_DATA, not RLIMIT_AS: TensorFlow reserves ~2.3 GB of address space.
        _limit(resource.RLIMIT_DATA, int(memory_mb) * 1024 * 1024)
    if file_mb:
        _limit(resource.RLIMIT_FSIZE, int(file_mb) * 1024 * 1024)
    _limit(resource.RLIMIT_NOFILE, OPEN_FILES)
    if os.environ.get(NPROC_ENV):  # not root, no pids cgroup: the parent counted for us
        _limit(resource.RLIMIT_NPROC, int(os.environ[NPROC_ENV]))


def limit_cpu(timeout_s: float) -> None:
    """After the import: CPU seconds for the job on top of those used so far, as a
    backstop behind the parent's wall-clock timeout (threads burn CPU in parallel)."""
    if os.environ.get(LOCAL_ENV):
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    budget = int(spent + timeout_s * (os.cpu_count() or 1) + CPU_MARGIN_S)
    _limit(resource.RLIMIT_CPU, budget)


def _read_job():
    """(the job, the control channel): the job is the first line on stdin; the pipe stays
    open after it for the parent's commands (`listen_for_commands`), on a private fd that
    no program the script runs inherits. The user's script gets an empty stdin, never the
    parent's pipe."""
    control = os.fdopen(os.dup(0), "rb")  # os.dup: not inheritable
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    line = control.readline()
    return (json.loads(line) if line.strip() else None), control


def listen_for_commands(control, events: EventStream, user_files) -> None:
    """Answer the parent's commands, one a line, on a daemon thread while the job runs:
    `where` (the parent is about to stop this worker, for its time limit or a cancel)
    emits `stopped-at`, the innermost frames of the user's code in every thread."""
    from diagnostics.worker.userframes import frames_now

    def serve():
        with control:
            for line in control:
                if line.strip() == WHERE_COMMAND.encode():
                    events.emit("stopped-at", frames=frames_now(user_files))

    threading.Thread(target=serve, name="fitprobe-control", daemon=True).start()


class KerasMissing(Exception):
    """The stack's Keras is not installed here."""


def import_keras(stack: str):
    """TensorFlow and the Keras of `stack`: Keras 3 (`keras`, TensorFlow 2.16 and newer), or
    Keras 2: `tf_keras` where TensorFlow ships Keras 3, else the `keras` 2 package that is
    TensorFlow's own `tf.keras` (TensorFlow 2.15 and older)."""
    import tensorflow as tf

    if stack == "keras3":
        import keras
    elif importlib.util.find_spec("tf_keras") is not None:
        import tf_keras as keras
    else:
        import keras  # TensorFlow <= 2.15: `tf.keras` is this package, Keras 2
    if stack == "keras2" and keras.__version__.startswith("3."):
        raise KerasMissing("Keras 2 (`tf_keras`) is not installed where fitprobe probes")
    return tf, keras


def device_name(tf, device: str, events) -> str | None:
    """What TensorFlow runs on ("cpu", "gpu (NAME)"), or None when the GPU asked for is
    not there (an input error the parent reports)."""
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        events.emit(
            "input-error", message="--device gpu was asked for, but TensorFlow sees no GPU here"
        )
        return None
    if gpus and device != "cpu":
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"gpu ({details.get('device_name', gpus[0].name)})"
    return "cpu"


def _hidden(fd: int) -> int:
    """The event pipe, moved to a descriptor of no particular number that no program the
    script starts inherits; the number it came on is closed."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64 + secrets.randbelow(512))
    os.close(fd)
    return moved


def main(argv: list[str]) -> int:
    stack, device, memory_mb, file_mb = argv[1], argv[2], int(argv[3]), int(argv[4])
    events = EventStream(_hidden(int(argv[5])))
    apply_limits(memory_mb, file_mb)
    started = time.perf_counter()
    try:
        tf, keras = import_keras(stack)
    except KerasMissing as exc:
        events.emit("input-error", message=str(exc))
        return 3
    import_s = round(time.perf_counter() - started, 3)
    where = device_name(tf, device, events)
    if where is None:
        return 3
    # No TensorFlow op runs before the job: a script may still configure devices and
    # threads (`tf.config.set_visible_devices`, `set_memory_growth`), which TensorFlow
    # refuses once its runtime has started.
    events.emit("worker-ready", stack=stack, import_s=import_s, pid=os.getpid())
    raw, control = _read_job()
    if raw is None:  # the pool closed: no job for this worker
        return 0
    _, options, placement = read_job(raw)
    events.authenticate(job_key(raw))
    raw = None  # the key is kept in the event stream's closure only
    limit_cpu(float(options.timeout))
    if options.memory_mb and int(options.memory_mb) < memory_mb:
        _limit(resource.RLIMIT_DATA, int(options.memory_mb) * 1024 * 1024)
    events.emit(
        "stack-start",
        stack=stack,
        keras_version=keras.__version__,
        tensorflow=tf.__version__,
        python=platform.python_version(),
        device=where,
        import_s=import_s,
        pid=os.getpid(),
    )
    return run_job(stack, keras, options, placement, events, control)


def run_job(stack: str, keras, options, placement, events, control=None) -> int:
    """Observe the user's code: install the interception, prepare its surroundings, run
    it, say how it ended."""
    from diagnostics.worker.keras_hooks import install
    from diagnostics.worker.recorder import Recorder, install_warning_capture
    from diagnostics.worker.surroundings import prepare
    from diagnostics.worker.userframes import UserFiles

    received = time.perf_counter()
    user_files = UserFiles({placement.path: placement.display_name})
    if control is not None:
        listen_for_commands(control, events, user_files)
    recorder = Recorder(events.emit, stack, keras, options, user_files)
    install_warning_capture(recorder)
    install(recorder, stack, keras)
    recorder.watch_generators()
    sys.argv = [placement.path, *options.script_args]
    sys.path.insert(0, os.path.dirname(placement.path))
    for folder in reversed(placement.import_dirs):  # a notebook's own folder
        sys.path.insert(1, folder)
    try:
        events.emit("surroundings", **prepare(options, placement, events.emit, user_files, keras))
    except (OSError, ValueError) as exc:  # a stand-in that cannot be made, say
        events.emit("input-error", message=str(exc))
        return 3
    started = time.perf_counter()
    ending = _run_user_code(options, placement, keras, recorder, user_files, events)
    if ending is None:
        return 3
    finished = time.perf_counter()
    if os.getpid() != events.pid:  # a copy forked by the user's code, back here: gone
        os._exit(0)
    from diagnostics.worker.surroundings import STUB_USES

    events.emit(
        "stack-end",
        fit_calls=recorder.calls,
        **ending,
        warning_totals=recorder.warning_totals(),
        stub_uses=dict(STUB_USES),
        script_s=round(finished - started, 4),  # the user's code, probe included
        job_s=round(finished - received, 4),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
    return 0


def _run_user_code(options, placement, keras, recorder, user_files, events) -> dict | None:
    """Run the script (or module mode's source); how it ended, as stack-end says it, or
    None for a source that cannot be probed (an input error, sent already)."""
    from diagnostics.worker.module_mode import SourceProblem, run_module
    from diagnostics.worker.recorder import FitCallCapReached
    from diagnostics.worker.userframes import describe_exception, user_traceback

    ending = {"script_exception": None, "exit_code": None, "fit_call_cap": None}
    try:
        if options.mode == "module":
            run_module(options, placement, keras, events.emit)
        else:
            runpy.run_path(placement.path, run_name="__main__")
    except SourceProblem as exc:
        events.emit("input-error", message=str(exc))
        return None
    except FitCallCapReached:
        ending["fit_call_cap"] = options.max_fit_calls
    except SystemExit as exc:
        code = exc.code
        ending["exit_code"] = code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException as exc:  # user code failed: an observation, not a crash
        described = describe_exception(exc, user_files)
        described["raised_by_fit"] = id(exc) in recorder.fit_exceptions
        described["traceback"] = user_traceback(exc, user_files)
        ending["script_exception"] = described
    return ending

