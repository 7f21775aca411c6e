"""Reports from elsewhere: a JSON report a customer made on their own machine
(`fitprobe probe train.py --local --json > report.json`), imported into the app.

The file is size-capped, parsed, and checked against the report contract (the
required keys of design.md, as a JSON Schema) before anything is stored; what does not
pass gets one clear line saying where it fails. An imported report is shown like any
other, marked as imported and, for local mode, as probed on the customer's machine with
that machine's environment.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from diagnostics.report import SCHEMA, STATUSES

__all__ = ["MAX_IMPORT_BYTES", "ReportRefused", "read_report"]

MAX_IMPORT_BYTES = 20 * 1024 * 1024

_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}
_NUM_OR_NULL = {"type": ["number", "null"]}
_OBJ = {"type": "object"}
_OBJ_OR_NULL = {"type": ["object", "null"]}
_LIST = {"type": "array"}
_STRINGS = {"type": "array", "items": _STR}
_CAPTURE = {"type": "object", "properties": {"text": _STR, "bytes": {"type": "integer"}}}
# design.md's "Report JSON (schema fitprobe.report/1): required keys", and the type of
# every other field the app's views and the renderings read, so that a report that
# passes can be shown.
CONTRACT = {
    "type": "object",
    "required": [
        "schema", "id", "created", "status", "input", "environment", "verdict", "findings",
        "runs",
    ],
    "properties": {
        "schema": {"const": SCHEMA},
        "id": {"type": "string", "pattern": "^[0-9a-zA-Z_-]{1,64}$"},
        "created": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"},
        "duration_s": _NUM_OR_NULL,
        "status": {"enum": list(STATUSES)},
        "status_reason": _STR_OR_NULL,
        "label": _STR_OR_NULL,
        "note": _STR_OR_NULL,
        "before": _STR_OR_NULL,
        "trust": _STR_OR_NULL,
        "probed_by": _STR_OR_NULL,
        "probed_on": _STR_OR_NULL,
        "input": {
            "type": "object",
            "required": ["mode", "name", "sha256"],
            "properties": {
                "mode": _STR, "name": _STR, "sha256": _STR_OR_NULL, "data": _OBJ_OR_NULL,
                "standins": _LIST,
                "notebook": {
                    "type": ["object", "null"],
                    "properties": {
                        "cells": {"type": "array", "items": {
                            "type": "object", "required": ["cell", "first_line", "lines"],
                            "properties": {"cell": {"type": "integer"},
                                           "first_line": {"type": "integer"},
                                           "lines": {"type": "integer"}}}},
                        "skipped": _LIST,
                    },
                },
            },
        },
        "environment": {
            "type": "object",
            "required": ["python", "tensorflow", "device"],
            "properties": {
                "python": _STR_OR_NULL, "tensorflow": _STR_OR_NULL, "device": _STR_OR_NULL,
                "platform": _STR_OR_NULL, "isolation": _STR_OR_NULL, "local": {"type": "boolean"},
                "sandbox": _OBJ_OR_NULL,
                "keras_versions": {"type": "object", "additionalProperties": _STR_OR_NULL},
            },
        },
        "verdict": _STR,
        "options": _OBJ_OR_NULL,
        "facts": _OBJ_OR_NULL,
        "preflight": _LIST,
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "severity", "title", "evidence", "fix", "stack"],
                "properties": {
                    "code": _STR,
                    "severity": {"enum": ["error", "warning", "info"]},
                    "title": _STR,
                    "fix": _STR,
                    "evidence": _OBJ,
                    "stack": {"type": ["array", "null"], "items": _STR},
                    "call": _INT_OR_NULL,
                    "line": _INT_OR_NULL,
                    "summary": _OBJ,
                },
            },
        },
        "stacks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["stack", "status"],
                "properties": {
                    "stack": {"enum": ["keras3", "keras2"]}, "status": _STR,
                    "reason": _STR_OR_NULL, "stdout": _CAPTURE, "stderr": _CAPTURE,
                    "script_exception": _OBJ_OR_NULL, "notes": _STRINGS,
                    "warning_records": _LIST, "skipped": _LIST, "stubbed_modules": _LIST,
                    "standin_files": _LIST,
                    "stopped_at": _OBJ_OR_NULL, "stopped_threads": {"type": ["array", "null"]},
                    "stopped_after_s": _NUM_OR_NULL,
                },
            },
        },
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "stack", "keras_version", "call", "fit", "expected_batches_per_epoch",
                    "epochs_completed", "stopped_by", "epochs", "warnings", "exception",
                ],
                "properties": {
                    "stack": {"enum": ["keras3", "keras2"]},
                    "keras_version": _STR_OR_NULL,
                    "call": {"type": "integer", "minimum": 0},
                    "fit": _OBJ,
                    "expected_batches_per_epoch": _INT_OR_NULL,
                    "epochs_completed": _INT_OR_NULL,
                    "stopped_by": _STR_OR_NULL,
                    "warnings": _STRINGS,
                    "exception": _OBJ_OR_NULL,
                    "data": _OBJ_OR_NULL,
                    "batches": _OBJ_OR_NULL,
                    "epochs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["epoch", "expected_batches", "observed_batches"],
                            "properties": {
                                "epoch": {"type": "integer"},
                                "expected_batches": _INT_OR_NULL,
                                "observed_batches": {"type": "integer"},
                                "val_batches": _INT_OR_NULL,
                                "loss": _NUM_OR_NULL,
                                "samples_seen": _INT_OR_NULL,
                                "new_samples": _INT_OR_NULL,
                                "replayed_batches": _INT_OR_NULL,
                            },
                        },
                    },
                },
            },
        },
    },
}  # fmt: skip


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


class ReportRefused(ValueError):
    """The file is not a fitprobe report this app can show; the message says why."""


def read_report(data: bytes, name: str = "report.json") -> dict:
    """The report in `data`, checked and marked as imported; ReportRefused otherwise."""
    import jsonschema

    if len(data) > MAX_IMPORT_BYTES:
        raise ReportRefused(
            f"{name} is {len(data) / 1e6:.1f} MB; a report is at most "
            f"{MAX_IMPORT_BYTES // (1024 * 1024)} MB"
        )
    try:
        report = json.loads(data.decode("utf-8-sig"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ReportRefused(f"{name} is not UTF-8 text: a fitprobe report is JSON") from None
    except RecursionError:
        raise ReportRefused(f"{name} is nested too deeply to be a fitprobe report") from None
    except json.JSONDecodeError as exc:
        raise ReportRefused(f"{name} is not JSON (line {exc.lineno}): {exc.msg}") from None
    except ValueError as exc:  # NaN or Infinity, which JSON does not have
        raise ReportRefused(f"{name} is not plain JSON: {exc}") from None
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise ReportRefused(
            f"{name} is not a fitprobe report: its schema is "
            f"{report.get('schema') if isinstance(report, dict) else type(report).__name__!r}, "
            f"not {SCHEMA!r} (make one with `fitprobe probe SCRIPT --local --json`)"
        )
    try:
        error = next(iter(jsonschema.Draft202012Validator(CONTRACT).iter_errors(report)), None)
    except RecursionError:
        raise ReportRefused(f"{name} is nested too deeply to be a fitprobe report") from None
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the top level"
        raise ReportRefused(f"{name} is not a valid fitprobe report: at {where}, {error.message}")
    report.setdefault("stacks", [])
    report["imported"] = {
        "file": name,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "original_id": report["id"],
    }
    report["id"] = uuid.uuid4().hex[:16]  # never replaces a report of this server's
    return report
