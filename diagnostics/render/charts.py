"""Charts: pure functions `report -> plotly Figure`, shared by the app and the HTML export.

- `batches_per_epoch`: the headline: trained batches per epoch, a bar per stack,
  with the expected count as a line;
- `sample_coverage`: epoch × sample map: new, repeated, replayed, not seen in that
  epoch, never seen at all;
- `batch_timeline`: per trained batch, its size and the time spent waiting for data
  vs computing;
- `validation_batches`: validation batches per epoch against the expected count;
- for the gallery's lessons (`LESSON_CHARTS`): `batch_order`, each step's batch new,
  reshuffled or the same as the epoch before; `loss_per_epoch`, NaN epochs marked.
Every function returns a figure for any report, an unprobed one too (it then says
why there is nothing to draw), so a report always renders. Epochs are numbered from
0, as in the report and the findings. Colours are fixed per stack and per coverage
state, and fonts are sized for a projector.
"""

from __future__ import annotations

import html
import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from diagnostics.report import epoch_notes
from diagnostics.report.batches import Batches
from diagnostics.report.labels import STACK_LABELS

__all__ = [
    "CHARTS",
    "COVERAGE_STATES",
    "STACK_COLORS",
    "all_charts",
    "batch_timeline",
    "LESSON_CHARTS",
    "batch_order",
    "batches_per_epoch",
    "before_after",
    "loss_per_epoch",
    "prediction_overlay",
    "sample_coverage",
    "validation_batches",
]

STACK_COLORS = {"keras3": "#1f5fa8", "keras2": "#e07b00"}  # blue / orange: colour-blind safe
EXPECTED_COLOR = "#222222"
WAIT_COLOR = "#b9b9b9"
# Coverage states, in the order of their codes in the heatmap.
COVERAGE_STATES = {
    "never seen": "#5b5b5b",  # not trained on in any epoch of this fit() call
    "not seen this epoch": "#ececec",
    "new": "#2e9e44",  # trained for the first time in this epoch
    "repeated": "#8fbce6",  # trained again (the data came round again)
    "replayed": "#d62728",  # trained again because Keras replayed a batch it had cached
}
MAX_COVERAGE_COLUMNS = 400  # wider data is binned: each column is the most common state
MAX_COVERAGE_PANELS = 6  # fit() calls drawn in the coverage map; the report has them all
MAX_TIMELINE_POINTS = 2000  # longer runs are averaged over windows of steps
STOP_WORDS = {
    "data-exhausted": "the data ran out",
    "exception": "an exception",
    "callback": "a callback",
    "timeout": "the time limit",
    "probe-cap": "fitprobe's cap",
}
FONT = {"size": 16}
HEIGHT = 440
# Characters per line that fit a half-width column (the gallery's: 402 px in a 1280 px
# window): a title is bold at 22 px (plotly: 1.4 × FONT), about 13 px a character in
# Chromium; a subtitle 15 px (<sup>: 0.7 × the title's), about 7.7 px a character.
TITLE_CHARS = 28
SUBTITLE_CHARS = 48
LEGEND_PX = 300  # of that column, what a horizontal legend may fill: the plot area's width
TITLE_TOP_PX, TITLE_LINE_PX, LEGEND_ROW_PX = 36, 29, 26  # a subtitle line takes a title's


# --- shared pieces ------------------------------------------------------------------
def _label(stack: str) -> str:
    return STACK_LABELS.get(stack, stack)


def _runs_by_stack(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for run in report.get("runs", []):
        out.setdefault(run["stack"], []).append(run)
    return out


def _several_calls(report: dict) -> bool:
    return any(run["call"] for run in report.get("runs", []))


def _epoch_name(call: int, epoch: int, several: bool) -> str:
    return f"call {call} · epoch {epoch}" if several else f"epoch {epoch}"


def _asked_range(run: dict) -> range:
    """The epochs fit() was asked for (within the probe's cap), and any it trained."""
    fit = run["fit"]
    first = int(fit.get("initial_epoch") or 0)
    end = int(fit.get("epochs_run") or fit.get("epochs") or 0)
    last = max((e["epoch"] for e in run["epochs"]), default=first - 1)
    return range(first, max(end, last + 1))


def _epoch_axis(report: dict) -> list[str]:
    """Every (call, epoch) asked for or trained, on any stack, in order, as labels."""
    several = _several_calls(report)
    keys = sorted({(run["call"], e) for run in report.get("runs", []) for e in _asked_range(run)})
    return [_epoch_name(c, e, several) for c, e in keys]


def wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken between words, each escaped
    for plotly's text (which reads `<b>`, `<br>`, `&lt;`: a name in it is text, not markup)."""
    lines = textwrap.wrap(str(text), width, break_long_words=True, break_on_hyphens=False)
    return [html.escape(line, quote=False) for line in lines]


def _legend_rows(fig: go.Figure) -> int:
    """Rows `fig`'s horizontal legend takes in a half-width column. Plotly puts the entries
    on one row where they fit, else in columns as wide as the widest entry."""
    widths = [
        45 + 8.7 * len(trace.name)  # the symbol, the name at FONT's size
        for trace in fig.data
        if trace.name
        and (trace.showlegend if trace.showlegend is not None else trace.type != "heatmap")
    ]
    if sum(widths) <= LEGEND_PX:
        return 1 if widths else 0
    return -(-len(widths) // max(1, int(LEGEND_PX // max(widths))))


def _layout(fig: go.Figure, title: str, subtitle: str = "", **extra) -> go.Figure:
    """Title and subtitle wrapped to fit a half-width column (a note of the subtitle, between
    " · ", starts a line), the top margin sized to them and to the legend above the plot."""
    titles = wrapped(title, TITLE_CHARS)
    subtitles = [line for part in subtitle.split(" · ") for line in wrapped(part, SUBTITLE_CHARS)]
    text = "<br>".join(f"<b>{line}</b>" for line in titles)
    text += "".join(f"<br><sup>{line}</sup>" for line in subtitles)
    lines = len(titles) + len(subtitles)
    top = TITLE_TOP_PX + TITLE_LINE_PX * lines + LEGEND_ROW_PX * _legend_rows(fig)
    height = extra.pop("height", HEIGHT) + max(0, top - 100)  # the plot keeps its room
    fig.update_layout(  # yanchor "top" and its pad: the title's first line 8 px from the top
        title={
            "text": text,
            "x": 0.01,
            "xanchor": "left",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": 28},
        },
        template="plotly_white",
        font=FONT,
        height=height,
        margin={"l": 70, "r": 30, "t": top, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 1, "xanchor": "right"},
        **extra,
    )
    return fig


def _epoch_axes(fig: go.Figure, axis: list[str], y_title: str) -> None:
    fig.update_xaxes(title="epoch (from 0)", categoryorder="array", categoryarray=axis)
    fig.update_yaxes(title=y_title, rangemode="tozero")


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text="<br>".join(wrapped(message, SUBTITLE_CHARS)),
        showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=FONT,
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title)


def _nothing_ran(report: dict) -> str:
    if report.get("status") != "ok":
        return f"Nothing was trained: {report.get('status_reason') or report.get('status')}"
    return "No fit() epoch was observed"


# --- the headline ---------------------------------------------------------------------
def _stop_note(stack: str, runs: list[dict]) -> str:
    last = runs[-1]
    asked = len(_asked_range(last))
    done = last.get("epochs_completed") or 0
    stop = last.get("stopped_by") or "?"
    calls = f" (last of {len(runs)} fit() calls)" if len(runs) > 1 else ""
    if stop == "completed":
        return f"{_label(stack)}: {done} of {asked} epochs, completed{calls}"
    why = STOP_WORDS.get(last.get("stopped_by"), stop)
    if last.get("exception"):
        why += f" ({last['exception'].get('type')})"
    return f"{_label(stack)}: {done} of {asked} epochs, then stopped: {why}{calls}"


def batches_per_epoch(report: dict) -> go.Figure:
    """Trained batches per epoch, a bar per stack; expected batches as a line."""
    title = "Batches per epoch: expected vs trained"
    by_stack = _runs_by_stack(report)
    axis = _epoch_axis(report)
    if not axis:
        return _empty(title, _nothing_ran(report))
    several = _several_calls(report)
    fig = go.Figure()
    expected: dict[str, dict] = {}  # stack -> {(call, epoch): expected batches}
    for stack, runs in by_stack.items():
        xs, ys, hover, patterns, texts = [], [], [], [], []
        for run in runs:
            for e in run["epochs"]:
                name = _epoch_name(run["call"], e["epoch"], several)
                xs.append(name)
                ys.append(e["observed_batches"])
                hover.append(", ".join(epoch_notes(e)) or "finished")
                replayed = e.get("replayed_batches") or 0
                if replayed and replayed == e["observed_batches"]:
                    texts.append(f"{e['observed_batches']}<br>replayed")
                elif replayed:
                    texts.append(f"{e['observed_batches']}<br>({replayed} replayed)")
                else:
                    texts.append(str(e["observed_batches"]))
                patterns.append("/" if e.get("partial") else "")
            count = run.get("expected_batches_per_epoch")
            if count is not None:  # every epoch fit() was asked for, trained or not
                expected.setdefault(stack, {}).update(
                    {(run["call"], epoch): count for epoch in _asked_range(run)}
                )
        fig.add_bar(
            x=xs,
            y=ys,
            name=f"{_label(stack)} trained",
            marker={"color": STACK_COLORS.get(stack), "pattern": {"shape": patterns}},
            text=texts,
            textposition="outside",
            cliponaxis=False,
            customdata=hover,
            hovertemplate="%{x}: %{y} batches trained (%{customdata})<extra>"
            + _label(stack)
            + "</extra>",
        )
    _add_expected(fig, expected, several)
    _mark_stops(fig, by_stack, axis, several)
    notes = [_stop_note(stack, runs) for stack, runs in by_stack.items()]
    for record in report.get("stacks", []):
        if record["stack"] not in by_stack:
            notes.append(f"{_label(record['stack'])}: no epoch ({record.get('status')})")
    if not expected:
        notes.append("no expected count: the source has no natural epoch length")
    _layout(fig, title, " · ".join(notes), barmode="group")
    _epoch_axes(fig, axis, "batches")
    return fig


def _add_expected(fig: go.Figure, expected: dict[str, dict], several: bool) -> None:
    """One 'expected' line where the stacks agree, one per stack where they do not;
    `expected`: {stack: {(call, epoch): count}}. A line breaks between fit() calls."""
    merged: dict = {}
    for per_epoch in expected.values():
        for key, count in per_epoch.items():
            merged.setdefault(key, set()).add(count)
    agree = all(len(counts) == 1 for counts in merged.values())
    lines = (
        {"expected": {k: next(iter(v)) for k, v in merged.items()}}
        if agree
        else {stack: per_epoch for stack, per_epoch in expected.items()}
    )
    for name, per_epoch in lines.items():
        xs, ys, previous = [], [], None
        for call, epoch in sorted(per_epoch):
            label = _epoch_name(call, epoch, several)
            if previous is not None and previous != (call, epoch - 1):
                xs.append(label)  # a gap: the line does not join two fit() calls
                ys.append(None)
            xs.append(label)
            ys.append(per_epoch[(call, epoch)])
            previous = (call, epoch)
        fig.add_scatter(
            x=xs,
            y=ys,
            mode="lines+markers",
            name="expected" if agree else f"expected ({_label(name)})",
            line={
                "color": EXPECTED_COLOR if agree else STACK_COLORS.get(name),
                "dash": "dash",
                "width": 3,
            },
            marker={"symbol": "diamond", "size": 10},
            hovertemplate="%{x}: %{y} batches expected<extra></extra>",
        )


def _mark_stops(fig: go.Figure, by_stack: dict, axis: list[str], several: bool) -> None:
    """Where a stack stopped before the epochs it was asked for, say so on the chart."""
    for row, (stack, runs) in enumerate(by_stack.items()):
        last = runs[-1]
        if last.get("stopped_by") in (None, "completed") or not last["epochs"]:
            continue
        final = last["epochs"][-1]
        after = final["epoch"]
        when = f"during epoch {after}" if final.get("partial") else f"after epoch {after}"
        why = STOP_WORDS.get(last["stopped_by"], last["stopped_by"])
        following = _epoch_name(last["call"], after + (0 if final.get("partial") else 1), several)
        if following not in axis:
            axis.append(following)
        fig.add_annotation(
            x=following,
            y=0.55 - 0.12 * row,
            yref="paper",
            yanchor="bottom",
            text=f"<b>{_label(stack)} stopped {when}</b> ({why})",
            showarrow=False,
            font={"color": STACK_COLORS.get(stack), "size": FONT["size"]},
            xanchor="left",
        )


# --- coverage ---------------------------------------------------------------------------
def _mask(ranges_: list | None, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for start, end in ranges_ or []:
        mask[max(start, 0) : min(end, n - 1) + 1] = True
    return mask


def coverage_matrix(run: dict) -> np.ndarray | None:
    """Per epoch and data row, the code of its state (index in COVERAGE_STATES), or None
    when the rows could not be mapped to the source's array."""
    rows = (run.get("data") or {}).get("data_rows")
    epochs = run["epochs"]
    if not rows or not epochs or any(e.get("seen_ranges") is None for e in epochs):
        return None
    codes = list(COVERAGE_STATES)
    seen = np.array([_mask(e["seen_ranges"], rows) for e in epochs])
    replayed = np.array([_mask(e.get("replayed_ranges"), rows) for e in epochs])
    before = np.zeros_like(seen)
    before[1:] = np.logical_or.accumulate(seen, axis=0)[:-1]
    matrix = np.full(seen.shape, codes.index("not seen this epoch"), dtype=np.int8)
    matrix[:, ~seen.any(axis=0)] = codes.index("never seen")
    matrix[seen & ~before] = codes.index("new")
    matrix[seen & before] = codes.index("repeated")
    matrix[seen & replayed] = codes.index("replayed")
    return matrix


def _binned(matrix: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    rows = matrix.shape[1]
    bins = min(rows, MAX_COVERAGE_COLUMNS)
    edges = np.linspace(0, rows, bins + 1).astype(int)
    spans = [(int(a), int(b) - 1) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    if bins == rows:
        return matrix, spans
    states = len(COVERAGE_STATES)
    out = np.empty((matrix.shape[0], bins), dtype=np.int8)
    for j, (a, b) in enumerate(spans):
        counts = np.stack([(matrix[:, a : b + 1] == s).sum(axis=1) for s in range(states)])
        out[:, j] = counts.argmax(axis=0)
    return out, spans


def _discrete_scale() -> list:
    colors = list(COVERAGE_STATES.values())
    n = len(colors)
    scale = []
    for i, color in enumerate(colors):
        scale += [[i / n, color], [(i + 1) / n, color]]
    return scale


def sample_coverage(report: dict) -> go.Figure:
    """Epoch × sample: which rows each epoch trained, and whether new, repeated or replayed."""
    title = "Sample coverage: which rows each epoch trained on"
    runs = [r for r in report.get("runs", []) if r["epochs"]]
    if not runs:
        return _empty(title, _nothing_ran(report))
    mapped = [(run, coverage_matrix(run)) for run in runs]
    if all(m is None for _, m in mapped):
        return _coverage_counts(report, runs, title)
    panels = [(run, m) for run, m in mapped if m is not None]
    left_out = len(panels) - MAX_COVERAGE_PANELS
    panels = panels[:MAX_COVERAGE_PANELS]
    several = _several_calls(report)
    heights = [max(len(run["epochs"]), 2) for run, _ in panels]
    fig = make_subplots(
        rows=len(panels),
        cols=1,
        vertical_spacing=_spacing(len(panels), 0.16),
        row_heights=[h / sum(heights) for h in heights],
    )
    names = list(COVERAGE_STATES)
    for i, (run, matrix) in enumerate(panels, start=1):
        binned, spans = _binned(matrix)
        data = run["data"]
        hover = [[f"rows {a}-{b}" if a != b else f"row {a}" for a, b in spans] for _ in binned]
        fig.add_heatmap(
            z=binned,
            x=[a for a, _ in spans],
            y=[f"epoch {e['epoch']}" for e in run["epochs"]],
            customdata=[[names[v] for v in line] for line in binned],
            text=hover,
            zmin=-0.5,
            zmax=len(names) - 0.5,
            colorscale=_discrete_scale(),
            showscale=False,
            xgap=0,
            ygap=2,
            hovertemplate="%{y}, %{text}: %{customdata}<extra></extra>",
            row=i,
            col=1,
        )
        fig.update_xaxes(
            title=html.escape(f"row of {data.get('data_array')} ({data.get('data_rows')} rows)"),
            row=i,
            col=1,
        )
        panel = _label(run["stack"]) + (f", call {run['call']}" if several else "")
        fig.update_yaxes(title=panel, autorange="reversed", row=i, col=1)
    for name, color in COVERAGE_STATES.items():  # a legend for the discrete states
        fig.add_scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={"size": 14, "color": color, "symbol": "square"},
            name=name,
            showlegend=True,
        )
    never = [
        f"{_label(r['stack'])}: {r['data']['never_seen_rows']} of {r['data']['data_rows']} rows "
        "never trained on"
        for r, _ in panels
        if r["data"].get("never_seen_rows")
    ]
    if left_out > 0:
        never.append(f"{left_out} more fit() calls not drawn (see the report)")
    _layout(
        fig,
        title,
        " · ".join(never) or "every row was trained on at least once",
        height=max(HEIGHT, 200 + 34 * sum(heights) + 90 * len(panels)),
    )
    return fig


def _coverage_counts(report: dict, runs: list[dict], title: str) -> go.Figure:
    """Where rows could not be mapped to an array: new vs repeated samples per epoch."""
    several = _several_calls(report)
    fig = go.Figure()
    for run in runs:
        names = [_epoch_name(run["call"], e["epoch"], several) for e in run["epochs"]]
        new = [e.get("new_samples") for e in run["epochs"]]
        again = [
            None if e.get("samples_seen") is None else e["samples_seen"] - (e["new_samples"] or 0)
            for e in run["epochs"]
        ]
        label = _label(run["stack"])
        fig.add_bar(
            x=names,
            y=new,
            name=f"{label}: new",
            offsetgroup=run["stack"],
            marker_color=COVERAGE_STATES["new"],
            marker_line={"color": STACK_COLORS.get(run["stack"]), "width": 3},
        )
        fig.add_bar(
            x=names,
            y=again,
            name=f"{label}: seen before",
            offsetgroup=run["stack"],
            base=new,
            marker_color=COVERAGE_STATES["repeated"],
            marker_line={"color": STACK_COLORS.get(run["stack"]), "width": 3},
        )
    _layout(
        fig,
        title,
        "distinct samples per epoch, from row fingerprints (the rows could not be mapped "
        "to an array of the source)",
        barmode="group",
    )
    _epoch_axes(fig, _epoch_axis(report), "distinct samples")
    return fig


# --- batch timeline ---------------------------------------------------------------------
def _windowed(values: list, size: int) -> list:
    out = []
    for i in range(0, len(values), size):
        chunk = [v for v in values[i : i + size] if v is not None]
        out.append(sum(chunk) / len(chunk) if chunk else None)
    return out


def _spacing(rows: int, wanted: float) -> float:
    """Vertical space between subplot rows: `wanted`, or less where many rows need it."""
    return 0.0 if rows < 2 else min(wanted, 0.5 / (rows - 1))


def batch_timeline(report: dict) -> go.Figure:
    """Per trained batch: rows in it, and time waiting for data vs time computing. One
    panel per stack; its fit() calls follow each other, split by solid lines."""
    title = "Batch timeline: batch size, waiting for data vs computing"
    by_stack = {
        stack: [r for r in runs if r.get("batches")]
        for stack, runs in _runs_by_stack(report).items()
    }
    by_stack = {stack: runs for stack, runs in by_stack.items() if runs}
    if not by_stack:
        return _empty(title, _nothing_ran(report))
    fig = make_subplots(
        rows=len(by_stack),
        cols=1,
        specs=[[{"secondary_y": True}]] * len(by_stack),
        vertical_spacing=_spacing(len(by_stack), 0.18),
    )
    totals, windowed = [], False
    for i, (stack, runs) in enumerate(by_stack.items(), start=1):
        tables = [Batches(run["batches"]) for run in runs]
        waits = [v for t in tables for v in t.column("wait_ms")]
        steps_ms = [v for t in tables for v in t.column("step_ms")]
        sizes = [v for t in tables for v in t.column("rows")]
        count = len(waits)
        size = max(1, -(-count // MAX_TIMELINE_POINTS))
        windowed = windowed or size > 1
        steps = list(range(0, count, size))
        wait = _windowed(waits, size)
        step = _windowed(steps_ms, size)
        rows = _windowed(sizes, size)
        first = i == 1
        fig.add_bar(
            x=steps, y=wait, name="waiting for data (ms)", marker_color=WAIT_COLOR,
            legendgroup="wait", showlegend=first, row=i, col=1,
            hovertemplate="batch %{x}: %{y:.1f} ms waiting for data<extra></extra>",
        )  # fmt: skip
        fig.add_bar(
            x=steps, y=step, name=f"{_label(stack)} computing (ms)",
            marker_color=STACK_COLORS.get(stack), row=i, col=1,
            hovertemplate="batch %{x}: %{y:.1f} ms in the training step<extra></extra>",
        )  # fmt: skip
        fig.add_scatter(
            x=steps, y=rows, mode="lines", name="batch size (rows)",
            line={"color": EXPECTED_COLOR, "width": 2, "shape": "hv"},
            legendgroup="rows", showlegend=first, row=i, col=1, secondary_y=True,
            hovertemplate="batch %{x}: %{y} rows<extra></extra>",
        )  # fmt: skip
        start = 0
        for n, run in enumerate(runs):  # dotted where an epoch ends, solid where a call does
            for e in run["epochs"]:
                start += e["observed_batches"]
                last = e is run["epochs"][-1]
                if start < count and (not last or n < len(runs) - 1):
                    dash = "solid" if last else "dot"
                    fig.add_vline(x=start - 0.5, line={"color": "#999", "dash": dash}, row=i, col=1)
        calls = " (fit() calls one after another)" if len(runs) > 1 else " (all epochs, in order)"
        fig.update_xaxes(
            title="trained batch" + calls,
            range=[-0.5 * size, max(count, 5) - 0.5 * size],
            row=i,
            col=1,
        )
        most = max((r for r in rows if r is not None), default=1)
        fig.update_yaxes(title=f"{_label(stack)}: ms", rangemode="tozero", row=i, col=1)
        fig.update_yaxes(
            title="rows", range=[0, most * 1.25], tickformat=",d", showgrid=False,
            row=i, col=1, secondary_y=True,
        )  # fmt: skip
        waited = sum(v or 0 for v in waits)
        computed = sum(v or 0 for v in steps_ms)
        if waited + computed:
            share = 100 * waited / (waited + computed)
            total = (waited + computed) / 1000
            totals.append(f"{_label(stack)}: {share:.0f}% of {total:.1f} s waiting for data")
    subtitle = " · ".join(totals)
    if windowed:
        subtitle += " (long runs averaged over windows of batches)"
    height = max(HEIGHT, 160 + 260 * len(by_stack))
    _layout(fig, title, subtitle, barmode="stack", bargap=0.05, height=height)
    return fig


# --- validation ---------------------------------------------------------------------------
def _validates(run: dict) -> bool:
    fit = run["fit"]
    return (
        fit.get("validation") is not None
        or bool(fit.get("validation_split"))
        or any(e.get("val_batches") for e in run["epochs"])
    )


def validation_batches(report: dict) -> go.Figure:
    """Validation batches per epoch, a bar per stack, with the expected count."""
    title = "Validation batches per epoch"
    runs = [r for r in report.get("runs", []) if r["epochs"] and _validates(r)]
    if not runs:
        message = _nothing_ran(report) if not report.get("runs") else "No validation data"
        return _empty(
            title, message + (" passed to fit()" if message == "No validation data" else "")
        )
    several = _several_calls(report)
    fig = go.Figure()
    expected: dict[str, dict] = {}  # stack -> {(call, epoch): expected validation batches}
    for run in runs:
        names = [_epoch_name(run["call"], e["epoch"], several) for e in run["epochs"]]
        counts = [e.get("val_batches") for e in run["epochs"]]
        fig.add_bar(
            x=names,
            y=counts,
            name=f"{_label(run['stack'])} validated",
            marker_color=STACK_COLORS.get(run["stack"]),
            text=counts,
            textposition="outside",
            cliponaxis=False,
            legendgroup=run["stack"],
            showlegend=run["stack"] not in expected,
        )
        want = run.get("expected_val_batches")
        expected.setdefault(run["stack"], {}).update(
            {} if want is None else {(run["call"], e["epoch"]): want for e in run["epochs"]}
        )
    axis = _epoch_axis(report)
    _add_expected(fig, {s: e for s, e in expected.items() if e}, several)
    _layout(
        fig,
        title,
        "0 means validation was skipped (or had no data) at that epoch's end",
        barmode="group",
    )
    _epoch_axes(fig, axis, "validation batches")
    return fig


# --- lessons: batch order, loss ---------------------------------------------------------
# A trained batch against the epoch before (in the gallery: the chart of a lesson where the
# batch counts and the coverage are the same, broken or fixed).
ORDER_STATES = {
    "new": COVERAGE_STATES["new"],  # not trained before in this fit() call
    "reshuffled": COVERAGE_STATES["repeated"],  # trained before, at another step
    "same as the epoch before": "#d62728",  # the batch this step trained an epoch ago
}
MAX_ORDER_STEPS = 400  # steps of an epoch drawn; the subtitle counts them all


def _order_states(run: dict) -> dict[int, list[int]]:
    """{epoch: [index in ORDER_STATES per step]} from the batches' identities."""
    seen: set[str] = set()
    before: dict[int, str] = {}  # step -> batch of the epoch before
    rows: dict[int, list[int]] = {}
    current, this_epoch = None, {}
    for batch in Batches(run.get("batches") or []):
        if batch["epoch"] != current:
            before, this_epoch, current = this_epoch, {}, batch["epoch"]
        identity = str(batch.get("hash"))
        if identity not in seen:
            state = 0
        else:
            state = 2 if before.get(batch["step"]) == identity else 1
        seen.add(identity)
        this_epoch[batch["step"]] = identity
        rows.setdefault(current, []).append(state)
    return rows


def batch_order(report: dict) -> go.Figure:
    """Epoch × step: whether each trained batch is new, reshuffled, or the very batch the
    same step trained the epoch before (a source read in the same order every epoch)."""
    title = "Batch order across epochs"
    runs = [
        r for r in report.get("runs", []) if r["epochs"] and len(Batches(r.get("batches") or []))
    ]
    if not runs:
        return _empty(title, _nothing_ran(report))
    runs = runs[:MAX_COVERAGE_PANELS]
    several = _several_calls(report)
    heights = [max(len(run["epochs"]), 2) for run in runs]
    fig = make_subplots(
        rows=len(runs),
        cols=1,
        vertical_spacing=_spacing(len(runs), 0.24),  # room for each panel's axis title
        row_heights=[h / sum(heights) for h in heights],
    )
    names, notes = list(ORDER_STATES), []
    colors = list(ORDER_STATES.values())
    scale = [[(k + edge) / len(colors), c] for k, c in enumerate(colors) for edge in (0, 1)]
    for i, run in enumerate(runs, start=1):
        states = _order_states(run)
        epochs = sorted(states)
        width = min(max(len(v) for v in states.values()), MAX_ORDER_STEPS)
        z = [(states[e] + [None] * width)[:width] for e in epochs]
        fig.add_heatmap(
            z=z, x=list(range(width)), y=[f"epoch {e}" for e in epochs],
            zmin=-0.5, zmax=len(names) - 0.5, showscale=False, xgap=1, ygap=2,
            colorscale=scale,
            customdata=[[None if v is None else names[v] for v in row] for row in z],
            hovertemplate="%{y}, step %{x}: %{customdata}<extra></extra>", row=i, col=1,
        )  # fmt: skip
        fig.update_xaxes(title="step of the epoch", row=i, col=1)
        panel = _label(run["stack"]) + (f", call {run['call']}" if several else "")
        fig.update_yaxes(title=panel, autorange="reversed", row=i, col=1)
        later = [v for e in epochs[1:] for v in states[e]]
        if later:
            counts = [f"{later.count(k)} {name}" for k, name in enumerate(names) if k in later]
            notes.append(
                f"{panel}, after epoch {epochs[0]}: "
                + (
                    f"all {len(later)} batches the same as the epoch before, in order"
                    if later.count(2) == len(later)
                    else f"{', '.join(counts)} (of {len(later)} batches)"
                )
            )
    for name, color in ORDER_STATES.items():  # a legend for the discrete states
        fig.add_scatter(
            x=[None], y=[None], mode="markers", name=name, showlegend=True,
            marker={"size": 14, "color": color, "symbol": "square"},
        )  # fmt: skip
    height = max(HEIGHT, 200 + 34 * sum(heights) + 90 * len(runs))
    _layout(fig, title, " · ".join(notes) or "a single epoch: nothing to compare", height=height)
    return fig


def loss_per_epoch(report: dict) -> go.Figure:
    """The training loss per epoch, a line per stack; an epoch whose loss is not a number
    (NaN or infinite: a non-finite batch) is marked on the axis."""
    title = "Loss per epoch"
    by_stack = _runs_by_stack(report)
    axis = _epoch_axis(report)
    if not axis:
        return _empty(title, _nothing_ran(report))
    several = _several_calls(report)
    fig, notes = go.Figure(), []
    for stack, runs in by_stack.items():
        epochs = [(run, e) for run in runs for e in run["epochs"] if e["observed_batches"]]
        xs = [_epoch_name(run["call"], e["epoch"], several) for run, e in epochs]
        losses = [e.get("loss") for _, e in epochs]
        color = STACK_COLORS.get(stack)
        fig.add_scatter(
            x=xs, y=losses, mode="lines+markers", name=f"{_label(stack)} loss",
            line={"color": color, "width": 3}, marker={"size": 9},
        )  # fmt: skip
        broken = [x for x, loss in zip(xs, losses, strict=True) if loss is None]
        if broken:
            fig.add_scatter(
                x=broken, y=[0] * len(broken), mode="markers+text", text=["NaN"] * len(broken),
                textposition="top center", name=f"{_label(stack)}: loss not a number",
                marker={"symbol": "x", "size": 14, "color": color}, cliponaxis=False,
            )  # fmt: skip
            notes.append(f"{_label(stack)}: loss not a number in {len(broken)} of {len(xs)} epochs")
    _layout(fig, title, " · ".join(notes) or "every epoch's loss is a number")
    _epoch_axes(fig, axis, "loss")
    return fig


# --- the playground ------------------------------------------------------------------------
def prediction_overlay(predictions: dict, observed: list[dict] | None = None) -> go.Figure:
    """Predicted batches per epoch per stack (outlined bars) and, once a probe ran, the
    observed ones (solid bars) beside them. `predictions`: {stack: object with `batches`
    and `outcome`} (see `playground.predict`); `observed`: rows of `playground.compare`."""
    title = "Predicted vs observed batches per epoch"
    fig = go.Figure()
    seen = {row["stack"]: row for row in observed or []}
    longest = max(
        [len(p.batches) for p in predictions.values()]
        + [len(r.get("observed") or []) for r in seen.values()]
        + [1]
    )
    axis = [f"epoch {i}" for i in range(longest)]
    for stack, prediction in predictions.items():
        color = STACK_COLORS.get(stack)
        fig.add_bar(
            x=axis[: len(prediction.batches)],
            y=prediction.batches,
            name=f"{_label(stack)} predicted",
            offsetgroup=f"{stack}-predicted",
            marker={"color": "rgba(0,0,0,0)", "line": {"color": color, "width": 3},
                    "pattern": {"shape": "/", "fgcolor": color}},
            text=prediction.batches,
            textposition="outside",
            cliponaxis=False,
        )  # fmt: skip
        if stack in seen:
            counts = seen[stack].get("observed") or []
            fig.add_bar(
                x=axis[: len(counts)],
                y=counts,
                name=f"{_label(stack)} observed",
                offsetgroup=f"{stack}-observed",
                marker_color=color,
                text=counts,
                textposition="outside",
                cliponaxis=False,
            )
    subtitle = " · ".join(
        f"{_label(s)}: predicted {p.outcome}"
        + (f", observed {seen[s].get('observed_stopped_by')}" if s in seen else "")
        for s, p in predictions.items()
    )
    _layout(fig, title, subtitle, barmode="group")
    _epoch_axes(fig, axis, "batches")
    return fig


CHARTS = {
    "batches": batches_per_epoch,
    "coverage": sample_coverage,
    "timeline": batch_timeline,
    "validation": validation_batches,
}


# The charts a gallery lesson may show: the report's, and those a lesson needs besides.
LESSON_CHARTS = {**CHARTS, "order": batch_order, "loss": loss_per_epoch}


def all_charts(report: dict) -> dict[str, go.Figure]:
    """Every chart of a report, by name, in display order."""
    return {name: chart(report) for name, chart in CHARTS.items()}


# --- before and after -------------------------------------------------------------------
BEFORE_COLOR = "#b9b9b9"


def before_after(before: dict, after: dict) -> go.Figure:
    """Trained batches per epoch before and after an edit, side by side per stack (grey:
    before; the stack's colour: after), with each report's expected count as a line."""
    title = "Batches per epoch: before → after"
    stacks = [s for s in STACK_LABELS if s in _runs_by_stack(before) | _runs_by_stack(after)]
    if not stacks:
        return _empty(title, "no epoch ran, before or after")
    several = _several_calls(before) or _several_calls(after)
    fig = make_subplots(
        rows=1, cols=len(stacks), subplot_titles=[_label(s) for s in stacks], shared_yaxes=True
    )
    for col, stack in enumerate(stacks, start=1):
        for which, report, color in (("before", before, BEFORE_COLOR), ("after", after, None)):
            runs = _runs_by_stack(report).get(stack, [])
            xs = [_epoch_name(r["call"], e["epoch"], several) for r in runs for e in r["epochs"]]
            ys = [e["observed_batches"] for r in runs for e in r["epochs"]]
            fig.add_bar(
                x=xs, y=ys, name=which, legendgroup=which, showlegend=col == 1,
                marker={"color": color or STACK_COLORS.get(stack)},
                text=[str(y) for y in ys], textposition="outside", cliponaxis=False,
                hovertemplate=f"%{{x}}: %{{y}} batches trained ({which})<extra>"
                + _label(stack) + "</extra>",
                row=1, col=col,
            )  # fmt: skip
            expected = [
                (_epoch_name(r["call"], e, several), r["expected_batches_per_epoch"])
                for r in runs
                if r.get("expected_batches_per_epoch") is not None
                for e in _asked_range(r)
            ]
            if expected:
                fig.add_scatter(
                    x=[x for x, _ in expected], y=[y for _, y in expected],
                    mode="lines+markers", name=f"expected ({which})", legendgroup=f"e-{which}",
                    showlegend=col == 1,
                    line={"color": EXPECTED_COLOR, "dash": "dot" if which == "before" else "solid"},
                    row=1, col=col,
                )  # fmt: skip
    _layout(fig, title, f"report {before['id']} → report {after['id']}", barmode="group")
    fig.update_xaxes(title="epoch (from 0)")
    fig.update_yaxes(title="batches", rangemode="tozero", col=1)
    return fig
