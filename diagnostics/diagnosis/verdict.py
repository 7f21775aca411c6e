"""The verdict: one plain sentence, built from the same findings and epoch records the
report shows, so that the two cannot disagree.

A stack with an error or warning finding is told by that finding's clause. A stack
without one is told from its runs: how many epochs and batches were asked for and how
many were trained, what ended training (a callback, fitprobe's own cap), and "as
asked" only when what was asked was trained. "No problem found" only when the report
holds no error and no warning at all.
"""

from __future__ import annotations

import re

from diagnostics.report.labels import (
    STACK_LABELS,
    cap_words,
    exception_line,
    place_words,
    plural,
    stopped_words,
)
from diagnostics.rules.base import Run, bare_title

__all__ = ["verdict"]

ENVIRONMENT_CODES = ("missing-module", "missing-data")  # what the probe's environment lacked
PROBLEMS = ("error", "warning")


def _stack_clause(report: dict, stack: str) -> str | None:
    """The leading error or warning finding observed on `stack`, as a clause."""
    for f in report["findings"]:
        if f["severity"] not in PROBLEMS or f.get("static"):
            continue
        if f.get("stack") and stack not in f["stack"]:
            continue
        clause = (f.get("summary") or {}).get(stack) or f["title"]
        return _bare(clause)
    return None


def _info_clause(report: dict, stack: str, call: int, code: str) -> str | None:
    for f in report["findings"]:
        if f["code"] == code and stack in (f.get("stack") or []) and f.get("call") == call:
            return _bare((f.get("summary") or {}).get(stack) or f["title"])
    return None


def _each(batches: list[int]) -> str:
    """"of 10 batches each", or "of 4, 6, 8 batches"."""
    if not batches:
        return ""
    if len(set(batches)) == 1:
        return f" of {plural(batches[0], 'batch')}" + (" each" if len(batches) > 1 else "")
    return f" of {', '.join(str(b) for b in batches)} batches"


def _run_story(report: dict, run: Run) -> tuple[str, bool]:
    """(what one fit() call trained, in words; whether it trained what was asked)."""
    complete = run.complete_epochs
    batches = [e["observed_batches"] for e in complete]
    asked = (run.fit.get("epochs_run") or 0) - (run.fit.get("initial_epoch") or 0)
    wanted = (run.fit.get("epochs") or 0) - (run.fit.get("initial_epoch") or 0)
    capped = [e for e in run.epochs if e.get("capped")]
    if capped:
        epoch = capped[0]
        return (
            f"trained {plural(epoch['observed_batches'], 'batch')} in epoch {epoch['epoch']} "
            f"before fitprobe's own cap ({cap_words(epoch.get('cap') or run.cap)}) ended the "
            f"probe{_stopped_in(report, run)}; nothing it trained until then went wrong",
            False,
        )
    if not complete:
        return "started training but no epoch completed", False
    expected = run.expected
    full = expected is None or all(b == expected for b in batches)
    if run.stopped_by == "callback":
        stopped = _info_clause(report, run.stack, run.call, "callback-stopped-training")
        stopped = stopped or "a callback stops training"
        return (
            f"trained {len(complete)} of the {plural(asked, 'epoch')} asked for"
            f"{_each(batches).replace(' of ', ', ', 1)}: {stopped}, as it may",
            False,
        )
    text = f"trained {plural(len(complete), 'epoch')}{_each(batches)}"
    as_asked = full and len(complete) == asked and asked > 0
    if as_asked and wanted > asked:
        text += f" (the first {asked} of the {wanted} asked for: fitprobe's epoch cap)"
    if as_asked:
        text += ", as asked"
        rows = run.info.get("data_rows")
        seen = [e.get("samples_seen") for e in complete]
        if rows and seen and all(s == rows for s in seen):
            text += f", covering all {rows} samples every epoch"
    elif len(complete) < asked:
        text += f" of the {asked} asked for"
    return text, as_asked


def _stopped_in(report: dict, run: Run) -> str:
    """ " while the script was in `batches()`, line 12: `...`": where the time limit
    found the user's code."""
    record = next((s for s in report["stacks"] if s["stack"] == run.stack), {})
    words = place_words(report, record.get("stopped_at"))
    return f" while the script was {words}" if words and run.stopped_by == "timeout" else ""


def _quiet_stack(report: dict, stack: str) -> tuple[str, str]:
    """A stack with no error or warning finding: (clause, state), state one of
    "as-asked", "stopped", "not-run", "cannot-run", "no-fit", "other"."""
    label = STACK_LABELS.get(stack, stack)
    runs = [Run(r) for r in report["runs"] if r["stack"] == stack]
    record = next((s for s in report["stacks"] if s["stack"] == stack), {})
    if not runs:
        if record.get("status") == "not-applicable":
            reason = (record.get("reason") or "").removeprefix("not applicable: ")
            return f"{label} was not run ({_bare(reason)})", "not-run"
        exc = record.get("script_exception")
        if exc:
            where = f" at line {exc['line']}" if exc.get("line") else ""
            missing = _missing_api(exc)
            if missing:
                return (
                    f"{label} cannot run this script: `{missing}` does not exist in {label} "
                    f"({exc.get('type')}{where}, before any fit() call)",
                    "cannot-run",
                )
            return (
                f"{label} cannot run this script: it raised {exc.get('type')}{where} before "
                f"any fit() call ({_bare(exception_line(exc.get('message')))})",
                "cannot-run",
            )
        return _bare(record.get("reason") or f"{label} made no fit() call"), "no-fit"
    stories = [_run_story(report, run) for run in runs]
    if len(runs) > 1:
        if all(ok for _, ok in stories):
            told = f"{label} trained every epoch of all {len(runs)} fit() calls as asked"
            return told, "as-asked"
        told = "; ".join(
            f"fit() call {r.call + 1} {s}" for r, (s, _) in zip(runs, stories, strict=True)
        )
        return f"{label}: {told}", "other"
    text, ok = stories[0]
    state = "as-asked" if ok else ("stopped" if runs[0].stopped_by == "callback" else "other")
    return f"{label} {text}", state


_NO_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")


def _missing_api(exc: dict) -> str | None:
    """`keras.utils.PyDataset` for "module 'tf_keras.api._v2.keras.utils' has no attribute
    'PyDataset'": a Keras API the stack does not have, by the name the script uses."""
    if exc.get("type") != "AttributeError":
        return None
    match = _NO_ATTRIBUTE.search(exc.get("message") or "")
    if not match or "keras" not in match.group(1):
        return None
    module = match.group(1)
    public = module[module.rindex("keras") :] if "keras." in module else "keras"
    return f"{public}.{match.group(2)}"


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
        stopped = stopped_words(report)  # the time limit or a cancel, and where the code was
        cause = _environment_clause(report)
        if stopped and report["status"] == "cancelled":
            base = _bare(_sentence(stopped))
        elif cause:
            return f"This input could not be probed: {_bare(cause)}."
        elif stopped:
            base = f"The probe did not finish: {_bare(stopped)}"
        else:
            base = f"This input could not be probed: {_bare(report.get('status_reason') or '')}"
        hint = next((f for f in report.get("findings", []) if f.get("static")), None)
        if hint:
            base += f"; reading the code, {bare_title(hint)}"
        return base + "."
    stacks = [s["stack"] for s in report["stacks"]]
    problems = {s: c for s in stacks if (c := _stack_clause(report, s))}
    quiet = {s: _quiet_stack(report, s) for s in stacks if s not in problems}
    unstacked = [
        f
        for f in report["findings"]
        if f["severity"] in PROBLEMS and (f.get("static") or not f.get("stack"))
    ]
    if not problems:
        parts = _both(quiet) or "; ".join(clause for clause, _ in quiet.values())
        if unstacked:
            return (
                f"Nothing observed went wrong ({parts}), but reading the code, "
                f"{bare_title(unstacked[0])}."
            )
        if any(state == "cannot-run" for _, state in quiet.values()):
            return _sentence(parts)
        return f"No problem found: {parts}."
    if len(stacks) == 2 and len(problems) == 2 and len(set(problems.values())) == 1:
        return f"On both Keras 3 and Keras 2, {next(iter(problems.values()))}."
    parts = []
    for stack in stacks:
        label = STACK_LABELS.get(stack, stack)
        if stack in problems:
            parts.append(f"on {label} {problems[stack]}")
            continue
        clause, state = quiet[stack]
        if state in ("as-asked", "stopped"):
            clause = clause.replace(label, f"{label} is fine, it", 1)
        parts.append(clause)
    return _sentence("; ".join(parts))


def _both(quiet: dict) -> str | None:
    """One clause for two stacks that did the same: "on both Keras 3 and Keras 2, ..."."""
    if len(quiet) != 2 or any(state == "cannot-run" for _, state in quiet.values()):
        return None
    told = {clause.replace(STACK_LABELS.get(s, s) + " ", "", 1) for s, (clause, _) in quiet.items()}
    return f"on both Keras 3 and Keras 2, fit() {told.pop()}" if len(told) == 1 else None


def _sentence(text: str) -> str:
    text = _bare(text)
    return text[0].upper() + text[1:] + "."
