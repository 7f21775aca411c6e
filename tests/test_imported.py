"""Reports made elsewhere (local mode, on a customer's machine) are checked before they
are kept: what is not a report, or would break the views, is refused with one line."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from diagnostics import ReportRefused, read_report

REPORT = json.loads((Path(__file__).parent / "fixtures" / "local_report.json").read_text())


def test_a_local_report_passes_and_is_marked_as_imported():
    report = read_report(json.dumps(REPORT).encode(), "customer.json")
    assert report["environment"]["local"] is True
    assert report["imported"]["original_id"] == REPORT["id"] != report["id"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"{not json", "customer.json is not JSON (line 1)"),
        (b"[1, 2]", "customer.json is not a fitprobe report: its schema is 'list'"),
        (b'{"schema": "other/1"}', "its schema is 'other/1', not 'fitprobe.report/1'"),
        (b"\xff\xfe", "customer.json is not UTF-8 text"),
    ],
)
def test_what_is_not_a_report_is_refused_clearly(data, message):
    with pytest.raises(ReportRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_report(data, "customer.json")


def test_a_report_that_breaks_the_contract_says_where():
    broken = copy.deepcopy(REPORT)
    broken["runs"][0]["epochs"][0].pop("observed_batches")
    with pytest.raises(ReportRefused, match=r"at runs/0/epochs/0, 'observed_batches' is a"):
        read_report(json.dumps(broken).encode(), "customer.json")
    huge = b" " * (21 * 1024 * 1024)
    with pytest.raises(ReportRefused, match="customer.json is 22.0 MB; a report is at most 20"):
        read_report(huge, "customer.json")




@pytest.mark.parametrize(
    "path, value, where",
    [
        (("runs", 0, "fit"), "steps=10", "runs/0/fit"),
        (("runs", 0, "warnings"), 3, "runs/0/warnings"),
        (("duration_s",), "fast", "duration_s"),
        (("environment", "keras_versions"), ["3.15"], "environment/keras_versions"),
        (("input", "notebook"), "cells", "input/notebook"),
        (("findings", 0, "line"), "7", "findings/0/line"),
        (("stacks", 0, "stack"), 3, "stacks/0/stack"),
        (("created",), "yesterday", "created"),
    ],
)
def test_fields_the_views_read_must_have_their_types(path, value, where):
    broken = copy.deepcopy(REPORT)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ReportRefused, match=f"at {where}, "):
        read_report(json.dumps(broken).encode(), "customer.json")


def test_nan_and_deep_nesting_are_refused_not_crashes():
    broken = copy.deepcopy(REPORT)
    broken["duration_s"] = math.nan
    with pytest.raises(ReportRefused, match="is not plain JSON: NaN"):
        read_report(json.dumps(broken).encode(), "customer.json")
    deep = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(ReportRefused, match="nested too deeply"):
        read_report(deep, "customer.json")


def test_which_stacks_run_here_is_read_from_the_installed_packages(monkeypatch):
    from diagnostics.engine import local

    assert local.local_stacks() == {"keras3": None, "keras2": None}  # this environment
    installed = {"tensorflow": "2.15.1", "keras": "2.15.0"}  # TensorFlow 2.15's own
    monkeypatch.setattr(local, "_version", installed.get)
    stacks = local.local_stacks()
    assert stacks["keras2"] is None
    assert stacks["keras3"].startswith("TensorFlow 2.15.1 ships Keras 2 only")
    installed.update(tensorflow="2.21.0", keras="3.15.1")  # no tf_keras beside it
    assert "pip install tf_keras==2.21.*" in local.local_stacks()["keras2"]
