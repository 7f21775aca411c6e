"""Pointing at the user's line: the innermost frame of an exception in user code, or of
every thread of a running script (`frames_now`, asked before the worker is stopped).

TensorFlow often wraps an exception raised in a generator (for instance an
`InvalidArgumentError` or `UnknownError` from a `PyFunc`), so the user's frame
is only in the *text* of the message. Both the live traceback and such text
are searched.
"""

from __future__ import annotations

import linecache
import os
import re
import sys
import threading
import traceback

__all__ = ["UserFiles", "describe_exception", "frames_now", "user_traceback", "MAX_MESSAGE_CHARS"]

MAX_MESSAGE_CHARS = 4000
MAX_OTHER_THREADS = 3  # threads besides the main one whose user frame `frames_now` reports
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


# fitprobe's own frames in a traceback: its worker (which ran the script with runpy), its
# interception of fit(), its wrappers around the data source.
FITPROBE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LIBRARY_FRAMES = 10  # frames kept below the user's innermost one (Keras, TensorFlow)
MAX_TRACEBACK_CHARS = 6000
# fitprobe's frames in a traceback quoted in a message (TensorFlow quotes a generator's).
_FITPROBE_IN_TEXT = re.compile(
    rf'^  File "{re.escape(FITPROBE_DIR + os.sep)}[^"]*", line \d+, in .*\n(?:    .*\n)*\n?', re.M
)


def _fitprobes(filename: str) -> bool:
    return filename.startswith(FITPROBE_DIR + os.sep) or filename == "<frozen runpy>"


class _Trimmed(traceback.StackSummary):
    """A stack that says where library frames were left out."""

    cut, hidden = 0, 0

    def format(self):
        if not self.hidden:
            return super().format()
        head = traceback.StackSummary.from_list(self[: self.cut]).format()
        tail = traceback.StackSummary.from_list(self[self.cut :]).format()
        return [*head, f"  ... {self.hidden} frames inside libraries left out ...\n", *tail]


def _as_the_user_sees_it(stack, user_files: UserFiles) -> _Trimmed:
    """From the user's first frame on (fitprobe's worker above it dropped), without
    fitprobe's interception between the user's call and Keras (kept where the exception
    was raised in fitprobe itself), the user's files under their own names."""
    frames = list(stack)
    first = next((i for i, f in enumerate(frames) if user_files.is_user(f.filename)), None)
    if first is None:  # the user's code is not on it: drop only fitprobe's leading frames
        first = 0
        while first < len(frames) - 1 and _fitprobes(frames[first].filename):
            first += 1
    frames = frames[first:]
    raised_in = max((i for i, f in enumerate(frames) if not _fitprobes(f.filename)), default=-1)
    frames = [f for i, f in enumerate(frames) if i > raised_in or not _fitprobes(f.filename)]
    last_user = max((i for i, f in enumerate(frames) if user_files.is_user(f.filename)), default=-1)
    trimmed = _Trimmed(frames)
    hidden = len(frames) - last_user - 1 - MAX_LIBRARY_FRAMES
    if last_user >= 0 and hidden > 0:
        trimmed = _Trimmed(frames[: last_user + 1] + frames[last_user + 1 + hidden :])
        trimmed.cut, trimmed.hidden = last_user + 1, hidden
    for f in trimmed:
        f.filename = user_files.display(f.filename) or f.filename  # its line is read already
    return trimmed


def user_traceback(exc: BaseException, user_files: UserFiles) -> str:
    """The exception's traceback as the user would read it running the script themselves:
    from their own file on, under its name (not the sandbox's or scratch copy's path),
    chained exceptions too; at most MAX_TRACEBACK_CHARS, its middle left out if longer."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__, lookup_lines=True)
    todo, seen = [te], set()
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.stack = _as_the_user_sees_it(current.stack, user_files)
        todo += [current.__cause__, current.__context__, *(current.exceptions or [])]
    text = _FITPROBE_IN_TEXT.sub("", "".join(te.format()))  # as TensorFlow quotes a generator's
    text = FRAME_IN_TEXT.sub(
        lambda m: m.group(0).replace(m.group(1), user_files.display(m.group(1)) or m.group(1), 1),
        text,
    )
    if len(text) > MAX_TRACEBACK_CHARS:
        left = len(text) - MAX_TRACEBACK_CHARS
        text = f"{text[:2000]}\n... ({left} characters left out) ...\n{text[-4000:]}"
    return text


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


def frames_now(user_files: UserFiles) -> list[dict]:
    """Where the user's code is in every thread right now: the innermost frame in the
    user's files of the main thread, then of up to `MAX_OTHER_THREADS` others (a
    generator runs on a tf.data or Keras 2 enqueuer thread), each as {thread ("main" or
    "other"), thread_name, function, line, code, file, callee}. `callee`: the package and
    function the frame was calling (Keras's `fit`, say), when that is not the user's.

    `sys._current_frames()` is the documented way to see every thread's stack; it also
    shows a thread that waits in native code (a sleep, a TensorFlow op), at the call."""
    me, main = threading.get_ident(), threading.main_thread().ident
    names = {t.ident: t.name for t in threading.enumerate()}
    found = []
    for ident, frame in sys._current_frames().items():
        if ident == me:
            continue
        where = _innermost_live(frame, user_files)
        if where is None:
            continue
        where["thread"] = "main" if ident == main else "other"
        where["thread_name"] = names.get(ident)  # None for a thread TensorFlow started
        found.append(where)
    main_frames = [f for f in found if f["thread"] == "main"]
    return main_frames + [f for f in found if f["thread"] != "main"][:MAX_OTHER_THREADS]


def _innermost_live(frame, user_files: UserFiles) -> dict | None:
    inner = None  # the frame the current one called
    while frame is not None:
        filename = frame.f_code.co_filename
        if user_files.is_user(filename):
            where = _frame(user_files, filename, frame.f_lineno or 0, frame.f_code.co_name)
            where["callee"] = (
                {"package": _package(inner.f_code.co_filename), "function": inner.f_code.co_name}
                if inner is not None
                else None
            )
            return where
        inner, frame = frame, frame.f_back
    return None
