"""Events -> observations: assemble one stack's event stream into runs.

Pure bookkeeping on the parent side: the worker's JSON-lines events (see
`schema.EVENTS`, and `worker/` for who emits what) become one record per
stack and one run per fit() call, in the shapes the report contract names.
When a worker dies or is killed mid-run, what was already streamed is kept:
the run ends with `stopped_by: "timeout"`, `"cancelled"` or `"exception"` and the
epoch in progress is kept as a partial epoch. A worker stopped for the time limit or a
cancel first says where the user's code was (`stopped-at`): the record's `stopped_at`.
"""

from __future__ import annotations

import math
from collections import Counter

from diagnostics.report.batches import append, new_table
from diagnostics.report.labels import STACK_LABELS
from diagnostics.schema import integral


def _mark_capped(epochs: list[dict], stopped_by: str | None, cap: str | None) -> None:
    """The epoch that one of fitprobe's own limits ended says so, and which limit: a cap
    on batches, on validation batches, or the time limit (an epoch that never finished)."""
    if not epochs:
        return
    last = epochs[-1]
    if stopped_by == "timeout" and last.get("partial"):
        last["capped"], last["cap"] = True, "time-limit"
    elif stopped_by == "probe-cap" and cap and (last.get("partial") or last.get("capped")):
        last["capped"], last["cap"] = True, cap
    for epoch in epochs:
        if epoch.get("capped") and not epoch.get("cap"):
            epoch["cap"] = cap


class StackAssembler:
    def __init__(self, stack: str, where=None):
        self.stack = stack
        self.where = where or (lambda line: f"line {line}")  # "cell 3, line 2" in a notebook
        self.info: dict = {}
        self.runs: list[dict] = []
        self.warnings: list[dict] = []
        self.notes: list[str] = []
        self.input_error: str | None = None
        self.end: dict | None = None
        self.standin: dict | None = None
        # What the script found around it, and missed (see surroundings.py).
        self.surroundings: dict = {}
        self.missing_modules: list[dict] = []
        self.stubbed: list[dict] = []
        self.skipped: list[dict] = []
        self.missing_paths: list[dict] = []
        self.standin_files: list[dict] = []
        self.tap_unavailable: dict | None = None
        self.stopped_frames: list[dict] | None = None  # where the code was when stopped
        self._run: dict | None = None
        self._epoch_batches = 0  # batches recorded in the epoch in progress
        self._epoch: int | None = None

    # --- event dispatch -----------------------------------------------------------
    def feed(self, event: dict) -> None:
        kind = event.get("type")
        if not isinstance(kind, str):
            return
        handler = getattr(self, "_on_" + kind.replace("-", "_"), None)
        if handler is not None:
            handler(event)

    def _on_stack_start(self, e):
        self.info = {
            k: e.get(k) for k in ("keras_version", "tensorflow", "python", "device", "import_s")
        }

    @property
    def stopped(self) -> bool:
        """Whether the worker said where the user's code was (asked before a stop)."""
        return self.stopped_frames is not None

    def _on_stopped_at(self, e):
        self.stopped_frames = [dict(f) for f in e.get("frames") or [] if isinstance(f, dict)]

    def _on_input_error(self, e):
        self.input_error = e.get("message")

    def _on_probe_note(self, e):
        self.notes.append(e.get("message", ""))

    def _on_surroundings(self, e):
        self.surroundings = _fields(e)

    def _on_module_missing(self, e):
        self.missing_modules.append(_fields(e))

    def _on_module_stubbed(self, e):
        self.stubbed.append(_fields(e))

    def _on_skipped(self, e):
        self.skipped.append(_fields(e))

    def _on_path_missing(self, e):
        self.missing_paths.append(_fields(e))

    def _on_tap_unavailable(self, e):
        self.tap_unavailable = _fields(e)

    def _on_standin_files(self, e):
        self.standin_files.append(_fields(e))

    def _on_standin(self, e):
        self.standin = {"layers": e.get("layers"), "loss": e.get("loss")}

    def _on_warning(self, e):
        record = {
            k: e.get(k) for k in ("message", "category", "origin", "file", "line", "epoch", "phase")
        }
        if self._run is not None and e.get("call") == self._run["call"]:
            self._run["_warnings"].append(record)
        else:
            self.warnings.append(record)

    def _on_fit_start(self, e):
        fit = dict(e.get("fit") or {})
        self._run = {
            "stack": self.stack,
            "keras_version": self.info.get("keras_version"),
            "call": e["call"],
            "api": e.get("api", "fit"),
            "fit": {
                "epochs": fit.get("epochs"),
                "steps_per_epoch": fit.get("steps_per_epoch"),
                "validation_steps": fit.get("validation_steps"),
                "batch_size": fit.get("batch_size"),
                **{
                    k: v
                    for k, v in fit.items()
                    if k not in ("epochs", "steps_per_epoch", "validation_steps", "batch_size")
                },
            },
            "arguments_bound": e.get("arguments_bound", True),
            "call_site": e.get("call_site"),
            "explicit_arguments": e.get("explicit") or [],
            "model_inputs": e.get("model_inputs"),  # what the model takes as x
            "expected_batches_per_epoch": None,
            "expected_val_batches": None,
            "epochs_completed": 0,
            "stopped_by": None,
            "stopped_by_callback": None,
            "cap": None,
            "epochs": [],
            "batches": new_table(),
            "unfinished_batches": [],
            "from_generator": [],  # what from_generator's functions handed tf.data
            "signatures": [],
            "source": e.get("source"),
            "validation_source": e.get("validation_source"),
            "data": {},
            "warnings": [],
            "warning_records": [],
            "exception": None,
            "_warnings": [],
        }
        self.runs.append(self._run)

    def _current(self, e) -> dict | None:
        """The open run, if this event belongs to it (a stale observer left in a
        user's CallbackList by an earlier call must not count)."""
        run = self._run
        return run if run is not None and e.get("call") == run["call"] else None

    def _on_epoch_begin(self, e):
        if self._current(e) is None:
            return
        self._epoch = e.get("epoch")
        self._epoch_batches = 0

    def _on_batch(self, e):
        if self._current(e) is None:
            return
        append(self._run["batches"], e)
        self._epoch_batches += 1

    def _on_epoch_end(self, e):
        if self._current(e) is None:
            return
        self._run["epochs"].append(self._epoch_record(e))
        self._run["epochs_completed"] = len(
            [x for x in self._run["epochs"] if not x.get("partial")]
        )
        self._epoch = None
        self._epoch_batches = 0

    def _epoch_record(self, e: dict, partial: bool = False) -> dict:
        """The epoch that ends now: its events, and its batches (the last ones recorded)."""
        columns = self._run["batches"]["columns"]
        first = len(columns["epoch"]) - self._epoch_batches

        def count(field: str) -> int:
            return sum(1 for v in columns[field][first:] if v)

        return {
            "epoch": e.get("epoch"),
            "expected_batches": None,  # filled in at fit-end, when the pass length is known
            "observed_batches": e.get("observed_batches", self._epoch_batches),
            "steps": e.get("steps"),
            "val_batches": e.get("val_batches"),
            "loss": e.get("loss"),
            "val_loss": e.get("val_loss"),
            "samples_seen": e.get("samples_seen"),
            "new_samples": e.get("new_samples"),
            "replayed_batches": count("replayed"),
            "repeated_batches": count("repeated"),
            "nonfinite_batches": count("nonfinite"),
            "rows_trained": sum(v or 0 for v in columns["rows"][first:]),
            "seen_ranges": e.get("seen_ranges"),
            "replayed_ranges": e.get("replayed_ranges"),
            "val_rows": e.get("val_rows"),
            "logs": e.get("logs"),
            "wall_s": e.get("wall_s"),
            "data_wait_s": e.get("data_wait_s"),
            "step_s": e.get("step_s"),
            "capped": bool(e.get("capped")),
            "cap": None,  # which of fitprobe's limits ended the epoch, when one did
            "partial": partial,
        }

    def _on_fit_end(self, e):
        run = self._run
        if run is None or e.get("call", run["call"]) != run["call"]:
            return
        if self._epoch is not None:  # the epoch in progress never ended
            partial = e.get("partial_epoch") or {"epoch": self._epoch}
            partial.setdefault("observed_batches", self._epoch_batches)
            run["epochs"].append(self._epoch_record(partial, partial=True))
        run["epochs_completed"] = e.get("epochs_completed", run["epochs_completed"])
        _mark_capped(run["epochs"], e.get("stopped_by"), e.get("cap"))
        run["stopped_by"] = e.get("stopped_by")
        run["stopped_by_callback"] = e.get("stopped_by_callback")
        run["stopped_in_epoch"] = e.get("stopped_in_epoch")
        if e.get("validation_source") is not None:
            run["validation_source"] = e["validation_source"]
        run["cap"] = e.get("cap")
        run["keras_counts"] = e.get("keras_counts")
        run["exception"] = e.get("exception")
        run["signatures"] = e.get("signatures") or []
        run["unfinished_batches"] = e.get("unfinished_batches") or []
        run["from_generator"] = e.get("from_generator") or []
        if e.get("source") is not None:
            run["source"] = e["source"]
        run["data"] = self._data_summary(run, e)
        self._close_run()

    def _data_summary(self, run: dict, e: dict) -> dict:
        source = run.get("source") or {}
        pass_length, how = source.get("pass_length"), None
        kind = source.get("kind")
        if pass_length is not None:
            how = {
                "sequence": "len() of the Sequence",
                "tf-dataset": "cardinality() of the dataset",
                "arrays": "rows / batch_size",
                "generator": "batches the generator produced before it ran dry",
            }.get(kind, kind)
        elif e.get("cycle_length"):
            pass_length = e["cycle_length"]
            how = "batches until the first batch came round again"
        coverage = e.get("coverage") or {}
        return {
            "source_kind": kind,
            "pass_length": pass_length,
            "pass_length_measured_by": how,
            "infinite": bool(source.get("infinite"))
            or (
                kind == "generator"
                and not source.get("exhausted")
                and e.get("cycle_length") is not None
            ),
            "produced_batches": source.get("produced_batches"),
            "pulled_batches": e.get("pulled_batches"),
            "source_exhausted": source.get("exhausted"),
            "val_pulled_batches": e.get("val_pulled_batches"),
            # rows trained on and validated on alike: {train_rows, val_rows, shared_rows}
            "validation_overlap": e.get("validation_overlap"),
            **coverage,
        }

    def _close_run(self):
        run = self._run
        fit = run["fit"]
        expected = integral(fit.get("steps_per_epoch"))
        # Keras 3 reads steps_per_epoch=0 as "no limit" (Keras 2 raises): one pass, or none.
        unlimited = self.stack == "keras3" and expected == 0
        if fit.get("steps_per_epoch") is None or unlimited:
            data = run["data"]
            expected = data.get("pass_length")
            endless = data.get("source_kind") == "generator" and not data.get("source_exhausted")
            if data.get("infinite") or endless:
                expected = None  # an endless source has no natural epoch
        spe = fit.get("steps_per_execution") or 1
        if expected is not None and spe > 1:
            # Callbacks run once per execution of `steps_per_execution` batches.
            run["expected_steps_per_epoch"] = expected
            expected = math.ceil(expected / spe)
        run["expected_batches_per_epoch"] = expected
        val_source = run.get("validation_source") or {}
        run["expected_val_batches"] = (
            integral(fit.get("validation_steps"))
            if fit.get("validation_steps") is not None
            else val_source.get("pass_length")
        )
        for epoch in run["epochs"]:
            epoch["expected_batches"] = expected
        records = run.pop("_warnings")
        run["warning_records"] = _aggregate(records)
        run["warnings"] = [_warning_line(w) for w in run["warning_records"]]
        self._run = None
        self._epoch = None
        self._epoch_batches = 0

    def _on_stack_end(self, e):
        self.end = e
        for total in e.get("warning_totals") or []:
            self.warnings.append({**total, "total": total["count"]})

    # --- the worker is gone ---------------------------------------------------------
    def finish(self, exit_code: int, killed_for: str | None, stderr_tail: str) -> dict:
        """The stack's record, once its worker is gone (`exit_code` as `subprocess` has
        it; `killed_for`: why the engine ended it, if it did)."""
        if killed_for == "cancelled" and self.end is not None:
            killed_for = None  # the script had ended when the cancel came: nothing was cut
        if self._run is not None:  # died or was killed inside fit()
            self._close_open_run(exit_code, killed_for, stderr_tail)
        status, reason = self._status(exit_code, killed_for, stderr_tail)
        end = self.end or {}
        return {
            "stack": self.stack,
            "status": status,
            "reason": reason,
            **self.info,
            # where the user's code was when the time limit or a cancel stopped it
            "stopped_at": stopped_place(self.stopped_frames) if killed_for else None,
            "stopped_threads": self.stopped_frames if killed_for else None,
            "fit_calls": len(self.runs),
            "script_exception": end.get("script_exception"),
            "exit_code": end.get("exit_code"),
            "fit_call_cap": end.get("fit_call_cap"),
            # seconds in the user's script (probe included), and from job to its end
            "script_s": end.get("script_s"),
            "job_s": end.get("job_s"),
            "peak_rss_mb": end.get("peak_rss_mb"),  # the worker's memory
            "standin_model": self.standin,
            "surroundings": self.surroundings,
            "missing_modules": self.missing_modules,
            "stubbed_modules": self.stubbed,
            "stub_uses": end.get("stub_uses") or {},
            "skipped": self.skipped,
            "missing_paths": self.missing_paths,
            "standin_files": self.standin_files,
            "tap_unavailable": self.tap_unavailable,
            "warning_records": _aggregate(self.warnings),
            "notes": self.notes,
        }

    def _close_open_run(self, exit_code: int, killed_for: str | None, stderr_tail: str) -> None:
        from diagnostics.engine.isolation import describe_exit

        if killed_for in ("timeout", "cancelled"):
            self._on_fit_end({"stopped_by": killed_for, "epochs_completed": None})
        else:
            last = stderr_tail.strip().splitlines()[-1:] or [""]
            message = f"the probe process {describe_exit(exit_code)} during fit(): {last[0]}"
            self._on_fit_end(
                {
                    "stopped_by": "exception",
                    "epochs_completed": None,
                    "exception": {"type": "WorkerDied", "message": message, "file": None,
                                  "line": None, "code": None},
                }
            )  # fmt: skip
        run = self.runs[-1]
        run["epochs_completed"] = len([x for x in run["epochs"] if not x.get("partial")])

    def _status(self, exit_code: int, killed_for: str | None, stderr_tail: str):
        """(status, reason): how the stack ended, in the report's words."""
        from diagnostics.engine.isolation import describe_exit

        label = STACK_LABELS.get(self.stack, self.stack)
        if self.input_error:
            return "input-error", self.input_error
        if killed_for == "timeout":
            stopped = "the probe did not finish within the time limit and was stopped"
            return "timeout", f"{label}: {stopped}"
        if killed_for == "cancelled":
            return "cancelled", f"{label}: the probe was cancelled while it ran"
        if killed_for == "memory-cap":
            return "crashed", (
                f"{label}: the script's processes together went over the probe's memory "
                "limit, and the kernel ended the probe (a memory bomb, or forked copies "
                "each holding data)"
            )
        if killed_for == "event-flood":
            return "crashed", (
                f"{label}: the script flooded fitprobe's event pipe, so fitprobe stopped it "
                "(a script writing to fitprobe's own channel)"
            )
        if killed_for:
            return "crashed", f"{label}: {killed_for}"
        if self.end is None and self.info and exit_code >= 0:
            # the script ended the process itself: os._exit(), say
            return "crashed", (
                f"{label}: the script ended its process with exit status {exit_code} "
                "before it finished (os._exit() or a native library), so fit() "
                + ("did not get to finish" if self.runs else "was never called")
            )
        if self.end is None:
            last = stderr_tail.strip().splitlines()[-1:] or ["no output"]
            during = " while the script ran" if self.info else ""
            return "crashed", (
                f"{label}: the probe process {describe_exit(exit_code)}{during} "
                f"before finishing ({last[0]})"
            )
        if not self.runs:
            return "no-fit", f"{label}: {self._no_fit_reason()}"
        return "ok", None

    def _no_fit_reason(self) -> str:
        exc = self.end.get("script_exception")
        if exc:
            where = f" at {self.where(exc['line'])}" if exc.get("line") else ""
            first = (exc.get("message") or "").strip().splitlines()[:1]
            return (
                f"the script raised {exc['type']}{where} before calling fit(): "
                f"{first[0][:200] if first else ''}"
            )
        if self.end.get("exit_code") is not None:
            return f"the script called sys.exit({self.end['exit_code']}) before calling fit()"
        reason = "the script finished without calling fit()"
        if self.stubbed:
            names = ", ".join(f"`{m['module']}`" for m in self.stubbed)
            reason += (
                f" ({names} stubbed: where fit() runs inside one of its calls, a sweep agent "
                "or an experiment's main, say, the stub never makes that call)"
            )
        return reason


def stopped_place(frames: list[dict] | None) -> dict | None:
    """The one place to name for where a stopped script was: the main thread's innermost
    user frame, unless it was waiting in a call (Keras's fit(), say) while another thread
    ran the user's code (a generator on a tf.data or Keras 2 enqueuer thread): then that
    thread's, with the main thread's as `main`."""
    if not frames:
        return None
    main = next((f for f in frames if f.get("thread") == "main"), None)
    other = next((f for f in frames if f.get("thread") != "main"), None)
    if other is not None and (main is None or main.get("callee")):
        place = {k: v for k, v in other.items() if k != "callee"}
        if main is not None:
            place["main"] = {k: main.get(k) for k in ("function", "line", "code", "file")}
        return place
    return {k: v for k, v in main.items() if k != "callee"}


def not_started(stack: str) -> dict:
    """The record of a stack whose worker was never started: a cancel came first."""
    label = STACK_LABELS.get(stack, stack)
    record = not_applicable(stack, f"{label}: the probe was cancelled before it started")
    record.update(status="cancelled", stopped_at=None)
    return record


def _fields(e: dict) -> dict:
    return {k: v for k, v in e.items() if k not in ("type", "t", "stack")}


def _aggregate(records: list[dict]) -> list[dict]:
    counts: Counter = Counter()
    first: dict = {}
    epochs: dict = {}
    totals: dict = {}
    for r in records:
        key = (r.get("message"), r.get("category"))
        if "total" in r:  # sent once at the end, for warnings repeated past the event limit
            totals[key] = r["total"]
            first.setdefault(key, r)
            continue
        counts[key] += 1
        first.setdefault(key, r)
        if r.get("epoch") is not None:
            epochs.setdefault(key, []).append(r["epoch"])
    out = []
    for key in first:
        r = dict(first[key])
        r.pop("epoch", None)
        r.pop("total", None)
        r["count"] = max(counts.get(key, 0), totals.get(key, 0))
        r["epochs"] = sorted(set(epochs.get(key, [])))
        out.append(r)
    return out


def _warning_line(w: dict) -> str:
    text = " ".join(str(w.get("message", "")).split())
    if w.get("count", 1) > 1:
        text += f" (×{w['count']})"
    return text


def not_applicable(stack: str, reason: str) -> dict:
    """The stack record for a stack the script cannot run on (it has no runs)."""
    return {
        "stack": stack,
        "status": "not-applicable",
        "reason": reason,
        "fit_calls": 0,
        "keras_version": None,
        "script_exception": None,
        "warning_records": [],
        "notes": [],
        "missing_modules": [],
        "stubbed_modules": [],
        "skipped": [],
        "missing_paths": [],
        "standin_files": [],
    }
