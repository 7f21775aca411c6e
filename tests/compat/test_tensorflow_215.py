"""TensorFlow 2.15 (Keras 2 as `tf.keras`), in local mode: `make test-compat` runs this in an
environment of its own. Each script runs plainly on that Keras and is probed there, in
the same test; the batches per epoch must be the same. Keras 3 cannot run beside
TensorFlow 2.15, and the report says so plainly."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import situation
from tests.plain_keras import plain_batches, probed_batches
from tests.test_seed_article import _examples

TF = version("tensorflow")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        tuple(int(p) for p in TF.split(".")[:2]) >= (2, 16),
        reason=f"TensorFlow {TF} here: `make test-compat` runs these with TensorFlow 2.15",
    ),
]
# Ground-truth situations whose Keras 2 behaviour ground-truth.md pins (finite and
# infinite generators, Sequences, tf.data with too many or too few steps).
SITUATIONS = [
    "s01_infinite_generator_half_steps",
    "s02_sequence_len_too_small",
    "s03_generator_swallows_error",
    "s04_finite_generator_steps",
    "s05_finite_generator_no_steps",
    "s06_dataset_exact_steps",
    "s07_dataset_too_many_steps",
    "s08_dataset_few_steps",
    "s21_sequence_few_steps",
    "s22_sequence_short_len_steps",
]


def local_probe(script: Path, cwd: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "diagnostics", "probe", str(script), "--local", "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return json.loads(done.stdout)


def keras3_is_not_applicable(report: dict) -> None:
    (record,) = [s for s in report["stacks"] if s["stack"] == "keras3"]
    assert record["status"] == "not-applicable"
    assert f"TensorFlow {TF} ships Keras 2 only" in record["reason"]


@pytest.mark.parametrize("stem", SITUATIONS)
def test_keras2_on_tensorflow_215_is_observed_as_plain_keras_trains(stem, tmp_path):
    script = Path(situation(stem))
    plain = plain_batches(script, tmp_path, stacks=("keras2",))
    report = local_probe(script, tmp_path)
    keras3_is_not_applicable(report)
    assert report["environment"]["keras_versions"]["keras2"].startswith("2.15")
    assert probed_batches(report, "keras2") == plain["keras2"]["fits"], report["verdict"]


@pytest.mark.parametrize("index, batches", [(0, [[5, 5, 5, 5, 5]]), (2, [[1]])])
def test_the_seed_articles_examples_on_tensorflow_215(index, batches, tmp_path):
    script = tmp_path / f"example{index + 1}.py"
    script.write_text(_examples()[index], encoding="utf-8")
    plain = plain_batches(script, tmp_path, stacks=("keras2",))
    report = local_probe(script, tmp_path)
    keras3_is_not_applicable(report)
    assert probed_batches(report, "keras2") == plain["keras2"]["fits"] == batches
