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


def _innermost_user_frame(exc: BaseException, user_files: UserFiles) -> dict | None:
    best = None
    seen = set()
    current: BaseException | None = exc
    # Follow the chain too: the cause of a re-raised error is where the user's line is.
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for fs in traceback.extract_tb(current.__traceback__):
            if user_files.is_user(fs.filename):
                best = _frame(user_files, fs.filename, fs.lineno, fs.name)
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
    """{type, message, file, line, code} for an exception, pointing at user code."""
    message = str(exc)
    if isinstance(exc, SyntaxError) and exc.filename and user_files.is_user(exc.filename):
        where = _frame(user_files, exc.filename, exc.lineno or 0)
    else:
        where = _innermost_user_frame(exc, user_files) or _frame_in_text(message, user_files)
    where = where or {"file": None, "line": None, "code": None, "function": None}
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + " …"
    return {"type": type(exc).__name__, "message": message, **where}
