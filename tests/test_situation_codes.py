"""Every ground-truth situation gets the diagnosis it deserves, on each stack.

Exact error- and warning-severity codes per stack: a missing code is a missed
diagnosis, an extra one a false alarm. The reports are the same cached probes
the Keras contract tests use.
"""

from __future__ import annotations

import pytest

from .test_keras_contract import _report
from .test_samples import reported_codes

pytestmark = pytest.mark.slow

BOTH = ("keras3", "keras2")
EXPECTED_CODES = {
    "s01_infinite_generator_half_steps": {s: ["steps-per-epoch-too-small"] for s in BOTH},
    "s02_sequence_len_too_small": {s: ["sequence-len-too-small"] for s in BOTH},
    "s03_generator_swallows_error": {
        "keras3": [
            "finite-generator-exhausted",
            "generator-swallowed-error",
            "replayed-peeked-batches",
        ],
        "keras2": ["finite-generator-exhausted", "generator-swallowed-error"],
    },
    # The empty epoch 1 is an info finding here: the exhausted generator explains it.
    "s04_finite_generator_steps": {
        "keras3": ["finite-generator-exhausted", "replayed-peeked-batches"],
        "keras2": ["finite-generator-exhausted"],
    },
    "s05_finite_generator_no_steps": {
        "keras3": ["finite-generator-exhausted", "replayed-peeked-batches"],
        "keras2": ["finite-generator-exhausted"],
    },
    "s06_dataset_exact_steps": {s: [] for s in BOTH},
    "s07_dataset_too_many_steps": {s: ["dataset-exhausted"] for s in BOTH},
    # Two real problems: 4 of 10 batches per epoch, and no .repeat() to serve 20.
    "s08_dataset_few_steps": {s: ["dataset-exhausted", "steps-per-epoch-too-small"] for s in BOTH},
    "s09_sequence_len_too_large": {s: ["sequence-len-too-large"] for s in BOTH},
    "s10_generator_raises": {s: ["generator-raised"] for s in BOTH},
    "s11_early_stopping_arrays": {s: [] for s in BOTH},
    "s12_finite_validation_generator": {s: ["validation-exhausted"] for s in BOTH},
    "s13_short_batch_label_mismatch": {s: ["xy-length-mismatch"] for s in BOTH},
    "s14_fit_generator": {s: ["fit-generator-removed"] for s in BOTH},
    "s15_nan_terminate_on_nan": {s: ["nan-in-batch"] for s in BOTH},
    "s16_steps_per_execution_generator": {
        "keras3": ["finite-generator-exhausted", "replayed-peeked-batches"],
        "keras2": ["fit-raised"],
    },
    # Keras 2 runs 11,11 batches, but each of its 2 worker processes runs its own copy of
    # the generator: measured, epoch 1 trains 110 rows holding only 70 distinct samples.
    "s17_workers_multiprocessing": {
        "keras3": ["unsupported-fit-argument"],
        "keras2": ["non-threadsafe-generator"],
    },
    "s18_generator_yields_list": {"keras3": ["generator-not-tuple"], "keras2": []},
    "s19_empty_generator": {s: ["empty-generator"] for s in BOTH},
    "s20_dataset_repeat_no_steps": {s: ["infinite-dataset-without-steps"] for s in BOTH},
    "s21_sequence_few_steps": {
        "keras3": ["steps-per-epoch-too-small", "variable-epoch-length"],
        "keras2": ["steps-per-epoch-too-small"],
    },
    # len() is 5 for data of 10 batches, and steps_per_epoch=10 asks for more than len().
    "s22_sequence_short_len_steps": {
        s: ["sequence-len-too-small", "steps-per-epoch-too-large"] for s in BOTH
    },
}


@pytest.mark.parametrize("stack", BOTH)
@pytest.mark.parametrize("stem", sorted(EXPECTED_CODES))
def test_situation_gets_its_diagnosis(stem, stack):
    report = _report(stem)
    assert reported_codes(report, stack) == sorted(EXPECTED_CODES[stem][stack]), report["verdict"]


@pytest.mark.parametrize("stem", sorted(EXPECTED_CODES))
def test_verdict_is_one_plain_sentence(stem):
    verdict = _report(stem)["verdict"]
    assert verdict.endswith(".") and "\n" not in verdict
    assert not verdict.endswith("..")
    assert len(verdict) < 700
