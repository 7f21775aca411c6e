"""The history store: reports saved whole, listed, searched, filtered, deleted, and still
there after a restart (a new process opening the same file)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics import probe
from diagnostics.engine.store import DATA_DIR_ENV, DB_NAME, ReportStore, data_dir, default_store

from .conftest import FIXTURES, probed, situation

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def report() -> dict:
    """A real report with findings (finite generator given steps_per_epoch)."""
    return probed(situation("s04_finite_generator_steps"), max_steps=40)


def _variant(report: dict, report_id: str, name: str) -> dict:
    other = copy.deepcopy(report)
    other["id"], other["input"]["name"] = report_id, name
    return other


@pytest.mark.slow
def test_a_report_comes_back_exactly_as_saved(tmp_path, report):
    store = ReportStore(tmp_path / DB_NAME)
    store.save(report)
    assert store.get(report["id"]) == json.loads(json.dumps(report))
    (row,) = store.list()
    assert (row.id, row.name, row.worst, row.status) == (
        report["id"],
        "s04_finite_generator_steps.py",
        "error",
        "ok",
    )
    assert "finite-generator-exhausted" in row.codes
    assert row.stacks == ["keras3", "keras2"]


@pytest.mark.slow
def test_history_survives_a_restart(tmp_path, report):
    path = tmp_path / "history" / DB_NAME
    ReportStore(path).save(report)
    # a new process, as after restarting the app, opens the same file and reads it back
    reader = (
        "import json, sys; from diagnostics.engine.store import ReportStore; "
        "r = ReportStore(sys.argv[1]).get(sys.argv[2]); print(json.dumps(r['verdict']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", reader, str(path), report["id"]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == report["verdict"]
    assert ReportStore(path).count() == 1


@pytest.mark.slow
def test_search_filter_and_delete(tmp_path, report):
    store = ReportStore(tmp_path / DB_NAME)
    store.save(_variant(report, "aaaa000000000001", "train_cats.py"))
    store.save(_variant(report, "aaaa000000000002", "train_dogs_100%.py"))
    unprobed = probe(FIXTURES / "no_fit.py")  # an input error: nothing ran
    store.save(unprobed)
    assert [r.name for r in store.list(search="cats")] == ["train_cats.py"]
    assert [r.name for r in store.list(search="100%")] == ["train_dogs_100%.py"]
    assert store.list(search="_dogs") and not store.list(search="x_y")  # _ is no wildcard
    assert {r.id for r in store.list(search="finite-generator")} == {
        "aaaa000000000001",
        "aaaa000000000002",
    }
    assert [r.worst for r in store.list(worst=["input-error"])] == ["input-error"]
    assert store.list(search="never calls fit")[0].id == unprobed["id"]
    assert store.delete("aaaa000000000001") and not store.delete("aaaa000000000001")
    assert store.get("aaaa000000000001") is None
    assert store.count() == 2


@pytest.mark.slow
def test_latest_for_sample_matches_the_exact_file(tmp_path, report):
    store = ReportStore(tmp_path / DB_NAME)
    old = _variant(report, "bbbb000000000001", "s.py (broken)")
    old["created"] = "2026-01-01T00:00:00+00:00"
    new = _variant(report, "bbbb000000000002", "s.py (broken)")
    store.save(old, origin="gallery", sample="s", variant="broken")
    store.save(new, origin="gallery", sample="s", variant="broken")
    sha = report["input"]["sha256"]
    assert store.latest_for_sample("s", "broken", sha)["id"] == "bbbb000000000002"
    assert store.latest_for_sample("s", "fixed", sha) is None
    assert store.latest_for_sample("s", "broken", "another file") is None


def test_the_data_directory_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    assert data_dir() == tmp_path / "elsewhere"
    store = default_store()
    assert store.path == tmp_path / "elsewhere" / DB_NAME and store.path.exists()
    monkeypatch.delenv(DATA_DIR_ENV)
    assert data_dir() == ROOT / "data"
