"""`python -m diagnostics`: the command line, testable in-process through `main(argv)`.

python -m diagnostics probe PATH [--source NAME] [--arg K=V ...] [--keras 3|2|both]
                                 [--epochs N] [--timeout SECONDS] [--device cpu|gpu|auto]
                                 [--data ARCHIVE_OR_DIR] [--standin-images PATH=N:K ...]
                                 [--stub-missing] [--local]
                                 [--json | --markdown | --html OUT]
(`fitprobe`, the console script `make venv` installs, is the same CLI.)
python -m diagnostics sources PATH [--json]
python -m diagnostics rules [CODE]
python -m diagnostics serve [--port PORT] [STREAMLIT OPTIONS]
                                                   the app, its warm pool started first
python -m diagnostics worker [--queue URL] [--name NAME] [--burst]
                                                   pull probes from the queue (Redis)
"""

from __future__ import annotations

import argparse
import enum
import json
import os
import shlex
import sys
import time

from diagnostics.engine.attach import parse_standin
from diagnostics.engine.inputs import InputError, list_sources, parse_argument, read_user_file
from diagnostics.engine.jobs import QUEUE_URL_ENV, progress_line
from diagnostics.engine.probe import probe
from diagnostics.render import render_html, render_markdown, render_table
from diagnostics.render.text import severities, severity_words
from diagnostics.report import exit_code, labelled, to_json
from diagnostics.report.labels import STACK_LABELS, plural
from diagnostics.rules import catalog, rule_doc
from diagnostics.schema import (
    DEFAULT_EPOCHS,
    DEFAULT_MAX_STEPS,
    DEFAULT_TIMEOUT,
    DEVICES,
    STACKS,
    ProbeOptions,
    StandIn,
)


class ExitCode(enum.IntEnum):
    OK = 0  # the probe ran and found no error-severity finding
    FINDINGS = 1  # the probe ran and found at least one
    INPUT_ERROR = 2  # the input could not be probed (always with a one-line message on stderr)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit 2, like every other input error
        self.exit(ExitCode.INPUT_ERROR, f"fitprobe: {message}\n")


def _key_value(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected K=V, got {text!r}")
    key, raw = text.split("=", 1)
    if not key.isidentifier():
        raise argparse.ArgumentTypeError(f"{key!r} is not a parameter name")
    return key, parse_argument(raw)  # a bare word is a string


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value}")
    return value


def _standin(text: str) -> StandIn:
    try:
        return parse_standin(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser(prog: str = "python -m diagnostics") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="fitprobe: observe what Keras fit() really does with your input pipeline.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _probe_arguments(sub.add_parser("probe", help="probe a training script, a notebook, or "
                                    "a data source of a module"))  # fmt: skip
    r = sub.add_parser("rules", help="list the rules, or print one rule's page")
    r.add_argument("code", nargs="?", metavar="CODE")
    s = sub.add_parser("sources", help="list the data sources a module defines")
    s.add_argument("path", metavar="PATH")
    s.add_argument("--json", action="store_true")
    a = sub.add_parser("serve", help="start the web app, with its pool of probe workers "
                       "importing TensorFlow before the first user arrives; other options "
                       "go to `streamlit run`")  # fmt: skip
    a.add_argument("--port", type=int, default=8501)
    w = sub.add_parser("worker", help="run probes from the job queue (FITPROBE_QUEUE_URL), "
                       "with a warm, sandboxed pool")  # fmt: skip
    w.add_argument("--queue", metavar="URL", default=os.environ.get(QUEUE_URL_ENV),
                   help="the Redis URL of the queue (default: $FITPROBE_QUEUE_URL)")
    w.add_argument("--name", metavar="NAME", help="this worker's name in reports and logs "
                   "(default: the host's name)")
    w.add_argument("--burst", action="store_true", help="stop once the queue is empty")
    return parser


def _probe_arguments(p) -> None:
    p.add_argument("path", metavar="PATH", help="a training script, a module or a .ipynb notebook")
    _module_arguments(p)
    p.add_argument("--keras", choices=sorted(STACKS), default="both")
    p.add_argument("--epochs", type=_positive, default=DEFAULT_EPOCHS,
                   help=f"cap on epochs per fit() call (default {DEFAULT_EPOCHS})")
    p.add_argument("--max-steps", type=_positive, default=DEFAULT_MAX_STEPS,
                   help=f"cap on trained batches per epoch (default {DEFAULT_MAX_STEPS})")
    p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT,
                   help=f"wall-clock limit per stack in seconds (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--device", choices=DEVICES, default="cpu")
    p.add_argument("--script-args", metavar="ARGS", default="",
                   help="command-line arguments for the script, as one shell-quoted string")
    _data_arguments(p)
    p.add_argument("--local", action="store_true",
                   help="run here, in this environment and working directory, with its "
                   "TensorFlow, Keras, packages and data; no sandbox (your own machine)")
    p.add_argument("--label", metavar="TEXT",
                   help="a label for the report (a ticket number, a student's name): the "
                   "app's History lists and searches it once the report is imported")
    p.add_argument("--note", metavar="TEXT", help="a note kept with the report")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print exactly one JSON report on stdout")
    out.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    out.add_argument("--html", metavar="OUT", help="write the report as an HTML page")



def _module_arguments(p) -> None:
    p.add_argument("--source", metavar="NAME", help="module mode: the data source to probe")
    p.add_argument("--arg", metavar="K=V", action="append", type=_key_value, default=[],
                   help="module mode: an argument for the source (Python literal or bare word)")
    p.add_argument("--validation-source", metavar="NAME")
    p.add_argument("--validation-arg", metavar="K=V", action="append", type=_key_value,
                   default=[])
    p.add_argument("--steps-per-epoch", type=_positive, metavar="N", help="module mode")
    p.add_argument("--validation-steps", type=_positive, metavar="N", help="module mode")



def _data_arguments(p) -> None:
    p.add_argument("--data", metavar="ARCHIVE_OR_DIR",
                   help="the data the script reads: a folder or a .zip/.tar.gz archive, shown "
                   "read-only as the script's working directory (default: an empty scratch "
                   "directory)")
    p.add_argument("--workdir", metavar="DIR", help="the older name of --data for a folder")
    p.add_argument("--standin-images", metavar="PATH=N:K", action="append", type=_standin,
                   default=[],
                   help="generate N tiny images in K class folders at PATH (relative to the "
                   "working directory) for an image folder that is not here; PATH='Found 2000 "
                   "images belonging to 2 classes.' (Keras's own line) works too; repeatable. "
                   "With validation_split, give the folder's total, not one subset's line")
    p.add_argument("--stub-missing", action="store_true",
                   help="stand in no-op modules for missing trackers, plotting and "
                   "notification libraries (never for modules that may feed the data)")



class TerminalProgress:
    """Progress for a person at a terminal, on stderr: a line per stack and epoch as it
    ends ("Keras 3 · fit() call 0 · epoch 2/5 · 10 batches"), the other events as
    `jobs.progress_line` words them, and under them one line rewritten in place with the
    batches of each stack's epoch in progress. Only where stderr is a terminal: CI logs,
    pipes and files get none of it."""

    REDRAW_S = 0.2  # the live line is rewritten at most this often

    def __init__(self, stream):
        self.stream = stream
        self.now: dict[str, dict] = {}  # stack -> its fit() call, epoch, batches so far
        self.shown = ""  # the live line on the screen now
        self.drawn_at = 0.0

    @staticmethod
    def epoch_words(stack: str, state: dict, batches) -> str:
        label = STACK_LABELS.get(stack, stack)
        epoch, epochs = state.get("epoch"), state.get("epochs")
        of = f"/{epochs}" if isinstance(epochs, int) else ""
        return (
            f"{label} · fit() call {state.get('call')} · epoch {(epoch or 0) + 1}{of} · "
            f"{plural(batches or 0, 'batch')}"
        )

    def __call__(self, event: dict) -> None:
        stack, kind = event.get("stack"), event.get("type")
        state = self.now.setdefault(stack, {})
        line = None
        if kind == "fit-start":
            epochs = (event.get("fit") or {}).get("epochs_run")
            state.update(call=event.get("call"), epochs=epochs, epoch=None, batches=0)
        elif kind == "epoch-begin":
            state.update(epoch=event.get("epoch"), batches=0)
        elif kind == "batch":
            state.update(epoch=event.get("epoch"), batches=state.get("batches", 0) + 1)
        elif kind == "epoch-end":
            state["epoch"] = event.get("epoch")
            line = self.epoch_words(stack, state, event.get("observed_batches"))
            state.update(epoch=None, batches=0)
        elif kind in ("fit-end", "stack-end"):
            state.clear()
        if kind != "epoch-end":
            line = progress_line(event)
        if line:
            self._write(line)
        elif kind == "batch" and time.monotonic() - self.drawn_at >= self.REDRAW_S:
            self._draw()

    def _live(self) -> str:
        parts = [
            self.epoch_words(stack, state, state.get("batches")) + "…"
            for stack, state in self.now.items()
            if state.get("epoch") is not None
        ]
        return "  |  ".join(parts)[: self._width() - 1]  # a wrapped line cannot be rewritten

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        return columns if columns >= 20 else 80

    def _draw(self) -> None:
        text = self._live()
        if text or self.shown:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
        self.shown, self.drawn_at = text, time.monotonic()

    def _write(self, line: str) -> None:
        self.stream.write(("\r\033[K" if self.shown else "") + line + "\n")
        self.shown = ""
        self._draw()
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = ""


def _progress_for(ns) -> TerminalProgress | None:
    """Live progress on stderr when a person watches it: stderr is a terminal, and the
    JSON report (if asked for) is not going to a file or a pipe."""
    if not sys.stderr.isatty() or (ns.json and not sys.stdout.isatty()):
        return None
    return TerminalProgress(sys.stderr)


def _options(ns) -> ProbeOptions:
    """What was asked, as ProbeOptions; ValueError (one line) for what cannot be run."""
    if ns.arg and not ns.source:
        raise ValueError("--arg needs --source (module mode)")
    if ns.workdir and not os.path.isdir(ns.workdir):
        raise ValueError(f"--workdir {ns.workdir} is not a directory")
    if ns.data and not os.path.exists(ns.data):
        raise ValueError(f"--data {ns.data}: no such file or folder")
    try:
        script_args = shlex.split(ns.script_args)
    except ValueError as exc:
        raise ValueError(f"--script-args cannot be split: {exc}") from None
    return ProbeOptions.of(
        source=ns.source,
        args=dict(ns.arg),
        keras=ns.keras,
        epochs=ns.epochs,
        timeout=ns.timeout,
        device=ns.device,
        steps_per_epoch=ns.steps_per_epoch,
        validation_source=ns.validation_source,
        validation_args=dict(ns.validation_arg),
        validation_steps=ns.validation_steps,
        max_steps=ns.max_steps,
        script_args=script_args,
        data=ns.data,
        workdir=ns.workdir,
        standin_images=ns.standin_images,
        stub_missing=ns.stub_missing,
        local=ns.local,
    )


def _probe(ns) -> int:
    try:
        progress = _progress_for(ns)
        try:
            report = probe(ns.path, _options(ns), on_event=progress)
        finally:
            if progress is not None:
                progress.close()
    except ValueError as exc:  # an option the probe refuses (overlapping stand-ins, say)
        print(f"fitprobe: {exc}", file=sys.stderr)
        return ExitCode.INPUT_ERROR
    if ns.label or ns.note:
        report.update(labelled(ns.label, ns.note))
    code = exit_code(report)
    explained = any(not f.get("static") for f in report.get("findings", []))
    if code == ExitCode.INPUT_ERROR:
        # The verdict when a finding explains it (a missing module, missing data), with
        # its fix below on stdout; else the reason the probe could not run.
        line = report["verdict"] if explained else report.get("status_reason")
        print(f"fitprobe: {line or report['verdict']}", file=sys.stderr)
    return _write(ns, report, code, explained)


def _write(ns, report: dict, code: int, explained: bool) -> int:
    if ns.json:
        print(to_json(report))
    elif ns.markdown:
        print(render_markdown(report), end="")
    elif ns.html:
        try:
            with open(ns.html, "w", encoding="utf-8") as f:
                f.write(render_html(report))
        except OSError as exc:
            print(f"fitprobe: cannot write {ns.html}: {exc.strerror}", file=sys.stderr)
            return ExitCode.INPUT_ERROR
        print(f"report written to {ns.html}", file=sys.stderr)
    elif code != ExitCode.INPUT_ERROR or explained:
        print(render_table(report), end="")
    return code


def _sources(ns) -> int:
    try:
        user_file = read_user_file(ns.path)
    except InputError as exc:
        print(f"fitprobe: {exc}", file=sys.stderr)
        return ExitCode.INPUT_ERROR
    found = list_sources(user_file.tree)
    if ns.json:
        print(json.dumps([s.to_dict() for s in found], indent=2))
    else:
        for s in found:
            params = ", ".join(
                p["name"] + (f"={p['default']}" if p["default"] else "") for p in s.params
            )
            print(f"{s.name}({params})  [{s.kind}, line {s.line}]")
    if not found:
        print(f"fitprobe: {user_file.name} defines no data source", file=sys.stderr)
        return ExitCode.INPUT_ERROR
    return ExitCode.OK


def _rules(ns) -> int:
    rules = catalog()
    if ns.code is None:  # the default severity first, then any other a finding can have
        width = max(len(code) for code in rules)
        kinds = {code: "/".join(severities(code)) for code in rules}
        column = max(len(k) for k in kinds.values())
        for code, module in rules.items():
            print(f"{code.ljust(width)}  {kinds[code]:<{column}}  {module.TITLE}")
        return ExitCode.OK
    if ns.code not in rules:
        print(
            f"fitprobe: no rule {ns.code!r}; `python -m diagnostics rules` lists them",
            file=sys.stderr,
        )
        return ExitCode.INPUT_ERROR
    print(f"Severity: {severity_words(ns.code)}\n")
    print(rule_doc(ns.code))
    return ExitCode.OK


def _serve(ns) -> int:
    """The app: `serve.py` beside app.py (the app's side, which may import Streamlit),
    in place of this process, so that signals reach the server itself."""
    from pathlib import Path

    serve = Path(__file__).resolve().parent.parent / "serve.py"
    args = [sys.executable, str(serve), "--port", str(ns.port), *ns.streamlit]
    os.execv(sys.executable, args)


def _worker(ns) -> int:
    if not ns.queue:
        print(
            "fitprobe: no queue to pull probes from: give --queue redis://HOST:6379/0 "
            f"or set {QUEUE_URL_ENV}",
            file=sys.stderr,
        )
        return ExitCode.INPUT_ERROR
    from redis.exceptions import RedisError

    from diagnostics.engine.workqueue import serve

    try:
        return serve(ns.queue, name=ns.name, burst=ns.burst)
    except (RedisError, ValueError) as exc:  # a wrong URL, or Redis not there
        print(f"fitprobe: the queue at {ns.queue} cannot be used: {exc}", file=sys.stderr)
        return ExitCode.INPUT_ERROR


COMMANDS = {
    "probe": _probe,
    "sources": _sources,
    "rules": _rules,
    "serve": _serve,
    "worker": _worker,
}


def main(argv: list[str] | None = None, prog: str = "python -m diagnostics") -> int:
    parser = build_parser(prog)
    ns, rest = parser.parse_known_args(argv)
    if rest and ns.command != "serve":  # `serve` hands the rest to `streamlit run`
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    ns.streamlit = rest
    return int(COMMANDS[ns.command](ns))


def run(prog: str = "python -m diagnostics") -> int:
    """`main`, as a program: a reader of its output that went away (`... | head`) ends it
    as a shell reports a program that SIGPIPE ended, without a traceback."""
    try:
        code = main(prog=prog)
        sys.stdout.flush()  # a pipe's reader that went away shows here, if not before
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # for the exit's flush
        code = 128 + 13
    return code


def console() -> int:
    """The `fitprobe` console script: the same CLI."""
    return run(prog="fitprobe")
