"""Rules: pure functions from observations to findings; one module per finding code.

Every module in this package other than `base` is one rule, named after the bad
pattern it detects (`finite_generator_exhausted.py` -> `finite-generator-exhausted`).
A rule module has:
- a docstring with the same sections every time, *What it does*, *Why is this bad?*,
  *Example*, *Use instead* (plus *Keras 2 vs Keras 3* where they differ): this is
  the rule's documentation page, rendered by `python -m diagnostics rules CODE`
  and by the app;
- `CODE`, `SEVERITY` (the default) and `TITLE` (the problem, in a few words), and
  optionally `PRIORITY` (default 50; lower for root causes, so they lead the verdict)
  and `FALLBACK = True` (kept only where no finding of a severity in `YIELDS_TO`,
  default ("error",), covers the same stack and fit() call);
- `check(obs: Observations) -> list[Finding]`: no Keras, no I/O, thresholds as
  documented keyword arguments;
- optionally `static(facts: dict, where) -> list[Finding]`: what the code alone
  suggests, from the facts `diagnosis.facts` read (`where(line)` names a line as the
  user sees it: "cell 3, line 2" in a notebook), made with `base.static_finding`;
- optionally `fix(source: str, finding: dict, report: dict) -> str | None`, where the
  remedy is a mechanical edit: the whole source edited with libcst (the user's formatting
  and comments kept; helpers in `_fixes`), or None where the edit does not apply to this
  code; it never raises for odd code. `diagnostics.fix.propose_fix` shows it as a diff.
`run_rules` runs every check over one report, `run_static` every static check over the
facts. A rule that raises becomes an error finding about that rule: a report always
renders. Helpers several rules need live in `_shared` (those of the fixes in `_fixes`);
no rule imports another.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from diagnostics.rules.base import Finding, Observations, severity_rank

__all__ = [
    "Finding",
    "Observations",
    "catalog",
    "merge",
    "rule_doc",
    "run_rules",
    "run_static",
    "sort_key",
]

RULE_FAILED = "rule-failed"


@cache
def catalog() -> dict:
    """{code: rule module}, in code order."""
    rules = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":  # base, _shared: no rules
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        expected = info.name.replace("_", "-")
        if getattr(module, "CODE", None) != expected:
            raise RuntimeError(f"rule module {info.name} must define CODE = {expected!r}")
        rules[module.CODE] = module
    return dict(sorted(rules.items()))


def rule_doc(code: str) -> str:
    module = catalog()[code]
    return inspect.cleandoc(module.__doc__ or "")


def merge(findings: list[Finding]) -> list[Finding]:
    """One finding per (code, fit() call): the stacks it was seen on, evidence per stack."""
    merged: dict = {}
    for f in findings:
        key = (f.code, f.call, f.static)
        if key not in merged:
            merged[key] = Finding(
                code=f.code,
                severity=f.severity,
                title=f.title,
                evidence={},
                fix=f.fix,
                stack=[] if f.stack is not None else None,
                call=f.call,
                summary={},
                static=f.static,
                line=f.line,
                priority=f.priority,
            )
        target = merged[key]
        if severity_rank(f.severity) < severity_rank(target.severity):
            target.severity, target.title, target.fix = f.severity, f.title, f.fix
        for stack in f.stack or []:
            if stack not in target.stack:
                target.stack.append(stack)
        if f.stack and len(f.stack) == 1:
            target.evidence[f.stack[0]] = f.evidence
        else:
            target.evidence.update(f.evidence)
        target.summary.update(f.summary)
        target.line = target.line or f.line
    return sorted(merged.values(), key=sort_key)


def _failed(code: str, exc: Exception) -> Finding:
    return Finding(
        code=RULE_FAILED,
        severity="error",
        title=f"fitprobe's rule {code} failed on this report",
        evidence={"rule": code, "error": f"{type(exc).__name__}: {exc}"},
        fix="This is a bug in fitprobe, not in your code: please report it with this "
        "report attached.",
    )


def sort_key(f: Finding):
    return (severity_rank(f.severity), f.priority, f.code, f.call or 0)


def _explained(f: Finding, specific: list[Finding], severities) -> bool:
    return any(
        s.severity in severities
        and not s.static
        and s.call == f.call
        and set(s.stack or []) & set(f.stack or [])
        for s in specific
    )


def run_rules(obs: Observations) -> list[Finding]:
    found: list[Finding] = []
    fallbacks: list[tuple[Finding, tuple]] = []
    for code, module in catalog().items():
        try:
            if getattr(module, "FALLBACK", False):
                yields_to = getattr(module, "YIELDS_TO", ("error",))
                fallbacks += [(f, yields_to) for f in module.check(obs)]
            else:
                found.extend(module.check(obs))
        except Exception as exc:  # a broken rule is reported, never fatal
            found.append(_failed(code, exc))
    # A fallback rule speaks only where no specific rule explains the same run.
    found += [f for f, yields_to in fallbacks if not _explained(f, found, yields_to)]
    return merge(found)


def run_static(facts: dict, where=None) -> list[Finding]:
    """Every rule's static check over the code's facts, most severe first."""
    where = where or (lambda line: f"line {line}")
    found: list[Finding] = []
    for code, module in catalog().items():
        check = getattr(module, "static", None)
        if check is None:
            continue
        try:
            found.extend(check(facts, where))
        except Exception as exc:  # a broken static check is reported, never fatal
            found.append(_failed(code, exc))
    return sorted(found, key=lambda f: (severity_rank(f.severity), f.line or 0))
