"""Keras contract tests: the 22 situations of ground-truth.md, probed on both stacks.

Each situation is a small script in `situations/`; `situations/expected.py`
pins what real Keras 3 and Keras 2 did, measured without fitprobe. A Keras
upgrade that changes any of these behaviours must fail here, loudly.
"""

from __future__ import annotations

import pytest

from .conftest import load_expected, probed, runs_of, situation, stack_record

EXPECTED = load_expected()
STACKS = ("keras3", "keras2")
# Endless epochs (situation 20 on Keras 3) are ended by this probe cap.
ENDLESS_CAP = 40

pytestmark = pytest.mark.slow


def _report(stem: str) -> dict:
    return probed(situation(stem), max_steps=ENDLESS_CAP)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_trained_batches_match_real_keras(stem, stack):
    want = EXPECTED[stem][stack]
    report = _report(stem)
    assert report["status"] == "ok", report["status_reason"]
    runs = runs_of(report, stack)
    if not want["fit_called"]:
        assert runs == []
        record = stack_record(report, stack)
        assert record["status"] == "no-fit"
        assert record["script_exception"]["type"] == want["exception"]
        return
    assert len(runs) == 1
    run = runs[0]
    batches = [e["observed_batches"] for e in run["epochs"]]
    if want.get("runs_forever"):
        assert batches == [ENDLESS_CAP]
        assert run["stopped_by"] == "probe-cap"
        assert run["expected_batches_per_epoch"] is None
        return
    exception = (run["exception"] or {}).get("type")
    assert exception == want["exception"]
    if want.get("batches_vary"):
        # Keras shuffles a Sequence's batch order: which batch breaks varies run to run.
        assert len(batches) == len(want["batches"])
    else:
        assert batches == want["batches"]
    assert run["epochs_completed"] == want["epochs_completed"]
    if want.get("val_batches") is not None:
        assert [e["val_batches"] for e in run["epochs"]] == want["val_batches"]
    if "ran_out_of_data_warning" in want:
        warned = any("ran out of data" in w for w in run["warnings"])
        assert warned == want["ran_out_of_data_warning"]
    if want.get("exception_match"):
        exc = run["exception"]
        text = " ".join(
            [
                exc["message"],
                (exc.get("root_cause") or {}).get("message", ""),
                stack_record(report, stack)["script_exception"]["traceback"],
            ]
        )
        assert want["exception_match"] in text
    expected_stop = want.get("stopped_by")
    if expected_stop:
        assert run["stopped_by"] == expected_stop
    elif exception:
        assert run["stopped_by"] == "exception"
