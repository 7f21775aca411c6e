"""The teaching gallery: one broken input-pipeline pattern and its fix per module.

Each module is a runnable training script with both variants:
`python sample_generators/NAME.py broken` or `... fixed` (probe it with
`--script-args broken|fixed`). Module-level metadata, read without running it:
- `TITLE`: the pattern in a few words;
- `LESSON`: one paragraph, what goes wrong and why;
- `RULE`: the finding code it teaches;
- `EXPECTED`: {"broken"|"fixed": {"keras3"|"keras2": [codes] or None}}: the
  error- and warning-severity codes a probe reports for that variant on that
  stack (None: the variant cannot run on that stack). Tests hold the samples to it;
- optionally `PROBE_TIMEOUT`: seconds per stack to probe it with, for a sample whose
  broken variant hangs until the time limit;
- optionally `CHART`: the chart the gallery shows for the lesson, the one where broken
  and fixed differ (a name of `diagnostics.charts.LESSON_CHARTS`: "batches", the
  default, "coverage", "timeline", "validation", "order" or "loss"); `SAME_CHARTS = True`
  where the lesson is that nothing differs (a warning that means nothing). Tests hold
  each sample to it.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
VARIANTS = ("broken", "fixed")
METADATA = ("TITLE", "LESSON", "RULE", "EXPECTED")
OPTIONAL = ("PROBE_TIMEOUT", "CHART", "SAME_CHARTS")

__all__ = ["Sample", "samples", "VARIANTS"]


@dataclass(frozen=True)
class Sample:
    name: str
    path: Path
    title: str
    lesson: str
    rule: str
    expected: dict
    probe_timeout: float | None = None
    chart: str = "batches"
    same_charts: bool = False

    def code(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def sha256(self) -> str:
        """Of the file's bytes, as a report's `input.sha256` records it."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def job(self, variant: str) -> dict:
        """Which file to probe for this variant, and the name to show it by."""
        return {"path": str(self.path), "name": f"{self.name}.py ({variant})"}

    def options(self, variant: str) -> dict:
        """The probe options (`diagnostics.ProbeOptions`) that run this variant."""
        return {"script_args": (variant,)}

    def _definitions(self):
        tree = ast.parse(self.code(), filename=self.path.name)
        defs = {
            n.name: n
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        }
        return defs, {v: _reached(v, defs) for v in VARIANTS}

    def variant_code(self, variant: str) -> str:
        """The code one variant runs: its entry function and the module's functions and
        classes it uses, less those the other variant uses too (the shared scaffolding)."""
        defs, used = self._definitions()
        shared = set.intersection(*used.values())
        own = [defs[n] for n in defs if n in used[variant] - shared]
        return "\n\n\n".join(ast.get_source_segment(self.code(), n) or "" for n in own)

    def other_variants_lines(self, variant: str) -> set[int]:
        """Lines of the definitions only the other variant uses: what a reader of this
        variant can ignore (pre-flight findings there are not about it)."""
        defs, used = self._definitions()
        others = set().union(*(u for v, u in used.items() if v != variant)) - used[variant]
        return {
            line
            for name in others
            for line in range(defs[name].lineno, (defs[name].end_lineno or 0) + 1)
        }


def _reached(entry: str, defs: dict) -> set[str]:
    """Names of the module-level definitions `entry` uses, itself included, transitively."""
    seen, todo = set(), [entry]
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        todo += [n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name)]
    return seen


def _metadata(path: Path) -> dict:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in METADATA + OPTIONAL:
                found[target.id] = ast.literal_eval(node.value)
    missing = [m for m in METADATA if m not in found]
    if missing:
        raise ValueError(f"{path.name} lacks {', '.join(missing)}")
    return found


def samples() -> list[Sample]:
    """Every sample, by module name (metadata read statically: nothing is run)."""
    out = []
    for path in sorted(HERE.glob("*.py")):
        if path.name.startswith("_"):
            continue
        meta = _metadata(path)
        out.append(
            Sample(
                path.stem,
                path,
                meta["TITLE"],
                meta["LESSON"],
                meta["RULE"],
                meta["EXPECTED"],
                meta.get("PROBE_TIMEOUT"),
                meta.get("CHART", "batches"),
                meta.get("SAME_CHARTS", False),
            )
        )
    return out
