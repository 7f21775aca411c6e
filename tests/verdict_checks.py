"""What a verdict may say, checked against the report it sums up.

`verdict_problems(report)` lists every way the one-sentence verdict contradicts the
findings or the epoch records of the same report:
- "No problem found" only with no error or warning finding;
- "as asked" only for a stack whose every fit() call trained the epochs it was to run
  (all of them, or up to fitprobe's epoch cap), each with the batches expected, and no
  epoch ended by one of fitprobe's own caps;
- nothing "fine" (nor "No problem found") about a stack that could not run the script
  or whose fit() raised;
- no doubled punctuation ("::", ".." or ", ." outside quoted code and messages).
"""

from __future__ import annotations

import re

LABELS = {"keras3": "Keras 3", "keras2": "Keras 2"}
QUOTED = re.compile(r"`[^`]*`|\"[^\"]*\"|'[^']*'")
DOUBLED = re.compile(r"[.,:;]\s*[,:;]|[,:;]\s*\.|(?<!\.)\.\s*\.(?!\.)")


def _stacks_of(clause: str, stacks: list[str], previous: list[str]) -> list[str]:
    named = [s for s in stacks if LABELS[s] in clause]
    return named or previous


def _trained_as_asked(report: dict, stack: str) -> tuple[bool, str]:
    runs = [r for r in report["runs"] if r["stack"] == stack]
    if not runs:
        return False, f"{stack} has no fit() call"
    for run in runs:
        fit = run.get("fit") or {}
        to_run = (fit.get("epochs_run") or 0) - (fit.get("initial_epoch") or 0)
        complete = [e for e in run["epochs"] if not e.get("partial")]
        if run.get("exception"):
            return False, f"{stack} call {run['call']} raised"
        if len(complete) != to_run:
            return False, f"{stack} call {run['call']} trained {len(complete)} of {to_run} epochs"
        if any(e.get("capped") for e in run["epochs"]):
            return False, f"{stack} call {run['call']} was ended by a cap"
        expected = run.get("expected_batches_per_epoch")
        short = [
            e["observed_batches"]
            for e in complete
            if expected and e["observed_batches"] != expected
        ]
        if short:
            return False, f"{stack} call {run['call']} trained {short} batches, {expected} expected"
    return True, ""


def _could_run(report: dict, stack: str) -> tuple[bool, str]:
    record = next((s for s in report["stacks"] if s["stack"] == stack), {})
    runs = [r for r in report["runs"] if r["stack"] == stack]
    if not runs and record.get("script_exception"):
        return False, f"{stack} could not run the script ({record['script_exception'].get('type')})"
    if any(r.get("exception") for r in runs):
        return False, f"fit() raised on {stack}"
    return True, ""


def verdict_problems(report: dict) -> list[str]:
    verdict = report["verdict"]
    problems = []
    serious = [
        f["code"] for f in report.get("findings", []) if f["severity"] in ("error", "warning")
    ]
    if verdict.startswith("No problem found") and serious:
        problems.append(f'"No problem found" beside {serious}')
    plain = QUOTED.sub("Q", verdict.replace("...", "…"))
    doubled = DOUBLED.search(plain)
    if doubled:
        problems.append(f"doubled punctuation {doubled.group(0)!r}")
    stacks = [s["stack"] for s in report.get("stacks", [])]
    main = verdict.replace("stubbed, as asked", "stubbed")  # an aside about --stub-missing
    current: list[str] = stacks
    for clause in main.split("; "):
        current = _stacks_of(clause, stacks, current)
        if "as asked" in clause:
            for stack in current:
                ok, why = _trained_as_asked(report, stack)
                if not ok:
                    problems.append(f'"as asked" but {why}')
        if "is fine" in clause or verdict.startswith("No problem found"):
            for stack in current:
                ok, why = _could_run(report, stack)
                if not ok and ("is fine" in clause or "cannot run" not in clause):
                    problems.append(f'"fine" but {why}')
    return problems
