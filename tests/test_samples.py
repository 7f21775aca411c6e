"""The teaching gallery: every broken sample gets its rule's finding, every fixed twin none.

Exact codes are asserted per stack (error and warning severities): a missing
finding is a miss, an extra one is a false alarm.
"""

from __future__ import annotations

import pytest

from diagnostics.rules import catalog
from sample_generators import VARIANTS, samples

from .conftest import probed_sample

SAMPLES = samples()
STACKS = ("keras3", "keras2")


def reported_codes(report: dict, stack: str) -> list[str] | None:
    record = next((s for s in report["stacks"] if s["stack"] == stack), None)
    if record is None or record["status"] == "not-applicable":
        return None
    return sorted(
        {
            f["code"]
            for f in report["findings"]
            if f["severity"] in ("error", "warning")
            and not f.get("static")
            and stack in (f.get("stack") or [])
        }
    )


def test_sample_metadata_is_complete():
    codes = set(catalog())
    assert SAMPLES, "the gallery is empty"
    for sample in SAMPLES:
        assert sample.rule in codes, f"{sample.name}: unknown rule {sample.rule}"
        assert sample.title and len(sample.lesson) > 80
        assert set(sample.expected) == set(VARIANTS)
        for variant in VARIANTS:
            assert set(sample.expected[variant]) == set(STACKS)
        broken = [c for c in sample.expected["broken"].values() if c is not None]
        if catalog()[sample.rule].SEVERITY != "info":  # info codes are not in EXPECTED
            assert any(sample.rule in codes for codes in broken), f"{sample.name}: no {sample.rule}"
        assert all(sample.rule not in (c or []) for c in sample.expected["fixed"].values())


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_sample_gets_exactly_its_expected_findings(sample, variant):
    report = probed_sample(sample.name, variant)  # shared with test_fidelity.py
    for stack in STACKS:
        want = sample.expected[variant][stack]
        assert reported_codes(report, stack) == (sorted(want) if want is not None else None), (
            f"{sample.name} {variant} on {stack}: {report['verdict']}"
        )
    shown = {f["code"] for f in report["findings"] if not f.get("static")}
    assert (sample.rule in shown) == (variant == "broken"), f"{sample.name} {variant}"
