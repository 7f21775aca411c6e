"""The probe engine, parent side: run the user's code on each Keras stack and report.

`probe()` validates the input statically (`sources`), starts one worker per
stack (`isolation`, `worker`), in parallel where cores allow, turns their
event streams into runs (`observations`) and returns the report (`report`).
Events are handed to `on_event` on the caller's thread, as they arrive.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from . import report as report_module
from .attach import StandIn, attach_data, check_standins
from .diagnose import diagnose
from .isolation import Worker
from .notebook import locate
from .observations import StackAssembler, not_applicable
from .sandbox import bindable
from .sources import InputError, calls_fit, imports_keras_directly, list_sources, read_user_file

__all__ = ["probe", "probe_code", "check_options", "gpu_present", "STACKS"]

STACKS = {"3": ["keras3"], "2": ["keras2"], "both": ["keras3", "keras2"]}
DEVICES = ("cpu", "gpu", "auto")
DEFAULT_EPOCHS = 5
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_STEPS = 2000
DEFAULT_MAX_FIT_CALLS = 20
DEFAULT_MEMORY_MB = 6144
PIPE_GRACE_S = 3.0  # how long to read a dead worker's pipes before giving up on them


def probe(
    path,
    *,
    source: str | None = None,
    args: dict | None = None,
    keras: str = "both",
    epochs: int = DEFAULT_EPOCHS,
    timeout: float = DEFAULT_TIMEOUT,
    device: str = "cpu",
    steps_per_epoch: int | None = None,
    validation_source: str | None = None,
    validation_args: dict | None = None,
    validation_steps: int | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_val_steps: int = DEFAULT_MAX_STEPS,
    max_fit_calls: int = DEFAULT_MAX_FIT_CALLS,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    script_args: list[str] | None = None,
    workdir: str | None = None,
    data: str | None = None,
    data_name: str | None = None,
    standin_images: list[StandIn] | None = None,
    stub_missing: bool = False,
    name: str | None = None,
    on_event: Callable[[dict], None] | None = None,
    pool=None,
    _own_folder: bool = True,
) -> dict:
    """Probe a script, a notebook (`.ipynb`, or notebook cells as text) or, with `source`,
    one data source of a module; return the report.

    With `pool` (a `pool.WorkerPool`), workers started ahead of time run the job where one
    is free; otherwise each stack's worker starts now.

    The file runs where it is (its folder is on `sys.path`, `__file__` is its path), with
    `script_args` as its command-line arguments and a scratch directory as its working
    directory. `data` (a folder or a .zip/.tar.gz archive, shown as `data_name`; `workdir`
    is the older name for a folder) appears read-only in that directory, and each of
    `standin_images` is generated there. `stub_missing` stands in no-op modules for
    missing modules that never feed the data (trackers, plotting, notifications).
    """
    check_options(
        keras=keras,
        device=device,
        epochs=epochs,
        timeout=timeout,
        max_steps=max_steps,
        max_val_steps=max_val_steps,
        max_fit_calls=max_fit_calls,
        workdir=workdir,
        data=data,
        standin_images=standin_images,
    )
    standins = check_standins(standin_images)
    started = time.time()
    mode = "module" if source else "script"
    options = {
        "keras": keras,
        "epochs": epochs,
        "timeout": timeout,
        "device": device,
        "max_steps": max_steps,
        "max_val_steps": max_val_steps,
        "max_fit_calls": max_fit_calls,
        "memory_mb": memory_mb,
        "script_args": list(script_args or []),
        "data": data_name or (Path(data or workdir).name if (data or workdir) else None),
        "standin_images": [s.to_dict() for s in standins],
        "stub_missing": bool(stub_missing),
        # the file's folder is the user's (a script beside its helpers), not a scratch copy
        "own_folder": _own_folder,
        "source": source,
        "args": args or {},
        "steps_per_epoch": steps_per_epoch,
        "validation_source": validation_source,
        "validation_args": validation_args or {},
        "validation_steps": validation_steps,
    }
    display = name or Path(path).name
    input_info = {
        "mode": mode,
        "name": display,
        "sha256": None,
        "source": source,
        "args": args or {},
    }
    if standins:
        input_info["standins"] = [s.to_dict() for s in standins]
    user_file = attached = None
    try:
        user_file = read_user_file(path, display)
        input_info["sha256"] = user_file.sha256
        if user_file.notebook is not None:
            input_info["notebook"] = user_file.notebook.to_dict()
        _check_probeable(user_file, mode, source, validation_source)
        if data or workdir:
            attached = attach_data(data or workdir, data_name)
            input_info["data"] = attached.to_dict()
    except InputError as exc:
        input_info["sha256"] = input_info["sha256"] or exc.sha256
        report = report_module.input_error(input_info, options, str(exc), started)
        return diagnose(report, user_file.tree if user_file else None)
    try:
        return _probe_stacks(user_file, attached, input_info, options, started, on_event, pool)
    finally:
        if attached is not None:
            attached.remove()


def _probe_stacks(user_file, attached, input_info, options, started, on_event, pool) -> dict:
    keras = options["keras"]
    stacks = STACKS[keras]
    keras3_line = imports_keras_directly(user_file.tree)
    records: dict[str, dict] = {}
    runs: dict[str, list[dict]] = {}
    to_run = []
    for stack in stacks:
        if stack == "keras2" and keras3_line:
            reason = (
                f"not applicable: {locate(input_info, keras3_line)} imports `keras` directly, "
                "which is Keras 3; "
                "only `tf.keras` / `from tensorflow import keras` can run on Keras 2 (tf_keras)"
            )
            records[stack], runs[stack] = not_applicable(stack, reason), []
            _tell(on_event, {"type": "stack-skipped", "stack": stack, "reason": reason})
        else:
            to_run.append(stack)

    parallel = (os.cpu_count() or 1) >= 2 or pool is not None
    groups = [to_run] if parallel else [[s] for s in to_run]
    for group in groups:
        for stack, (record, stack_runs) in _run_stacks(
            group, user_file, options, on_event, pool, attached
        ).items():
            records[stack], runs[stack] = record, stack_runs

    ordered = [s for s in stacks if s in records]
    report = report_module.build(
        input_info=input_info,
        options=options,
        stacks=[records[s] for s in ordered],
        runs=[r for s in ordered for r in runs[s]],
        started=started,
    )
    return diagnose(report, user_file.tree)


def check_options(
    *,
    keras: str = "both",
    device: str = "cpu",
    epochs: int = DEFAULT_EPOCHS,
    timeout: float = DEFAULT_TIMEOUT,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_val_steps: int = DEFAULT_MAX_STEPS,
    max_fit_calls: int = DEFAULT_MAX_FIT_CALLS,
    workdir: str | None = None,
    data: str | None = None,
    standin_images=None,
    **_,
) -> None:
    """Raise ValueError, with one clear line, for options `probe` cannot run with."""
    if data and workdir:
        raise ValueError("give data or workdir (its older name), not both")
    check_standins(standin_images)
    if keras not in STACKS:
        raise ValueError(f"keras must be one of {sorted(STACKS)}, not {keras!r}")
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, not {device!r}")
    for label, value in (
        ("epochs", epochs),
        ("max_steps", max_steps),
        ("max_val_steps", max_val_steps),
        ("max_fit_calls", max_fit_calls),
    ):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive integer, not {value!r}")
    if not timeout or timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout!r}")
    if workdir is not None and not Path(workdir).is_dir():
        raise ValueError(f"workdir {workdir!r} is not a directory")


def gpu_present() -> bool:
    """Whether this machine shows a GPU driver, without importing TensorFlow (the app must
    not: see worker.py). TensorFlow itself has the last word: a probe asked for `gpu` on a
    machine where it sees none ends with a clear input error."""
    nvidia = Path("/proc/driver/nvidia/gpus")
    if nvidia.is_dir() and any(nvidia.iterdir()):
        return True
    return any(Path("/dev").glob("nvidia[0-9]*"))


def probe_code(code: str, *, name: str = "pasted_script.py", **kwargs) -> dict:
    """Probe source text (pasted into the app, say) as if it were a file called `name`."""
    folder = tempfile.mkdtemp(prefix="fitprobe-input-")
    try:
        path = Path(folder) / "script.py"
        path.write_text(code, encoding="utf-8")
        return probe(path, name=name, _own_folder=False, **kwargs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_probeable(user_file, mode, source, validation_source) -> None:
    if mode == "script":
        if not calls_fit(user_file.tree):
            raise InputError(
                f"{user_file.name} never calls fit() or fit_generator(): nothing to probe "
                "(to probe a data source in a module, choose it with --source)"
            )
        return
    found = {s.name for s in list_sources(user_file.tree)}
    if not found:
        raise InputError(
            f"{user_file.name} defines no data source: no generator function, no "
            "Sequence/PyDataset subclass and no function building a tf.data.Dataset"
        )
    for wanted in (source, validation_source):
        if wanted and wanted not in found:
            raise InputError(
                f"unknown source {wanted!r} in {user_file.name}; "
                f"available: {', '.join(sorted(found))}"
            )


def _tell(on_event, event: dict) -> None:
    if on_event is not None:
        try:
            on_event(event)
        except Exception:  # a display callback must not break the probe
            pass


def _job(stack: str, placed: dict, user_file, options: dict) -> dict:
    """What the worker runs: `placed` says where the worker sees the user's file, the
    folders to import from and the attached data (see `_start`)."""
    return {
        "stack": stack,
        "mode": "module" if options["source"] else "script",
        **placed,
        "display_name": user_file.name,
        "notebook": user_file.notebook is not None,
        "standin_images": options["standin_images"],
        "stub_missing": options["stub_missing"],
        "device": options["device"],
        "memory_mb": options["memory_mb"],
        "timeout": options["timeout"],
        "caps": {
            "epochs": options["epochs"],
            "max_steps": options["max_steps"],
            "max_val_steps": options["max_val_steps"],
            "max_fit_calls": options["max_fit_calls"],
        },
        "script_args": options["script_args"],
        "source": options["source"],
        "args": options["args"],
        "steps_per_epoch": options["steps_per_epoch"],
        "validation_source": options["validation_source"],
        "validation_args": options["validation_args"],
        "validation_steps": options["validation_steps"],
    }


def _start(stack: str, user_file, options: dict, pool, attached) -> tuple[Worker, dict]:
    """A worker for `stack`, and where it sees the user's file (`path`), the folders it
    imports from beside the script's own (`import_dirs`) and the data (`data_dir`).

    A script that the worker gets a copy of (a warm worker's inbox; a file right in /tmp)
    has the data beside it in that inbox, hard-linked where it can be: a path built from
    `__file__` finds it there, as on the user's machine. Otherwise the script's folder
    and the data are seen where they are, read-only. A notebook (which has no
    `__file__`) runs as the Python it was converted to, from the inbox."""
    own_data = attached is None or attached.owned  # unpacked here: cheap to link
    worker = pool.take(stack, options["device"]) if pool and own_data else None
    path = user_file.path.resolve()
    folder = str(path.parent)
    seen_in_place = worker is None and options["own_folder"] and bindable(folder)
    notebook = user_file.notebook is not None
    data_beside = attached is not None and not notebook and not seen_in_place
    if worker is None:
        visible = [folder] if seen_in_place else []
        if attached is not None and not data_beside:
            visible.append(attached.path)
        worker = Worker(stack, options["device"], memory_mb=options["memory_mb"], visible=visible)
    placed = {"import_dirs": [folder] if notebook and seen_in_place else []}
    in_place = seen_in_place and not notebook
    placed["path"] = str(path) if in_place else _place_script(worker, user_file)
    placed["data_dir"] = (
        worker.place_data(attached.path) if data_beside else attached.path if attached else None
    )
    return worker, placed


def _place_script(worker: Worker, user_file) -> str:
    if user_file.notebook is not None:
        return worker.place_text(user_file.text, user_file.script_name)
    return worker.place(user_file.path, user_file.path.name)


def _run_stacks(stacks, user_file, options, on_event, pool=None, attached=None) -> dict:
    """Run workers for `stacks` at once; return {stack: (record, runs)}."""
    lines: queue.Queue = queue.Queue()
    cells = {"notebook": user_file.notebook.to_dict()} if user_file.notebook else {}
    assemblers = {s: StackAssembler(s, lambda line: locate(cells, line)) for s in stacks}
    workers: dict[str, Worker] = {}
    open_streams = set(stacks)

    def dispatch(stack: str, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        event["stack"] = stack
        assemblers[stack].feed(event)
        _tell(on_event, event)

    try:
        for stack in stacks:
            worker, placed = _start(stack, user_file, options, pool, attached)
            workers[stack] = worker
            worker.listen(lambda s, line: lines.put((s, line)))
            worker.send(_job(stack, placed, user_file, options))
        deadline = time.monotonic() + float(options["timeout"])
        exited_at: dict[str, float] = {}
        while open_streams:
            now = time.monotonic()
            if now >= deadline:
                for stack in open_streams:
                    workers[stack].kill("timeout")
                deadline = float("inf")  # killed: what is left in the pipes still counts
            for stack in list(open_streams):
                # A worker that exited may have left children holding its pipes open:
                # end its process group, then stop waiting for escaped (setsid) ones.
                if not workers[stack].alive:
                    workers[stack].kill_leftovers()
                    exited_at.setdefault(stack, now)
                    if now - exited_at[stack] > PIPE_GRACE_S:
                        open_streams.discard(stack)
            try:
                stack, line = lines.get(timeout=0.25)
            except queue.Empty:
                continue
            if line is None:
                open_streams.discard(stack)
            else:
                dispatch(stack, line)
        while not lines.empty():  # events read before a stream was given up on
            stack, line = lines.get_nowait()
            if line is not None:
                dispatch(stack, line)
        results = {}
        for stack, worker in workers.items():
            code = worker.finish()
            record = assemblers[stack].finish(code, worker.killed_for, worker.stderr.text()[-2000:])
            record["stdout"] = worker.stdout.to_dict()
            record["stderr"] = worker.stderr.to_dict()
            record["isolation"] = worker.isolation.label
            record["warm"] = worker.warm
            results[stack] = (record, assemblers[stack].runs)
        return results
    finally:
        for worker in workers.values():
            worker.close()
