"""The probe engine, parent side: run the user's code on each Keras stack and report.

`probe()` reads the input once (`inputs`: the file, a notebook's cells, the static
facts), attaches its data (`attach`), runs one worker per stack (`stacks`: in
parallel where cores allow), builds the report (`report`) and diagnoses it
(`diagnosis`). Events are handed to `on_event` on the caller's thread, as they arrive.
A `cancel` event, once set, stops the workers at once: the report's status is
"cancelled".
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from diagnostics import report as report_module
from diagnostics.diagnosis.diagnose import diagnose
from diagnostics.diagnosis.facts import read_code
from diagnostics.engine.assemble import not_applicable
from diagnostics.engine.attach import attach_data
from diagnostics.engine.channel import TRUST
from diagnostics.engine.inputs import (
    InputError,
    calls_fit,
    imports_keras_directly,
    list_sources,
    read_user_file,
)
from diagnostics.engine.leftovers import temp_folder
from diagnostics.engine.local import local_stacks
from diagnostics.engine.sandbox import detect
from diagnostics.engine.stacks import Prepared, StackRunner, tell
from diagnostics.report.labels import locate
from diagnostics.schema import ProbeOptions

__all__ = ["gpu_present", "probe", "probe_code"]


def probe(
    path,
    options: ProbeOptions | None = None,
    *,
    name: str | None = None,
    on_event: Callable[[dict], None] | None = None,
    pool=None,
    own_folder: bool = True,
    cancel: threading.Event | None = None,
    **option_kwargs,
) -> dict:
    """Probe a script, a notebook (`.ipynb`, or notebook cells as text) or, with the
    `source` option, one data source of a module; return the report.

    `options` (or the same as keyword arguments: `probe(path, keras="3", epochs=2)`)
    say what to run; an unknown option is a ValueError. With `pool` (a
    `pool.WorkerPool`), workers started ahead of time run the job where one is free;
    otherwise each stack's worker starts now. The file runs where it is (its folder on
    `sys.path`, `__file__` its path) unless `own_folder` is False (a scratch copy, as
    for pasted code), with a scratch working directory that shows the attached data.
    Setting `cancel` ends the probe early, as a report of status "cancelled" that says
    where the user's code was.
    """
    if options is not None and option_kwargs:
        raise ValueError("give ProbeOptions or option keywords, not both")
    options = options or ProbeOptions.of(**option_kwargs)
    started = time.time()
    display = name or Path(path).name
    input_info = _input_info(options, display)
    prepared = facts = None
    try:
        user_file = read_user_file(path, display)
        input_info["sha256"] = user_file.sha256
        if user_file.notebook is not None:
            input_info["notebook"] = user_file.notebook.to_dict()
        facts = read_code(user_file, input_info)
        _check_probeable(user_file, options)
        attached = _attach(options, input_info)
        prepared = Prepared(user_file, attached, own_folder)
    except InputError as exc:
        input_info["sha256"] = input_info["sha256"] or exc.sha256
        report = report_module.input_error(
            input_info, _shown(options), str(exc), started, _isolation(options)
        )
        return diagnose(report, facts)
    try:
        report = _run(prepared, options, input_info, started, on_event, pool, cancel)
        return diagnose(report, facts)
    finally:
        if prepared.attached is not None:
            prepared.attached.remove()


def probe_code(code: str, *, name: str = "pasted_script.py", **kwargs) -> dict:
    """Probe source text (pasted into the app, say) as if it were a file called `name`."""
    folder = temp_folder("input")
    try:
        path = Path(folder) / "script.py"
        path.write_text(code, encoding="utf-8")
        return probe(path, name=name, own_folder=False, **kwargs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def gpu_present() -> bool:
    """Whether this machine shows a GPU driver, without importing TensorFlow (the app must
    not: see worker/main.py). TensorFlow itself has the last word: a probe asked for `gpu`
    on a machine where it sees none ends with a clear input error."""
    nvidia = Path("/proc/driver/nvidia/gpus")
    if nvidia.is_dir() and any(nvidia.iterdir()):
        return True
    return any(Path("/dev").glob("nvidia[0-9]*"))


# --- the input --------------------------------------------------------------------------
def _input_info(options: ProbeOptions, display: str) -> dict:
    info = {
        "mode": options.mode,
        "name": display,
        "sha256": None,
        "source": options.source,
        "args": dict(options.args),
    }
    if options.standin_images:
        info["standins"] = [s.to_dict() for s in options.standin_images]
    return info


def _shown(options: ProbeOptions) -> dict:
    """The options as the report shows them: the data by its name, not this machine's path."""
    shown = options.to_dict()
    if options.data:
        shown["data"] = options.data_name or Path(options.data).resolve().name
    shown.pop("data_name", None)
    return shown


def _isolation(options: ProbeOptions) -> dict:
    if options.local:
        from diagnostics.engine.local import LOCAL

        return LOCAL.to_dict()
    return detect().to_dict()


def _attach(options: ProbeOptions, input_info: dict):
    if options.local and (options.data or options.standin_images):
        raise InputError(
            "local mode runs where your data is: run it from the folder the script reads "
            "from, without --data or --standin-images"
        )
    if not options.data:
        return None
    attached = attach_data(options.data, options.data_name)
    input_info["data"] = attached.to_dict()
    return attached


def _check_probeable(user_file, options: ProbeOptions) -> None:
    if options.mode == "script":
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
    for wanted in (options.source, options.validation_source):
        if wanted and wanted not in found:
            raise InputError(
                f"unknown source {wanted!r} in {user_file.name}; "
                f"available: {', '.join(sorted(found))}"
            )


# --- the stacks -------------------------------------------------------------------------
def _run(prepared: Prepared, options, input_info, started, on_event, pool, cancel) -> dict:
    records, runs = _skipped(prepared.user_file, options, input_info, on_event)
    to_run = [s for s in options.stacks if s not in records]
    parallel = (os.cpu_count() or 1) >= 2 or pool is not None
    for group in [to_run] if parallel else [[s] for s in to_run]:
        runner = StackRunner(prepared, options, on_event, pool, cancel)
        for stack, (record, stack_runs) in runner.run(group).items():
            records[stack], runs[stack] = record, stack_runs
    ordered = [s for s in options.stacks if s in records]
    report = report_module.build(
        input_info=input_info,
        options=_shown(options),
        stacks=[records[s] for s in ordered],
        runs=[r for s in ordered for r in runs[s]],
        started=started,
        isolation=_isolation(options),
    )
    report["trust"] = TRUST  # how far what the workers said can be taken at face value
    return report


def _skipped(user_file, options, input_info, on_event) -> tuple[dict, dict]:
    """The stacks this script cannot run on, each with its reason (and no runs)."""
    reasons = {}
    keras3_line = imports_keras_directly(user_file.tree)
    if keras3_line and "keras2" in options.stacks:
        reasons["keras2"] = (
            f"not applicable: {locate(input_info, keras3_line)} imports `keras` directly, "
            "which is Keras 3; only `tf.keras` / `from tensorflow import keras` can run on "
            "Keras 2 (tf_keras)"
        )
    for stack, why in local_stacks().items():  # what this environment can run at all
        if why and stack in options.stacks:
            reasons.setdefault(stack, f"not applicable: {why}")
    records, runs = {}, {}
    for stack, reason in reasons.items():
        records[stack], runs[stack] = not_applicable(stack, reason), []
        tell(on_event, {"type": "stack-skipped", "stack": stack, "reason": reason})
    return records, runs
