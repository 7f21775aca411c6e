"""Pre-flight: read the user's code (AST, milliseconds) once, before anything runs.

`read_code` gathers facts (what the code defines, imports and reads, and how it calls
fit: rules write fixes with the user's own names and numbers) and hands them to the
rules' static checks (`rules.run_static`): patterns that very often go wrong. Static
findings say they are static; after a probe, the observed findings confirm them, or
the probe retracts them (see `diagnose.py`). `engine.precheck` does the same for the
app, before a probe.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from diagnostics.diagnosis.code import own_nodes as _own_nodes
from diagnostics.packages import IMAGE_FOLDER_LOADERS
from diagnostics.report.labels import locate
from diagnostics.rules import run_static
from diagnostics.rules.base import Finding, bare_title

__all__ = ["CodeFacts", "Facts", "bare_title", "read_code", "read_facts"]


@dataclass
class Facts:
    generators: list[dict] = field(default_factory=list)  # {name, line, endless, swallows}
    sequences: list[dict] = field(default_factory=list)  # {name, line, len_code, len_constant}
    # {line, code, method, kwargs: {k: src}, values: {k: src, a name bound once resolved}}
    fit_calls: list[dict] = field(default_factory=list)
    repeat_zero: list[int] = field(default_factory=list)  # lines of `.repeat(0)`
    imports: list[dict] = field(default_factory=list)  # {module (top level), line, guarded}
    data_paths: list[dict] = field(default_factory=list)  # {path, line, loader, image_folder}
    # from_generator(f) where f returns an object made once: {line, code, returns, made_by}
    from_generator: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "generators": self.generators,
            "sequences": self.sequences,
            "fit_calls": self.fit_calls,
            "repeat_zero": self.repeat_zero,
            "imports": self.imports,
            "data_paths": self.data_paths,
            "from_generator": self.from_generator,
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


def _assigned_once(tree: ast.Module) -> dict[str, str]:
    """Names bound exactly once in the file (`steps = len(x) // bs`), with the source of
    the value: a fit() argument given by such a name is read as that expression."""
    values: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values.setdefault(target.id, []).append(ast.unparse(node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            values.setdefault(node.target.id, []).append("?")  # rebound: not one value
    return {name: v[0] for name, v in values.items() if len(v) == 1}


def _returns_made_once(call: ast.Call, assigned: dict[str, str]) -> dict | None:
    """`from_generator(lambda: gen, ...)` with `gen = rows()` bound once: the function
    hands tf.data the same generator object on every pass."""
    function = call.args[0] if call.args else None
    for kw in call.keywords:
        if kw.arg == "generator":
            function = kw.value
    if not isinstance(function, ast.Lambda) or not isinstance(function.body, ast.Name):
        return None
    name = function.body.id
    made_by = assigned.get(name)
    if made_by is None or not made_by.endswith(")"):
        return None  # not bound once to a call's result
    return {
        "line": call.lineno,
        "code": ast.unparse(function),
        "returns": name,
        "made_by": made_by,
    }


def read_facts(tree: ast.Module) -> Facts:
    facts = Facts(imports=_imports(tree), data_paths=_data_paths(tree))
    assigned = _assigned_once(tree)
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
                kwargs = {k.arg: ast.unparse(k.value) for k in node.keywords if k.arg}
                facts.fit_calls.append(
                    {
                        "line": node.lineno,
                        "method": node.func.attr,
                        "code": ast.unparse(node),
                        "kwargs": kwargs,
                        # an argument given by a name bound once: the expression behind it
                        "values": {k: assigned.get(v, v) for k, v in kwargs.items()},
                    }
                )
            elif node.func.attr == "from_generator":
                made_once = _returns_made_once(node, assigned)
                if made_once:
                    facts.from_generator.append(made_once)
            elif node.func.attr == "repeat" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and arg.value == 0:
                    facts.repeat_zero.append(node.lineno)
    return facts


@dataclass
class CodeFacts:
    """The code read once: its facts (for rules, as a dict) and the static findings the
    rules draw from them."""

    facts: dict
    static: list[Finding]


def read_code(user_file, input_info: dict | None = None) -> CodeFacts:
    """Read a user's file (an `inputs.UserFile`) once: facts and static findings, lines
    named as the user sees them (`input_info` holds a notebook's cells)."""
    facts = read_facts(user_file.tree).to_dict()
    return CodeFacts(facts, run_static(facts, lambda line: locate(input_info, line)))
