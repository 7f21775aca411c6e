"""Reading the user's file and finding what can be probed in it, statically.

Nothing here runs user code: the file is read, decoded and parsed with `ast`.
Module mode lists its data sources from the syntax tree (generator functions,
`Sequence`/`PyDataset` subclasses, functions that build a `tf.data.Dataset`);
the worker imports the module only inside the probe process.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "InputError",
    "UserFile",
    "DataSource",
    "read_user_file",
    "parse_user_bytes",
    "parse_argument",
    "list_sources",
    "calls_fit",
    "imports_keras_directly",
    "MAX_FILE_BYTES",
    "MAX_NOTEBOOK_BYTES",
]

MAX_FILE_BYTES = 2 * 1024 * 1024  # a training script, not a data file
MAX_NOTEBOOK_BYTES = 25 * 1024 * 1024  # a notebook carries its outputs (plots) too
SEQUENCE_BASES = {"Sequence", "PyDataset"}
DATASET_MARKERS = {"Dataset", "from_tensor_slices", "from_generator", "from_tensors", "range"}


class InputError(Exception):
    """The input cannot be probed; the message is one clear line for the user."""

    def __init__(self, message: str, sha256: str | None = None):
        super().__init__(message)
        self.sha256 = sha256  # of the file's bytes, when there were any


@dataclass(frozen=True)
class UserFile:
    path: Path  # the file as the user gave it (a notebook's .ipynb, say)
    name: str
    text: str  # the Python that runs: a notebook's code cells, converted
    sha256: str  # of the bytes the user gave
    tree: ast.Module
    notebook: object = None  # notebook.Converted, when the input was a notebook or its cells

    @property
    def script_name(self) -> str:
        """The file name the worker runs: the user's own, or NAME.py for a notebook."""
        if self.notebook is None:
            return self.path.name
        stem = Path(self.name).stem.replace(" ", "_") or "notebook"
        return f"{stem}.py"


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


def read_user_file(path, name: str | None = None) -> UserFile:
    """Read, decode and parse a user's Python file, or raise InputError."""
    path = Path(path)
    display = name or path.name
    if not path.exists():
        raise InputError(f"No such file: {display}")
    if not path.is_file():
        raise InputError(f"Not a file: {display}")
    size = path.stat().st_size
    if size > _limit(display):
        raise InputError(_too_big(display, size))
    return parse_user_bytes(path.read_bytes(), display, path)


def _limit(display: str) -> int:
    return MAX_NOTEBOOK_BYTES if display.lower().endswith(".ipynb") else MAX_FILE_BYTES


def _too_big(display: str, size: int) -> str:
    what = "a notebook" if display.lower().endswith(".ipynb") else "a training script"
    return (
        f"{display} is {size / 1e6:.1f} MB; {what} is expected "
        f"(at most {_limit(display) // (1024 * 1024)} MB)"
    )


def parse_user_bytes(data: bytes, display: str, path: Path | None = None) -> UserFile:
    """Decode and parse a user's source given as bytes (an upload, say): Python, a Jupyter
    notebook (`.ipynb`), or notebook cells pasted as text (magics and shell lines in it)."""
    from diagnostics.engine import notebook

    if len(data) > _limit(display):
        raise InputError(_too_big(display, len(data)))
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise InputError(f"{display} is empty: paste or upload a Python training script", digest)
    if b"\x00" in data:
        raise InputError(f"{display} is a binary file, not Python source", digest)
    converted = None
    try:
        if display.lower().endswith(".ipynb") or notebook.is_notebook_bytes(data):
            converted = notebook.read_notebook(data, display)
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{display} is not UTF-8 text (byte {exc.start}): save it as UTF-8 Python source",
            digest,
        ) from None
    except InputError as exc:
        raise InputError(str(exc), digest) from None
    if converted is None and notebook.looks_like_cells(text):
        converted = notebook.convert_cells(
            notebook.split_pasted_cells(text), display, "pasted cells"
        )
    if converted is not None:
        text = converted.script
    try:
        tree = ast.parse(text, filename=display)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "unknown line"
        raise InputError(f"{display} has a syntax error at {where}: {exc.msg}", digest) from None
    except ValueError as exc:  # e.g. source contains null bytes after decoding
        raise InputError(f"{display} cannot be parsed: {exc}", digest) from None
    return UserFile(path or Path(display), display, text, digest, tree, converted)


def parse_argument(text: str):
    """A data source's argument typed by a user: a Python literal, else the bare string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


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
