"""Inside the probe worker: what the user's script finds around it, and what it missed.

A real script expects more than Python: packages, a notebook's builtins, Colab's
modules, data files. Before the script runs, `prepare()`:
- shows the attached data (read-only) as the contents of the working directory, and
  generates the stand-in image folders asked for (tiny, distinct images in class
  folders), so relative paths such as `data/train` resolve as on the user's machine;
- appends an import finder to `sys.meta_path` that runs only for modules no other
  finder has: it records each missing module and the user's line that wanted it
  (`module-missing` events), stands in a no-op module for those the user asked to stub
  (`module-stubbed`), and always provides `google.colab`, whose `drive.mount` and
  `files.upload` do nothing but say so (`skipped` events);
- in notebook mode, gives the script IPython's `get_ipython()` (magics and shell lines
  the converter left in place do nothing, but `%env` sets its variable) and `display()`;
- watches, through an audit hook, for directory listings and globs of paths that do
  not exist, from the user's own code (`path-missing` events): `glob("data/*.jpg")` on
  a missing folder returns [] without an error, and the script fails later, elsewhere.
The probe never decides what is wrong: these are observations for the rules.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import linecache
import os
import sys
import types
import zlib

from .packages import OFF_DATA_PATH

__all__ = ["prepare", "generate_standins", "enter_data"]

MAX_EVENTS = 50  # of each kind: a script importing in a loop is not a thousand events
MAX_STANDIN_FILES = 50_000  # files a dataframe may have generated under a stand-in folder
IMAGE_SIDE = 8  # stand-in images: the loader resizes them to its target_size anyway
COLAB = "google.colab"


class _Events:
    def __init__(self, emit):
        self.emit = emit
        self.sent: dict[str, set] = {}

    def once(self, kind: str, key, **fields) -> None:
        seen = self.sent.setdefault(kind, set())
        if key in seen or len(seen) >= MAX_EVENTS:
            return
        seen.add(key)
        self.emit(kind, **fields)


def _user_frame(user_files, skip: int = 2) -> dict | None:
    """The innermost frame of the user's file on the current stack, if any."""
    frame = sys._getframe(skip)
    while frame is not None:
        if user_files.is_user(frame.f_code.co_filename):
            return _frame_info(user_files, frame)
        frame = frame.f_back
    return None


def _frame_info(user_files, frame) -> dict:
    line = frame.f_lineno
    return {
        "file": user_files.display(frame.f_code.co_filename),
        "line": line,
        "code": linecache.getline(frame.f_code.co_filename, line).strip() or None,
    }


# --- data ----------------------------------------------------------------------------------
def enter_data(data_dir: str, workdir: str) -> list[str]:
    """Show `data_dir`'s entries in `workdir` as links: reads go to the (read-only) data,
    new files the script writes (checkpoints, plots) land in the writable scratch."""
    made = []
    for name in sorted(os.listdir(data_dir)):
        target = os.path.join(workdir, name)
        if os.path.lexists(target):
            continue
        os.symlink(os.path.join(data_dir, name), target)
        made.append(name)
    return made


def generate_standins(standins: list[dict], workdir: str) -> list[dict]:
    """N distinct tiny PNG images in K class folders per stand-in, under `workdir`.

    Each image differs from every other (its pixels come from its number), so the
    probe's row fingerprints tell them apart as they would real photographs."""
    made = []
    for s in standins:
        root = os.path.join(workdir, s["path"])
        if os.path.lexists(root):
            raise FileExistsError(
                f"stand-in {s['path']}: the attached data already has it; "
                "attach the folder or stand it in, not both"
            )
        classes = [f"class_{k:0{len(str(s['classes'] - 1))}d}" for k in range(s["classes"])]
        for name in classes:
            os.makedirs(os.path.join(root, name))
        for i in range(s["images"]):
            name = os.path.join(root, classes[i % s["classes"]], f"img_{i:05d}.png")
            _tiny_png(name, f"{s['path']}/{i}")
        made.append({**s, "class_folders": classes[:5] + (["…"] if len(classes) > 5 else [])})
    return made


def _tiny_png(path: str, seed: str) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    pixels = rng.integers(0, 256, size=(IMAGE_SIDE, IMAGE_SIDE, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format="PNG")


def standin_dataframes(standins: list[dict], events: _Events, user_files) -> None:
    """`flow_from_dataframe` reads the files its dataframe names, not a folder's listing:
    under a stand-in folder, the named files that are missing are generated when it is
    called, so the dataframe's own rows are what Keras counts."""
    try:
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
    except ImportError:
        return
    roots = [os.path.realpath(s["path"]) for s in standins]
    original = ImageDataGenerator.flow_from_dataframe

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", *args, **kw):
        made = 0
        try:
            names = list(dataframe[x_col])[: 10 * MAX_STANDIN_FILES]
        except Exception:  # not a dataframe with that column: Keras will say so
            names = []
        for name in names:
            if not isinstance(name, str) or made >= MAX_STANDIN_FILES:
                continue
            path = os.path.realpath(os.path.join(directory or "", name))
            if any(path.startswith(root + os.sep) for root in roots) and not os.path.exists(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                _tiny_png(path, path)
                made += 1
        if made:
            where = _user_frame(user_files, skip=2) or {}
            events.once(
                "standin-files", (directory, x_col), directory=directory, files=made,
                loader="flow_from_dataframe", line=where.get("line"),
            )  # fmt: skip
        return original(self, dataframe, directory, x_col, *args, **kw)

    flow_from_dataframe.__doc__ = original.__doc__
    ImageDataGenerator.flow_from_dataframe = flow_from_dataframe


# --- imports -------------------------------------------------------------------------------
class _Anything:
    """A stubbed module's every attribute: callable, iterable (empty), a context manager,
    falsy, zero as a number; what a tracker's `init()`, `log()`, `config.x = 1` or an
    emissions tracker's `stop()` formatted with `:.6f` need to do nothing."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]  # used as a decorator (`@profile`): the function stays itself
        return _Anything(f"{self._name}()")

    def __float__(self):
        return 0.0

    def __int__(self):
        return 0

    def __format__(self, spec):
        return format(0.0, spec) if spec else repr(self)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Anything(f"{self._name}.{attr}")

    def __setattr__(self, attr, value):
        pass

    def __getitem__(self, key):
        return _Anything(f"{self._name}[]")

    def __setitem__(self, key, value):
        pass

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __bool__(self):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        return f"<fitprobe stub {self._name}>"


class _StubModule(types.ModuleType):
    def __init__(self, name: str, callback_base):
        super().__init__(name)
        self.__path__ = []  # a package: `from tracker.keras import Callback` works too
        self.__fitprobe_stub__ = True
        self._callback_base = callback_base

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        if attr.endswith("Callback") and self._callback_base is not None:
            # A tracker's Keras callback goes into fit(callbacks=[...]): a real Callback
            # that does nothing, since Keras calls its hooks.
            cls = type(attr, (self._callback_base,), {"__init__": _callback_init})
            setattr(self, attr, cls)
            return cls
        return _Anything(f"{self.__name__}.{attr}")


def _callback_init(self, *args, **kwargs):
    type(self).__mro__[1].__init__(self)


class _Loader(importlib.abc.Loader):
    def __init__(self, make, fill=None):
        self.make, self.fill = make, fill

    def create_module(self, spec):
        return self.make(spec.name)

    def exec_module(self, module):
        if self.fill is not None:  # the module is in sys.modules now: submodules can load
            self.fill(module)


def _imported_by_user(user_files) -> dict | None:
    """The user's line, when the import being resolved is a statement in the user's file
    (not a library's own optional import that happens while the user's code runs)."""
    frame = sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_code.co_filename == importlib.__file__
    ):
        frame = frame.f_back
    if frame is None or not user_files.is_user(frame.f_code.co_filename):
        return None
    return _user_frame(user_files, skip=2)


class ImportWatch(importlib.abc.MetaPathFinder):
    """Last on `sys.meta_path`: asked only about modules nothing else can import.

    Every missing top-level module the user's code ends up asking for is recorded, with
    the user's line (a library's optional import that fails quietly is recorded too: the
    rules count a missing module only where the script failed for it). With `stub`,
    modules in `stubbable` that the user's own file imports get a no-op stand-in."""

    def __init__(self, events: _Events, user_files, stubbable, callback_base):
        self.events = events
        self.user_files = user_files
        self.stubbable = set(stubbable or ())
        self.callback_base = callback_base
        self.stubbed: set[str] = set()

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.split(".")[0]
        if fullname == COLAB or fullname.startswith(COLAB + "."):
            return self._package(fullname, self._colab, self._fill_colab)
        if fullname == "google":  # only asked when no package provides `google` at all
            return self._package(fullname, types.ModuleType)
        if top in self.stubbed:
            return self._package(fullname, self._stub)
        if "." in fullname:
            return None  # a part of an installed package: its own business
        direct = _imported_by_user(self.user_files)
        where = direct or _user_frame(self.user_files, skip=2)
        if where is None:
            return None  # nothing of the user's is running: fitprobe's or Keras's own
        self.events.once(
            "module-missing", top, module=top, direct=direct is not None, **where
        )
        if direct is not None and top in self.stubbable:
            self.stubbed.add(top)
            self.events.once("module-stubbed", top, module=top, line=where["line"])
            return self._package(fullname, self._stub)
        return None

    @staticmethod
    def _package(fullname, make, fill=None):
        return importlib.machinery.ModuleSpec(fullname, _Loader(make, fill), is_package=True)

    def _stub(self, name: str):
        return _StubModule(name, self.callback_base)

    def _colab(self, name: str):
        module = types.ModuleType(name)
        module.__path__ = []
        module.__fitprobe_stub__ = True
        if name == f"{COLAB}.drive":
            module.mount = self._skipped("drive.mount", "Google Drive is not reachable here")
            module.flush_and_unmount = self._skipped("drive.flush_and_unmount", "")
        elif name == f"{COLAB}.files":
            module.upload = self._upload
            module.download = self._skipped("files.download", "nothing is downloaded")
        return module

    @staticmethod
    def _fill_colab(module) -> None:
        if module.__name__ == COLAB:  # `from google.colab import drive, files`
            for sub in ("drive", "files"):
                setattr(module, sub, importlib.import_module(f"{COLAB}.{sub}"))

    def _skipped(self, what: str, why: str):
        def skipped(*args, **kwargs):
            where = _user_frame(self.user_files, skip=2) or {}
            self.events.once(
                "skipped", (what, where.get("line")), what=what, why=why,
                line=where.get("line"), code=where.get("code"),
            )  # fmt: skip

        return skipped

    def _upload(self, *args, **kwargs):
        """Colab's `files.upload()` returns {name: bytes} of what the user picked: here,
        the files at the top of the attached data (none when nothing is attached)."""
        where = _user_frame(self.user_files, skip=2) or {}
        picked = {}
        for name in sorted(os.listdir(".")):
            if os.path.isfile(name) and os.path.getsize(name) <= 64 * 1024 * 1024:
                with open(name, "rb") as f:
                    picked[name] = f.read()
        why = (
            f"returned the {len(picked)} attached file(s) at the top of the data"
            if picked
            else "returned no files: attach the data the notebook uploads"
        )
        self.events.once(
            "skipped", ("files.upload", where.get("line")), what="files.upload",
            why=why, line=where.get("line"), code=where.get("code"),
        )  # fmt: skip
        return picked


# --- notebook builtins -----------------------------------------------------------------------
class _IPythonShim:
    """What `get_ipython()` returns in notebook mode: magics left in the code do nothing
    (the converter listed them as skipped), but `%env` sets its variable."""

    def run_line_magic(self, name, line, *args, **kwargs):
        if name == "env" and "=" in line:
            key, _, value = line.partition("=")
            os.environ[key.strip()] = value.strip()
        return None

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        return None

    def system(self, cmd, *args, **kwargs):
        return None

    def getoutput(self, cmd, *args, **kwargs):
        return []

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return lambda *args, **kwargs: None


def _display(*objs, **kwargs):
    """Jupyter's `display()`: here each object's text goes to stdout."""
    for obj in objs:
        print(repr(obj))


def install_notebook_builtins() -> None:
    shim = _IPythonShim()
    builtins.get_ipython = lambda: shim
    builtins.display = _display


# --- paths that are not there ----------------------------------------------------------------
WATCHED_EVENTS = {"glob.glob": "glob", "os.listdir": "os.listdir", "os.scandir": "os.scandir"}


def _static_prefix(pattern: str) -> str:
    """The folder part of a glob pattern before its first wildcard."""
    head = []
    for part in pattern.replace("\\", "/").split("/"):
        if any(c in part for c in "*?["):
            break
        head.append(part)
    return "/".join(head) or "."


# The standard library's own path helpers, between a listing and the code that asked for it.
PATH_HELPERS = ("glob.py", "pathlib.py", "os.py", "fnmatch.py")


def _asked_by_user(user_files, frame) -> dict | None:
    """The user's line, when the user's own code made this listing (through glob, pathlib
    or os.walk at most): not a library looking around (importlib, zipimport, Keras)."""
    while frame is not None and frame.f_code.co_filename.endswith(PATH_HELPERS):
        frame = frame.f_back
    if frame is None or not user_files.is_user(frame.f_code.co_filename):
        return None
    return _frame_info(user_files, frame)


def install_path_watch(events: _Events, user_files) -> None:
    def hook(event, args):
        loader = WATCHED_EVENTS.get(event)
        if loader is None:
            return
        try:
            raw = args[0]
            if not isinstance(raw, str | bytes | os.PathLike):
                return
            path = os.fsdecode(raw)
            folder = _static_prefix(path) if loader == "glob" else path
            if os.path.exists(folder):
                return
            where = _asked_by_user(user_files, sys._getframe(1))
            if where is None:
                return
            events.once(
                "path-missing", folder, path=folder, pattern=path if loader == "glob" else None,
                loader=loader, **where,
            )  # fmt: skip
        except Exception:  # an audit hook must never break the script
            return

    sys.addaudithook(hook)


def prepare(job: dict, emit, user_files, keras) -> dict:
    """Set the script's surroundings up; returns what the report should say of them."""
    events = _Events(emit)
    said: dict = {}
    workdir = os.getcwd()
    if job.get("data_dir"):
        said["data_entries"] = enter_data(job["data_dir"], workdir)
        sys.path.insert(1, workdir)  # helpers shipped with the data import as beside it
    if job.get("standin_images"):
        said["standins"] = generate_standins(job["standin_images"], workdir)
        standin_dataframes(job["standin_images"], events, user_files)
    callback_base = getattr(getattr(keras, "callbacks", None), "Callback", None)
    stubbable = OFF_DATA_PATH if job.get("stub_missing") else ()
    sys.meta_path.append(ImportWatch(events, user_files, stubbable, callback_base))
    if job.get("notebook"):
        install_notebook_builtins()
    install_path_watch(events, user_files)
    return said
