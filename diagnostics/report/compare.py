"""Before and after: what changed between two reports of the same case.

A support engineer probes a customer's script, edits it, probes again, and shows
both. `compare(before, after)` says, from the two reports alone, which findings
were fixed, which are new and which remain (per stack: a finding fixed on Keras 3
but still seen on Keras 2 is partly fixed), and how the trained batches per epoch
moved, per stack and fit() call. The older report is always `before`
(`order(a, b)` sorts two by when they were made).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from diagnostics.report.labels import STACK_LABELS, plural

__all__ = ["Comparison", "FindingChange", "RunChange", "compare", "order"]

# In the order a reader wants them: what the edit achieved first.
CHANGES = ("fixed", "partly fixed", "new", "changed", "unchanged")
ANY_STACK = "-"  # a finding that names no stack (a static one, say)


@dataclass(frozen=True)
class FindingChange:
    code: str
    title: str
    change: str  # one of CHANGES
    severity: str  # the worse of its severities before and after
    stacks_before: tuple[str, ...]
    stacks_after: tuple[str, ...]

    def words(self) -> str:
        """"fixed", "fixed on Keras 3, still on Keras 2", "new on Keras 2"..."""
        if self.change == "partly fixed":
            gone = [s for s in self.stacks_before if s not in self.stacks_after]
            return f"fixed on {_stacks(gone)}, still on {_stacks(self.stacks_after)}"
        if self.change == "new":
            return f"new on {_stacks(self.stacks_after)}"
        if self.change == "changed":
            return f"was on {_stacks(self.stacks_before)}, now on {_stacks(self.stacks_after)}"
        return self.change


@dataclass(frozen=True)
class RunChange:
    """Trained (and expected) batches per epoch of one fit() call on one stack."""

    stack: str
    call: int
    before: tuple[int, ...] | None  # None: this call did not run in that report
    after: tuple[int, ...] | None
    expected_before: int | None
    expected_after: int | None

    def words(self) -> str:
        def shown(batches):
            return "not run" if batches is None else ", ".join(map(str, batches)) or "none"

        return f"{shown(self.before)} → {shown(self.after)}"


@dataclass(frozen=True)
class Comparison:
    before: dict
    after: dict
    findings: list[FindingChange] = field(default_factory=list)
    runs: list[RunChange] = field(default_factory=list)

    def count(self, change: str) -> int:
        return sum(f.change == change for f in self.findings)

    def summary(self) -> str:
        """One line: "1 finding fixed, none new, 1 unchanged; trained batches changed on
        Keras 3 and Keras 2"."""
        parts = [
            f"{plural(self.count(c), 'finding')} {c}" if i == 0 else f"{self.count(c)} {c}"
            for i, c in enumerate(c for c in CHANGES if self.count(c))
        ] or ["no finding before or after"]
        moved = sorted({r.stack for r in self.runs if r.before != r.after}, key=_stack_order)
        trained = (
            f"trained batches changed on {_stacks(moved)}"
            if moved
            else "the same batches trained per epoch"
        )
        return f"{', '.join(parts)}; {trained}."


def order(a: dict, b: dict) -> tuple[dict, dict]:
    """The two reports, older first (by `created`, then by which was made after which)."""
    if b.get("before") == a.get("id"):
        return a, b
    if a.get("before") == b.get("id"):
        return b, a
    return (a, b) if (a.get("created") or "") <= (b.get("created") or "") else (b, a)


def compare(before: dict, after: dict) -> Comparison:
    return Comparison(before, after, _findings(before, after), _runs(before, after))


def _stack_order(stack: str) -> int:
    order_ = list(STACK_LABELS)
    return order_.index(stack) if stack in order_ else len(order_)


def _stacks(stacks) -> str:
    names = [STACK_LABELS.get(s, s) for s in stacks if s != ANY_STACK]
    return " and ".join(names) if names else "the code"


def _by_code(report: dict) -> dict[str, dict]:
    """{code: {"stacks": set, "title": first title, "severities": set}}."""
    out: dict[str, dict] = {}
    for f in report.get("findings") or []:
        entry = out.setdefault(f["code"], {"stacks": set(), "title": f["title"], "sev": set()})
        entry["stacks"].update(f.get("stack") or [ANY_STACK])
        entry["sev"].add(f.get("severity") or "info")
    return out


def _worst(severities: set[str]) -> str:
    return next((s for s in ("error", "warning") if s in severities), "info")


def _findings(before: dict, after: dict) -> list[FindingChange]:
    old, new = _by_code(before), _by_code(after)
    changes = []
    for code in [*old, *(c for c in new if c not in old)]:
        was = old.get(code, {"stacks": set(), "sev": set(), "title": None})
        now = new.get(code, {"stacks": set(), "sev": set(), "title": None})
        a, b = was["stacks"], now["stacks"]
        if not b:
            change = "fixed"
        elif not a:
            change = "new"
        elif a == b:
            change = "unchanged"
        elif b < a:
            change = "partly fixed"
        else:
            change = "changed"
        changes.append(
            FindingChange(
                code=code,
                title=now["title"] or was["title"],
                change=change,
                severity=_worst(was["sev"] | now["sev"]),
                stacks_before=tuple(sorted(a, key=_stack_order)),
                stacks_after=tuple(sorted(b, key=_stack_order)),
            )
        )
    return sorted(changes, key=lambda c: CHANGES.index(c.change))


def _trained(report: dict) -> dict[tuple[str, int], dict]:
    return {(run["stack"], run["call"]): run for run in report.get("runs") or []}


def _runs(before: dict, after: dict) -> list[RunChange]:
    old, new = _trained(before), _trained(after)
    keys = sorted(set(old) | set(new), key=lambda k: (_stack_order(k[0]), k[1]))

    def batches(run):
        return None if run is None else tuple(e["observed_batches"] for e in run["epochs"])

    def expected(run):
        return None if run is None else run.get("expected_batches_per_epoch")

    return [
        RunChange(
            stack,
            call,
            batches(old.get((stack, call))),
            batches(new.get((stack, call))),
            expected(old.get((stack, call))),
            expected(new.get((stack, call))),
        )
        for stack, call in keys
    ]
