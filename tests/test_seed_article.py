"""The seed article's three examples, pasted as they are, get the right diagnosis.

The article is not copied into the project: its code blocks are read from the
team's shared notes beside the checkout (CI has them there), so the examples
stay exactly as users paste them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from diagnostics import probe_code

from .conftest import require

ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seed-article.md"
pytestmark = pytest.mark.slow


def _examples() -> list[str]:
    if not ARTICLE.exists():
        require(False, f"the shared notes are not beside this checkout ({ARTICLE} is missing)")
    return re.findall(r"```python\n(.*?)```", ARTICLE.read_text(encoding="utf-8"), re.S)


def _codes(report: dict, stack: str) -> set[str]:
    return {
        f["code"]
        for f in report["findings"]
        if f["severity"] in ("error", "warning") and stack in (f.get("stack") or [])
    }


def test_example_1_trains_every_epoch_on_half_of_the_data():
    report = probe_code(_examples()[0], name="example1.py")
    for stack in ("keras3", "keras2"):
        (run,) = [r for r in report["runs"] if r["stack"] == stack]
        assert [e["observed_batches"] for e in run["epochs"]] == [5] * 5
        assert _codes(report, stack) == {"steps-per-epoch-too-small"}
    assert "stop" not in report["verdict"]
    assert "covers only 5 of the 10 batches" in report["verdict"]


def test_example_2_never_trains_on_half_of_the_samples():
    report = probe_code(_examples()[1], name="example2.py")
    for stack in ("keras3", "keras2"):
        assert _codes(report, stack) == {"sequence-len-too-small"}
    assert "never sees rows 50-99" in report["verdict"]


def test_example_3_swallows_its_error_keras2_stops_keras3_replays():
    report = probe_code(_examples()[2], name="example3.py")
    assert "generator-swallowed-error" in _codes(report, "keras2")
    assert "generator-swallowed-error" in _codes(report, "keras3")
    assert "replayed-peeked-batches" in _codes(report, "keras3")
    assert "replayed-peeked-batches" not in _codes(report, "keras2")
    verdict = report["verdict"]
    assert "on Keras 2 training stops after 1 epoch" in verdict
    assert "caught its own error" in verdict
    assert "steps_per_epoch" not in verdict


def test_healthy_pipelines_get_no_error_and_no_warning():
    from diagnostics import probe

    from .conftest import FIXTURES

    report = probe(FIXTURES / "healthy_pipelines.py", keras="both")
    assert report["status"] == "ok"
    assert len(report["runs"]) == 10
    alarms = [(f["code"], f["stack"]) for f in report["findings"] if f["severity"] != "info"]
    assert alarms == []
    assert report["verdict"].startswith("No problem found")
