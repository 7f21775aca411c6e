"""Reading the user's file and finding what can be probed in it, statically.

Nothing here runs user code: the file is read, decoded and parsed with `ast`.
Module mode lists its data sources from the syntax tree (generator functions,
`Sequence`/`PyDataset` subclasses, functions that build a `tf.data.Dataset`);
the worker imports the module only inside the probe process.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

from diagnostics.diagnosis.code import (
    DataSource,
    calls_fit,
    imports_keras_directly,
    list_sources,
)

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


