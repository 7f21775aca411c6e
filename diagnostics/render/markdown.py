"""A report as Markdown (the app's export)."""

from __future__ import annotations

from diagnostics.render.text import HEADER, table_rows
from diagnostics.report import input_notes, run_notes
from diagnostics.report.labels import STACK_LABELS

__all__ = ["render_markdown"]


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
    rows = list(table_rows(report))
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
