"""The support-desk loop outside the browser: a probe carries a label and a note, history
keeps what was probed (and migrates a history written before it did), an edited script
probed again is linked to the report it came from, and `compare` says what the edit
changed, from two real probes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zlib

import pytest

from diagnostics import compare, order_reports
from diagnostics.engine.jobs import JobRunner
from diagnostics.engine.store import (
    DB_NAME,
    MAX_KEPT_DATA_BYTES,
    ProbedSource,
    ReportStore,
)

from .conftest import FIXTURES

ENDLESS = """\
import numpy as np
from tensorflow import keras

rows = np.random.default_rng(3).normal(size=(60, 4)).astype("float32")


def endless(x, batch_size):
    while True:  # cycles over the rows for ever
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], x[start:start + batch_size, :1]


model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(endless(rows, 6), steps_per_epoch=STEPS, epochs=3, verbose=0)
"""


def _report(report_id: str, created: str, **extra) -> dict:
    """The smallest report the store takes (the store tests need no probe)."""
    return {
        "id": report_id,
        "created": created,
        "input": {"mode": "script", "name": "train.py", "sha256": None},
        "status": "ok",
        "verdict": "No problem found.",
        "findings": [],
        "stacks": [],
        **extra,
    }


def test_labels_notes_and_the_kept_source_are_stored_listed_and_searched(tmp_path):
    store = ReportStore(tmp_path / DB_NAME)
    source = ProbedSource.of(
        "train.py", "model.fit(x)\n", {"keras": "3", "data": "/srv/upload/x.zip"},
        attachment=("x.zip", b"PK\x05\x06" + bytes(18)),
    )  # fmt: skip
    first = _report("a1", "2026-12-01T10:00:00", label=" TICKET-4821 ", note="  ")
    store.save(first, source=source)
    store.save(_report("a2", "2026-12-01T11:00:00", label="Ada", note="lab 3, epoch 2 stops"))
    assert [r.label for r in store.list(search="ticket-4821")] == ["TICKET-4821"]
    assert [r.id for r in store.list(search="epoch 2 stops")] == ["a2"]
    assert store.get("a1")["label"] == "TICKET-4821" and store.get("a1")["note"] is None

    kept = store.source("a1")
    assert (kept.name, kept.text, kept.data_name) == ("train.py", "model.fit(x)\n", "x.zip")
    assert kept.options == {"keras": "3"}  # not this machine's path to the archive
    assert kept.data == b"PK\x05\x06" + bytes(18)
    assert store.source("a2") is None  # reports without a kept source still open
    assert store.get("a2")["verdict"] == "No problem found."

    store.save(store.get("a1"))  # saved again without its source: the source stays
    assert store.source("a1") is not None
    assert store.relabel("a1", "TICKET-4822", "customer re-opened it")
    assert store.get("a1")["note"] == "customer re-opened it"
    assert [r.id for r in store.list(search="4822")] == ["a1"]
    assert store.delete("a1") and store.source("a1") is None  # the source goes with it


def test_a_large_archive_is_not_kept_and_the_source_says_so():
    big = bytes(MAX_KEPT_DATA_BYTES + 1)
    kept = ProbedSource.of("train.py", "x = 1\n", {}, attachment=("images.zip", big))
    assert kept.data is None
    assert "`images.zip` (21 MB) was not kept" in kept.data_note
    assert ProbedSource.of("huge.ipynb", "x" * (26 * 1024 * 1024), {}) is None


def test_a_history_written_before_labels_is_migrated_in_place(tmp_path):
    path = tmp_path / DB_NAME
    old = _report("old0", "2026-11-01T09:00:00")
    with sqlite3.connect(path) as db:  # layout 1, as the previous release wrote it
        db.executescript(
            "CREATE TABLE reports (id TEXT PRIMARY KEY, created TEXT NOT NULL, name TEXT NOT "
            "NULL, mode TEXT, origin TEXT NOT NULL, status TEXT NOT NULL, worst TEXT NOT NULL, "
            "verdict TEXT NOT NULL, codes TEXT NOT NULL, stacks TEXT NOT NULL, sample TEXT, "
            "variant TEXT, sha256 TEXT, body BLOB NOT NULL); PRAGMA user_version = 1;"
        )
        db.execute(
            "INSERT INTO reports VALUES ('old0', ?, 'train.py', 'script', 'probe', 'ok', "
            "'none', 'fine', '', 'keras3', NULL, NULL, NULL, ?)",
            (old["created"], zlib.compress(json.dumps(old).encode())),
        )
    store = ReportStore(path)
    (row,) = store.list()
    assert (row.id, row.label, row.before) == ("old0", None, None)
    assert store.source("old0") is None
    store.relabel("old0", "from before the upgrade", None)
    assert store.list(search="upgrade")[0].id == "old0"
    assert store.layout() == "0001"  # Alembic's from now on
    assert ReportStore(path).list(search="upgrade")[0].id == "old0"  # and opened again


def test_the_cli_puts_the_label_and_note_in_the_report(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "diagnostics", "probe", str(FIXTURES / "no_fit.py"), "--keras",
         "3", "--label", "TICKET-77", "--note", "from the support inbox", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report = json.loads(out.stdout)
    assert (report["label"], report["note"]) == ("TICKET-77", "from the support inbox")


@pytest.mark.slow
def test_an_edit_probed_again_is_linked_and_compared_to_its_before(tmp_path):
    store = ReportStore(tmp_path / DB_NAME)
    runner = JobRunner(max_parallel=1, store=store)
    broken = ENDLESS.replace("STEPS", "5")
    first = runner.submit(code=broken, name="ticket.py", keras="3", epochs=3, label="T-1")
    _wait(runner, first)
    before = runner.get(first).report
    assert store.source(before["id"]).text == broken
    fixed = ENDLESS.replace("STEPS", "len(rows) // 6")
    second = runner.submit(
        code=fixed, name="ticket.py", keras="3", epochs=3, label="T-1", before=before["id"]
    )
    _wait(runner, second)
    after = runner.get(second).report
    assert after["before"] == before["id"] and store.after(before["id"]) == [after["id"]]
    assert order_reports(after, before) == (before, after)

    result = compare(before, after)
    changes = {c.code: c.words() for c in result.findings}
    assert changes["steps-per-epoch-too-small"] == "fixed"
    assert "new" not in {c.change for c in result.findings}
    (run,) = result.runs
    assert (run.before, run.after) == ((5, 5, 5), (10, 10, 10))
    assert result.summary().startswith("1 finding fixed")
    assert "trained batches changed on Keras 3" in result.summary()


def _wait(runner: JobRunner, job_id: str, limit_s: float = 300) -> None:
    import time

    deadline = time.monotonic() + limit_s
    while runner.get(job_id).state in ("queued", "running"):
        assert time.monotonic() < deadline, "the probe did not finish"
        time.sleep(0.2)
    assert runner.get(job_id).state == "done", runner.get(job_id).error


def test_compare_reads_findings_per_stack():
    def report(report_id, created, findings):
        return {"id": report_id, "created": created, "findings": findings, "runs": []}

    def finding(code, *stacks, severity="error"):
        return {"code": code, "title": code, "severity": severity, "stack": list(stacks)}

    before = report("b", "2026-12-01T10:00", [
        finding("dataset-exhausted", "keras3", "keras2"),
        finding("empty-epoch", "keras3"),
        finding("input-bound", "keras3", severity="info"),
    ])  # fmt: skip
    after = report("a", "2026-12-01T11:00", [
        finding("dataset-exhausted", "keras2"),
        finding("input-bound", "keras3", severity="info"),
        finding("nan-in-batch", "keras2", severity="warning"),
    ])  # fmt: skip
    result = compare(*order_reports(after, before))
    assert [(c.code, c.words()) for c in result.findings] == [
        ("empty-epoch", "fixed"),
        ("dataset-exhausted", "fixed on Keras 3, still on Keras 2"),
        ("nan-in-batch", "new on Keras 2"),
        ("input-bound", "unchanged"),
    ]
    assert result.summary() == (
        "1 finding fixed, 1 partly fixed, 1 new, 1 unchanged; the same batches trained per epoch."
    )
