"""A report as Markdown (the app's export), and the escaping every Markdown view of a
report uses (the export here, the app's pages through `escape`).

Text in a report is plain: a script's name, an exception's message, a Keras warning.
Rendered as Markdown it must read as written and stay inert: `__len__` is not bold,
`steps * epochs` is not italics, `$` starts no formula, `</script><img ...>` is text,
not HTML. fitprobe's own sentences mark code with backticks (`steps_per_epoch`); such
spans are kept as code, found as CommonMark finds them (a run of n backticks up to
the next run of exactly n), and any other backtick is escaped.
"""

from __future__ import annotations

import re

from diagnostics.render.text import HEADER, severity_note, table_rows
from diagnostics.report import input_notes, run_notes
from diagnostics.report.labels import STACK_LABELS

__all__ = [
    "code_span",
    "escape",
    "exceptions",
    "fenced",
    "one_line",
    "plain",
    "render_markdown",
    "segments",
    "span_text",
]

# ASCII punctuation that starts Markdown (CommonMark and GFM: emphasis, code, links,
# HTML, entities, headings, tables, strikethrough; `$`: math on GitHub and Streamlit).
ALWAYS_ESCAPED = frozenset("\\`*[]<>#|~$&")
_BACKTICKS = re.compile(r"`+")
# At a line's start: a list item ("- ", "1. "), a setext underline or a rule ("===", "---").
_BULLET_START = re.compile(r"^([ \t]*)([-+])(?=[ \t]|$)", re.M)
_NUMBER_START = re.compile(r"^([ \t]*)(\d{1,9})([.)])(?=[ \t]|$)", re.M)
_UNDERLINE = re.compile(r"^([ \t]*)([-=])(?=[-= \t]*$)", re.M)


def segments(text: str) -> list[tuple[bool, str]]:
    """`text` cut into (is_code, piece): a code span is a run of n backticks, its content,
    and the next run of exactly n (CommonMark); a run with no such partner is text."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    out, start, k = [], 0, 0
    while k < len(runs):
        opening, after = runs[k]
        width = after - opening
        close = next((j for j in range(k + 1, len(runs)) if runs[j][1] - runs[j][0] == width), None)
        if close is None:
            k += 1
            continue
        out += [(False, text[start:opening]), (True, text[opening : runs[close][1]])]
        start, k = runs[close][1], close + 1
    out.append((False, text[start:]))
    return [(is_code, piece) for is_code, piece in out if piece]


def _intraword(text: str, i: int) -> bool:
    """An `_` between two letters or digits opens and closes no emphasis (`a_b`)."""
    return 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()


def _escape_text(text: str, directives: bool) -> str:
    out = []
    for i, ch in enumerate(text):
        special = (
            ch in ALWAYS_ESCAPED
            or (ch == "_" and not _intraword(text, i))
            or (directives and ch == ":")
        )
        out.append("\\" + ch if special else ch)
    escaped = _BULLET_START.sub(r"\1\\\2", "".join(out))
    escaped = _UNDERLINE.sub(r"\1\\\2", escaped)
    return _NUMBER_START.sub(r"\1\2\\\3", escaped)


def escape(text, *, spans: bool = True, directives: bool = False) -> str:
    """Plain text as Markdown that renders as written and makes no HTML. With `spans`,
    backtick code spans are kept as code (the rest escaped); without, every backtick is
    text too. `directives`: escape `:` as well, which starts Streamlit's directives
    (`:red[...]`, `:material/...:`). Line breaks inside a code span become spaces, as
    they render anyway, so no line of a span can start a block of its own."""
    text = "" if text is None else str(text)
    if not spans:
        return _escape_text(text, directives)
    return "".join(
        piece.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
        if is_code
        else _escape_text(piece, directives)
        for is_code, piece in segments(text)
    )


def _fence(text: str, shortest: int) -> str:
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    return "`" * max(shortest, longest + 1)


def code_span(text) -> str:
    """`text` as one inline code span, whatever backticks it holds: the fence is longer
    than any run of backticks in it, padded with a space where the text starts or ends
    with a backtick (CommonMark strips one such space from each side)."""
    text = " ".join(str(text).splitlines()) or " "
    fence = _fence(text, 1)
    padded = text[0] == "`" or text[-1] == "`" or (text[0] == text[-1] == " " and text.strip())
    pad = " " if padded else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(text: str, info: str = "") -> str:
    """A fenced code block no line of `text` can close."""
    text = str(text).rstrip("\n")
    fence = _fence(text, 3)
    return f"{fence}{info}\n{text}\n{fence}"


def span_text(span: str) -> str:
    """What a code span (as `segments` cut it) shows: its content, less one space on each
    side where both sides have one (CommonMark), line breaks as spaces."""
    width = len(_BACKTICKS.match(span).group())
    text = " ".join(span[width:-width].splitlines())
    return text[1:-1] if text[:1] == text[-1:] == " " and text.strip() else text


def plain(text) -> str:
    """How `text` reads once rendered, for widgets that show text as is (a selectbox's
    options): its code spans' backticks dropped, nothing escaped."""
    return "".join(
        span_text(piece) if is_code else piece
        for is_code, piece in segments("" if text is None else str(text))
    )


MAX_MESSAGE_CHARS = 500  # of an exception's message in a list; the traceback has it all


def one_line(text, limit: int = MAX_MESSAGE_CHARS) -> str:
    """A message on one line, cut at `limit` characters."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit] + " …"


def exceptions(report: dict):
    """(run, exception, wrapper type or None) for each fit() call that raised: the data
    source's own exception where TensorFlow wrapped it in one of its own."""
    for run in report.get("runs", []):
        exc = run.get("exception")
        if exc:
            root = exc.get("root_cause")
            yield (run, root, exc.get("type")) if root else (run, exc, None)


def _inline(text) -> str:
    """Prose for one line of Markdown (a list item, a heading): line breaks as spaces."""
    return escape(" ".join(str(text or "").splitlines()).strip())


def _exceptions(report: dict) -> list[str]:
    """Each fit() call's exception (its root cause: the data source's own error, where
    TensorFlow wrapped it), and the traceback that ended each stack's script."""
    out = []
    for run, exc, wrapper in exceptions(report):
        where = f"{STACK_LABELS.get(run['stack'], run['stack'])}, fit() call {run['call']}"
        line = f" at {exc['file']}, line {exc['line']}" if exc.get("file") else ""
        code = f" ({code_span(exc['code'])})" if exc.get("code") else ""
        message = escape(one_line(exc.get("message")), spans=False)
        raised = f" (raised as {code_span(wrapper)})" if wrapper else ""
        out.append(
            f"- {escape(where)}: {code_span(exc.get('type'))}{escape(line, spans=False)}"
            f"{code}: {message}{raised}"
        )
    for stack in report.get("stacks", []):
        traceback = (stack.get("script_exception") or {}).get("traceback")
        if traceback:
            label = escape(STACK_LABELS.get(stack["stack"], stack["stack"]))
            out += ["", f"{label}: the traceback that ended the script", "", fenced(traceback)]
    return out


def render_markdown(report: dict) -> str:
    env = report["environment"]
    out = [
        f"# fitprobe report: {escape(report['input']['name'], spans=False)}",
        "",
        f"**{_inline(report['verdict'])}**",
        "",
        f"- status: {code_span(report['status'])}",
        f"- created: {escape(report['created'])}",
        f"- TensorFlow {escape(env.get('tensorflow'))}, device {escape(env.get('device'))}, "
        f"isolation {escape(env.get('isolation'))}",
    ]
    if report.get("label"):
        out.append(f"- label: {escape(report['label'], spans=False)}")
    out.append("")
    if report.get("note"):
        out += [escape(report["note"], spans=False), ""]
    rows = list(table_rows(report))
    if rows:
        out += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
        out.append("")
    out += [f"- {_inline(note)}" for note in run_notes(report)]
    out += [f"- {_inline(note)}" for note in input_notes(report)]
    if report.get("findings"):
        out += ["", "## Findings"]
        for f in report["findings"]:
            out += [
                f"- **{escape(f['severity'])}** {code_span(f['code'])} {_inline(f['title'])}",
                f"  - fix: {_inline(f.get('fix'))}",
            ]
            if severity_note(f):
                out.append(f"  - {_inline(severity_note(f))}")
    exceptions = _exceptions(report)
    if exceptions:
        out += ["", "## Exceptions", *exceptions]
    for run in report["runs"]:
        if run.get("warnings"):
            stack = STACK_LABELS.get(run["stack"], run["stack"])
            out += ["", f"## Warnings ({escape(stack)}, call {run['call']})"]
            out += [f"- {_inline(w)}" for w in run["warnings"]]
    return "\n".join(out).rstrip() + "\n"


def _cell(text: str) -> str:
    """A table cell: one line, every character as written (a `|` would end the cell)."""
    return escape(" ".join(str(text).splitlines()), spans=False)
