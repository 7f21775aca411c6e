"""A report as plain text: the CLI's table of epochs and its findings."""

from __future__ import annotations

from diagnostics.report import epoch_table, input_notes, run_notes
from diagnostics.report.labels import STACK_LABELS, locate

__all__ = ["HEADER", "render_findings", "render_table", "table_rows"]


def _cell(value) -> str:
    return "" if value is None else str(value)


def table_rows(report: dict):
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


HEADER = ["stack", "call", "epoch", "expected", "trained", "val", "samples", "notes"]


def render_table(report: dict) -> str:
    lines = [report["verdict"], ""]
    if input_notes(report):
        lines += input_notes(report) + [""]
    if report.get("findings"):
        lines += [render_findings(report).rstrip(), ""]
    if not report["runs"] and report["status"] != "ok":
        return "\n".join(lines).rstrip() + "\n"
    rows = [HEADER, *table_rows(report)]
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


