"""Diagnosis: observations -> findings -> verdict, on a finished report (no Keras here).

`diagnose(report, code)` runs every rule on the observations, reconciles them with
the static findings read from the code with the input (a static finding the probe observed is
confirmed; one the probe ran past without observing is retracted), and writes
`findings`, `preflight` and the one-sentence `verdict` into the report.
"""

from __future__ import annotations

from diagnostics.diagnosis.verdict import verdict
from diagnostics.rules import Observations, run_rules, sort_key
from diagnostics.rules.base import Finding, Run
from diagnostics.schema import RAN_OUT_OF_DATA

__all__ = ["diagnose", "verdict"]


def _reconcile(report: dict, observed: list[Finding], static: list[Finding]):
    observed_codes = {f.code for f in observed}
    probed = any(r.get("epochs") or r.get("exception") for r in report.get("runs", []))
    kept, record = [], []
    for f in static:
        if f.code in observed_codes:
            state = "confirmed"
            for o in observed:
                if o.code == f.code and o.line is None:
                    o.line = f.line
        elif probed:
            state = "retracted"  # the probe ran and did not see it happen
        else:
            state = "unconfirmed"  # nothing ran far enough to tell
            kept.append(f)
        record.append({**f.to_dict(), "status": state})
    return kept, record


def _point_at_fit_calls(report: dict, findings: list[Finding]) -> None:
    """A finding about one fit() call that names no line of its own points at that call."""
    sites = {
        (r["stack"], r["call"]): (r.get("call_site") or {}).get("line")
        for r in report.get("runs", [])
    }
    for f in findings:
        if f.line is None and f.call is not None:
            f.line = next(
                (sites.get((s, f.call)) for s in f.stack or [] if sites.get((s, f.call))), None
            )


def _assess_ran_out(report: dict, findings: list[Finding]) -> None:
    """Mark each "ran out of data" warning harmful or harmless (see ran-out-of-data-harmless).

    It is harmful where training was cut short, or where an error or warning finding on
    the same stack and fit() call explains a cut; harmless otherwise.
    """
    for data in report.get("runs", []):
        run = Run(data)
        harmful = run.cut_short or any(
            f.severity in ("error", "warning")
            and not f.static
            and f.call == run.call
            and run.stack in (f.stack or [])
            for f in findings
        )
        for w in data.get("warning_records", []):
            if RAN_OUT_OF_DATA in (w.get("message") or ""):
                w["assessment"] = "harmful" if harmful else "harmless"


def diagnose(report: dict, code=None) -> dict:
    """Run every rule on the report's observations, reconcile them with the static
    findings of `code` (a `facts.CodeFacts`, read once with the input), and write
    `findings`, `preflight`, `facts` and the verdict into the report."""
    facts = code.facts if code is not None else {}
    static = list(code.static) if code is not None else []
    obs = Observations(report, static, facts)
    observed = run_rules(obs) if report.get("runs") or report.get("stacks") else []
    kept, record = _reconcile(report, observed, static)
    _point_at_fit_calls(report, observed)
    _assess_ran_out(report, observed)
    findings = sorted(observed + kept, key=sort_key)
    report["findings"] = [f.to_dict() for f in findings]
    report["preflight"] = record
    report["facts"] = facts
    report["verdict"] = verdict(report)
    return report
