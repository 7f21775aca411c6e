"""Static pre-flight: read the user's code (AST, milliseconds) before anything runs.

Returns `facts` (what the code defines and how it calls fit, for rules to write
fixes with the user's own names and numbers) and static findings: patterns that
very often go wrong. Static findings say they are static; after a probe, the
observed findings confirm them, or the probe retracts them (see `diagnose.py`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .rules.base import Finding, severity_rank
from .sources import DataSource, InputError, calls_fit, list_sources, parse_user_bytes
from .sources import own_nodes as _own_nodes

__all__ = ["Facts", "Precheck", "bare_title", "check_source", "read_facts", "preflight"]


@dataclass
class Facts:
    generators: list[dict] = field(default_factory=list)  # {name, line, endless, swallows}
    sequences: list[dict] = field(default_factory=list)  # {name, line, len_code, len_constant}
    fit_calls: list[dict] = field(default_factory=list)  # {line, code, method, kwargs: {k: src}}
    repeat_zero: list[int] = field(default_factory=list)  # lines of `.repeat(0)`

    def to_dict(self) -> dict:
        return {
            "generators": self.generators,
            "sequences": self.sequences,
            "fit_calls": self.fit_calls,
            "repeat_zero": self.repeat_zero,
        }


def _is_endless(func) -> bool:
    """A `while True:` (or `while 1:`) loop, or itertools.cycle/count, around the yields."""
    for node in _own_nodes(func):
        if isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and node.test.value:
            if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(node)):
                return True
        if isinstance(node, ast.Attribute) and node.attr in {"cycle", "count", "repeat"}:
            return True
    return False


def _swallowing_handlers(func) -> list[int]:
    """Lines of `except` blocks in a generator that end it silently (break/return/pass)."""
    lines = []
    for node in _own_nodes(func):
        if not isinstance(node, ast.Try):
            continue
        for handler in node.handlers:
            raises = any(isinstance(n, ast.Raise) for n in ast.walk(handler))
            ends = any(isinstance(n, ast.Break | ast.Return) for n in ast.walk(handler))
            only_pass = all(isinstance(s, ast.Pass | ast.Expr) for s in handler.body)
            if not raises and (ends or only_pass):
                lines.append(handler.lineno)
    return lines


FILLERS = {"zeros", "ones", "full", "empty"}


def _fixed_size_labels(func) -> list[int]:
    """Lines yielding a slice next to `np.zeros(batch_size)`-style labels of a fixed size.

    The last slice of the data can be shorter than batch_size; labels made with a
    fixed size then no longer match x in length.
    """
    lines = []
    for node in _own_nodes(func):
        if not isinstance(node, ast.Yield) or not isinstance(node.value, ast.Tuple):
            continue
        parts = node.value.elts
        sliced = any(isinstance(p, ast.Subscript) and isinstance(p.slice, ast.Slice) for p in parts)
        fixed = any(
            isinstance(p, ast.Call)
            and isinstance(p.func, ast.Attribute)
            and p.func.attr in FILLERS
            and p.args
            and not any(
                isinstance(n, ast.Call) and getattr(n.func, "id", None) == "len"
                for n in ast.walk(p.args[0])
            )
            for p in parts
        )
        if sliced and fixed:
            lines.append(node.lineno)
    return lines


def _len_method(cls: ast.ClassDef):
    return next(
        (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__len__"), None
    )


def read_facts(tree: ast.Module) -> Facts:
    facts = Facts()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(n, ast.Yield | ast.YieldFrom) for n in _own_nodes(node)
        ):
            facts.generators.append(
                {
                    "name": node.name,
                    "line": node.lineno,
                    "endless": _is_endless(node),
                    "swallows": _swallowing_handlers(node),
                    "fixed_size_labels": _fixed_size_labels(node),
                }
            )
        elif isinstance(node, ast.ClassDef):
            length = _len_method(node)
            if length is None:
                continue
            returns = [n for n in _own_nodes(length) if isinstance(n, ast.Return) and n.value]
            code = ast.unparse(returns[0].value) if returns else None
            constant = (
                returns[0].value.value
                if returns and isinstance(returns[0].value, ast.Constant)
                else None
            )
            floor = bool(returns) and any(
                isinstance(n, ast.BinOp) and isinstance(n.op, ast.FloorDiv)
                for n in ast.walk(returns[0].value)
            )
            facts.sequences.append(
                {
                    "name": node.name,
                    "line": length.lineno,
                    "len_code": code,
                    "len_constant": constant if isinstance(constant, int) else None,
                    "len_floor": floor,
                }
            )
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"fit", "fit_generator"}:
                facts.fit_calls.append(
                    {
                        "line": node.lineno,
                        "method": node.func.attr,
                        "code": ast.unparse(node),
                        "kwargs": {k.arg: ast.unparse(k.value) for k in node.keywords if k.arg},
                    }
                )
            elif node.func.attr == "repeat" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and arg.value == 0:
                    facts.repeat_zero.append(node.lineno)
    return facts


def _top_operator(expression: str):
    """The operator at the top of an expression's source text (`a / b` -> ast.Div)."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return None
    return type(node.op) if isinstance(node, ast.BinOp) else None


STATIC_SUFFIX = " (static check: read from the code, not yet observed)"


def bare_title(finding: dict) -> str:
    """A static finding's title without the suffix that says it is static."""
    return finding["title"].removesuffix(STATIC_SUFFIX)


def _static(code, severity, title, fix, line, evidence=None) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        title=title + STATIC_SUFFIX,
        evidence=evidence or {},
        fix=fix,
        static=True,
        line=line,
    )


def preflight(tree: ast.Module) -> tuple[Facts, list[Finding]]:
    """Facts about the code and the static findings they suggest."""
    facts = read_facts(tree)
    found: list[Finding] = []
    finite = [g for g in facts.generators if not g["endless"]]
    fit_with_steps = [c for c in facts.fit_calls if "steps_per_epoch" in c["kwargs"]]
    for gen in finite:
        for call in fit_with_steps:
            if gen["name"] in call["code"]:
                found.append(
                    _static(
                        "finite-generator-exhausted",
                        "warning",
                        f"generator {gen['name']}() has no `while True` loop but fit() asks for "
                        f"steps_per_epoch={call['kwargs']['steps_per_epoch']} every epoch",
                        f"Loop forever inside {gen['name']}() (`while True:` around the batch "
                        "loop), or let fit() find the end of each pass: drop steps_per_epoch.",
                        call["line"],
                        {"generator": gen["name"], "fit_line": call["line"]},
                    )
                )
    for gen in facts.generators:
        for line in gen["swallows"]:
            found.append(
                _static(
                    "generator-swallowed-error",
                    "warning",
                    f"generator {gen['name']}() catches an exception and ends quietly",
                    "Let the exception propagate (remove the try/except, or re-raise), or "
                    "skip only the bad sample with `continue` and log it.",
                    line,
                    {"generator": gen["name"], "handler_line": line},
                )
            )
    for gen in facts.generators:
        for line in gen["fixed_size_labels"]:
            found.append(
                _static(
                    "xy-length-mismatch",
                    "warning",
                    f"generator {gen['name']}() pairs a slice of the data with labels of a fixed "
                    "size: the last slice can be shorter",
                    "Size the labels from the slice: `xb = x[i:i + n]; yield xb, "
                    "np.zeros(len(xb))`, or drop the short remainder.",
                    line,
                    {"generator": gen["name"]},
                )
            )
    for seq in facts.sequences:
        if seq["len_constant"] is not None:
            found.append(
                _static(
                    "sequence-len-too-small",
                    "warning",
                    f"{seq['name']}.__len__ returns the constant {seq['len_constant']}, "
                    "whatever the data holds",
                    "Compute the length from the data: "
                    "`return math.ceil(len(self.x) / self.batch_size)`.",
                    seq["line"],
                    {"sequence": seq["name"], "len": seq["len_constant"]},
                )
            )
    for call in facts.fit_calls:
        if call["method"] == "fit_generator":
            found.append(
                _static(
                    "fit-generator-removed",
                    "warning",
                    "fit_generator() does not exist in Keras 3",
                    "Call fit() with the same arguments: "
                    f"`{call['code'].replace('fit_generator(', 'fit(', 1)}`",
                    call["line"],
                )
            )
        bad = [
            k for k in ("workers", "use_multiprocessing", "max_queue_size") if k in call["kwargs"]
        ]
        if bad and call["method"] == "fit":
            found.append(
                _static(
                    "unsupported-fit-argument",
                    "warning",
                    f"fit() is given {', '.join(bad)}, which Keras 3's fit() does not accept",
                    "Remove them from fit(). In Keras 3 they belong to the PyDataset: "
                    "`super().__init__(workers=2, use_multiprocessing=True)`.",
                    call["line"],
                    {"arguments": bad},
                )
            )
        steps = call["kwargs"].get("steps_per_epoch")
        if steps and _top_operator(steps) is ast.Div:
            found.append(
                _static(
                    "steps-per-epoch-not-integer",
                    "warning",
                    f"steps_per_epoch={steps} uses `/`, which gives a float",
                    f"Use `math.ceil({steps})` (every sample, last batch partial) or `//` "
                    "(drop the remainder).",
                    call["line"],
                    {"expression": steps},
                )
            )
        vsteps = call["kwargs"].get("validation_steps")
        if vsteps and _top_operator(vsteps) is ast.FloorDiv:
            found.append(
                _static(
                    "validation-steps-zero",
                    "warning",
                    f"validation_steps={vsteps} is 0 whenever the validation set is smaller "
                    "than one batch",
                    f"Use `max(1, math.ceil({vsteps.replace('//', '/')}))`.",
                    call["line"],
                    {"expression": vsteps},
                )
            )
    for line in facts.repeat_zero:
        found.append(
            _static(
                "empty-epoch",
                "warning",
                "`.repeat(0)` makes the dataset empty",
                "Use `.repeat()` (forever) or `.repeat(n)` with n >= 1.",
                line,
            )
        )
    return facts, found


@dataclass
class Precheck:
    """What the app can tell about a pasted or uploaded file before anything runs."""

    error: str | None  # why it cannot be probed at all (empty, binary, syntax error, ...)
    findings: list[dict]  # static findings, most severe first
    sources: list[DataSource]  # its data sources, for module mode
    calls_fit: bool  # whether it can be probed as a script
    sha256: str | None = None


def check_source(data: bytes | str, name: str) -> Precheck:
    """Read `data` as the file `name` and run the static checks (milliseconds, nothing runs)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        user_file = parse_user_bytes(raw, name)
    except InputError as exc:
        return Precheck(str(exc), [], [], False, exc.sha256)
    _, found = preflight(user_file.tree)
    found.sort(key=lambda f: (severity_rank(f.severity), f.line or 0))
    return Precheck(
        None,
        [f.to_dict() for f in found],
        list_sources(user_file.tree),
        calls_fit(user_file.tree),
        user_file.sha256,
    )
