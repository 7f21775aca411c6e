"""Static pre-flight: read the user's code (AST, milliseconds) before anything runs.

Returns `facts` (what the code defines and how it calls fit, for rules to write
fixes with the user's own names and numbers) and static findings: patterns that
very often go wrong. Static findings say they are static; after a probe, the
observed findings confirm them, or the probe retracts them (see `diagnose.py`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .notebook import locate
from .packages import IMAGE_FOLDER_LOADERS
from .rules import missing_module
from .rules.base import Finding, severity_rank
from .sources import DataSource, InputError, calls_fit, list_sources, parse_user_bytes
from .sources import own_nodes as _own_nodes

__all__ = ["Facts", "Precheck", "bare_title", "check_source", "read_facts", "preflight"]


@dataclass
class Facts:
    generators: list[dict] = field(default_factory=list)  # {name, line, endless, swallows}
    sequences: list[dict] = field(default_factory=list)  # {name, line, len_code, len_constant}
    fit_calls: list[dict] = field(default_factory=list)  # {line, code, method, kwargs: {k: src}}
    repeat_zero: list[int] = field(default_factory=list)  # lines of `.repeat(0)`
    imports: list[dict] = field(default_factory=list)  # {module (top level), line, guarded}
    data_paths: list[dict] = field(default_factory=list)  # {path, line, loader, image_folder}

    def to_dict(self) -> dict:
        return {
            "generators": self.generators,
            "sequences": self.sequences,
            "fit_calls": self.fit_calls,
            "repeat_zero": self.repeat_zero,
            "imports": self.imports,
            "data_paths": self.data_paths,
        }


def _is_endless(func) -> bool:
    """A `while True:` (or `while 1:`) loop, or itertools.cycle/count, around the yields."""
    for node in _own_nodes(func):
        if isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and node.test.value:
            if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(node)):
                return True
        if isinstance(node, ast.Attribute) and node.attr in {"cycle", "count", "repeat"}:
            return True
    return False


def _swallowing_handlers(func) -> list[int]:
    """Lines of `except` blocks in a generator that end it silently (break/return/pass)."""
    lines = []
    for node in _own_nodes(func):
        if not isinstance(node, ast.Try):
            continue
        for handler in node.handlers:
            raises = any(isinstance(n, ast.Raise) for n in ast.walk(handler))
            ends = any(isinstance(n, ast.Break | ast.Return) for n in ast.walk(handler))
            only_pass = all(isinstance(s, ast.Pass | ast.Expr) for s in handler.body)
            if not raises and (ends or only_pass):
                lines.append(handler.lineno)
    return lines


FILLERS = {"zeros", "ones", "full", "empty"}


def _fixed_size_labels(func) -> list[int]:
    """Lines yielding a slice next to `np.zeros(batch_size)`-style labels of a fixed size.

    The last slice of the data can be shorter than batch_size; labels made with a
    fixed size then no longer match x in length.
    """
    lines = []
    for node in _own_nodes(func):
        if not isinstance(node, ast.Yield) or not isinstance(node.value, ast.Tuple):
            continue
        parts = node.value.elts
        sliced = any(isinstance(p, ast.Subscript) and isinstance(p.slice, ast.Slice) for p in parts)
        fixed = any(
            isinstance(p, ast.Call)
            and isinstance(p.func, ast.Attribute)
            and p.func.attr in FILLERS
            and p.args
            and not any(
                isinstance(n, ast.Call) and getattr(n.func, "id", None) == "len"
                for n in ast.walk(p.args[0])
            )
            for p in parts
        )
        if sliced and fixed:
            lines.append(node.lineno)
    return lines


def _len_method(cls: ast.ClassDef):
    return next(
        (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__len__"), None
    )


def _guarded_lines(tree: ast.Module) -> set[int]:
    """Lines inside a `try:` whose handlers catch ImportError (or everything): an optional
    import the script has planned for."""
    lines = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = set()
        for handler in node.handlers:
            if handler.type is None:
                caught.add("*")
            else:
                for n in ast.walk(handler.type):
                    if isinstance(n, ast.Name | ast.Attribute):
                        caught.add(n.id if isinstance(n, ast.Name) else n.attr)
        if caught & {"*", "ImportError", "ModuleNotFoundError", "Exception", "BaseException"}:
            for stmt in node.body:
                lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def _imports(tree: ast.Module) -> list[dict]:
    guarded = _guarded_lines(tree)
    found, seen = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if (top, node.lineno) in seen:
                continue
            seen.add((top, node.lineno))
            found.append(
                {"module": top, "name": name, "line": node.lineno,
                 "guarded": node.lineno in guarded}
            )  # fmt: skip
    return sorted(found, key=lambda i: i["line"])


# Calls that read a path given as their first argument (or `directory=`), by the name the
# call ends with. The image-folder loaders are those a stand-in folder can answer.
PATH_LOADERS = IMAGE_FOLDER_LOADERS | {
    "load",  # np.load
    "loadtxt",
    "genfromtxt",
    "read_csv",
    "read_excel",
    "read_parquet",
    "read_json",
    "read_pickle",
    "read_hdf",
    "imread",  # cv2, matplotlib, imageio
    "open",  # open(), PIL.Image.open, h5py.File is below
    "File",
    "load_img",
    "listdir",
    "glob",
    "text_dataset_from_directory",
    "audio_dataset_from_directory",
    "TextLineDataset",
    "TFRecordDataset",
    "load_model",
}


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound once to a string (or an os.path.join of strings)."""
    values: dict[str, str | None] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                value = _string(node.value, values)
                values[target.id] = value if target.id not in values else None
    return {k: v for k, v in values.items() if v is not None}


def _string(node: ast.AST, known: dict) -> str | None:
    """The text of a string expression built from constants, names of `known` strings,
    `os.path.join(...)`, `a + b` and f-strings of those; None when it is not one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return known.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Div):
        parts = [_string(node.left, known), _string(node.right, known)]
        if None in parts:
            return None
        return _join(parts) if isinstance(node.op, ast.Div) else "".join(parts)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            text = _string(value.value if isinstance(value, ast.FormattedValue) else value, known)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    if isinstance(node, ast.Call) and _call_name(node) in ("join", "Path") and node.args:
        parts = [_string(a, known) for a in node.args]
        return None if None in parts else _join(parts)
    return None


def _join(parts: list[str]) -> str:
    """os.path.join's result for relative parts (an absolute later part restarts it)."""
    out = parts[0]
    for part in parts[1:]:
        out = part if part.startswith("/") else f"{out.rstrip('/')}/{part}" if out else part
    return out


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _data_paths(tree: ast.Module) -> list[dict]:
    known = _constants(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        loader = _call_name(node)
        if loader not in PATH_LOADERS:
            continue
        arg = node.args[0] if node.args else None
        for kw in node.keywords:
            if kw.arg in ("directory", "path", "filepath_or_buffer", "fname", "filename", "file"):
                arg = kw.value
        path = _string(arg, known) if arg is not None else None
        if not path or "\n" in path or len(path) > 300:
            continue
        found.append(
            {
                "path": path,
                "line": node.lineno,
                "loader": ast.unparse(node.func),
                "image_folder": loader in IMAGE_FOLDER_LOADERS,
                # a validation_split subset: Keras's Found line counts the subset only
                "subset": any(kw.arg == "subset" for kw in node.keywords),
            }
        )
    return sorted(found, key=lambda d: d["line"])


def read_facts(tree: ast.Module) -> Facts:
    facts = Facts(imports=_imports(tree), data_paths=_data_paths(tree))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(n, ast.Yield | ast.YieldFrom) for n in _own_nodes(node)
        ):
            facts.generators.append(
                {
                    "name": node.name,
                    "line": node.lineno,
                    "endless": _is_endless(node),
                    "swallows": _swallowing_handlers(node),
                    "fixed_size_labels": _fixed_size_labels(node),
                }
            )
        elif isinstance(node, ast.ClassDef):
            length = _len_method(node)
            if length is None:
                continue
            returns = [n for n in _own_nodes(length) if isinstance(n, ast.Return) and n.value]
            code = ast.unparse(returns[0].value) if returns else None
            constant = (
                returns[0].value.value
                if returns and isinstance(returns[0].value, ast.Constant)
                else None
            )
            floor = bool(returns) and any(
                isinstance(n, ast.BinOp) and isinstance(n.op, ast.FloorDiv)
                for n in ast.walk(returns[0].value)
            )
            facts.sequences.append(
                {
                    "name": node.name,
                    "line": length.lineno,
                    "len_code": code,
                    "len_constant": constant if isinstance(constant, int) else None,
                    "len_floor": floor,
                }
            )
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"fit", "fit_generator"}:
                facts.fit_calls.append(
                    {
                        "line": node.lineno,
                        "method": node.func.attr,
                        "code": ast.unparse(node),
                        "kwargs": {k.arg: ast.unparse(k.value) for k in node.keywords if k.arg},
                    }
                )
            elif node.func.attr == "repeat" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and arg.value == 0:
                    facts.repeat_zero.append(node.lineno)
    return facts


def _top_operator(expression: str):
    """The operator at the top of an expression's source text (`a / b` -> ast.Div)."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return None
    return type(node.op) if isinstance(node, ast.BinOp) else None


STATIC_SUFFIX = " (static check: read from the code, not yet observed)"


def bare_title(finding: dict) -> str:
    """A static finding's title without the suffix that says it is static."""
    return finding["title"].removesuffix(STATIC_SUFFIX)


def _static(code, severity, title, fix, line, evidence=None) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        title=title + STATIC_SUFFIX,
        evidence=evidence or {},
        fix=fix,
        static=True,
        line=line,
    )


def preflight(tree: ast.Module, where=None) -> tuple[Facts, list[Finding]]:
    """Facts about the code and the static findings they suggest. `where(line)` says how
    to point at a line ("cell 3, line 2" in a notebook); "line N" by default."""
    where = where or (lambda line: f"line {line}")
    facts = read_facts(tree)
    found: list[Finding] = []
    for imp in missing_module.static_check(facts.to_dict()):
        found.append(
            _static(
                missing_module.CODE,
                missing_module.SEVERITY,
                missing_module.static_title(imp, where(imp["line"])),
                missing_module.static_fix(imp),
                imp["line"],
                {"module": imp["module"]},
            )
        )
    finite = [g for g in facts.generators if not g["endless"]]
    fit_with_steps = [c for c in facts.fit_calls if "steps_per_epoch" in c["kwargs"]]
    for gen in finite:
        for call in fit_with_steps:
            if gen["name"] in call["code"]:
                found.append(
                    _static(
                        "finite-generator-exhausted",
                        "warning",
                        f"generator {gen['name']}() has no `while True` loop but fit() asks for "
                        f"steps_per_epoch={call['kwargs']['steps_per_epoch']} every epoch",
                        f"Loop forever inside {gen['name']}() (`while True:` around the batch "
                        "loop), or let fit() find the end of each pass: drop steps_per_epoch.",
                        call["line"],
                        {"generator": gen["name"], "fit_line": call["line"]},
                    )
                )
    for gen in facts.generators:
        for line in gen["swallows"]:
            found.append(
                _static(
                    "generator-swallowed-error",
                    "warning",
                    f"generator {gen['name']}() catches an exception and ends quietly",
                    "Let the exception propagate (remove the try/except, or re-raise), or "
                    "skip only the bad sample with `continue` and log it.",
                    line,
                    {"generator": gen["name"], "handler_line": line},
                )
            )
    for gen in facts.generators:
        for line in gen["fixed_size_labels"]:
            found.append(
                _static(
                    "xy-length-mismatch",
                    "warning",
                    f"generator {gen['name']}() pairs a slice of the data with labels of a fixed "
                    "size: the last slice can be shorter",
                    "Size the labels from the slice: `xb = x[i:i + n]; yield xb, "
                    "np.zeros(len(xb))`, or drop the short remainder.",
                    line,
                    {"generator": gen["name"]},
                )
            )
    for seq in facts.sequences:
        if seq["len_constant"] is not None:
            found.append(
                _static(
                    "sequence-len-too-small",
                    "warning",
                    f"{seq['name']}.__len__ returns the constant {seq['len_constant']}, "
                    "whatever the data holds",
                    "Compute the length from the data: "
                    "`return math.ceil(len(self.x) / self.batch_size)`.",
                    seq["line"],
                    {"sequence": seq["name"], "len": seq["len_constant"]},
                )
            )
    for call in facts.fit_calls:
        if call["method"] == "fit_generator":
            found.append(
                _static(
                    "fit-generator-removed",
                    "warning",
                    "fit_generator() does not exist in Keras 3",
                    "Call fit() with the same arguments: "
                    f"`{call['code'].replace('fit_generator(', 'fit(', 1)}`",
                    call["line"],
                )
            )
        bad = [
            k for k in ("workers", "use_multiprocessing", "max_queue_size") if k in call["kwargs"]
        ]
        if bad and call["method"] == "fit":
            found.append(
                _static(
                    "unsupported-fit-argument",
                    "warning",
                    f"fit() is given {', '.join(bad)}, which Keras 3's fit() does not accept",
                    "Remove them from fit(). In Keras 3 they belong to the PyDataset: "
                    "`super().__init__(workers=2, use_multiprocessing=True)`.",
                    call["line"],
                    {"arguments": bad},
                )
            )
        steps = call["kwargs"].get("steps_per_epoch")
        if steps and _top_operator(steps) is ast.Div:
            found.append(
                _static(
                    "steps-per-epoch-not-integer",
                    "warning",
                    f"steps_per_epoch={steps} uses `/`, which gives a float",
                    f"Use `math.ceil({steps})` (every sample, last batch partial) or `//` "
                    "(drop the remainder).",
                    call["line"],
                    {"expression": steps},
                )
            )
        vsteps = call["kwargs"].get("validation_steps")
        if vsteps and _top_operator(vsteps) is ast.FloorDiv:
            found.append(
                _static(
                    "validation-steps-zero",
                    "warning",
                    f"validation_steps={vsteps} is 0 whenever the validation set is smaller "
                    "than one batch",
                    f"Use `max(1, math.ceil({vsteps.replace('//', '/')}))`.",
                    call["line"],
                    {"expression": vsteps},
                )
            )
    for line in facts.repeat_zero:
        found.append(
            _static(
                "empty-epoch",
                "warning",
                "`.repeat(0)` makes the dataset empty",
                "Use `.repeat()` (forever) or `.repeat(n)` with n >= 1.",
                line,
            )
        )
    return facts, found


@dataclass
class Precheck:
    """What the app can tell about a pasted or uploaded file before anything runs."""

    error: str | None  # why it cannot be probed at all (empty, binary, syntax error, ...)
    findings: list[dict]  # static findings, most severe first
    sources: list[DataSource]  # its data sources, for module mode
    calls_fit: bool  # whether it can be probed as a script
    sha256: str | None = None
    data_paths: list[dict] = field(default_factory=list)  # what it reads (Facts.data_paths)
    notebook: dict | None = None  # notebook.Converted.to_dict() for a notebook or its cells

    def where(self, line: int | None) -> str:
        return locate({"notebook": self.notebook}, line)


def check_source(data: bytes | str, name: str) -> Precheck:
    """Read `data` as the file `name` and run the static checks (milliseconds, nothing runs)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        user_file = parse_user_bytes(raw, name)
    except InputError as exc:
        return Precheck(str(exc), [], [], False, exc.sha256)
    info = {"notebook": user_file.notebook.to_dict()} if user_file.notebook else {}
    facts, found = preflight(user_file.tree, lambda line: locate(info, line))
    found.sort(key=lambda f: (severity_rank(f.severity), f.line or 0))
    return Precheck(
        None,
        [f.to_dict() for f in found],
        list_sources(user_file.tree),
        calls_fit(user_file.tree),
        user_file.sha256,
        facts.data_paths,
        info.get("notebook"),
    )
