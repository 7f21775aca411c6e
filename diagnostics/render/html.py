"""A report as one self-contained HTML page: the charts (plotly.js inlined, so it opens
offline), the findings, the epoch table, warnings, output, and the report's JSON."""

from __future__ import annotations

import html
import json

from diagnostics.render.markdown import exceptions, one_line, segments, span_text
from diagnostics.render.text import HEADER, severity_note, table_rows
from diagnostics.report import input_notes, run_notes, to_json
from diagnostics.report.labels import STACK_LABELS, plural
from diagnostics.report.output import quiet

__all__ = ["render_html"]


def render_html(report: dict, *, charts: bool = True) -> str:
    """A self-contained page: verdict, findings with fixes, the charts (plotly.js inlined,
    so it opens offline), the epoch table, warnings, output, and the report JSON."""
    esc = _text
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in table_rows(report)
    )
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADER)
    warnings = "".join(
        f"<li>{esc(STACK_LABELS.get(r['stack'], r['stack']))}: {esc(w)}</li>"
        for r in report["runs"]
        for w in r.get("warnings", [])
    )
    findings = "".join(
        f'<div class="finding {esc(f["severity"])}"><p><b>{esc(f["severity"].upper())}</b> '
        f"<code>{esc(f['code'])}</code>"
        + (
            f" ({esc(', '.join(STACK_LABELS.get(s, s) for s in f['stack']))})"
            if f.get("stack")
            else ""
        )
        + f" {_prose(f['title'])}</p>"
        + (f"<p><i>{esc(severity_note(f))}</i></p>" if severity_note(f) else "")
        + f"<p>Fix:</p><pre>{esc(f.get('fix') or '')}</pre>"
        f"<details><summary>evidence</summary><pre>"
        f"{esc(json.dumps(f.get('evidence'), indent=2, default=str))}</pre></details></div>"
        for f in report.get("findings", [])
    )
    notes = "".join(f"<li>{_prose(n)}</li>" for n in run_notes(report) + input_notes(report))
    output = "".join(
        _output(STACK_LABELS.get(s["stack"], s["stack"]), stream, s[stream]["text"])
        for s in report.get("stacks", [])
        for stream in ("stdout", "stderr")
        if (s.get(stream) or {}).get("text")
    )
    figures = _chart_html(report) if charts else ""
    env = report["environment"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fitprobe: {esc(report["input"]["name"])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}}
.verdict{{font-size:1.25rem;font-weight:600}}pre{{background:#f6f6f6;padding:.5rem;overflow:auto}}
.finding{{border-left:.4rem solid #999;padding:.1rem .8rem;margin:.8rem 0}}
.finding.error{{border-color:#c62828}}.finding.warning{{border-color:#ef8f00}}
.finding.info{{border-color:#1f5fa8}}</style></head>
<body><h1>fitprobe report: {esc(report["input"]["name"])}</h1>
<p class="verdict">{_prose(report["verdict"])}</p>{_labelled(report)}
<p>status <code>{esc(report["status"])}</code>, created {esc(report["created"])},
TensorFlow {esc(str(env.get("tensorflow")))}, device {esc(str(env.get("device")))},
isolation {esc(str(env.get("isolation")))}, report <code>{esc(report["id"])}</code></p>
<h2>Findings</h2>{findings or "<p>none</p>"}
<div id="charts">{figures}</div>
<h2>Epochs</h2>
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
<ul>{notes}</ul>
{_exceptions(report)}<h2>Warnings</h2><ul>{warnings or "<li>none</li>"}</ul>
<h2>Output</h2>{output or "<p>none</p>"}
<script type="application/json" id="fitprobe-report">{embedded_json(report)}</script>
</body></html>
"""


def _text(value) -> str:
    """Any value as the text of an element or of a quoted attribute."""
    return html.escape("" if value is None else str(value))


def _prose(text) -> str:
    """fitprobe's sentences: their `code spans` as <code>, everything escaped."""
    return "".join(
        f"<code>{_text(span_text(piece))}</code>" if is_code else _text(piece)
        for is_code, piece in segments("" if text is None else str(text))
    )


def embedded_json(report: dict) -> str:
    """The report's JSON, for a <script type="application/json"> element: read back with
    `json.loads(element.textContent)`. A script element's text is not HTML-decoded, so
    `<`, `>` and `&` are written as JSON's \\u escapes: no string in the report can end
    the element (`</script>`) or open a comment in it (`<!--`)."""
    text = to_json(report, indent=None)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _output(label: str, stream: str, text: str) -> str:
    """A stack's stdout or stderr without TensorFlow's and CUDA's logging, the raw text
    inside it."""
    kept, hidden = quiet(text)
    raw = (
        f"<details><summary>raw {stream} ({plural(hidden, 'line')} of TensorFlow/CUDA "
        f"logging hidden)</summary><pre>{_text(text)}</pre></details>"
        if hidden
        else ""
    )
    summary = f"<summary>{_text(label)} {stream}</summary>"
    return f"<details>{summary}<pre>{_text(kept)}</pre>{raw}</details>"


def _labelled(report: dict) -> str:
    label = f"<p>label: <b>{_text(report['label'])}</b></p>" if report.get("label") else ""
    note = f'<p class="note">{_text(report["note"])}</p>' if report.get("note") else ""
    return label + note


def _exceptions(report: dict) -> str:
    """What ended the user's code: each fit() call's exception, the script's own traceback."""
    items = "".join(
        f"<li>{_text(STACK_LABELS.get(r['stack'], r['stack']))}, fit() call {r['call']}: "
        f"<code>{_text(exc.get('type'))}</code>"
        + (f" at {_text(exc['file'])}, line {_text(exc['line'])}" if exc.get("file") else "")
        + (f" (<code>{_text(exc['code'])}</code>)" if exc.get("code") else "")
        + f": {_text(one_line(exc.get('message')))}"
        + (f" (raised as <code>{_text(wrapper)}</code>)" if wrapper else "")
        + "</li>"
        for r, exc, wrapper in exceptions(report)
    )
    tracebacks = "".join(
        f"<details><summary>{_text(STACK_LABELS.get(s['stack'], s['stack']))}: the traceback "
        f"that ended the script</summary><pre>{_text(s['script_exception']['traceback'])}</pre>"
        "</details>"
        for s in report.get("stacks", [])
        if (s.get("script_exception") or {}).get("traceback")
    )
    if not (items or tracebacks):
        return ""
    return f"<h2>Exceptions</h2><ul>{items}</ul>{tracebacks}\n"


def _chart_html(report: dict) -> str:
    from plotly.offline import get_plotlyjs  # plotly only where a page is drawn

    from diagnostics.render.charts import CHARTS

    parts = [f'<script type="text/javascript">{get_plotlyjs()}</script>']
    for name, draw in CHARTS.items():
        try:
            fig = draw(report)
        except Exception as exc:  # a chart that fails is a note; the page still renders
            parts.append(
                f'<p id="chart-{name}">fitprobe could not draw this chart '
                f"({html.escape(type(exc).__name__)}: {html.escape(str(exc))}).</p>"
            )
            continue
        parts.append(
            fig.to_html(
                full_html=False,
                include_plotlyjs=False,
                div_id=f"chart-{name}",
                config={"displaylogo": False, "responsive": True},
            )
        )
    return "\n".join(parts)
