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

from diagnostics.report import SCHEMA

__all__ = ["MAX_IMPORT_BYTES", "ReportRefused", "read_report"]

MAX_IMPORT_BYTES = 20 * 1024 * 1024

_STRING_OR_NULL = {"type": ["string", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}
CONTRACT = {  # design.md's "Report JSON (schema fitprobe.report/1): required keys"
    "type": "object",
    "required": [
        "schema", "id", "created", "status", "input", "environment", "verdict", "findings",
        "runs",
    ],
    "properties": {
        "schema": {"const": SCHEMA},
        "id": {"type": "string", "pattern": "^[0-9a-zA-Z_-]{1,64}$"},
        "created": {"type": "string"},
        "status": {"enum": ["ok", "input-error", "timeout", "crashed"]},
        "input": {
            "type": "object",
            "required": ["mode", "name", "sha256"],
            "properties": {"mode": {"type": "string"}, "name": {"type": "string"},
                           "sha256": _STRING_OR_NULL},
        },
        "environment": {
            "type": "object",
            "required": ["python", "tensorflow", "device"],
            "properties": {"python": _STRING_OR_NULL, "tensorflow": _STRING_OR_NULL,
                           "device": _STRING_OR_NULL},
        },
        "verdict": {"type": "string"},
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "severity", "title", "evidence", "fix", "stack"],
                "properties": {
                    "code": {"type": "string"},
                    "severity": {"enum": ["error", "warning", "info"]},
                    "title": {"type": "string"},
                    "fix": {"type": "string"},
                    "stack": {"type": ["array", "null"], "items": {"type": "string"}},
                },
            },
        },
        "stacks": {"type": "array", "items": {"type": "object", "required": ["stack", "status"]}},
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
                    "call": {"type": "integer", "minimum": 0},
                    "expected_batches_per_epoch": _INT_OR_NULL,
                    "epochs_completed": _INT_OR_NULL,
                    "epochs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["epoch", "expected_batches", "observed_batches"],
                        },
                    },
                },
            },
        },
    },
}  # fmt: skip


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
        report = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ReportRefused(f"{name} is not UTF-8 text: a fitprobe report is JSON") from None
    except ValueError as exc:
        raise ReportRefused(f"{name} is not JSON (line {exc.lineno}): {exc.msg}") from None
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise ReportRefused(
            f"{name} is not a fitprobe report: its schema is "
            f"{report.get('schema') if isinstance(report, dict) else type(report).__name__!r}, "
            f"not {SCHEMA!r} (make one with `fitprobe probe SCRIPT --local --json`)"
        )
    error = next(iter(jsonschema.Draft202012Validator(CONTRACT).iter_errors(report)), None)
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
