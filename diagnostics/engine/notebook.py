"""Notebooks, parent side: a `.ipynb` or pasted notebook cells -> a Python script to probe.

The notebook is read with nbformat (code cells only, in order). Each cell goes
through IPython's own input transformers (`TransformerManager`), which turn
IPython syntax into Python: `%magic` -> `get_ipython().run_line_magic(...)`,
`!cmd` -> `get_ipython().system(...)`, `x = !cmd` -> `getoutput`, `obj?` -> `pinfo`.
The script then keeps those calls: in the worker, `get_ipython()` is a shim on which
they do nothing (`surroundings.install_notebook_builtins`), and each is listed in
the report as skipped, with its cell and line. Two kinds are run instead:
- timing and output-capturing magics (`%time stmt`, `%%time`, `%%capture`, ...)
  wrap code the notebook means to run: that code runs as plain Python;
- `%env K=V` sets the variable (the shim does it).
Every cell keeps its lines one for one, so a line of the script maps back to a
cell and a line of it (`SourceMap`), and findings say "cell 3, line 2".
"""

from __future__ import annotations

import ast
import json
from dataclasses import asdict, dataclass, field

from diagnostics.engine.inputs import InputError

__all__ = [
    "Converted",
    "convert_cells",
    "is_notebook_bytes",
    "looks_like_cells",
    "read_notebook",
    "split_pasted_cells",
]

# Magics whose argument (line) or body (cell) is code the notebook means to run.
RUN_LINE = {"time", "timeit", "prun"}
RUN_CELL = {"time", "timeit", "prun", "capture"}
# Magics the worker's `get_ipython()` shim carries out (surroundings._IPythonShim).
RUN_BY_SHIM = {"env", "run", "writefile"}
WHY = {
    "system": "a shell command (not run in the probe)",
    "getoutput": "a shell command (not run; its output is an empty list)",
    "pip": "a package install (not run: the probe's packages are fixed)",
    "conda": "a package install (not run: the probe's packages are fixed)",
    "matplotlib": "plots are drawn headless (Agg) in the probe",
    "cd": "the working directory is the probe's (attached data appears in it)",

    "pinfo": "help, not code",
    "pinfo2": "help, not code",
}
CELL_MARKERS = ("# %%", "#%%", "# In[")


@dataclass
class Skipped:
    cell: int  # 1-based, counting every cell of the notebook as it shows them
    line: int  # 1-based, in that cell
    text: str  # the line as the notebook has it
    why: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Converted:
    """The script made of a notebook, and how to find a notebook cell from its lines."""

    script: str
    cells: list[dict] = field(default_factory=list)  # {cell, first_line, lines}
    skipped: list[Skipped] = field(default_factory=list)
    source: str = "ipynb"  # "ipynb" | "pasted cells"

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "cells": self.cells,
            "skipped": [s.to_dict() for s in self.skipped],
        }


def is_notebook_bytes(data: bytes) -> bool:
    """A Jupyter notebook's JSON (an object with "cells" and "nbformat")."""
    head = data.lstrip()[:1]
    if head != b"{":
        return False
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(obj, dict) and "cells" in obj and "nbformat" in obj


def read_notebook(data: bytes, display: str) -> Converted:
    """A `.ipynb` file's bytes -> the script of its code cells; InputError if unreadable."""
    import nbformat

    try:
        nb = nbformat.reads(data.decode("utf-8-sig"), as_version=4)
    except UnicodeDecodeError as exc:
        raise InputError(f"{display} is not UTF-8 text (byte {exc.start})") from None
    except Exception as exc:  # nbformat raises several kinds for a broken file
        first = str(exc).strip().splitlines()[:1]
        raise InputError(
            f"{display} is not a readable Jupyter notebook: {first[0] if first else exc}"
        ) from None
    cells = [
        (number, cell.source)
        for number, cell in enumerate(nb.cells, start=1)
        if cell.cell_type == "code"
    ]
    if not cells:
        raise InputError(f"{display} has no code cells: nothing to probe")
    return convert_cells(cells, display, source="ipynb")


def cells_as_text(data: str) -> str | None:
    """A notebook's code cells as one text to edit, each after a `# %%` line (which
    `split_pasted_cells` splits at again), or None when it is not a readable notebook."""
    import nbformat

    try:
        nb = nbformat.reads(data, as_version=4)
    except Exception:  # nbformat raises several kinds for a broken file
        return None
    cells = [c.source.rstrip() for c in nb.cells if c.cell_type == "code"]
    return "".join(f"# %%\n{cell}\n\n" for cell in cells) or None


def split_pasted_cells(text: str) -> list[tuple[int, str]]:
    """Pasted notebook code -> cells: split at the cell markers that Jupyter's and VS
    Code's script exports write (`# %%`, `# In[3]:`); without them, one cell."""
    cells, current = [], []
    for line in text.splitlines():
        if line.lstrip().startswith(CELL_MARKERS) and current and any(s.strip() for s in current):
            cells.append("\n".join(current))
            current = []
        current.append(line)
    cells.append("\n".join(current))
    return list(enumerate(cells, start=1))


def looks_like_cells(text: str) -> bool:
    """Pasted text that is notebook code: IPython syntax (`!pip install ...`, `%matplotlib
    inline`, `%%time`), or Python that calls `get_ipython()` (a notebook exported as a
    script). A syntax error elsewhere in such cells is then reported by cell and line."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None:
        return any(
            isinstance(n, ast.Name) and n.id == "get_ipython" for n in ast.walk(tree)
        )
    tm = _transformer()  # IPython syntax is what it turns into get_ipython() calls
    return "get_ipython()" in tm.transform_cell(text) and "get_ipython()" not in text


def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def _ipython_call(node: ast.AST) -> tuple[str, list] | None:
    """`get_ipython().METHOD(args...)` -> (METHOD, literal args), else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (
        isinstance(owner, ast.Call)
        and isinstance(owner.func, ast.Name)
        and owner.func.id == "get_ipython"
    ):
        return None
    args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
    return node.func.attr, args


def _what(method: str, args: list) -> str:
    """The magic's or command's name, as WHY knows it."""
    if method in ("run_line_magic", "run_cell_magic") and args and args[0]:
        return str(args[0])
    if method == "system" and args and isinstance(args[0], str):
        first = args[0].split()
        if first and first[0] in ("pip", "pip3", "conda"):
            return "pip"
    return method


def convert_cells(cells: list[tuple[int, str]], display: str, source: str) -> Converted:
    tm = _transformer()
    out: list[str] = []
    spans, skipped = [], []
    for number, text in cells:
        lines, dropped = _convert_cell(tm, number, text, display)
        spans.append({"cell": number, "first_line": len(out) + 1, "lines": len(lines)})
        out.extend(lines)
        out.append("")  # a blank line between cells, so no cell's end runs into the next
        skipped += dropped
    return Converted("\n".join(out) + "\n", spans, skipped, source)


def _convert_cell(tm, number: int, text: str, display: str) -> tuple[list[str], list[Skipped]]:
    """One cell -> as many lines of Python, and what of it was skipped."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        return lines, []
    if lines[start].strip().startswith("%%"):
        return _cell_magic(tm, number, lines, start, display)
    converted = [""] * start + tm.transform_cell(text).splitlines()  # it drops leading blanks
    converted = _realign(lines, converted)
    try:
        tree = ast.parse("\n".join(converted))
    except SyntaxError as exc:
        where = f"cell {number}, line {exc.lineno}" if exc.lineno else f"cell {number}"
        raise InputError(f"{display} has a syntax error in {where}: {exc.msg}") from None
    skipped = []
    for node in ast.walk(tree):
        call = _ipython_call(node)
        if call is None:
            continue
        method, args = call
        index = node.lineno - 1
        name = _what(method, args)
        if method == "run_line_magic" and name in RUN_LINE and _runs_as_is(tree, node, args):
            line = converted[index]
            converted[index] = line[: len(line) - len(line.lstrip())] + args[1]
            continue
        if name in RUN_BY_SHIM:
            continue  # the shim does what it says: nothing skipped
        why = WHY.get(name) or (
            f"the %{name} magic (not run in the probe)"
            if method == "run_line_magic"
            else "IPython-only syntax (not run in the probe)"
        )
        skipped.append(Skipped(number, index + 1, _command(lines, index), why))
    return converted, skipped


def _continued(lines: list[str], i: int) -> int:
    """How many lines after line i a backslash at the end of each carries on."""
    k = 0
    while i + k < len(lines) - 1 and lines[i + k].rstrip().endswith("\\"):
        k += 1
    return k


def _command(lines: list[str], i: int) -> str:
    """Line i as the notebook has it, with the lines a backslash carries it onto."""
    if i >= len(lines):
        return ""
    carried = lines[i : i + _continued(lines, i) + 1]
    parts = [line.strip().removesuffix("\\").strip() for line in carried]
    return " ".join(p for p in parts if p)


def _realign(lines: list[str], converted: list[str]) -> list[str]:
    """IPython joins a magic or shell line carried on with backslashes into one line:
    blank lines after it keep every later line of the cell at its number."""
    out, i, j = [], 0, 0
    while i < len(lines):
        line = converted[j] if j < len(converted) else ""
        out.append(line)
        k = _continued(lines, i) if "get_ipython()" in line else 0
        out.extend([""] * k)
        i, j = i + 1 + k, j + 1
    return out + converted[j:]


def _runs_as_is(tree: ast.Module, call: ast.Call, args: list) -> bool:
    """`%time stmt` on a line of its own, whose stmt is Python: it can run as that stmt."""
    if len(args) < 2 or not isinstance(args[1], str):
        return False
    if not any(isinstance(n, ast.Expr) and n.value is call for n in ast.walk(tree)):
        return False
    try:
        ast.parse(args[1])
    except SyntaxError:
        return False
    return True


def _cell_magic(tm, number, lines, start, display) -> tuple[list[str], list[Skipped]]:
    magic = lines[start].strip()[2:]
    name, _, line = magic.partition(" ")
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    body = lines[start + 1 :]
    if name in RUN_CELL:
        converted, skipped = _convert_cell(tm, number, "\n".join(body), display)
        for s in skipped:  # their lines were counted in the body: move them below the magic
            s.line += start + 1
        first = f"{indent}# fitprobe: ran the body of %%{name} as plain code"
        target = _capture_target(line) if name == "capture" else None
        if target:  # `%%capture cap`: `cap.show()` later needs a captured-output object
            first = f"{indent}{target} = get_ipython().captured()  # fitprobe: %%capture"
        return lines[:start] + [first] + converted, skipped
    if name in RUN_BY_SHIM:  # %%writefile: the shim writes the file into the working folder
        call = f"{indent}get_ipython().run_cell_magic({name!r}, {line!r}, {chr(10).join(body)!r})"
        return lines[:start] + [call] + [""] * len(body), []
    why = f"the %%{name} cell magic (the whole cell is not run)"
    commented = [f"# {text}" if text.strip() else text for text in lines[start:]]
    return lines[:start] + commented, [Skipped(number, start + 1, lines[start].strip(), why)]


def _capture_target(line: str) -> str | None:
    """The variable `%%capture [--no-stdout ...] NAME` stores its output in, if any."""
    names = [word for word in line.split() if not word.startswith("-")]
    return names[0] if names and names[0].isidentifier() else None
