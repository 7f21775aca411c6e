"""What can be read from a user's code without running it: its data sources, whether it
calls fit(), whether it pins Keras 3. Pure functions of the syntax tree (`ast`)."""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass, field

__all__ = ["DataSource", "calls_fit", "imports_keras_directly", "list_sources", "own_nodes"]

SEQUENCE_BASES = {"Sequence", "PyDataset"}
DATASET_MARKERS = {"Dataset", "from_tensor_slices", "from_generator", "from_tensors", "range"}


@dataclass
class DataSource:
    """One data source found in a module, for the picker and for `--source`."""

    name: str
    kind: str  # "generator" | "sequence" | "dataset-function"
    line: int
    params: list[dict] = field(default_factory=list)  # {name, default (source text) | None}
    doc: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def calls_fit(tree: ast.Module) -> bool:
    """True when the code calls something named `fit` or `fit_generator`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in {"fit", "fit_generator"}:
                return True
    return False


def imports_keras_directly(tree: ast.Module) -> int | None:
    """Line of an `import keras` / `from keras ...`, which pins Keras 3, else None."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] == "keras" for alias in node.names):
                return node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "keras":
                return node.lineno
    return None


def _params(args: ast.arguments, skip_self: bool) -> list[dict]:
    positional = list(args.posonlyargs) + list(args.args)
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = [
        {"name": a.arg, "default": None if d is None else ast.unparse(d)}
        for a, d in zip(positional, defaults, strict=True)
    ]
    out += [
        {"name": a.arg, "default": None if d is None else ast.unparse(d)}
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if skip_self and out:
        out = out[1:]
    return out


def own_nodes(func: ast.AST):
    """Walk a function body without descending into nested functions or classes."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _base_name(base: ast.expr) -> str | None:
    if isinstance(base, ast.Attribute):
        return base.attr
    if isinstance(base, ast.Name):
        return base.id
    return None


def _builds_dataset(func: ast.FunctionDef) -> bool:
    mentions = returns = False
    for node in own_nodes(func):
        if isinstance(node, ast.Return) and node.value is not None:
            returns = True
        if isinstance(node, ast.Attribute) and node.attr in DATASET_MARKERS:
            if node.attr != "range" or "Dataset" in ast.unparse(node.value):
                mentions = True
    return mentions and returns


def list_sources(tree: ast.Module) -> list[DataSource]:
    """The module's top-level data sources, in file order."""
    found: list[DataSource] = []
    sequence_classes: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = {_base_name(b) for b in node.bases}
            if bases & (SEQUENCE_BASES | sequence_classes):
                sequence_classes.add(node.name)
                init = next(
                    (
                        n
                        for n in node.body
                        if isinstance(n, ast.FunctionDef) and n.name == "__init__"
                    ),
                    None,
                )
                params = _params(init.args, skip_self=True) if init else []
                found.append(
                    DataSource(node.name, "sequence", node.lineno, params, ast.get_docstring(node))
                )
        elif isinstance(node, ast.FunctionDef):
            params = _params(node.args, skip_self=False)
            doc = ast.get_docstring(node)
            if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in own_nodes(node)):
                found.append(DataSource(node.name, "generator", node.lineno, params, doc))
            elif _builds_dataset(node):
                found.append(DataSource(node.name, "dataset-function", node.lineno, params, doc))
    return found
