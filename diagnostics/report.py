"""The report: the single source for the UI, the CLI, the exports and the history.

`build()` assembles the JSON of schema "fitprobe.report/1" (see design.md for
the required keys) from the stack records and runs; `render_*` turn a report
into text without re-running anything.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import platform
import uuid

from . import sandbox
from .notebook import locate
from .observations import STACK_LABELS
from .rules.base import plural

SCHEMA = "fitprobe.report/1"
STATUS_PRIORITY = ("timeout", "crashed", "input-error")

__all__ = [
    "render_findings",
    "input_notes",
    "SCHEMA",
    "build",
    "epoch_table",
    "input_error",
    "exit_code",
    "render_table",
    "render_markdown",
    "render_html",
    "to_json",
]


def _now_iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def _environment(stacks: list[dict], device: str) -> dict:
    first = next((s for s in stacks if s.get("tensorflow")), {})
    return {
        "python": first.get("python") or platform.python_version(),
        "tensorflow": first.get("tensorflow"),
        "device": first.get("device") or device,
        "requested_device": device,
        "keras_versions": {s["stack"]: s.get("keras_version") for s in stacks},
        "platform": platform.platform(terse=True),
        # What contained the workers: every stack ran under the same, detected once.
        "isolation": next(
            (s["isolation"] for s in stacks if s.get("isolation")), sandbox.detect().label
        ),
        "sandbox": sandbox.detect().to_dict(),
    }


def _overall_status(stacks: list[dict]) -> tuple[str, str | None]:
    if any(s["status"] == "ok" for s in stacks):
        return "ok", None
    for status in STATUS_PRIORITY:
        hit = next((s for s in stacks if s["status"] == status), None)
        if hit:
            return status, hit.get("reason")
    reasons = [s.get("reason") for s in stacks if s.get("reason")]
    return "input-error", (reasons[0] if reasons else "nothing could be probed")


def build(
    *, input_info: dict, options: dict, stacks: list[dict], runs: list[dict], started: float
) -> dict:
    status, reason = _overall_status(stacks)
    report = {
        "schema": SCHEMA,
        "id": uuid.uuid4().hex[:16],
        "created": _now_iso(started),
        "duration_s": round(dt.datetime.now(dt.UTC).timestamp() - started, 3),
        "status": status,
        "status_reason": reason,
        "input": input_info,
        "environment": _environment(stacks, options.get("device", "cpu")),
        "options": options,
        "verdict": "",  # written by diagnose.verdict, from the findings
        "findings": [],
        "stacks": stacks,
        "runs": runs,
    }
    return report


def input_error(input_info: dict, options: dict, message: str, started: float) -> dict:
    report = build(input_info=input_info, options=options, stacks=[], runs=[], started=started)
    report["status"] = "input-error"
    report["status_reason"] = message
    return report


def exit_code(report: dict) -> int:
    """0 probe ran and found no error; 1 it found one; 2 the input could not be probed."""
    if report["status"] != "ok":
        return 2
    return 1 if any(f.get("severity") == "error" for f in report.get("findings", [])) else 0


def to_json(report: dict, indent: int | None = 2) -> str:
    return json.dumps(report, indent=indent, allow_nan=False, default=str)


# --- text renderings -------------------------------------------------------------------
def epoch_notes(e: dict) -> list[str]:
    """What is unusual about one epoch, in a few words each."""
    notes = []
    if e.get("partial"):
        notes.append("epoch did not finish")
    if e.get("capped"):
        notes.append("probe cap")
    if e.get("replayed_batches"):
        notes.append(f"{e['replayed_batches']} replayed")
    if e.get("nonfinite_batches"):
        notes.append(f"{e['nonfinite_batches']} with NaN/Inf")
    return notes


def epoch_table(report: dict) -> list[dict]:
    """One row per stack, fit() call and epoch: expected vs trained batches, and more."""
    table = []
    blank = dict.fromkeys(
        ("epoch", "expected", "trained", "validation", "samples_seen", "new_samples", "replayed")
    )
    for stack in report["stacks"]:
        if stack["status"] == "not-applicable":
            label = STACK_LABELS.get(stack["stack"], stack["stack"])
            table.append({"stack": label, "call": None, **blank, "note": "not applicable"})
    for run in report["runs"]:
        base = {"stack": STACK_LABELS.get(run["stack"], run["stack"]), "call": run["call"]}
        with_validation = run["fit"].get("validation") is not None or bool(
            run["fit"].get("validation_split")
        )
        for e in run["epochs"]:
            notes = epoch_notes(e)
            table.append(
                {
                    **base,
                    "epoch": e["epoch"],
                    "expected": e["expected_batches"],
                    "trained": e["observed_batches"],
                    "validation": e.get("val_batches") if with_validation else None,
                    "samples_seen": e.get("samples_seen"),
                    "new_samples": e.get("new_samples"),
                    "replayed": e.get("replayed_batches"),
                    "note": ", ".join(notes),
                }
            )
        stop = run.get("stopped_by") or "?"
        if run.get("stopped_by_callback"):
            stop += f" ({run['stopped_by_callback']})"
        if run.get("exception"):
            stop += f" ({run['exception']['type']})"
        table.append(
            {
                **base,
                "epoch": None,
                "expected": None,
                "trained": None,
                "validation": None,
                "samples_seen": None,
                "new_samples": None,
                "replayed": None,
                "note": f"stopped by: {stop}",
            }
        )
    return table


def _cell(value) -> str:
    return "" if value is None else str(value)


def _rows(report: dict):
    for row in epoch_table(report):
        samples = ""
        if row["samples_seen"] is not None:
            samples = f"{row['samples_seen']} ({row['new_samples']} new)"
        epoch = (
            "end"
            if row["epoch"] is None and row["note"].startswith("stopped")
            else _cell(row["epoch"])
        )
        yield [
            row["stack"],
            _cell(row["call"]),
            epoch,
            _cell(row["expected"]),
            _cell(row["trained"]),
            _cell(row["validation"]),
            samples,
            row["note"],
        ]


def run_notes(report: dict) -> list[str]:
    """Facts per run that the epoch table cannot show: coverage gaps, the failing line."""
    notes = []
    for run in report["runs"]:
        label = f"{STACK_LABELS.get(run['stack'], run['stack'])} call {run['call']}"
        data = run.get("data") or {}
        if data.get("never_seen_rows"):
            spans = ", ".join(
                f"{a}-{b}" if a != b else str(a) for a, b in data["never_seen_ranges"]
            )
            notes.append(
                f"{label}: {data['never_seen_rows']} of {data['data_rows']} rows of "
                f"`{data['data_array']}` were never trained on (rows {spans})"
            )
        exc = run.get("exception")
        if exc and exc.get("line"):
            notes.append(
                f"{label}: {exc['type']} at {exc.get('file')}, {locate(report, exc['line'])}: "
                f"{exc.get('code') or ''}"
            )
    return notes


def input_notes(report: dict) -> list[str]:
    """What the probe gave the script or left out of it: the notebook's skipped lines, the
    attached data, stand-in folders, stubbed modules, calls that did nothing here."""
    info = report.get("input") or {}
    notes = []
    nb = info.get("notebook")
    if nb:
        what = "notebook cells pasted as text" if nb.get("source") == "pasted cells" else "notebook"
        cells = len(nb.get("cells") or [])
        notes.append(f"Probed as a {what}: {plural(cells, 'code cell')} run in order as one script")
        for s in nb.get("skipped") or []:
            notes.append(f"Skipped (cell {s['cell']}, line {s['line']}): `{s['text']}`: {s['why']}")
    data = info.get("data")
    if data:
        size = data.get("bytes") or 0
        notes.append(
            f"Data: {data['kind']} `{data['name']}` ({plural(data.get('files') or 0, 'file')}, "
            f"{size / 1e6:.1f} MB), read-only as the script's working directory"
        )
    for s in info.get("standins") or []:
        notes.append(
            f"Stand-in: `{s['path']}` was {plural(s['images'], 'generated image')} in "
            f"{plural(s['classes'], 'class folder')}, not the real data"
        )
    said = set()
    for stack in report.get("stacks") or []:
        for m in stack.get("stubbed_modules") or []:
            said.add(f"Stubbed: `{m['module']}` (imported at {locate(report, m.get('line'))}): "
                     "a module that does nothing stood in for it")  # fmt: skip
        for s in stack.get("skipped") or []:
            where = locate(report, s.get("line"))
            said.add(f"Did nothing here: `{s.get('code') or s['what']}` ({where}): {s['why']}")
        for s in stack.get("standin_files") or []:
            said.add(
                f"Stand-in: {s['loader']} ({locate(report, s.get('line'))}) named "
                f"{s['files']} files under `{s.get('directory') or '.'}` that were not there; "
                "tiny images were generated for them"
            )
    return notes + sorted(said)


HEADER = ["stack", "call", "epoch", "expected", "trained", "val", "samples", "notes"]


def render_table(report: dict) -> str:
    lines = [report["verdict"], ""]
    if input_notes(report):
        lines += input_notes(report) + [""]
    if report.get("findings"):
        lines += [render_findings(report).rstrip(), ""]
    if not report["runs"] and report["status"] != "ok":
        return "\n".join(lines).rstrip() + "\n"
    rows = [HEADER, *_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    lines += run_notes(report)
    return "\n".join(lines).rstrip() + "\n"


def _finding_lines(f: dict, report: dict) -> list[str]:
    stacks = ", ".join(STACK_LABELS.get(s, s) for s in f.get("stack") or [])
    where = f" [{stacks}]" if stacks else ""
    line = f" ({locate(report, f['line'])})" if f.get("line") else ""
    return [
        f"{f['severity'].upper():7} {f['code']}{where}{line}: {f['title']}",
        f"        fix: {f['fix']}",
    ]


def render_findings(report: dict) -> str:
    """The findings, most severe first, each with its fix."""
    lines = []
    for f in report.get("findings", []):
        lines += _finding_lines(f, report)
    return "\n".join(lines) + ("\n" if lines else "")


def render_markdown(report: dict) -> str:
    env = report["environment"]
    out = [
        f"# fitprobe report: {report['input']['name']}",
        "",
        f"**{report['verdict']}**",
        "",
        f"- status: `{report['status']}`",
        f"- created: {report['created']}",
        f"- TensorFlow {env.get('tensorflow')}, device {env.get('device')}, "
        f"isolation {env.get('isolation')}",
        "",
    ]
    rows = list(_rows(report))
    if rows:
        out += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        out.append("")
    out += [f"- {note}" for note in run_notes(report)]
    out += [f"- {note}" for note in input_notes(report)]
    if report.get("findings"):
        out.append("## Findings")
        for f in report["findings"]:
            out += [f"- **{f['severity']}** `{f['code']}` {f['title']}", f"  - fix: {f.get('fix')}"]
    for run in report["runs"]:
        if run.get("warnings"):
            out.append(f"## Warnings ({STACK_LABELS.get(run['stack'])}, call {run['call']})")
            out += [f"- {w}" for w in run["warnings"]]
    return "\n".join(out).rstrip() + "\n"


def render_html(report: dict, *, charts: bool = True) -> str:
    """A self-contained page: verdict, findings with fixes, the charts (plotly.js inlined,
    so it opens offline), the epoch table, warnings, output, and the report JSON."""
    esc = html.escape
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in _rows(report)
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

    from .charts import CHARTS

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
