"""Pointing at the user's line: the innermost frame of an exception in user code.

TensorFlow often wraps an exception raised in a generator (for instance an
`InvalidArgumentError` or `UnknownError` from a `PyFunc`), so the user's frame
is only in the *text* of the message. Both the live traceback and such text
are searched.
"""

from __future__ import annotations

import linecache
import os
import re
import traceback

__all__ = ["UserFiles", "describe_exception", "MAX_MESSAGE_CHARS"]

MAX_MESSAGE_CHARS = 4000
FRAME_IN_TEXT = re.compile(r'File "([^"]+)", line (\d+)(?:, in (\S+))?')


class UserFiles:
    """The user's files, by real path, with the names to show for them."""

    def __init__(self, mapping: dict[str, str] | None = None):
        self._names = {os.path.realpath(k): v for k, v in (mapping or {}).items()}

    def add(self, path: str, display: str) -> None:
        self._names[os.path.realpath(path)] = display

    def display(self, filename: str) -> str | None:
        return self._names.get(os.path.realpath(filename))

    def is_user(self, filename: str) -> bool:
        return self.display(filename) is not None


def _frame(user_files: UserFiles, filename: str, line: int, function: str | None = None) -> dict:
    code = linecache.getline(filename, line).strip() or None
    return {"file": user_files.display(filename), "line": line, "code": code, "function": function}


def _package(filename: str) -> str:
    """`.../site-packages/numpy/lib/_npyio_impl.py` -> "numpy"; a stdlib file -> its module."""
    parts = filename.replace("\\", "/").split("/")
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1 :]
            return rest[0].removesuffix(".py") if rest else filename
    return parts[-1].removesuffix(".py")


def _innermost_user_frame(exc: BaseException, user_files: UserFiles) -> dict | None:
    """The innermost frame in the user's file, with what it called (`callee`: the next
    frame's package and function, e.g. numpy's `load`), when the traceback shows it."""
    seen = set()
    current: BaseException | None = exc
    # Follow the chain too: the cause of a re-raised error is where the user's line is.
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        best = None
        for i, fs in enumerate(frames):
            if user_files.is_user(fs.filename):
                best = _frame(user_files, fs.filename, fs.lineno, fs.name)
                below = frames[i + 1] if i + 1 < len(frames) else None
                best["callee"] = (
                    {"package": _package(below.filename), "function": below.name}
                    if below is not None and not user_files.is_user(below.filename)
                    else None
                )
        if best is not None:
            return best
        current = current.__cause__ or current.__context__
    return None


def _frame_in_text(text: str, user_files: UserFiles) -> dict | None:
    best = None
    for filename, line, function in FRAME_IN_TEXT.findall(text):
        if user_files.is_user(filename):
            best = _frame(user_files, filename, int(line), function or None)
    return best


def describe_exception(exc: BaseException, user_files: UserFiles) -> dict:
    """{type, message, file, line, code} for an exception, pointing at user code; an
    ImportError adds the `module` it could not import, an OSError the `path` it names."""
    message = str(exc)
    if isinstance(exc, SyntaxError) and exc.filename and user_files.is_user(exc.filename):
        where = _frame(user_files, exc.filename, exc.lineno or 0)
    else:
        where = _innermost_user_frame(exc, user_files) or _frame_in_text(message, user_files)
    where = where or {"file": None, "line": None, "code": None, "function": None}
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + " …"
    out = {"type": type(exc).__name__, "message": message, **where}
    if isinstance(exc, ImportError) and exc.name:
        out["module"] = exc.name
    if isinstance(exc, OSError) and isinstance(exc.filename, str | bytes):
        out["path"] = os.fsdecode(exc.filename)
        out["errno"] = exc.errno
    return out
