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
import importlib.util
import linecache
import os
import shlex
import sys
import types
import zlib

from diagnostics.packages import OFF_DATA_PATH

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
def enter_data(data_dir: str, workdir: str, real_paths=()) -> list[str]:
    """Show `data_dir`'s entries in `workdir` as links: reads go to the (read-only) data,
    new files the script writes (checkpoints, plots) land in the writable scratch.

    A folder on the way to one of `real_paths` (a stand-in inside the attached data:
    `data/train` beside an attached `data/labels.csv`) is made a real folder whose own
    entries are linked, so that the stand-in can be written where the script reads it."""
    made = []
    for name in sorted(os.listdir(data_dir)):
        source, target = os.path.join(data_dir, name), os.path.join(workdir, name)
        inner = [p.split("/", 1)[1] for p in real_paths if p.startswith(name + "/")]
        if inner and os.path.isdir(source) and not os.path.islink(source):
            os.makedirs(target, exist_ok=True)
            enter_data(source, target, inner)
        elif not os.path.lexists(target):
            os.symlink(source, target)
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


def watch_dataframes(standins: list[dict], events: _Events, user_files) -> None:
    """`flow_from_dataframe` reads the files its dataframe names, not a folder's listing,
    and leaves out the missing ones with only a warning. Each call is checked: under a
    stand-in folder, the named files that are missing are generated, so the dataframe's
    own rows are what Keras counts (`standin-files`); elsewhere, missing ones are
    counted (`path-missing`)."""
    try:
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
    except ImportError:
        return
    roots = [os.path.realpath(s["path"]) for s in standins]
    original = ImageDataGenerator.flow_from_dataframe

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", *args, **kw):
        try:
            names = [n for n in list(dataframe[x_col])[:MAX_STANDIN_FILES] if isinstance(n, str)]
        except Exception:  # not a dataframe with that column: Keras will say so
            names = []
        made = missing = 0
        for name in names:
            path = os.path.realpath(os.path.join(directory or "", name))
            if os.path.exists(path):
                continue
            if any(path.startswith(root + os.sep) for root in roots):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                _tiny_png(path, path)
                made += 1
            else:
                missing += 1
        where = _user_frame(user_files, skip=2) or {}
        if made:
            events.once(
                "standin-files", (directory, x_col), directory=directory, files=made,
                loader="flow_from_dataframe", line=where.get("line"),
            )  # fmt: skip
        if missing:
            events.once(
                "path-missing", (directory, x_col), path=directory or ".", pattern=None,
                loader="flow_from_dataframe", missing_files=missing, named=len(names),
                file=where.get("file"), line=where.get("line"), code=where.get("code"),
            )  # fmt: skip
        return original(self, dataframe, directory, x_col, *args, **kw)

    flow_from_dataframe.__doc__ = original.__doc__
    ImageDataGenerator.flow_from_dataframe = flow_from_dataframe


def watch_cv2(events: _Events, user_files) -> None:
    """`cv2.imread` returns None for a file that is not there, and the script fails later
    (`cv2.resize`: `!ssize.empty()`): each such read is recorded as it happens."""
    import cv2

    original = cv2.imread

    def imread(filename, *args, **kwargs):
        image = original(filename, *args, **kwargs)
        if image is None and isinstance(filename, str) and not os.path.exists(filename):
            where = _user_frame(user_files, skip=2)
            if where is not None:
                folder = os.path.dirname(filename) or "."
                events.once(
                    "path-missing", folder, path=filename, pattern=None,
                    loader="cv2.imread", **where,
                )  # fmt: skip
        return image

    cv2.imread = imread


class _AfterImport(importlib.abc.MetaPathFinder):
    """First on `sys.meta_path` until `name` is imported: then `then()` runs, once."""

    def __init__(self, name: str, then):
        self.name, self.then = name, then

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module, then = spec.loader.exec_module, self.then

        def exec_then(module):
            exec_module(module)
            try:
                then()
            except Exception:  # watching is fitprobe's business, never the script's failure
                pass

        spec.loader.exec_module = exec_then
        return spec


def _after_import(name: str, then) -> None:
    if name in sys.modules:
        then()
    else:
        sys.meta_path.insert(0, _AfterImport(name, then))


# --- imports -------------------------------------------------------------------------------
STUB_USES: dict[str, str] = {}  # stub values the script used as if real: name -> how
CONFIG_METHODS = {"update", "setdefaults", "get", "keys", "items", "values", "as_dict"}


class FitprobeStub:
    """A stubbed module's every attribute: callable, iterable (empty), a context manager,
    falsy; what a tracker's `init()`, `log()`, `config.x = 1` need to do nothing. Values
    given to it come back (`config.x = 1`, `init(config={...})`, `config.update({...})`),
    so a script that reads its settings from the tracker's config gets its own; any other
    value it reads is recorded where the script turns it into a truth value or text
    (`STUB_USES`), and one used as a number fails loudly rather than as a made-up 0."""

    def __init__(self, name: str, root=None):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_values", {})

    def _used(self, how: str) -> None:
        if len(STUB_USES) < MAX_EVENTS:
            STUB_USES.setdefault(self._name, how)

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]  # used as a decorator (`@profile`): the function stays itself
        config = kwargs.get("config")
        if isinstance(config, dict) and self._root is not None:  # wandb.init(config={...})
            self._root.config._values.update(config)
        if self._name.endswith(".update") and args and isinstance(args[0], dict):
            owner = self._root.config if self._name.endswith("config.update") else None
            if owner is not None:
                owner._values.update(args[0])
        return FitprobeStub(f"{self._name}()", self._root)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        if attr in self._values:
            return self._values[attr]
        if attr == "config" and self._root is not None:
            return self._root.config
        if self._is_config and attr not in CONFIG_METHODS:
            # A setting nobody gave: the real tracker has none either, and a made-up
            # value would decide how the script trains.
            raise AttributeError(self._unset(attr))
        return FitprobeStub(f"{self._name}.{attr}", self._root)

    @property
    def _is_config(self) -> bool:
        return self._name.endswith(".config")

    def _unset(self, key) -> str:
        return (
            f"<fitprobe stub of {self._name}.{key}> has no value: the script set none, and "
            "the stub cannot read the real tracker's"
        )

    def __setattr__(self, attr, value):
        self._values[attr] = value

    def __getitem__(self, key):
        if key in self._values:
            return self._values[key]
        if self._is_config:
            raise KeyError(self._unset(key))
        return FitprobeStub(f"{self._name}[{key!r}]", self._root)

    def __setitem__(self, key, value):
        self._values[key] = value

    def __iter__(self):
        self._used("iterated as empty")
        return iter(())

    def __len__(self):
        self._used("counted as empty")
        return 0

    def __bool__(self):
        self._used("taken as False")
        return False

    def __format__(self, spec):
        self._used("printed")
        return format(0.0, spec) if spec else repr(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        return f"<fitprobe stub of {self._name}>"


class _StubModule(types.ModuleType):
    def __init__(self, name: str, callback_base):
        super().__init__(name)
        self.__path__ = []  # a package: `from tracker.keras import Callback` works too
        self.__fitprobe_stub__ = True
        self._callback_base = callback_base
        self.config = FitprobeStub(f"{name}.config", self)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        if attr.endswith("Callback") and self._callback_base is not None:
            # A tracker's Keras callback goes into fit(callbacks=[...]): a real Callback
            # that does nothing, since Keras calls its hooks.
            base = self._callback_base

            def __init__(callback, *args, **kwargs):
                base.__init__(callback)  # the base's own, whatever subclasses the user adds

            cls = type(attr, (base,), {"__init__": __init__})
            setattr(self, attr, cls)
            return cls
        return FitprobeStub(f"{self.__name__}.{attr}", self)


class _Loader(importlib.abc.Loader):
    def __init__(self, make, fill=None):
        self.make, self.fill = make, fill

    def create_module(self, spec):
        return self.make(spec.name)

    def exec_module(self, module):
        if self.fill is not None:  # the module is in sys.modules now: submodules can load
            self.fill(module)


LIBRARY_ROOTS = tuple(
    {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
)


def _is_library(filename: str) -> bool:
    """Python's own files and installed packages, as opposed to the user's (the script, a
    helper module beside it or in the attached data)."""
    if filename.startswith("<"):
        return True
    real = os.path.realpath(filename)
    return real.startswith(LIBRARY_ROOTS) or "-packages" + os.sep in real


def _importer(skip: int = 2):
    """The frame whose import statement is being resolved (the first above importlib's)."""
    frame = sys._getframe(skip)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_code.co_filename == importlib.__file__
    ):
        frame = frame.f_back
    return frame


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
        where = _user_frame(self.user_files, skip=2)
        if where is None:
            return None  # nothing of the user's is running: fitprobe's or Keras's own
        importer = _importer()
        direct = importer is not None and not _is_library(importer.f_code.co_filename)
        by = None
        if direct and not self.user_files.is_user(importer.f_code.co_filename):
            by = {"file": os.path.basename(importer.f_code.co_filename),
                  "line": importer.f_lineno}  # fmt: skip
        self.events.once(
            "module-missing", top, module=top, direct=direct, imported_by=by, **where
        )
        if direct and top in self.stubbable:
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
        elif name == "run":
            return self._run(line)
        return None

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        if name == "writefile":  # into the working directory, as Jupyter writes it
            words = shlex.split(line)
            append = any(w in ("-a", "--append") for w in words)
            target = next((w for w in words if not w.startswith("-")), None)
            if target:
                with open(target, "a" if append else "w", encoding="utf-8") as f:
                    f.write(cell if cell.endswith("\n") else cell + "\n")
        return None

    @staticmethod
    def _run(line: str):
        """`%run script.py args`: the script runs, and its names land in the notebook's."""
        import runpy

        words = [w for w in shlex.split(line) if not w.startswith("-")]
        if not words:
            return None
        saved = sys.argv
        sys.argv = words
        try:
            names = runpy.run_path(words[0], run_name="__main__")
        finally:
            sys.argv = saved
        main = sys.modules.get("__main__")
        if main is not None:
            main.__dict__.update({k: v for k, v in names.items() if not k.startswith("__")})
        return None

    @staticmethod
    def captured():
        """What `%%capture NAME` stores: here the output went to the probe's capture."""
        return types.SimpleNamespace(
            stdout="", stderr="", outputs=[], show=lambda: None, __call__=lambda: None
        )

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


def prepare(options, placement, emit, user_files, keras) -> dict:
    """Set the script's surroundings up (from the job's `ProbeOptions` and `Placement`);
    returns what the report should say of them."""
    events = _Events(emit)
    said: dict = {}
    workdir = os.getcwd()
    standins = [s.to_dict() for s in options.standin_images]
    if placement.data_dir:
        real = [s["path"] for s in standins]  # stand-ins inside the data: made real folders
        said["data_entries"] = enter_data(placement.data_dir, workdir, real)
    if placement.data_dir or placement.notebook:
        sys.path.insert(1, workdir)  # helpers in the data (or %%writefile'd) import from here
    if standins:
        said["standins"] = generate_standins(standins, workdir)
    watch_dataframes(standins, events, user_files)
    if "cv2" in sys.modules or importlib.util.find_spec("cv2") is not None:
        _after_import("cv2", lambda: watch_cv2(events, user_files))
    callback_base = getattr(getattr(keras, "callbacks", None), "Callback", None)
    stubbable = OFF_DATA_PATH if options.stub_missing else ()
    sys.meta_path.append(ImportWatch(events, user_files, stubbable, callback_base))
    if placement.notebook:
        install_notebook_builtins()
    install_path_watch(events, user_files)
    return said
