"""The verdict: one plain sentence, built from the same findings and runs the report
shows, so that the two cannot disagree."""

from __future__ import annotations

from diagnostics.report.labels import STACK_LABELS, plural
from diagnostics.rules.base import bare_title

__all__ = ["verdict"]

ENVIRONMENT_CODES = ("missing-module", "missing-data")  # what the probe's environment lacked


def _stack_clause(report: dict, stack: str) -> str | None:
    for f in report["findings"]:
        if f["severity"] == "info" or (f.get("stack") and stack not in f["stack"]):
            continue
        if f.get("static"):
            continue
        clause = (f.get("summary") or {}).get(stack) or f["title"]
        return clause.rstrip(". ")
    return None


def _healthy(report: dict, stack: str) -> str:
    runs = [r for r in report["runs"] if r["stack"] == stack]
    label = STACK_LABELS.get(stack, stack)
    if not runs:
        record = next((s for s in report["stacks"] if s["stack"] == stack), {})
        if record.get("status") == "not-applicable":
            return f"{label} was not run ({record['reason'].removeprefix('not applicable: ')})"
        return record.get("reason") or f"{label} made no fit() call"
    if len(runs) > 1:
        return f"{label} trained every epoch of all {len(runs)} fit() calls as asked"
    run = runs[0]
    epochs = [e for e in run["epochs"] if not e.get("partial")]
    if not epochs:
        return f"{label} started training but no epoch completed"
    batches = sorted({e["observed_batches"] for e in epochs})
    seen = [e.get("samples_seen") for e in epochs]
    each = ""
    if len(batches) == 1:
        each = f" of {plural(batches[0], 'batch')}" + (" each" if len(epochs) > 1 else "")
    text = f"{label} trained {plural(len(epochs), 'epoch')}{each}, as asked"
    rows = (run.get("data") or {}).get("data_rows")
    if rows and seen and all(s == rows for s in seen):
        text += f", covering all {rows} samples every epoch"
    return text


def verdict(report: dict) -> str:
    """One plain sentence: what happened, on which stack, and why."""
    sentence = _verdict(report)
    asides = []
    capped = [s for s in report.get("stacks", []) if s.get("fit_call_cap")]
    if capped:
        asides.append(f"fitprobe ended the script after {capped[0]['fit_call_cap']} fit() calls")
    standins = (report.get("input") or {}).get("standins") or []
    if standins:
        asides.append(
            "; ".join(
                f"`{s['path']}` was a stand-in of {plural(s['images'], 'generated image')} "
                f"in {plural(s['classes'], 'class')}"
                for s in standins
            )
        )
    stubbed = sorted(
        {m["module"] for s in report.get("stacks", []) for m in s.get("stubbed_modules") or []}
    )
    if stubbed:
        asides.append(", ".join(f"`{m}`" for m in stubbed) + " stubbed, as asked")
    if asides:
        sentence = _bare(sentence) + " (" + "; ".join(asides) + ")."
    return sentence


def _bare(text: str) -> str:
    """A clause without the punctuation it ends in, to end it anew."""
    return text.rstrip().rstrip(".:;,").rstrip()


def _environment_clause(report: dict) -> str | None:
    """What an observed missing-module / missing-data finding says stopped the script."""
    clauses = {}
    for f in report.get("findings", []):
        if f.get("static") or f["severity"] != "error" or f["code"] not in ENVIRONMENT_CODES:
            continue
        for stack, clause in (f.get("summary") or {}).items():
            clauses.setdefault(stack, clause)
    if not clauses:
        return None
    if len(set(clauses.values())) == 1:
        return next(iter(clauses.values()))
    return "; ".join(f"on {STACK_LABELS.get(s, s)} {c}" for s, c in clauses.items())


def _verdict(report: dict) -> str:
    if report["status"] != "ok":
        cause = _environment_clause(report)
        if cause:
            return f"This input could not be probed: {_bare(cause)}."
        base = f"This input could not be probed: {_bare(report.get('status_reason') or '')}"
        hint = next((f for f in report.get("findings", []) if f.get("static")), None)
        if hint:
            base += f"; reading the code, {bare_title(hint)}"
        return base + "."
    stacks = [s["stack"] for s in report["stacks"]]
    clauses = {s: _stack_clause(report, s) for s in stacks}
    problems = {s: c for s, c in clauses.items() if c}
    if not problems:
        parts = [_healthy(report, s) for s in stacks]
        return "No problem found: " + "; ".join(parts) + "."
    if len(stacks) == 2 and len(set(problems.values())) == 1 and len(problems) == 2:
        return f"On both Keras 3 and Keras 2, {next(iter(problems.values()))}."
    parts = []
    for stack in stacks:
        label = STACK_LABELS.get(stack, stack)
        if stack in problems:
            parts.append(f"on {label} {problems[stack]}")
        else:
            parts.append(_healthy(report, stack).replace(label, f"{label} is fine:", 1))
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."
