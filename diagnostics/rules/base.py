"""What every rule works with: `Finding`, and `Observations`, a read-only view of a report.

A rule reads observations (the report's runs and stack records, and the static
facts of pre-flight) and returns findings. It never runs Keras, never does I/O.
"""

from __future__ import annotations

import ast
import math
from dataclasses import asdict, dataclass, field

from diagnostics.report.batches import Batches
from diagnostics.report.labels import (  # noqa: F401  (the rules' vocabulary, in one place)
    SEVERITIES,
    STACK_LABELS,
    exception_line,
    listing,
    locate,
    plural,
    severity_rank,
)
from diagnostics.schema import RAN_OUT_OF_DATA  # noqa: F401

STATIC_SUFFIX = " (static check: read from the code, not yet observed)"


@dataclass
class Finding:
    """One diagnosis: the problem (title), the numbers behind it, and the fix."""

    code: str
    severity: str
    title: str
    evidence: dict
    fix: str
    stack: list[str] | None = None  # the stacks it was seen on; None for static findings
    call: int | None = None  # the fit() call, 0-based, when it is about one
    summary: dict = field(default_factory=dict)  # {stack: clause for the verdict}
    static: bool = False  # found by pre-flight (reading the code), not by the probe
    line: int | None = None  # the user's line it points at, when known
    priority: int = 50  # among equal severities, lower leads the verdict (root causes first)

    def to_dict(self) -> dict:
        return asdict(self)


class Run:
    """One observed fit() call (a report run), with the questions rules keep asking."""

    def __init__(self, data: dict):
        self.data = data
        self.stack: str = data["stack"]
        self.label = STACK_LABELS.get(self.stack, self.stack)
        self.call: int = data["call"]
        self.fit: dict = data.get("fit") or {}
        self.source: dict = data.get("source") or {}
        self.validation_source: dict = data.get("validation_source") or {}
        self.info: dict = data.get("data") or {}
        self.epochs: list[dict] = data.get("epochs") or []
        self.batches = Batches(data.get("batches"))  # one dict per trained batch
        self.exception: dict | None = data.get("exception")
        self.stopped_by: str | None = data.get("stopped_by")
        self.expected: int | None = data.get("expected_batches_per_epoch")
        self.warnings: list[str] = data.get("warnings") or []
        self.explicit: list[str] = data.get("explicit_arguments") or []

    @property
    def kind(self) -> str | None:
        return self.source.get("kind") or self.info.get("source_kind")

    def generator_facts(self, facts: dict) -> dict | None:
        """What pre-flight read about the generator function this fit() call was given:
        matched by the function's name, else by the name in the fit() line."""
        generators = facts.get("generators", [])
        name = self.source.get("function") or self.validation_source.get("function")
        code = (self.data.get("call_site") or {}).get("code") or ""
        named = [g for g in generators if g["name"] == name] or [
            g for g in generators if f"{g['name']}(" in code
        ]
        return named[0] if len(named) == 1 else None

    def generator_name_facts(self, facts: dict) -> dict:
        """`generator_facts`, else at least the generator's name (or the only generator)."""
        found = self.generator_facts(facts)
        if found:
            return found
        name = self.source.get("function") or self.validation_source.get("function")
        if name:
            return {"name": name}
        generators = facts.get("generators", [])
        return generators[0] if len(generators) == 1 else {}

    @property
    def cap(self) -> str | None:
        return self.data.get("cap")

    @property
    def complete_epochs(self) -> list[dict]:
        return [e for e in self.epochs if not e.get("partial")]

    @property
    def epochs_to_run(self) -> int:
        """Epochs this fit() call was to train: what it asked for, or fitprobe's epoch cap."""
        return (self.fit.get("epochs_run") or 0) - (self.fit.get("initial_epoch") or 0)

    @property
    def cut_short(self) -> bool:
        """Training ended before what fit() asked for: an exception, fewer epochs than it
        was to run (a callback's stop is not a cut), or an epoch with fewer batches than
        expected."""
        if self.exception:
            return True
        done = self.complete_epochs
        if self.stopped_by != "callback" and len(done) < self.epochs_to_run:
            return True
        return self.expected is not None and any(
            e["observed_batches"] < self.expected for e in done if not e.get("capped")
        )

    @property
    def trained(self) -> list[int]:
        return [e["observed_batches"] for e in self.epochs]

    @property
    def steps_per_epoch(self):
        return self.fit.get("steps_per_epoch")

    @property
    def epochs_asked(self) -> int | None:
        return self.fit.get("epochs_run") or self.fit.get("epochs")

    @property
    def pass_length(self) -> int | None:
        return self.info.get("pass_length")

    @property
    def root_cause(self) -> dict | None:
        return (self.exception or {}).get("root_cause")

    def warned(self, text: str) -> bool:
        return any(text in w for w in self.warnings)

    def exception_text(self) -> str:
        if not self.exception:
            return ""
        root = self.root_cause or {}
        return f"{self.exception.get('message', '')} {root.get('message', '')}"

    def total_asked(self) -> int | None:
        """Batches fit() asks for in all: steps_per_epoch × epochs, when both are known."""
        steps = self.steps_per_epoch
        if steps is None or self.epochs_asked is None:
            return None
        try:
            return int(math.ceil(float(steps))) * int(self.epochs_asked)
        except (TypeError, ValueError):
            return None


class Observations:
    """Read-only view of one report, for rules."""

    def __init__(
        self, report: dict, static: list[Finding] | None = None, facts: dict | None = None
    ):
        self.report = report
        self.runs = [Run(r) for r in report.get("runs", [])]
        self.stacks = {s["stack"]: s for s in report.get("stacks", [])}
        self.static = static or []
        self.facts = facts or {}  # what pre-flight read from the code (diagnosis/facts.py)

    def script_exception(self, stack: str) -> dict | None:
        return (self.stacks.get(stack) or {}).get("script_exception")

    def where(self, line: int | None) -> str:
        """"line 12", or "cell 3, line 2" when the input was a notebook."""
        return locate(self.report, line)

    def failures(self) -> list[tuple[str, int | None, dict]]:
        """Every exception that ended user code: (stack, fit() call or None, exception),
        a fit() call's with its `root_cause` (the data source's own error) inside it."""
        out = []
        for run in self.runs:
            if run.exception and run.exception.get("type") != "WorkerDied":
                out.append((run.stack, run.call, run.exception))
        for stack, record in self.stacks.items():
            exc = record.get("script_exception")
            if exc and not exc.get("raised_by_fit"):
                out.append((stack, None, exc))
        return out


# What the probe's environment lacked, not what the user's code got wrong: a module that
# is not installed (missing-module), a file that is not there (missing-data).
ENVIRONMENT_ERRORS = ("ModuleNotFoundError", "ImportError", "FileNotFoundError")


def missing_from_environment(exc: dict | None) -> bool:
    return bool(exc) and (
        exc.get("type") in ENVIRONMENT_ERRORS
        or (exc.get("type") == "NotFoundError" and "No such file" in (exc.get("message") or ""))
    )


def validates(epoch: int, freq) -> bool:
    """Whether fit() validates at the end of `epoch` (Keras `_should_eval`)."""
    if isinstance(freq, list):
        return epoch + 1 in freq
    try:
        return (epoch + 1) % int(freq or 1) == 0
    except (TypeError, ValueError, ZeroDivisionError):
        return True


def batch_hashes(batch: dict) -> list[str]:
    """A trained batch's identities: one, or a list for a step of several batches
    (steps_per_execution)."""
    h = batch.get("hash")
    return [h] if isinstance(h, str) else list(h or [])


def static_finding(code, severity, title, fix, line, evidence=None) -> Finding:
    """A finding read from the code (pre-flight), which says so in its title."""
    return Finding(
        code=code,
        severity=severity,
        title=title + STATIC_SUFFIX,
        evidence=evidence or {},
        fix=fix,
        static=True,
        line=line,
    )


def bare_title(finding: dict) -> str:
    """A static finding's title without the suffix that says it is static."""
    return finding["title"].removesuffix(STATIC_SUFFIX)


FLOORING_CALLS = {"int", "floor", "round", "trunc"}  # int(a / b), math.floor, np.floor, round


def floors_to_zero(expression: str) -> bool:
    """Whether a count written as `expression` rounds a division down (or to the nearest),
    and so is 0 when the divisor is larger: `n // bs`, `int(n / bs)`, `math.floor(n / bs)`,
    `np.floor(n / bs)`, `round(n / bs)`, `it.samples // bs`, `len(it) // bs`. A `max(1,
    ...)` or a ceil around it keeps it from 0."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return False

    def name(call: ast.Call) -> str | None:
        f = call.func
        return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)

    while isinstance(node, ast.Call) and name(node) == "int" and node.args:
        inner = node.args[0]
        if isinstance(inner, ast.Call) and name(inner) in FLOORING_CALLS:
            node = inner  # int(np.floor(...)), int(round(...))
        else:
            break
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.FloorDiv)
    if isinstance(node, ast.Call) and name(node) in FLOORING_CALLS and node.args:
        arg = node.args[0]
        return isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Div | ast.FloorDiv)
    return False


def top_operator(expression: str):
    """The operator at the top of an expression's source text (`a / b` -> ast.Div)."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return None
    return type(node.op) if isinstance(node, ast.BinOp) else None
