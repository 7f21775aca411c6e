"""The gallery's charts: each lesson shows the chart where its broken and fixed variants
differ, and every chart's title fits the gallery's half-width column.

The reports are the gallery tests' own (`tests.conftest.probed_sample`, one probe per
variant per session): this file adds no probe to a run of the whole suite.
"""

from __future__ import annotations

import html
import math
import re
import statistics

import pytest

from diagnostics.render import charts
from diagnostics.render.charts import LESSON_CHARTS, SUBTITLE_CHARS, TITLE_CHARS
from sample_generators import VARIANTS, samples

from .conftest import probed_sample

SAMPLES = samples()


def drawn(name: str, report: dict) -> list:
    """What a lesson chart shows, less what differs from one run to the next: times (the
    timeline's waits as an order of magnitude) and loss values (a number, or not)."""
    fig = LESSON_CHARTS[name](report)
    out = []
    for trace in fig.data:
        if trace.type == "heatmap":
            out.append((trace.name, [list(row) for row in trace.z]))
        elif name == "timeline" and trace.name == "waiting for data (ms)":
            waits = [w for w in trace.y if w is not None] or [0]
            out.append((trace.name, round(math.log10(max(statistics.median(waits), 0.01)))))
        elif name == "timeline":
            continue  # the training step's time: the machine's, not the lesson's
        elif name == "loss":
            numbers = ["number" if y is not None else None for y in trace.y]
            out.append((trace.name, list(trace.x), numbers))
        else:
            out.append((trace.name, list(trace.x or []), list(trace.y or [])))
    return out


def title_lines(fig) -> tuple[list[str], list[str]]:
    """(title lines, subtitle lines) as a reader sees them."""
    titles, subtitles = [], []
    for line in (fig.layout.title.text or "").split("<br>"):
        text = html.unescape(re.sub(r"<[^>]+>", "", line))
        (subtitles if line.startswith("<sup>") else titles).append(text)
    return titles, subtitles


def test_every_sample_names_a_lesson_chart():
    for sample in SAMPLES:
        assert sample.chart in LESSON_CHARTS, sample.name
        assert not (sample.same_charts and sample.chart != "batches"), sample.name


def test_long_titles_and_subtitles_wrap_between_words():
    fig = charts._empty("Batches per epoch: expected vs trained", "x")
    charts._layout(
        fig,
        "Batches per epoch: expected vs trained",
        "Keras 3: 1 of 5 epochs, then stopped: an exception (InvalidArgumentError) · "
        "Keras 2: a_name_far_too_long_to_fit_on_any_line_of_the_half_width_column_at_all "
        "· <script>",
    )
    titles, subtitles = title_lines(fig)
    assert " ".join(titles) == "Batches per epoch: expected vs trained"
    assert subtitles[0].startswith("Keras 3: ") and subtitles[-1] == "<script>"
    assert all(len(line) <= TITLE_CHARS for line in titles)
    assert all(len(line) <= SUBTITLE_CHARS for line in subtitles)
    assert "<script>" not in fig.layout.title.text  # plotly's markup: escaped


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_the_lesson_chart_is_where_broken_and_fixed_differ(sample):
    broken, fixed = (probed_sample(sample.name, variant) for variant in VARIANTS)
    if sample.same_charts:  # the lesson: both variants train alike
        for name in ("batches", "coverage"):
            assert drawn(name, broken) == drawn(name, fixed), name
    else:
        assert drawn(sample.chart, broken) != drawn(sample.chart, fixed), (
            f"{sample.name}: broken and fixed draw the same {sample.chart} chart; "
            f"these differ: {[n for n in LESSON_CHARTS if drawn(n, broken) != drawn(n, fixed)]}"
        )
    for report in (broken, fixed):
        for name, draw in LESSON_CHARTS.items():
            titles, subtitles = title_lines(draw(report))
            assert all(len(line) <= TITLE_CHARS for line in titles), (name, titles)
            assert all(len(line) <= SUBTITLE_CHARS for line in subtitles), (name, subtitles)
