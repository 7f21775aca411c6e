"""Scripts modelled on public bug reports (tests/real_reports/scripts/, each naming its
report), probed as a new user would, held to plain Keras and to the right diagnosis.

For every script and stack: the batches (and validation batches) fitprobe observed per
epoch equal what plain Keras trained (`truth.py`, measured by `tests.real_reports.measure`
with the harness in `tests/plain_keras.py`), the error and warning codes are exactly the
expected ones, and the verdict says the words that matter (and never the wrong ones).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics import probe
from diagnostics.rules.missing_module import missing_in

from .plain_keras import probed_batches, probed_validation
from .real_reports.truth import TRUTH
from .test_samples import reported_codes
from .verdict_checks import verdict_problems

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "real_reports" / "scripts"
CAP = 300  # the plain runs' cap per epoch (see measure.py): the probe uses the same
STACKS = ("keras3", "keras2")

# Per script: the error/warning codes per stack (None: the stack could not run it), the
# words the verdict must hold, and words it must not.
EXPECTED = {
    # steps_per_epoch / validation_steps that floor to 0
    "steps_zero_floor_div_generator": (
        {"keras3": ["steps-per-epoch-zero"], "keras2": ["steps-per-epoch-zero"]},
        ["reads as 'no limit'", "until fitprobe's cap stopped it", "Keras 2 refuses"],
        [],
    ),
    "steps_zero_int_div_repeat_dataset": (
        {"keras3": ["steps-per-epoch-zero"], "keras2": ["steps-per-epoch-zero"]},
        ["steps_per_epoch is 0"],
        ["validation"],
    ),
    "steps_zero_len_iterator_div_batch": (
        {"keras3": ["steps-per-epoch-zero"], "keras2": ["steps-per-epoch-zero"]},
        ["every epoch trains one whole pass (4 batches) instead"],
        [],
    ),
    "validation_steps_zero_generator": (
        {"keras3": ["validation-steps-zero"], "keras2": ["validation-steps-zero"]},
        ["validation_steps=0"],
        [],
    ),
    # a file-backed Sequence whose __len__ floors
    "npy_files_sequence_floor_len": (
        {"keras3": ["samples-never-seen"], "keras2": ["samples-never-seen"]},
        ["30 of the 35 files", "rounds down", "never requested"],
        [],
    ),
    "png_files_sequence_np_floor": (
        {"keras3": ["samples-never-seen"], "keras2": ["samples-never-seen"]},
        ["40 of the 45 files", "never requested"],
        [],
    ),
    # from_generator(lambda: gen) with a generator made once
    "from_generator_lambda_gen_repeat": (
        {
            "keras3": ["empty-epoch", "from-generator-reused"],
            "keras2": ["empty-epoch", "from-generator-reused"],
        },
        ["`lambda: gen` hands tf.data the same generator object", "training stops after 1"],
        ["harmless", "nothing was cut short"],
    ),
    "from_generator_lambda_gen_no_repeat": (
        {
            "keras3": ["empty-epoch", "from-generator-reused"],
            "keras2": ["empty-epoch", "from-generator-reused"],
        },
        ["same generator object"],
        [],
    ),
    # the batch fit() raised on, against the model's inputs
    "two_input_model_one_stacked_array": (
        {"keras3": ["input-structure-mismatch"], "keras2": ["input-structure-mismatch"]},
        ["the model takes 2 inputs", "one array of shape"],
        ["in user code"],
    ),
    "dict_input_model_sequence_returns_list": (
        {"keras3": ["input-structure-mismatch"], "keras2": []},
        ["Python list of 3 arrays", "Keras 2 is fine"],
        [],
    ),
    "generator_preallocated_x_short_y": (
        {"keras3": ["xy-length-mismatch"], "keras2": ["xy-length-mismatch"]},
        ["16 rows of x but 10 targets"],
        [],
    ),
    # training and validation sharing rows
    "shuffle_take_skip_split_leak": (
        {
            "keras3": ["validation-overlaps-training"],
            "keras2": ["validation-overlaps-training"],
        },
        ["validation rows", "were also trained on"],
        ["No problem found"],
    ),
    "dataframe_split_reset_index_leak": (
        {
            "keras3": ["validation-overlaps-training"],
            "keras2": ["validation-overlaps-training"],
        },
        ["were also trained on"],
        [],
    ),
    "index_split_uses_train_indices_for_val": (
        {
            "keras3": ["validation-overlaps-training"],
            "keras2": ["validation-overlaps-training"],
        },
        ["50 of the 50 validation rows"],
        [],
    ),
    # a missing package is not the user's bug
    "plot_model_without_pydot": (
        {"keras3": ["missing-module"], "keras2": ["missing-module"]},
        ["`pydot`", "not installed where fitprobe probes"],
        ["fit-raised"],
    ),
    "plot_model_callback_without_pydot": (
        {"keras3": ["missing-module"], "keras2": ["missing-module"]},
        ["needs `pydot`"],
        ["crashed"],
    ),
    # healthy pipelines: no false alarms
    "sequence_random_rows_ignores_index": (
        {"keras3": [], "keras2": []},
        ["No problem found", "as asked"],
        [],
    ),
    "sequence_same_batch_sanity_check": (
        # validating on the very batch it trains on is a real overlap; the Sequence that
        # returns one batch for every index is not an error
        {
            "keras3": ["validation-overlaps-training"],
            "keras2": ["validation-overlaps-training"],
        },
        ["8 of the 8 validation rows"],
        ["sequence"],
    ),
    "infinite_pydataset_num_batches_none": (
        {"keras3": [], "keras2": []},
        ["Keras 3 trained 3 epochs of 25 batches each, as asked"],
        ["too large", "same rows"],
    ),
    # the verdicts that contradicted their reports
    "early_stopping_patience_zero_val_loss": (
        {"keras3": [], "keras2": []},
        ["No problem found", "2 of the 5 epochs asked for", "EarlyStopping"],
        ["as asked"],
    ),
    "pydataset_finite_keras3_api": (
        {"keras3": [], "keras2": []},
        ["Keras 2 cannot run this script: `keras.utils.PyDataset` does not exist in Keras 2"],
        ["No problem found", "fine", "::"],
    ),
    "generator_runs_dry_40_rows": (
        {
            "keras3": ["finite-generator-exhausted", "replayed-peeked-batches"],
            "keras2": ["finite-generator-exhausted"],
        },
        ["ran dry after 4 batches"],
        ["every epoch trains empty", "harmless"],
    ),
    "sequence_len_changes_on_epoch_end": (
        {"keras3": [], "keras2": ["variable-epoch-length"]},
        ["6, 10, 8, 12", "each epoch one whole pass"],
        ["cut short"],
    ),
    "from_generator_batches_grow_per_pass": (
        {"keras3": ["variable-epoch-length"], "keras2": []},
        ["3, 4, 4", "each epoch one whole pass"],
        ["cut short"],
    ),
}


def test_every_script_has_its_truth_and_its_expectation():
    stems = {p.stem for p in SCRIPTS.glob("*.py")}
    assert stems == set(TRUTH) == set(EXPECTED)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_a_public_report_probed_as_a_user_would(stem):
    codes, said, unsaid = EXPECTED[stem]
    report = probe(
        SCRIPTS / f"{stem}.py", keras="both", max_steps=CAP, max_val_steps=CAP, timeout=120
    )
    for stack in STACKS:
        truth = TRUTH[stem][stack]
        assert probed_batches(report, stack) == truth["fits"], stack
        assert probed_validation(report, stack) == truth["val"], stack
        if truth.get("runs_forever"):
            capped = [e for r in report["runs"] if r["stack"] == stack for e in r["epochs"]]
            assert any(e["capped"] and e["cap"] for e in capped), stack
        assert reported_codes(report, stack) in (None, sorted(codes[stack])), (
            stack,
            report["verdict"],
        )
    for words in said:
        assert words in report["verdict"], report["verdict"]
    for words in unsaid:
        assert words not in report["verdict"], report["verdict"]
    assert verdict_problems(report) == [], report["verdict"]


def test_a_library_saying_its_optional_package_is_not_installed_is_a_missing_module():
    """TensorFlow 2.16+ no longer installs tensorboard; the TensorBoard callback then
    raises TBNotInstalledError inside fit(). fitprobe installs tensorboard, so the message
    is checked on its own, with a package that is not installed."""
    exc = {"type": "TBNotInstalledError", "message": "Pydot is not installed, missing it."}
    assert missing_in(exc, set()) == "pydot"
    assert missing_in({"type": "ValueError", "message": "Pydot is not installed"}, set()) is None
