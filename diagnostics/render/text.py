"""A report as plain text: the CLI's table of epochs and its findings; and the words
that explain a finding's severity where it is not its rule's default."""

from __future__ import annotations

from diagnostics.report import epoch_table, input_notes, run_notes
from diagnostics.report.labels import STACK_LABELS, locate

__all__ = [
    "HEADER",
    "READ_FROM_CODE",
    "SEVERITY_CASES",
    "render_findings",
    "render_table",
    "severities",
    "severity_note",
    "severity_words",
    "table_rows",
]

# When a rule's finding takes another severity than the rule's SEVERITY (its default),
# as each rule's check() decides: {code: {severity: when}}. tests/test_escaping.py holds
# this table to the severities the rule modules write.
SEVERITY_CASES = {
    "empty-epoch": {
        "info": "the data source had already run dry (the finding about the source says why)"
    },
    "fit-generator-removed": {"warning": "on Keras 2, where fit_generator() still works"},
    "inconsistent-batch-shape": {
        "error": "training crashed on the odd batch",
        "info": "only sizes vary and training went on (fine for a model that takes "
        "variable-size inputs)",
    },
    "missing-data": {
        "warning": "a dataframe names files that are not there: flow_from_dataframe leaves "
        "them out and trains on the rest"
    },
    "missing-module": {"info": "the module was stood in for, as asked, and none of it feeds fit()"},
    "non-threadsafe-generator": {
        "error": "the probe saw the shared generator crash or hand out duplicated batches"
    },
    "sequence-ignores-index": {
        "info": "the same batch comes back for different indices but nothing the Sequence "
        "holds is left out (synthetic or fixed batches, maybe by design)"
    },
    "steps-count-samples": {"error": "the data is finite, so it runs out and epochs end early"},
    "steps-per-epoch-not-integer": {
        "warning": "a fraction, which Keras rounds up without a word",
        "info": "a whole number written as a float, which runs here (Keras 3 rejects it)",
    },
}
# A finding read from the code alone (pre-flight, not confirmed by a probe) is a warning,
# whatever its rule's default; STATIC_AT_DEFAULT: the rules whose static findings are not.
READ_FROM_CODE = "warning"
STATIC_AT_DEFAULT = frozenset({"missing-module"})
STATIC_CASE = "it was read from the code only: nothing ran far enough to confirm it"


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
    note = severity_note(f)
    return [
        f"{f['severity'].upper():7} {f['code']}{where}{line}: {f['title']}",
        f"        fix: {f['fix']}",
        *([f"        ({note})"] if note else []),
    ]


def _rule(code: str):
    from diagnostics.rules import catalog  # the rules load only where a severity is explained

    return catalog().get(code)


def _static_severity(rule) -> str | None:
    if not hasattr(rule, "static"):
        return None
    return rule.SEVERITY if rule.CODE in STATIC_AT_DEFAULT else READ_FROM_CODE


def severities(code: str) -> list[str]:
    """Every severity a rule's findings can have, its default first."""
    rule = _rule(code)
    if rule is None:
        return []
    found = [rule.SEVERITY, *SEVERITY_CASES.get(code, {}), _static_severity(rule)]
    return list(dict.fromkeys(s for s in found if s))


def severity_words(code: str) -> str:
    """A rule's severity as its page says it: "warning", or "usually warning; error when
    training crashed on the odd batch; ..." where its findings can have another."""
    rule = _rule(code)
    if rule is None:
        return ""
    cases = dict(SEVERITY_CASES.get(code, {}))
    static = _static_severity(rule)
    if static and static != rule.SEVERITY:
        read = "read from the code only, before a probe confirms it"
        cases[static] = f"{cases[static]}, or {read}" if static in cases else read
    if not cases:
        return rule.SEVERITY
    return "; ".join([f"usually {rule.SEVERITY}", *(f"{s} when {w}" for s, w in cases.items())])


def severity_note(finding: dict) -> str | None:
    """Why a finding's severity is not its rule's default, or None where it is."""
    rule = _rule(finding["code"])
    if rule is None or finding["severity"] == rule.SEVERITY:
        return None
    if finding.get("static"):
        why = STATIC_CASE
    else:
        why = SEVERITY_CASES.get(finding["code"], {}).get(finding["severity"])
        why = why or "its rule sets it for this case"
    return f"default severity: {rule.SEVERITY}; this finding: {finding['severity']}, because {why}"


def render_findings(report: dict) -> str:
    """The findings, most severe first, each with its fix."""
    lines = []
    for f in report.get("findings", []):
        lines += _finding_lines(f, report)
    return "\n".join(lines) + ("\n" if lines else "")
