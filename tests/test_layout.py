"""The layout keeps its promises (design.md, style.md): which side of the process boundary
a module runs on is its folder; the two sides share only the schema; the pages use only
the public API; no rule imports another; public TensorFlow only; no compiled code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import diagnostics

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "diagnostics"
SHARED = {"diagnostics.schema", "diagnostics.packages"}  # what both sides may import


def _imports(path: Path) -> list[str]:
    """The modules a file imports (absolute names; relative ones resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.append(module)
            names += [f"{module}.{a.name}" for a in node.names]
    return names


def _offenders(folder: str, forbidden: str) -> list[str]:
    found = []
    for path in (PACKAGE / folder).rglob("*.py"):
        for name in _imports(path):
            if name == forbidden or name.startswith(forbidden + "."):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_diagnostics_never_imports_streamlit():
    offenders = [
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if any(name.split(".")[0] == "streamlit" for name in _imports(path))
    ]
    assert offenders == []


def test_the_engine_and_the_worker_never_import_each_other():
    assert _offenders("engine", "diagnostics.worker") == []
    assert _offenders("worker", "diagnostics.engine") == []


def test_the_worker_imports_nothing_of_fitprobe_but_itself_and_the_schema():
    found = []
    for path in (PACKAGE / "worker").rglob("*.py"):
        for name in _imports(path):
            if name.startswith("diagnostics") and not name.startswith("diagnostics.worker"):
                if not any(name == s or name.startswith(s + ".") for s in SHARED):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    assert found == []


def test_no_rule_imports_another():
    rules = PACKAGE / "rules"
    allowed = {"diagnostics.rules.base", "diagnostics.rules._shared", "diagnostics.rules._fixes"}
    found = []
    for path in rules.glob("*.py"):
        for name in _imports(path):
            if name.startswith("diagnostics.rules.") and name.count(".") == 2:
                if name not in allowed and path.stem not in ("__init__",):
                    found.append(f"{path.name} imports {name}")
    assert found == []


def test_pages_and_the_app_use_only_the_public_api():
    found = []
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("diagnostics"):
                if node.module != "diagnostics":
                    found.append(f"{path.name}: from {node.module} import ...")
                found += [
                    f"{path.name}: {a.name} is not in diagnostics.__all__"
                    for a in node.names
                    if a.name not in diagnostics.__all__
                ]
            elif isinstance(node, ast.Import):
                found += [
                    f"{path.name}: import {a.name}"
                    for a in node.names
                    if a.name.startswith("diagnostics.")
                ]
    assert found == []


def test_public_api_is_explicit():
    assert "probe" in diagnostics.__all__ and "ProbeOptions" in diagnostics.__all__
    assert all(hasattr(diagnostics, name) for name in diagnostics.__all__)


def test_public_tensorflow_only_and_no_compiled_code():
    private = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in PACKAGE.rglob("*.py")
        for name in _imports(path)
        if name.startswith(("tensorflow.python", "tensorflow.core"))
    ]
    assert private == []
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    compiled = [f for f in tracked if Path(f).suffix in {".c", ".cc", ".cpp", ".h", ".so"}]
    assert compiled == []


def test_a_worker_loads_nothing_of_the_engine():
    """What `python -m diagnostics.worker` imports at run time, not only in its source:
    the package itself must not pull the engine in (its public API loads lazily)."""
    code = (
        "import sys, diagnostics.worker.main, diagnostics.worker.recorder, "
        "diagnostics.worker.keras_hooks, diagnostics.worker.surroundings; "
        "print(sorted(m for m in sys.modules if m.startswith('diagnostics')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = eval(done.stdout)  # a list of module names, printed by the line above
    outside = [
        m for m in loaded
        if not m.startswith("diagnostics.worker") and m not in ("diagnostics", *SHARED)
    ]  # fmt: skip
    assert outside == []


def test_functions_read_in_one_screen():
    longest = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > 80:
                    longest.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {lines}")
    assert longest == []
