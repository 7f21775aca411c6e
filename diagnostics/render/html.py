"""A report as one self-contained HTML page: the charts (plotly.js inlined, so it opens
offline), the findings, the epoch table, warnings, output, and the report's JSON."""

from __future__ import annotations

import html
import json

from diagnostics.render.text import HEADER, table_rows
from diagnostics.report import input_notes, run_notes, to_json
from diagnostics.report.labels import STACK_LABELS

__all__ = ["render_html"]


def render_html(report: dict, *, charts: bool = True) -> str:
    """A self-contained page: verdict, findings with fixes, the charts (plotly.js inlined,
    so it opens offline), the epoch table, warnings, output, and the report JSON."""
    esc = html.escape
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
        + f" {esc(f['title'])}</p><p>Fix:</p><pre>{esc(f.get('fix') or '')}</pre>"
        f"<details><summary>evidence</summary><pre>"
        f"{esc(json.dumps(f.get('evidence'), indent=2, default=str))}</pre></details></div>"
        for f in report.get("findings", [])
    )
    notes = "".join(f"<li>{esc(n)}</li>" for n in run_notes(report) + input_notes(report))
    output = "".join(
        f"<details><summary>{esc(STACK_LABELS.get(s['stack'], s['stack']))} {stream}"
        f"</summary><pre>{esc((s.get(stream) or {}).get('text') or '')}</pre></details>"
        for s in report.get("stacks", [])
        for stream in ("stdout", "stderr")
        if (s.get(stream) or {}).get("text")
    )
    figures = _chart_html(report) if charts else ""
    # Raw JSON (a script's text is not HTML-decoded); "<" escaped so no "</script>" ends it.
    embedded = to_json(report, indent=None).replace("<", "\\u003c")
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
<p class="verdict">{esc(report["verdict"])}</p>
<p>status <code>{esc(report["status"])}</code>, created {esc(report["created"])},
TensorFlow {esc(str(env.get("tensorflow")))}, device {esc(str(env.get("device")))},
isolation {esc(str(env.get("isolation")))}, report <code>{esc(report["id"])}</code></p>
<h2>Findings</h2>{findings or "<p>none</p>"}
<div id="charts">{figures}</div>
<h2>Epochs</h2>
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
<ul>{notes}</ul>
<h2>Warnings</h2><ul>{warnings or "<li>none</li>"}</ul>
<h2>Output</h2>{output or "<p>none</p>"}
<script type="application/json" id="fitprobe-report">{embedded}</script>
</body></html>
"""


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
