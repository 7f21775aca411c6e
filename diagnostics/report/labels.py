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
    "place_words",
    "plural",
    "severity_rank",
    "stopped_words",
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


TIME_LIMIT_NAMES = "`--timeout`; in the app, Time limit per stack"
MAX_CODE_CHARS = 80


def place_words(report_or_input: dict | None, frame: dict | None, code: bool = True) -> str | None:
    """A place in the user's code, from a frame record: "in `batches()`, line 12:
    `time.sleep(1)`", "at the top level, line 3: `pass`" (without the code line
    unless `code`)."""
    if not frame or frame.get("line") is None:
        return None
    function = frame.get("function") or "<module>"
    if function == "<module>":
        text = "at the top level"
    else:
        text = f"in `{function}()`" if function.isidentifier() else f"in `{function}`"
    name = ((report_or_input or {}).get("input", report_or_input) or {}).get("name")
    if frame.get("file") and name and frame["file"] != name:
        text += f" of {frame['file']}"
    text += f", {locate(report_or_input, frame['line'])}"
    line = " ".join(str(frame.get("code") or "").split()) if code else ""
    if line:
        if len(line) > MAX_CODE_CHARS:
            line = line[: MAX_CODE_CHARS - 1].rstrip() + "…"
        text += f": `{line}`"
    return text


def _where_stopped(report: dict, record: dict) -> str:
    """ "while the script was in X" for one stopped stack, or why that is not known."""
    place = record.get("stopped_at")
    words = place_words(report, place)
    if words is None:
        if not record.get("keras_version"):
            return "while it was still starting (importing TensorFlow)"
        if record.get("script_s") is not None:
            return "after the script had ended, while its process still ran (a thread it started)"
        if record.get("stopped_threads") == []:
            return "while no line of the script was running (Keras or TensorFlow code was)"
        return "before it could say where the script was"
    text = f"while the script was {words}"
    if place.get("thread") not in (None, "main"):
        main = place_words(report, place.get("main"), code=False)
        waited = f", while the main thread waited {main}" if main else ""
        text += f" (on a background thread{waited})"
    return text


def stopped_words(report: dict) -> str | None:
    """What stopped a probe that fitprobe's time limit or the user's cancel ended, on which
    stacks, and where the user's code was: "fitprobe's time limit of 20 s per stack
    (...) stopped Keras 3 and Keras 2 while the script was in `batches()`, line 12:
    `time.sleep(1)`". None for a report of another status."""
    status = report.get("status")
    if status not in ("timeout", "cancelled"):
        return None
    records = [s for s in report.get("stacks") or [] if s.get("status") == status]
    if not records:
        return None
    wheres: dict[str, list[str]] = {}
    for record in records:
        label = STACK_LABELS.get(record["stack"], record["stack"])
        if record.get("reason", "").endswith("cancelled before it started"):
            where = "before it started"
        else:
            where = _where_stopped(report, record)
        wheres.setdefault(where, []).append(label)
    told = ", and ".join(f"{' and '.join(labels)} {where}" for where, labels in wheres.items())
    if status == "timeout":
        limit = (report.get("options") or {}).get("timeout")
        of = f" of {limit:g} s per stack" if isinstance(limit, int | float) else ""
        return f"fitprobe's time limit{of} ({TIME_LIMIT_NAMES}) stopped {told}"
    after = report.get("duration_s")
    after = f" after {after:.0f} s" if isinstance(after, int | float) else ""
    return f"the probe was cancelled by the user{after}: it stopped {told}"
