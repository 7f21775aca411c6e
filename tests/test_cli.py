"""The CLI contract of design.md: exit codes 0/1/2, one clear line, --json prints only JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.cli import ExitCode, main

from .conftest import FIXTURES, TESTS


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["probe", "missing.py"], "No such file: missing.py"),
        (["probe", str(FIXTURES / "syntax_error.py")], "syntax error at line 3"),
        (["probe", str(FIXTURES / "no_fit.py")], "never calls fit()"),
        (["probe", str(FIXTURES / "no_sources.py"), "--source", "add"], "defines no data source"),
        (
            ["probe", str(FIXTURES / "data_sources.py"), "--source", "nope"],
            "unknown source 'nope' in data_sources.py; available: RowBatches, endless_batches",
        ),
        (["probe", str(FIXTURES / "no_fit.py"), "--epochs", "0"], "expected a positive integer"),
        (["probe", str(FIXTURES / "no_fit.py"), "--keras", "4"], "invalid choice"),
        (["sources", str(FIXTURES / "no_sources.py")], "defines no data source"),
        (["worker", "--queue", ""], "no queue to pull probes from"),
        (["worker", "--queue", "redis://127.0.0.1:1/0"], "the queue at redis://127.0.0.1:1/0"),
        (["worker", "--queue", "http://nowhere"], "cannot be used"),
        (["rules", "--port", "1"], "unrecognized arguments: --port"),
    ],
)
def test_input_errors_exit_2_with_one_line(capsys, argv, message):
    exits = {"--epochs", "--keras", "--port"} & set(argv)  # argparse's own errors exit
    with pytest.raises(SystemExit) if exits else _nothing():
        code = main(argv)
        assert code == ExitCode.INPUT_ERROR
    captured = capsys.readouterr()
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_binary_file_in_json_mode_prints_a_report_with_status(tmp_path, capsys):
    path = tmp_path / "weights.py"
    path.write_bytes(bytes(range(256)))
    assert main(["probe", str(path), "--json"]) == ExitCode.INPUT_ERROR
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["status"] == "input-error"
    assert "binary file" in report["status_reason"]
    assert captured.err.strip() == f"fitprobe: {report['status_reason']}"


def test_sources_lists_a_module(capsys):
    assert main(["sources", str(FIXTURES / "data_sources.py"), "--json"]) == ExitCode.OK
    names = [s["name"] for s in json.loads(capsys.readouterr().out)]
    assert names == ["endless_batches", "one_pass", "RowBatches", "make_dataset"]


@pytest.mark.slow
def test_probe_as_a_subprocess_json_only_on_stdout():
    """The documented command line, end to end: stdout is exactly one JSON report."""
    script = TESTS / "situations" / "s06_dataset_exact_steps.py"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "diagnostics",
            "probe",
            str(script),
            "--keras",
            "3",
            "--json",
            "--epochs",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=TESTS.parent,
    )
    assert done.returncode == ExitCode.OK, done.stderr
    report = json.loads(done.stdout)
    assert report["schema"] == "fitprobe.report/1"
    assert [e["observed_batches"] for e in report["runs"][0]["epochs"]] == [10, 10, 10]
    assert report["runs"][0]["stopped_by"] == "probe-cap"  # the script asks for 5 epochs


@pytest.mark.slow
def test_probe_table_and_exports(tmp_path, capsys):
    script = str(FIXTURES / "direct_keras_import.py")
    assert main(["probe", script]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "not applicable" in out and "Keras 3" in out
    html_path = tmp_path / "report.html"
    assert main(["probe", script, "--keras", "3", "--html", str(html_path)]) == ExitCode.OK
    page = html_path.read_text()
    assert page.startswith("<!doctype html>") and "fitprobe-report" in page
    assert main(["probe", script, "--keras", "3", "--markdown"]) == ExitCode.OK
    assert capsys.readouterr().out.startswith("# fitprobe report: direct_keras_import.py")


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "diagnostics"], [str(Path(sys.executable).parent / "fitprobe")]],
    ids=["python -m diagnostics", "fitprobe"],
)
def test_a_reader_that_goes_away_gets_no_traceback(command):
    """`... rules | head -1`, where head is gone before the output."""
    with subprocess.Popen(
        [*command, "rules"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=TESTS.parent,
    ) as process:
        process.stdout.close()  # before the command writes anything: every write fails
        stderr = process.stderr.read().decode()
    assert process.returncode == 141, stderr
    assert stderr == ""
