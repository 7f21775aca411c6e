"""Charts are pure functions of a report: checked on real reports (the ground-truth
situations, probed on both stacks) and on the HTML export that embeds them."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from diagnostics import charts, probe, render_html
from diagnostics.render.charts import COVERAGE_STATES, coverage_matrix

from .conftest import FIXTURES, probed, runs_of, situation

STATE = {name: code for code, name in enumerate(COVERAGE_STATES)}


def _traces(fig) -> dict[str, dict]:
    return {t.name: t for t in fig.data if t.name}


@pytest.fixture(scope="module")
def finite_steps() -> dict:
    """Situation 4: a finite generator given steps_per_epoch (K3 10,0,2,2,2; K2 10,0)."""
    return probed(situation("s04_finite_generator_steps"), max_steps=40)


@pytest.mark.slow
def test_headline_shows_trained_bars_per_stack_and_the_expected_line(finite_steps):
    fig = charts.batches_per_epoch(finite_steps)
    traces = _traces(fig)
    assert list(traces["Keras 3 trained"].y) == [10, 0, 2, 2, 2]
    assert list(traces["Keras 2 trained"].y) == [10, 0]
    assert list(traces["expected"].y) == [10] * 5
    assert list(traces["expected"].x) == [f"epoch {e}" for e in range(5)]
    assert list(traces["Keras 3 trained"].text[2:]) == ["2<br>replayed"] * 3
    assert traces["Keras 3 trained"].marker.color == charts.STACK_COLORS["keras3"]
    notes = [a.text for a in fig.layout.annotations]
    assert any("Keras 2 stopped after epoch 1" in n for n in notes)
    title = " ".join(re.sub(r"<[^>]+>", " ", fig.layout.title.text).split())  # lines joined
    assert "Keras 2: 2 of 5 epochs, then stopped: the data ran out" in title


@pytest.mark.slow
def test_coverage_marks_replayed_rows_after_the_generator_ran_dry(finite_steps):
    (run,) = runs_of(finite_steps, "keras3")
    matrix = coverage_matrix(run)
    assert matrix.shape == (5, 100)
    assert (matrix[0] == STATE["new"]).all()
    assert (matrix[1] == STATE["not seen this epoch"]).all()  # the empty epoch
    for epoch in (2, 3, 4):  # the 2 peeked batches: rows 0-19
        assert (matrix[epoch, :20] == STATE["replayed"]).all()
        assert (matrix[epoch, 20:] == STATE["not seen this epoch"]).all()
    fig = charts.sample_coverage(finite_steps)
    assert len([t for t in fig.data if t.type == "heatmap"]) == 2  # one panel per stack


@pytest.mark.slow
def test_coverage_shows_rows_never_seen_by_a_short_sequence():
    report = probed(situation("s02_sequence_len_too_small"), max_steps=40)
    for run in report["runs"]:
        matrix = coverage_matrix(run)
        assert (matrix[:, 50:] == STATE["never seen"]).all()
        assert (matrix[0, :50] == STATE["new"]).all()
        assert (matrix[1:, :50] == STATE["repeated"]).all()
    assert "50 of 100 rows never trained on" in charts.sample_coverage(report).layout.title.text


@pytest.mark.slow
def test_timeline_has_one_point_per_trained_batch(finite_steps):
    fig = charts.batch_timeline(finite_steps)
    waits = [t for t in fig.data if t.name == "waiting for data (ms)"]
    assert [len(t.y) for t in waits] == [16, 10]  # Keras 3: 10+0+2+2+2; Keras 2: 10+0
    rows = [t for t in fig.data if t.name == "batch size (rows)"]
    assert set(rows[0].y) == {10}


@pytest.mark.slow
def test_validation_batches_per_epoch():
    report = probed(situation("s12_finite_validation_generator"), max_steps=40)
    traces = _traces(charts.validation_batches(report))
    assert list(traces["Keras 3 validated"].y) == [11, 2, 2, 2]
    assert list(traces["Keras 2 validated"].y) == [11, 0, 0, 0]
    assert list(traces["expected"].y) == [11] * 4


def test_every_chart_renders_for_a_report_that_could_not_be_probed():
    report = probe(FIXTURES / "no_fit.py")
    for name, fig in charts.all_charts(report).items():
        (note,) = fig.layout.annotations
        assert note.text.startswith("Nothing was trained: "), name
        assert "never calls fit()" in note.text


def test_wide_data_is_binned_to_the_most_common_state():
    seen = [[0, 5999]]
    run = {
        "data": {"data_rows": 8000},
        "epochs": [
            {"epoch": 0, "seen_ranges": seen, "replayed_ranges": []},
            {"epoch": 1, "seen_ranges": seen, "replayed_ranges": [[0, 99]]},
        ],
    }
    matrix = coverage_matrix(run)
    binned, spans = charts._binned(matrix)
    assert binned.shape == (2, charts.MAX_COVERAGE_COLUMNS)
    assert spans[0] == (0, 19) and spans[-1] == (7980, 7999)
    assert binned[0, 0] == STATE["new"] and binned[1, 0] == STATE["replayed"]
    assert binned[1, 100] == STATE["repeated"]
    assert (binned[:, -1] == STATE["never seen"]).all()
    assert np.isin(binned, list(STATE.values())).all()


@pytest.mark.slow
def test_the_html_export_is_self_contained_with_every_chart(finite_steps):
    page = render_html(finite_steps)
    for name in charts.CHARTS:
        assert f'id="chart-{name}"' in page
    assert "<script src=" not in page and "Plotly.newPlot" in page  # plotly.js inlined
    embedded = re.search(r'id="fitprobe-report">(.*?)</script>', page, re.S).group(1)
    assert json.loads(embedded) == json.loads(json.dumps(finite_steps))
    assert finite_steps["verdict"] in page.replace("&#x27;", "'")


def test_batches_read_both_forms_of_a_report():
    from diagnostics.report.batches import Batches, append, new_table

    table = new_table()
    for step in range(3):
        append(table, {"epoch": 0, "step": step, "rows": 10, "replayed": step == 2, "t": 1.0})
    columns = Batches(table)
    old = Batches([{"epoch": 0, "step": s, "rows": 10, "replayed": s == 2} for s in range(3)])
    for view in (columns, old):
        assert len(view) == 3 and view[-1]["replayed"] and not view[0]["replayed"]
        assert [b["step"] for b in view] == [0, 1, 2] == [b["step"] for b in view[0:3]]
        assert view.column("rows") == [10, 10, 10]
    assert "t" not in columns[0]  # only the fields a report keeps
