"""Fix previews: the edit a rule proposes for one finding, shown as the user's code and a
diff, so that the app can apply it and probe the edited script again.

A rule that has a mechanical fix says so with a `fix(source, finding, report)` hook (see
`rules/__init__.py`); it edits with libcst, so the user's formatting and comments
survive. `propose_fix` asks that rule and packs its answer; there is no preview for a
notebook (its lines are cells), for code that does not parse, or where the rule finds
the code is not the plain shape its edit needs.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass

from diagnostics.rules import catalog

__all__ = ["FixPreview", "fixable", "propose_fix"]


@dataclass(frozen=True)
class FixPreview:
    """One proposed edit: the finding's code, what the edit does in one plain sentence,
    the whole edited source, and the unified diff from the user's source to it."""

    code: str
    summary: str
    source: str
    diff: str


def fixable(code: str) -> bool:
    """Whether the rule of this finding code can propose an edit of the code."""
    return callable(getattr(catalog().get(code), "fix", None))


def propose_fix(report: dict, finding: dict, source: str) -> FixPreview | None:
    """The edit the finding's rule proposes for `source` (the code the report probed),
    or None where there is none."""
    code = finding.get("code")
    info = report.get("input") or {}
    name = info.get("name") or "script.py"
    if not fixable(code) or info.get("notebook") or name.endswith(".ipynb"):
        return None
    if not _parses(source):
        return None
    try:
        edited = catalog()[code].fix(source, finding, report)
    except Exception:  # a rule's fix that fails is no fix: the report stands as it is
        return None
    if not edited or edited == source or not _parses(edited):
        return None
    summary = getattr(edited, "summary", None) or f"fitprobe's fix for {code}"
    return FixPreview(code, summary, str(edited), _diff(source, str(edited), name))


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a null byte in the source
        return False
    return True


def _diff(before: str, after: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            _lines(before), _lines(after), fromfile=f"a/{name}", tofile=f"b/{name}"
        )
    )


def _lines(text: str) -> list[str]:
    """The text's lines, each ending with a newline (the last one too, so that a diff of
    a file without a final newline still shows one line per line)."""
    return [line if line.endswith("\n") else line + "\n" for line in text.splitlines(True)]
