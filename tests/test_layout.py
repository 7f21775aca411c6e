"""Boundaries from style.md: the library never imports streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "diagnostics"


def test_diagnostics_never_imports_streamlit():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "streamlit" for n in names):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_public_api_is_small_and_explicit():
    import diagnostics

    assert "probe" in diagnostics.__all__
    assert all(hasattr(diagnostics, name) for name in diagnostics.__all__)
