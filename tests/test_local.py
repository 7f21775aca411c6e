"""Local mode: the probe runs where the data is, in this environment, and its report
can be imported into the app's history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from diagnostics import read_report
from diagnostics.cli import main
from diagnostics.engine.store import DB_NAME, ReportStore
from tests.test_seed_article import _examples

ROOT = Path(__file__).resolve().parent.parent
FITPROBE = Path(sys.executable).parent / "fitprobe"  # the console script `make venv` installs
pytestmark = pytest.mark.slow


def trained(report: dict, stack: str) -> list[int]:
    runs = [r for r in report["runs"] if r["stack"] == stack]
    return [e["observed_batches"] for r in runs for e in r["epochs"] if not e.get("partial")]


@pytest.fixture(scope="module")
def example_3_report(tmp_path_factory) -> dict:
    """The seed article's Example 3, probed with the console script in local mode."""
    folder = tmp_path_factory.mktemp("customer")
    script = folder / "example3.py"
    script.write_text(_examples()[2], encoding="utf-8")
    assert FITPROBE.exists(), "make venv installs the `fitprobe` console script"
    done = subprocess.run(
        [str(FITPROBE), "probe", str(script), "--local", "--keras", "both", "--json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return json.loads(done.stdout)


def test_the_console_script_observes_example_3_in_local_mode(example_3_report):
    report = example_3_report
    assert trained(report, "keras3") == [1, 1, 1, 1, 1]
    assert trained(report, "keras2") == [1]  # then training stops
    env = report["environment"]
    assert env["local"] is True and env["sandbox"]["level"] == "local"
    assert env["isolation"].startswith("local")


def test_local_mode_reads_data_where_it_runs(tmp_path, capsys, monkeypatch):
    np.save(tmp_path / "x.npy", np.ones((30, 3), "float32"))
    (tmp_path / "train.py").write_text(
        "import numpy as np\n"
        "from tensorflow import keras\n"
        "x = np.load('x.npy')\n"
        "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
        "model.compile('sgd', 'mse')\n"
        "model.fit(x, x[:, 0], batch_size=10, epochs=2, verbose=0)\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["probe", "train.py", "--local", "--keras", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert trained(report, "keras3") == [3, 3]
    assert main(["probe", "train.py", "--local", "--data", str(tmp_path)]) == 2
    assert "local mode runs where your data is" in capsys.readouterr().err


def test_a_local_report_is_imported_and_marked(example_3_report, tmp_path):
    data = json.dumps(example_3_report).encode()
    report = read_report(data, "customer.json")
    assert report["imported"]["file"] == "customer.json"
    assert report["imported"]["original_id"] == example_3_report["id"]
    assert report["id"] != example_3_report["id"]
    store = ReportStore(tmp_path / DB_NAME)
    store.save(report, origin="import")
    assert store.get(report["id"])["environment"]["local"] is True
    assert [r.origin for r in store.list()] == ["import"]
