"""The contract across the process boundary, the one module both sides import.

The engine (`diagnostics.engine`, in the app or CLI process) sends a worker
(`diagnostics.worker`, a process of its own beside the user's code) one job, a JSON
line: the `ProbeOptions` the user chose, the `Placement` of the user's files as the
worker sees them, and a key of this job's. The worker sends back events, JSON lines of
the kinds listed in `EVENTS`; once it has its job (before the user's code runs), each
line is framed with a sequence number and a MAC under that key (`frame`), so that
lines the user's code writes to the pipe are told apart (`unframe`). Neither side
imports the other; both import this module, which imports nothing of fitprobe's.

`ProbeOptions` is also what the CLI and the app build from what the user typed: it
travels unchanged from there to the worker, and an option it does not know is an error.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import PurePosixPath

__all__ = [
    "EVENTS",
    "JOB_VERSION",
    "Placement",
    "ProbeOptions",
    "RAN_OUT_OF_DATA",
    "STACKS",
    "StandIn",
    "WHERE_COMMAND",
    "clean_number",
    "frame",
    "integral",
    "major_minor",
    "positive_integral",
    "unframe",
]

JOB_VERSION = 2
MAC_CHARS = 32  # hex digits of HMAC-SHA256 kept per event line
# The events a worker sends before its job, unframed: no user code has run yet.
PRE_JOB_EVENTS = ("worker-ready", "input-error")
STACKS = {"3": ["keras3"], "2": ["keras2"], "both": ["keras3", "keras2"]}
DEVICES = ("cpu", "gpu", "auto")
DEFAULT_EPOCHS = 5
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_STEPS = 2000
DEFAULT_MAX_FIT_CALLS = 20
DEFAULT_MEMORY_MB = 6144
MAX_STANDIN_IMAGES = 50_000  # per stand-in folder: tiny files, but each is a write
MAX_STANDIN_CLASSES = 1000

# The warning both stacks give when a data source ends early (a worker marks the fit
# that got it; rules read it): keras/src/trainers/epoch_iterator.py and
# tf_keras/src/engine/data_adapter.py.
RAN_OUT_OF_DATA = "ran out of data"

# What a worker says, in the order a probe usually hears it. Each event is a JSON
# object with "type", "t" (seconds since the worker started) and the fields its
# emitter gives; the engine's assembler (`engine.assemble`) reads them.
EVENTS = {
    "worker-ready": "past the TensorFlow import, waiting for its job",
    "stack-start": "the job began: Keras and TensorFlow versions, device",
    "surroundings": "the data, stand-ins and notebook builtins the script was given",
    "module-missing": "an import nothing could satisfy, with the user's line",
    "module-stubbed": "a missing module stood in for, as asked",
    "skipped": "a notebook or Colab call that did nothing here (drive.mount, ...)",
    "path-missing": "a listing, glob or read of a path that is not there",
    "standin-files": "files a dataframe named under a stand-in folder, generated",
    "fit-start": "a fit() call began: its arguments, its data source",
    "epoch-begin": "an epoch began",
    "batch": "a batch was trained: rows, shapes, fingerprint, timings",
    "epoch-end": "an epoch ended: batches trained, validation batches, loss",
    "warning": "a Python warning or TensorFlow log line",
    "probe-note": "something fitprobe could not observe, and why",
    "tap-unavailable": "the Keras version's internals are not the ones fitprobe knows",
    "standin": "module mode's stand-in model",
    "fit-end": "a fit() call ended: how, the exception, coverage",
    "fit-call-cap": "the script reached the cap on fit() calls",
    "input-error": "the job cannot be run (a source that does not exist, ...)",
    "stack-end": "the script ended: its exception or exit code, totals",
    "stopped-at": "where the user's code was when the engine stopped the worker "
    "(its time limit, a cancel): the innermost user frame of each thread",
}
# What the engine may say to a worker once its job runs: one word a line on its stdin.
WHERE_COMMAND = "where"  # answered with a "stopped-at" event, just before it is killed


# --- numbers, as they travel in events ---------------------------------------------------
def clean_number(value) -> float | None:
    """A JSON-safe float: NaN, infinities and non-numbers become None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def integral(value) -> int | None:
    """`value` as an int when it is a whole number (10 or 10.0), else None (12.5, "x", None)."""
    number = clean_number(value)
    return int(number) if number is not None and number.is_integer() else None


def major_minor(version: str) -> tuple[int, int]:
    """"2.15.1" -> (2, 15); "3.0.0rc1" -> (3, 0): a package version, compared."""
    parts = [int("".join(c for c in p if c.isdigit()) or 0) for p in version.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def positive_integral(value) -> int | None:
    number = integral(value)
    return number if number is not None and number > 0 else None


# --- options -----------------------------------------------------------------------------
@dataclass(frozen=True)
class StandIn:
    """N generated images in K class folders under `path` (relative to the working dir)."""

    path: str
    images: int
    classes: int

    def __post_init__(self):
        object.__setattr__(self, "path", _relative(self.path))
        images, classes = int(self.images), int(self.classes)
        if not 1 <= classes <= MAX_STANDIN_CLASSES:
            raise ValueError(f"stand-in {self.path}: classes must be 1 to {MAX_STANDIN_CLASSES}")
        if not classes <= images <= MAX_STANDIN_IMAGES:
            raise ValueError(
                f"stand-in {self.path}: images must be at least the number of classes "
                f"({classes}) and at most {MAX_STANDIN_IMAGES}"
            )
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "classes", classes)

    def to_dict(self) -> dict:
        return asdict(self)


def _relative(path: str) -> str:
    text = (path or "").strip().replace("\\", "/")
    if not text:
        raise ValueError("a stand-in needs the folder's path, as the script writes it")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        raise ValueError(
            f"stand-in {path}: the path must be relative to the script's working directory "
            "(fitprobe cannot create folders at absolute paths; make the script's path relative)"
        )
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"stand-in {path}: the path must stay inside the working directory")
    if not parts:
        raise ValueError(f"stand-in {path}: the working directory itself cannot be stood in")
    return "/".join(parts)


def _positive(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")


@dataclass(frozen=True)
class ProbeOptions:
    """Everything a probe is asked to do, from the CLI or the app to the worker."""

    keras: str = "both"  # "3" | "2" | "both"
    epochs: int = DEFAULT_EPOCHS  # cap on epochs per fit() call
    timeout: float = DEFAULT_TIMEOUT  # seconds per stack
    device: str = "cpu"  # "cpu" | "gpu" | "auto"
    max_steps: int = DEFAULT_MAX_STEPS  # cap on trained batches per epoch
    max_val_steps: int = DEFAULT_MAX_STEPS
    max_fit_calls: int = DEFAULT_MAX_FIT_CALLS
    memory_mb: int | None = DEFAULT_MEMORY_MB
    script_args: tuple[str, ...] = ()
    # module mode: the data source to probe and fit()'s arguments for it
    source: str | None = None
    args: dict = field(default_factory=dict)
    steps_per_epoch: int | None = None
    validation_source: str | None = None
    validation_args: dict = field(default_factory=dict)
    validation_steps: int | None = None
    # the script's surroundings
    data: str | None = None  # a folder or an archive on the probing machine
    data_name: str | None = None  # how the user named it (an upload's file name)
    standin_images: tuple[StandIn, ...] = ()
    stub_missing: bool = False
    local: bool = False  # run in this interpreter's environment, no sandbox

    def __post_init__(self):
        standins = tuple(s if isinstance(s, StandIn) else StandIn(**s) for s in self.standin_images)
        object.__setattr__(self, "standin_images", standins)
        object.__setattr__(self, "script_args", tuple(str(a) for a in self.script_args))
        if self.keras not in STACKS:
            raise ValueError(f"keras must be one of {sorted(STACKS)}, not {self.keras!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, not {self.device!r}")
        for name in ("epochs", "max_steps", "max_val_steps", "max_fit_calls"):
            _positive(name, getattr(self, name))
        if not isinstance(self.timeout, int | float) or not self.timeout > 0:
            raise ValueError(f"timeout must be positive, not {self.timeout!r}")
        paths = sorted(s.path for s in standins)
        for a, b in zip(paths, paths[1:], strict=False):
            if a == b or b.startswith(a + "/"):
                raise ValueError(f"stand-in folders {a} and {b} overlap: give each folder once")

    @classmethod
    def of(cls, **options) -> ProbeOptions:
        """From keyword arguments; an unknown one is a ValueError naming it. `workdir` is
        the older name of `data` for a folder."""
        if "workdir" in options:
            workdir = options.pop("workdir")
            if workdir is not None and options.get("data") is not None:
                raise ValueError("give data or workdir (its older name), not both")
            options["data"] = options.get("data") or workdir
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown probe option{'s' if len(unknown) > 1 else ''}: "
                             + ", ".join(unknown))  # fmt: skip
        return cls(**{k: v for k, v in options.items() if v is not None or k == "memory_mb"})

    @property
    def stacks(self) -> list[str]:
        return STACKS[self.keras]

    @property
    def mode(self) -> str:
        return "module" if self.source else "script"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["script_args"] = list(self.script_args)
        out["standin_images"] = [s.to_dict() for s in self.standin_images]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> ProbeOptions:
        return cls.of(**data)


@dataclass(frozen=True)
class Placement:
    """Where a worker finds what it runs: the user's file (as it sees it) under the name
    to show, the folders it imports from beside the file's own, and the data folder."""

    path: str
    display_name: str
    notebook: bool = False
    import_dirs: tuple[str, ...] = ()
    data_dir: str | None = None

    def to_dict(self) -> dict:
        return {**asdict(self), "import_dirs": list(self.import_dirs)}


def job(stack: str, options: ProbeOptions, placement: Placement, key: bytes) -> dict:
    """The one JSON object a worker reads: what to run, on which stack, and how, and the
    key its events are framed with."""
    return {
        "version": JOB_VERSION,
        "stack": stack,
        "options": options.to_dict(),
        "placement": placement.to_dict(),
        "key": key.hex(),
    }


def _mac(key: bytes, seq: int, payload: bytes) -> bytes:
    digest = hmac.new(key, b"%d\t%s" % (seq, payload), hashlib.sha256).hexdigest()
    return digest[:MAC_CHARS].encode()


def frame(key: bytes, seq: int, payload: bytes) -> bytes:
    """An event line as a worker with a job writes it: `MAC<TAB>SEQ<TAB>JSON<LF>`."""
    return b"%s\t%d\t%s\n" % (_mac(key, seq, payload), seq, payload)


def unframe(key: bytes, line: bytes) -> tuple[int, bytes] | None:
    """(sequence number, JSON) of a framed line whose MAC is right under `key`; None for
    anything else (unframed, or framed under another key)."""
    parts = line.split(b"\t", 2)
    if len(parts) != 3 or len(parts[0]) != MAC_CHARS or not parts[1].isdigit():
        return None
    mac, seq, payload = parts[0], int(parts[1]), parts[2]
    return (seq, payload) if hmac.compare_digest(mac, _mac(key, seq, payload)) else None


def read_job(data: dict) -> tuple[str, ProbeOptions, Placement]:
    if data.get("version") != JOB_VERSION:
        raise ValueError(
            f"a job of version {data.get('version')!r}; this worker reads {JOB_VERSION}"
        )
    placement = dict(data["placement"])
    placement["import_dirs"] = tuple(placement.get("import_dirs") or ())
    return data["stack"], ProbeOptions.from_dict(data["options"]), Placement(**placement)


def job_key(data: dict) -> bytes:
    return bytes.fromhex(data["key"])
