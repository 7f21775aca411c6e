"""Words and places as a report shows them: stack names, severities, line references,
counted nouns. Shared by the rules, the verdict and every rendering."""

from __future__ import annotations

__all__ = [
    "SEVERITIES",
    "STACK_LABELS",
    "cap_words",
    "cell_of",
    "exception_line",
    "listing",
    "locate",
    "plural",
    "severity_rank",
    "worst_severity",
]

STACK_LABELS = {"keras3": "Keras 3", "keras2": "Keras 2"}
SEVERITIES = ("error", "warning", "info")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def worst_severity(report: dict) -> str:
    """ "input-error" etc. when the probe could not run, else the worst finding's
    severity, else "none"."""
    if report.get("status") != "ok":
        return report.get("status") or "unknown"
    found = {f.get("severity") for f in report.get("findings", [])}
    return next((s for s in SEVERITIES if s in found), "none")


def plural(n: int, word: str) -> str:
    """`plural(1, "batch")` -> "1 batch"; `plural(2, "cached batch")` -> "2 cached batches"."""
    if n == 1:
        return f"{n} {word}"
    suffix = "es" if word.endswith(("batch", "ss", "sh", "x")) else "s"  # not "epoches"
    return f"{n} {word}{suffix}"


def listing(values) -> str:
    return ", ".join(str(v) for v in values)


def cell_of(report_or_input: dict | None, line: int | None) -> tuple[int, int] | None:
    """(cell, line in it) of a line of the probed script, when the input was a notebook
    (`input.notebook.cells`: each cell's first line in the script and its length)."""
    info = (report_or_input or {}).get("input", report_or_input) or {}
    cells = (info.get("notebook") or {}).get("cells") or []
    if line is None:
        return None
    for span in cells:
        if span["first_line"] <= line < span["first_line"] + max(span["lines"], 1):
            return span["cell"], line - span["first_line"] + 1
    return None


def locate(report_or_input: dict | None, line: int | None) -> str:
    """How to point a user at a line: "line 12", or "cell 3, line 2" in a notebook."""
    if line is None:
        return "an unknown line"
    cell = cell_of(report_or_input, line)
    return f"cell {cell[0]}, line {cell[1]}" if cell else f"line {line}"


def exception_line(message: str | None, limit: int = 240) -> str:
    """The line of an exception's message that says what went wrong.

    TensorFlow wraps errors raised while tracing a step in "in user code:" and a stack
    of frames, with the real message on the last line ("ValueError: Layer ... expects
    2 input(s)"): that line, without its repeated type. Otherwise the first line."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].rstrip(":") == "in user code" and len(lines) > 1:
        last = lines[-1]
        head, sep, rest = last.partition(": ")
        line = rest if sep and head.replace(".", "").isidentifier() else last
    else:
        line = lines[0]
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def cap_words(cap: str | None) -> str:
    """One of fitprobe's own limits, as a run or epoch records it ("max-steps=200"), in
    words: "200 batches per epoch"."""
    name, _, value = (cap or "").partition("=")
    return {
        "max-steps": f"{value} batches per epoch",
        "max-validation-steps": f"{value} validation batches per epoch",
        "time-limit": "the time limit",
    }.get(name, cap or "a probe limit")
