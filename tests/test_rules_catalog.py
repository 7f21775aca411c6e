"""Every finding code of design.md has a rule, and every rule has its documentation page."""

from __future__ import annotations

import re

import pytest

from diagnostics.cli import main
from diagnostics.rules import catalog, rule_doc

DESIGN_CODES = """
finite-generator-exhausted dataset-exhausted replayed-peeked-batches empty-epoch
steps-per-epoch-too-small steps-per-epoch-too-large sequence-len-too-small
sequence-len-too-large generator-raised generator-swallowed-error xy-length-mismatch
empty-batch inconsistent-batch-shape validation-exhausted callback-stopped-training
nan-in-batch samples-never-seen fit-generator-removed generator-not-tuple empty-generator
unsupported-fit-argument infinite-dataset-without-steps input-stalled input-bound
shuffle-ignored steps-per-epoch-not-integer steps-count-samples validation-steps-zero
validation-never-ends empty-validation-data unsupported-input-type single-pass-iterator
non-threadsafe-generator epoch-end-hook-raised sequence-ignores-index variable-epoch-length
missing-module missing-data unsupported-keras-version
""".split()
SECTIONS = ["## What it does", "## Why is this bad?", "## Example", "## Use instead"]


def test_every_design_code_has_a_rule():
    assert len(DESIGN_CODES) == 39
    missing = sorted(set(DESIGN_CODES) - set(catalog()))
    assert missing == []


@pytest.mark.parametrize("code", sorted(catalog()))
def test_rule_page_has_every_section_and_metadata(code):
    module = catalog()[code]
    doc = rule_doc(code)
    assert doc.splitlines()[0] == code
    positions = [doc.find(section) for section in SECTIONS]
    assert all(p > 0 for p in positions) and positions == sorted(positions), code
    assert "```" in doc, f"{code}: the example needs code"
    assert module.SEVERITY in ("error", "warning", "info")
    assert module.TITLE and not module.TITLE.endswith(".")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code)


def test_cli_lists_rules_and_prints_a_page(capsys):
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out
    assert all(code in listing for code in catalog())
    assert main(["rules", "replayed-peeked-batches"]) == 0
    assert "## Keras 2 vs Keras 3" in capsys.readouterr().out
    assert main(["rules", "no-such-rule"]) == 2
    assert "no rule 'no-such-rule'" in capsys.readouterr().err
