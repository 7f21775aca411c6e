"""The report as a value: the single source for the UI, the CLI, the exports and the
history.

`build()` assembles the JSON of schema "fitprobe.report/1" (see design.md for the
required keys) from the stack records and runs; `exit_code`, `epoch_table` and the notes
read it. `labels` has the words every rendering uses; `diagnostics.render` turns a
report into text, Markdown, HTML and charts without re-running anything.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import uuid

from diagnostics.report.labels import (
    STACK_LABELS,
    cap_words,
    locate,
    place_words,
    plural,
    stopped_words,
)

SCHEMA = "fitprobe.report/1"
# A report's status: "ok", or why the probe could not run to its end, the first of these
# any stack had ("cancelled" by the user wins even over a stack that ran "ok").
STATUSES = ("ok", "cancelled", "timeout", "crashed", "input-error")
STATUS_PRIORITY = ("timeout", "crashed", "input-error")
MAX_LABEL_CHARS = 200
MAX_NOTE_CHARS = 4000

__all__ = [
    "SCHEMA",
    "STATUSES",
    "build",
    "epoch_notes",
    "epoch_table",
    "exit_code",
    "input_error",
    "input_notes",
    "labelled",
    "run_notes",
    "stopped_notes",
    "to_json",
]


def _now_iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def _environment(stacks: list[dict], device: str, isolation: dict | None) -> dict:
    first = next((s for s in stacks if s.get("tensorflow")), {})
    isolation = isolation or {}
    return {
        "python": first.get("python") or platform.python_version(),
        "tensorflow": first.get("tensorflow"),
        "device": first.get("device") or device,
        "requested_device": device,
        "keras_versions": {s["stack"]: s.get("keras_version") for s in stacks},
        "platform": platform.platform(terse=True),
        # What contained the workers: every stack ran under the same, detected once.
        "isolation": next(
            (s["isolation"] for s in stacks if s.get("isolation")), isolation.get("label")
        ),
        "sandbox": isolation,
        # local mode: probed on the user's own machine (a customer's, say), not a server
        "local": isolation.get("level") == "local",
    }


def _overall_status(stacks: list[dict]) -> tuple[str, str | None]:
    if any(s["status"] == "cancelled" for s in stacks):
        return "cancelled", None  # the report's words say where each stack was
    if any(s["status"] == "ok" for s in stacks):
        return "ok", None
    for status in STATUS_PRIORITY:
        hit = next((s for s in stacks if s["status"] == status), None)
        if hit:
            return status, hit.get("reason")
    reasons = [s.get("reason") for s in stacks if s.get("reason")]
    return "input-error", (reasons[0] if reasons else "nothing could be probed")


def build(
    *,
    input_info: dict,
    options: dict,
    stacks: list[dict],
    runs: list[dict],
    started: float,
    isolation: dict | None = None,
) -> dict:
    """The report of a probe: `isolation` says what contained its workers (the engine's
    sandbox, as `Isolation.to_dict()` has it)."""
    status, reason = _overall_status(stacks)
    report = {
        "schema": SCHEMA,
        "id": uuid.uuid4().hex[:16],
        "created": _now_iso(started),
        "duration_s": round(dt.datetime.now(dt.UTC).timestamp() - started, 3),
        "status": status,
        "status_reason": reason,
        "input": input_info,
        "environment": _environment(stacks, options.get("device", "cpu"), isolation),
        "options": options,
        "verdict": "",  # written by diagnose.verdict, from the findings
        "findings": [],
        "stacks": stacks,
        "runs": runs,
    }
    stopped = stopped_words(report)  # the time limit or a cancel, and where the code was
    if stopped:
        report["status_reason"] = stopped
    return report


def input_error(
    input_info: dict, options: dict, message: str, started: float, isolation: dict | None = None
) -> dict:
    report = build(
        input_info=input_info,
        options=options,
        stacks=[],
        runs=[],
        started=started,
        isolation=isolation,
    )
    report["status"] = "input-error"
    report["status_reason"] = message
    return report


def exit_code(report: dict) -> int:
    """0 probe ran and found no error; 1 it found one; 2 the input could not be probed (or
    the probe did not end: the time limit, a cancel)."""
    if report["status"] != "ok":
        return 2
    return 1 if any(f.get("severity") == "error" for f in report.get("findings", [])) else 0


def labelled(label: str | None, note: str | None) -> dict:
    """A report's `label` (a ticket number, a student's name) and `note`, as kept: stripped,
    cut to MAX_LABEL_CHARS and MAX_NOTE_CHARS, None when empty."""
    return {
        "label": (label or "").strip()[:MAX_LABEL_CHARS] or None,
        "note": (note or "").strip()[:MAX_NOTE_CHARS] or None,
    }


def to_json(report: dict, indent: int | None = 2) -> str:
    return json.dumps(report, indent=indent, allow_nan=False, default=str)


# --- text renderings -------------------------------------------------------------------
def epoch_notes(e: dict) -> list[str]:
    """What is unusual about one epoch, in a few words each."""
    notes = []
    if e.get("partial"):
        notes.append("epoch did not finish")
    if e.get("capped"):
        notes.append(f"ended by fitprobe's cap: {cap_words(e.get('cap'))}")
    if e.get("replayed_batches"):
        notes.append(f"{e['replayed_batches']} replayed")
    if e.get("nonfinite_batches"):
        notes.append(f"{e['nonfinite_batches']} with NaN/Inf")
    return notes


def epoch_table(report: dict) -> list[dict]:
    """One row per stack, fit() call and epoch: expected vs trained batches, and more."""
    table = []
    blank = dict.fromkeys(
        ("epoch", "expected", "trained", "validation", "samples_seen", "new_samples", "replayed")
    )
    for stack in report["stacks"]:
        if stack["status"] == "not-applicable":
            label = STACK_LABELS.get(stack["stack"], stack["stack"])
            table.append({"stack": label, "call": None, **blank, "note": "not applicable"})
    for run in report["runs"]:
        base = {"stack": STACK_LABELS.get(run["stack"], run["stack"]), "call": run["call"]}
        with_validation = run["fit"].get("validation") is not None or bool(
            run["fit"].get("validation_split")
        )
        for e in run["epochs"]:
            notes = epoch_notes(e)
            table.append(
                {
                    **base,
                    "epoch": e["epoch"],
                    "expected": e["expected_batches"],
                    "trained": e["observed_batches"],
                    "validation": e.get("val_batches") if with_validation else None,
                    "samples_seen": e.get("samples_seen"),
                    "new_samples": e.get("new_samples"),
                    "replayed": e.get("replayed_batches"),
                    "note": ", ".join(notes),
                }
            )
        stop = run.get("stopped_by") or "?"
        if run.get("stopped_by_callback"):
            stop += f" ({run['stopped_by_callback']})"
        if run.get("exception"):
            stop += f" ({run['exception']['type']})"
        table.append(
            {
                **base,
                "epoch": None,
                "expected": None,
                "trained": None,
                "validation": None,
                "samples_seen": None,
                "new_samples": None,
                "replayed": None,
                "note": f"stopped by: {stop}",
            }
        )
    return table


def run_notes(report: dict) -> list[str]:
    """Facts per run that the epoch table cannot show: coverage gaps, the failing line."""
    notes = []
    for run in report["runs"]:
        label = f"{STACK_LABELS.get(run['stack'], run['stack'])} call {run['call']}"
        data = run.get("data") or {}
        if data.get("never_seen_rows"):
            spans = ", ".join(
                f"{a}-{b}" if a != b else str(a) for a, b in data["never_seen_ranges"]
            )
            notes.append(
                f"{label}: {data['never_seen_rows']} of {data['data_rows']} rows of "
                f"`{data['data_array']}` were never trained on (rows {spans})"
            )
        exc = run.get("exception")
        if exc and exc.get("line"):
            notes.append(
                f"{label}: {exc['type']} at {exc.get('file')}, {locate(report, exc['line'])}: "
                f"{exc.get('code') or ''}"
            )
    return notes + stopped_notes(report)


def stopped_notes(report: dict) -> list[str]:
    """Per stack the time limit or a cancel stopped: where each thread of the user's code
    was, main thread first."""
    notes = []
    for stack in report.get("stacks") or []:
        threads = stack.get("stopped_threads") or []
        if not threads:
            continue
        why = "a cancel" if stack.get("status") == "cancelled" else "the time limit"
        places = []
        for frame in threads:
            name = frame.get("thread_name") if frame.get("thread") != "main" else None
            thread = "main thread" if frame.get("thread") == "main" else "background thread"
            thread += f" ({name})" if name else ""
            places.append(f"{thread} {place_words(report, frame)}")
        label = STACK_LABELS.get(stack["stack"], stack["stack"])
        notes.append(f"{label}: stopped by {why}; the {'; the '.join(places)}")
    return notes


def input_notes(report: dict) -> list[str]:
    """What the probe gave the script or left out of it: the notebook's skipped lines, the
    attached data, stand-in folders, stubbed modules, calls that did nothing here."""
    info = report.get("input") or {}
    notes = []
    nb = info.get("notebook")
    if nb:
        what = "notebook cells pasted as text" if nb.get("source") == "pasted cells" else "notebook"
        cells = len(nb.get("cells") or [])
        notes.append(f"Probed as a {what}: {plural(cells, 'code cell')} run in order as one script")
        for s in nb.get("skipped") or []:
            notes.append(f"Skipped (cell {s['cell']}, line {s['line']}): `{s['text']}`: {s['why']}")
    data = info.get("data")
    if data:
        size = data.get("bytes") or 0
        notes.append(
            f"Data: {data['kind']} `{data['name']}` ({plural(data.get('files') or 0, 'file')}, "
            f"{size / 1e6:.1f} MB), read-only as the script's working directory"
        )
    for s in info.get("standins") or []:
        notes.append(
            f"Stand-in: `{s['path']}` was {plural(s['images'], 'generated image')} in "
            f"{plural(s['classes'], 'class folder')}, not the real data"
        )
    said = set()
    for stack in report.get("stacks") or []:
        for m in stack.get("stubbed_modules") or []:
            said.add(f"Stubbed: `{m['module']}` (imported at {locate(report, m.get('line'))}): "
                     "a module that does nothing stood in for it")  # fmt: skip
        for s in stack.get("skipped") or []:
            where = locate(report, s.get("line"))
            said.add(f"Did nothing here: `{s.get('code') or s['what']}` ({where}): {s['why']}")
        for s in stack.get("standin_files") or []:
            said.add(
                f"Stand-in: {s['loader']} ({locate(report, s.get('line'))}) named "
                f"{s['files']} files under `{s.get('directory') or '.'}` that were not there; "
                "tiny images were generated for them"
            )
    return notes + sorted(said)


