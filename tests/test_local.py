"""Local mode: the probe runs where the data is, in this environment, and its report
can be imported into the app's history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from diagnostics import ReportRefused, read_report
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


def test_a_report_that_breaks_the_contract_says_where(example_3_report):
    broken = json.loads(json.dumps(example_3_report))
    broken["runs"][0]["epochs"][0].pop("observed_batches")
    with pytest.raises(ReportRefused, match=r"at runs/0/epochs/0, 'observed_batches' is a"):
        read_report(json.dumps(broken).encode(), "customer.json")
    huge = b" " * (21 * 1024 * 1024)
    with pytest.raises(ReportRefused, match="customer.json is 22.0 MB; a report is at most 20"):
        read_report(huge, "customer.json")


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
