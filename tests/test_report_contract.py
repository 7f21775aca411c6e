"""The report JSON contract of design.md ("fitprobe.report/1"): required keys and values."""

from __future__ import annotations

import json

import pytest

from diagnostics import probe, to_json

from .conftest import FIXTURES, probed, situation

STATUSES = {"ok", "input-error", "timeout", "crashed", "cancelled"}
STOPPED_BY = {
    "completed", "data-exhausted", "exception", "callback", "timeout", "probe-cap", "cancelled"
}  # fmt: skip
RUN_KEYS = {
    "stack",
    "keras_version",
    "call",
    "fit",
    "expected_batches_per_epoch",
    "epochs_completed",
    "stopped_by",
    "epochs",
    "warnings",
    "exception",
}
EPOCH_KEYS = {
    "epoch",
    "expected_batches",
    "observed_batches",
    "val_batches",
    "loss",
    "samples_seen",
    "new_samples",
    "replayed_batches",
}


def check_contract(report: dict) -> None:
    report = json.loads(to_json(report))  # strict JSON: no NaN, nothing unserialisable
    assert {
        "schema",
        "id",
        "created",
        "status",
        "input",
        "environment",
        "verdict",
        "findings",
        "runs",
    } <= report.keys()
    assert report["schema"] == "fitprobe.report/1"
    assert report["status"] in STATUSES
    assert {"mode", "name", "sha256"} <= report["input"].keys()
    assert {"python", "tensorflow", "device"} <= report["environment"].keys()
    assert isinstance(report["verdict"], str) and report["verdict"].endswith(".")
    assert "\n" not in report["verdict"]
    for finding in report["findings"]:
        assert {"code", "severity", "title", "evidence", "fix", "stack"} <= finding.keys()
    for run in report["runs"]:
        assert RUN_KEYS <= run.keys()
        assert run["stack"] in {"keras3", "keras2"}
        assert {"epochs", "steps_per_epoch", "validation_steps", "batch_size"} <= run["fit"].keys()
        assert run["stopped_by"] in STOPPED_BY
        for epoch in run["epochs"]:
            assert EPOCH_KEYS <= epoch.keys()
        if run["exception"] is not None:
            assert {"type", "message", "file", "line", "code"} <= run["exception"].keys()


@pytest.mark.slow
@pytest.mark.parametrize(
    "stem",
    [
        "s04_finite_generator_steps",
        "s10_generator_raises",
        "s12_finite_validation_generator",
        "s14_fit_generator",
        "s15_nan_terminate_on_nan",
    ],
)
def test_reports_of_real_probes_keep_the_contract(stem):
    check_contract(probed(situation(stem), max_steps=40))


@pytest.mark.slow
def test_not_applicable_report_keeps_the_contract():
    check_contract(probed(str(FIXTURES / "direct_keras_import.py")))


def test_input_error_report_keeps_the_contract():
    report = probe(FIXTURES / "syntax_error.py")
    check_contract(report)
    assert report["status"] == "input-error"
    assert report["input"]["sha256"] and report["runs"] == []
    assert report["verdict"] == (
        "This input could not be probed: syntax_error.py has a syntax error at line 3: "
        "'(' was never closed."
    )
