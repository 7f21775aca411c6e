"""What the rules' fixes share: find what a finding is about in the user's code, and edit
it with libcst, so that everything the edit does not touch (formatting, comments, blank
lines) stays byte for byte as the user wrote it.

A rule's `fix(source, finding, report)` hands `apply` an edit: a function from the
parsed `Code` to `(module, summary)`, or None where the code is not the plain shape the
edit needs. `apply` returns the edited source as an `Edited` (a str that carries the
summary) or None: odd code is never an error, only no fix.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from diagnostics.rules._shared import batch_rows
from diagnostics.rules.base import Run, floors_to_zero

try:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider
except ImportError:  # installed with the app; local mode (`pip install fitprobe`) has none
    cst = None

FIT_METHODS = ("fit", "fit_generator")
# How code names a batch size: `batches(x, y, batch_size)`, `gen(data, bs)`, `size=10`.
BATCH_PARAMETERS = ("batch_size", "batchsize", "batch", "bs", "size")
FLOORING = ("int", "floor", "round", "trunc")  # as base.FLOORING_CALLS: int(a / b), np.floor


class Edited(str):
    """An edited source, with `summary`: one plain sentence of what the edit does."""

    summary: str

    def __new__(cls, text: str, summary: str):
        edited = super().__new__(cls, text)
        edited.summary = summary
        return edited


@dataclass(frozen=True)
class Code:
    """The user's source parsed once: its module, where each node is, what holds it."""

    module: cst.Module
    positions: Mapping
    parents: Mapping

    def line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def text(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def nodes(self, kind) -> list:
        """Every node of a kind, in the order of the source."""
        return [n for n in self.positions if isinstance(n, kind)]

    def at_module_level(self, node: cst.CSTNode) -> bool:
        """Whether a node is outside every function, class, lambda and comprehension."""
        scopes = (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp,
                  cst.DictComp, cst.GeneratorExp)  # fmt: skip
        node = self.parents.get(node)
        while node is not None and not isinstance(node, scopes):
            node = self.parents.get(node)
        return node is None

    def statement(self, node: cst.CSTNode) -> cst.SimpleStatementLine | None:
        """The statement line a node is on; None in a compound statement's header."""
        while node is not None and not isinstance(node, cst.SimpleStatementLine):
            if isinstance(node, cst.BaseCompoundStatement):
                return None
            node = self.parents.get(node)
        return node


Edit = Callable[[Code], "tuple[cst.Module, str] | None"]


def read(source: str) -> Code | None:
    if cst is None:
        return None
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
        positions = wrapper.resolve(PositionProvider)
        parents = wrapper.resolve(ParentNodeProvider)
    except Exception:  # a syntax error, or code libcst does not take: nothing to edit
        return None
    return Code(wrapper.module, positions, parents)


def apply(source: str, edit: Edit) -> Edited | None:
    """Run a rule's edit on the source: the edited text, or None (no edit, or no change)."""
    code = read(source)
    if code is None:
        return None
    try:
        done = edit(code)
    except Exception:  # a shape of code the edit did not foresee: no fix, never a crash
        return None
    if done is None:
        return None
    module, summary = done
    return Edited(module.code, summary) if module.code != source else None


# --- what the finding is about -----------------------------------------------------------
def runs(report: dict, finding: dict) -> list[Run]:
    """The runs a finding is about: its fit() call, on the stacks it was seen on."""
    stacks = finding.get("stack") or []
    return [
        Run(r)
        for r in report.get("runs", [])
        if r.get("call") == finding.get("call") and r.get("stack") in stacks
    ]


def evidence(finding: dict) -> dict:
    """A finding's evidence: an observed finding keeps one dict per stack (the first is
    taken: the code's numbers are the same on both), a static finding just one."""
    found = finding.get("evidence") or {}
    per_stack = [found[s] for s in finding.get("stack") or [] if isinstance(found.get(s), dict)]
    return per_stack[0] if per_stack else found


def measured_batch(report: dict, finding: dict) -> int | None:
    """The batch size training showed (rows in the usual batch)."""
    return next((b for b in map(batch_rows, runs(report, finding)) if b), None)


def fit_call(code: Code, report: dict, finding: dict) -> cst.Call | None:
    """The fit() call a finding is about: the one on its line (or on its run's call
    site), else the only one in the file. None in module mode: fitprobe wrote that call."""
    if (report.get("input") or {}).get("mode") == "module":
        return None
    calls = [c for c in code.nodes(cst.Call) if _method(c) in FIT_METHODS]
    sites = [(r.data.get("call_site") or {}).get("line") for r in runs(report, finding)]
    lines = [finding.get("line"), *sites]
    for line in filter(None, lines):
        at = [c for c in calls if code.line(c) == line] or [
            c for c in calls if code.line(c) <= line <= code.positions[c].end.line
        ]
        if len(at) == 1:
            return at[0]
    return calls[0] if len(calls) == 1 else None


def _method(call: cst.Call) -> str | None:
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def first_argument(call: cst.Call) -> cst.BaseExpression | None:
    """fit()'s data: its first positional argument, or `x=` (`generator=` for
    fit_generator)."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if positional:
        return positional[0].value
    named = keyword(call, "x") or keyword(call, "generator")
    return named.value if named else None


def function(code: Code, name: str, kind=None):
    """The one function (or, with `kind` cst.ClassDef, class) of that name in the file."""
    found = [n for n in code.nodes(kind or cst.FunctionDef) if n.name.value == name]
    return found[0] if len(found) == 1 else None


# --- names -------------------------------------------------------------------------------
def bindings(code: Code) -> list[tuple[str, cst.CSTNode, bool]]:
    """Every name the file binds: (name, the node that binds it, whether at module level
    rather than in a function, class, lambda or comprehension)."""
    return [(n, node, code.at_module_level(node)) for node in code.positions for n in _bound(node)]


def _bound(node: cst.CSTNode) -> list[str]:
    """The names one node binds."""
    if isinstance(node, cst.AssignTarget | cst.AnnAssign | cst.AugAssign | cst.For):
        return _target_names(node.target)
    if isinstance(node, cst.CompFor | cst.NamedExpr):
        return _target_names(node.target)
    if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.AsName | cst.Param):
        return _target_names(node.name)
    if isinstance(node, cst.ImportAlias) and node.asname is None:
        top = node.name
        while isinstance(top, cst.Attribute):  # `import os.path` binds os
            top = top.value
        return _target_names(top)
    return []


def _target_names(target: cst.CSTNode) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _target_names(e.value)]
    return []  # an attribute or a subscript binds no name


def reads(node: cst.CSTNode) -> list[str]:
    """The names an expression reads (a binding's own name counts too)."""
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, cst.Attribute | cst.Arg):
        return reads(node.value)  # `x.shape` reads x, not shape; `f(size=n)` reads n
    return [n for child in node.children for n in reads(child)]


def bound_once(code: Code, name: str) -> cst.SimpleStatementLine | None:
    """The statement `name = value` at module level, when the file binds `name` nowhere
    else: a fit() argument given by that name is edited where the user set its value."""
    found = [b for b in bindings(code) if b[0] == name]
    if len(found) != 1 or not found[0][2]:
        return None
    statement = code.statement(found[0][1])
    if statement is None or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return None
    target = assign.targets[0].target
    return statement if isinstance(target, cst.Name) and target.value == name else None


def read_once(code: Code, name: str) -> bool:
    """Whether the file reads `name` only once (one use beside its binding)."""
    binds = sum(1 for b in bindings(code) if b[0] == name)
    return reads(code.module).count(name) - binds == 1


def available(code: Code, expression: cst.CSTNode, line: int) -> bool:
    """Whether every name `expression` reads is a builtin or bound at module level on a
    line above `line`, so that the expression can be written there."""
    bound = {name for name, node, top in bindings(code) if top and code.line(node) < line}
    return all(n in bound or hasattr(builtins, n) for n in reads(expression))


# --- where a fit() argument is written ---------------------------------------------------
@dataclass(frozen=True)
class Site:
    """Where a fit() argument's value is written: the value, the statement it is on, how
    the user reads it ("steps_per_epoch = 5", "steps_per_epoch=5"), and its line."""

    value: cst.BaseExpression
    statement: cst.SimpleStatementLine | None
    label: str
    line: int
    in_fit: bool


def sites(code: Code, call: cst.Call, argument: str) -> list[Site]:
    """Where to edit fit()'s `argument`, best first: the assignment of the name bound
    once that it is given by (where the user set the number), then the keyword itself."""
    arg = keyword(call, argument)
    if arg is None:
        return []
    found = []
    if isinstance(arg.value, cst.Name):
        statement = bound_once(code, arg.value.value)
        if statement is not None:
            value = statement.body[0].value
            label = f"{arg.value.value} = {code.text(value)}"
            found.append(Site(value, statement, label, code.line(statement), False))
    label = f"{argument}={code.text(arg.value)}"
    found.append(Site(arg.value, code.statement(call), label, code.line(call), True))
    return found


def replace(code: Code, site: Site, new: cst.BaseExpression, comment: str | None = None):
    """The module with the site's value replaced; `comment` ends its line when the line
    has none yet."""
    if site.statement is None:
        return code.module.deep_replace(site.value, new)
    statement = site.statement.deep_replace(site.value, new)
    end = statement.trailing_whitespace
    if comment and end.comment is None:
        end = end.with_changes(whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(comment))
        statement = statement.with_changes(trailing_whitespace=end)
    return code.module.deep_replace(site.statement, statement)


def drop_keyword(code: Code, call: cst.Call, name: str) -> cst.Module | None:
    """The module with fit()'s keyword `name` left out, the other arguments' layout and
    end-of-line comments kept."""
    arg = keyword(call, name)
    if arg is None:
        return None
    i = next(i for i, a in enumerate(call.args) if a is arg)
    rest = [a for a in call.args if a is not arg]
    if i == len(rest) and rest:  # the last one went: the new last one ends as it ended
        rest[-1] = _ending_as(rest[-1], arg)
    return code.module.deep_replace(call, call.with_changes(args=rest))


def _ending_as(kept: cst.Arg, gone: cst.Arg) -> cst.Arg:
    """`kept` with the ending of `gone` (its comma or none, the line break before the
    closing parenthesis), but its own end-of-line comment."""
    comma, after = gone.comma, gone.whitespace_after_arg
    own = kept.comma.whitespace_after if isinstance(kept.comma, cst.Comma) else None
    if isinstance(own, cst.ParenthesizedWhitespace):
        if isinstance(comma, cst.Comma) and isinstance(
            comma.whitespace_after, cst.ParenthesizedWhitespace
        ):
            layout = comma.whitespace_after.with_changes(first_line=own.first_line)
            comma = comma.with_changes(whitespace_after=layout)
        elif isinstance(after, cst.ParenthesizedWhitespace):
            after = after.with_changes(first_line=own.first_line)
    return kept.with_changes(comma=comma, whitespace_after_arg=after)


def add_keyword(
    code: Code, call: cst.Call, name: str, value: cst.BaseExpression, comment: str | None = None
) -> cst.Module:
    """The module with `name=value` after fit()'s last argument, laid out as the
    arguments before it (one a line, or side by side); `comment` ends the statement's
    line when it has none."""
    args = list(call.args)
    new = cst.Arg(
        value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=_space(""), whitespace_after=_space("")),
    )
    if args and isinstance(args[-1].comma, cst.Comma):
        # a trailing comma (one argument a line): the new argument ends as the last one
        # did, and the last one as the one before it
        last = args[-1]
        between = args[-2].comma if len(args) > 1 else cst.Comma(whitespace_after=_space(" "))
        new = new.with_changes(comma=_without_comment(last.comma))
        args[-1] = last.with_changes(comma=_with_own_comment(between, last.comma))
    elif args:
        last = args[-1]
        new = new.with_changes(whitespace_after_arg=last.whitespace_after_arg)
        args[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=_space(" ")),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
    site = Site(call, code.statement(call), "", code.line(call), True)
    return replace(code, site, call.with_changes(args=[*args, new]), comment)


def _space(text: str):
    return cst.SimpleWhitespace(text)


def _without_comment(comma):
    after = getattr(comma, "whitespace_after", None)
    if isinstance(after, cst.ParenthesizedWhitespace):
        return comma.with_changes(
            whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace())
        )
    return comma


def _with_own_comment(comma, own):
    """`comma` laid out as it is, with the end-of-line comment of `own` (the comma it
    replaces)."""
    after, mine = getattr(comma, "whitespace_after", None), own.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace) and isinstance(
        mine, cst.ParenthesizedWhitespace
    ):
        return comma.with_changes(whitespace_after=after.with_changes(first_line=mine.first_line))
    return comma


def leave_out_steps(code: Code, call: cst.Call, batches: int | None):
    """(module, summary) with steps_per_epoch left out of fit(): for a source whose end
    fit() finds (a Sequence, arrays, a finite dataset), each epoch is then one pass."""
    arg = keyword(call, "steps_per_epoch")
    if arg is None:
        return None
    module = drop_keyword(code, call, "steps_per_epoch")
    each = f"one pass over the data ({batches} batches)" if batches else "one pass over the data"
    return module, (
        f"steps_per_epoch={code.text(arg.value)} is left out of fit(), which then trains "
        f"{each} per epoch"
    )


def at_least_one_batch(code: Code, report: dict, finding: dict, argument: str):
    """(module, summary) with fit()'s `argument` (steps_per_epoch, validation_steps)
    written as a division that rounds down made `max(1, math.ceil(...))`."""
    call = fit_call(code, report, finding)
    at = sites(code, call, argument) if call is not None else []
    division = ceil_division(at[0].value) if at else None
    if division is None:
        return None
    new = expression(f"max(1, math.ceil({source(division)}))")
    module = with_import(replace(code, at[0], new), "math")
    return module, (
        f"{at[0].label} becomes {source(new)}: at least one batch, the last one partial, "
        "where rounding down gave 0 for data smaller than one batch"
    )


def own(node: cst.CSTNode, kind) -> list:
    """The nodes of a kind under a function's body, outside the functions, classes and
    lambdas defined in it."""
    found = []
    for child in node.children:
        if isinstance(child, kind):
            found.append(child)
        if not isinstance(child, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            found += own(child, kind)
    return found


def with_import(module: cst.Module, name: str) -> cst.Module:
    """The module with `import name` at the top of its imports, unless it has one."""
    body = list(module.body)
    if any(_imports(s, name) for s in body):
        return module
    at = _first_import(body)
    new = cst.SimpleStatementLine([cst.Import([cst.ImportAlias(cst.Name(name))])])
    if at < len(body) and _is_import(body[at]):
        # the comments and blank lines above the imports stay above them
        new = new.with_changes(leading_lines=body[at].leading_lines)
        body[at] = body[at].with_changes(leading_lines=())
    body.insert(at, new)
    return module.with_changes(body=body)


def _is_import(statement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[0], cst.Import | cst.ImportFrom
    )


def _imports(statement, name: str) -> bool:
    return _is_import(statement) and any(
        isinstance(s, cst.Import)
        and any(isinstance(a.name, cst.Name) and a.name.value == name and a.asname is None
                for a in s.names)
        for s in statement.body
    )  # fmt: skip


def _first_import(body: list) -> int:
    """Where a new import goes: before the first import after the docstring and the
    `from __future__` imports (or right after those, in a file with no other import)."""
    start = 1 if body and docstring(body[0]) else 0
    while start < len(body) and _future(body[start]):
        start += 1
    return next((i for i in range(start, len(body)) if _is_import(body[i])), start)


def docstring(statement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _future(statement) -> bool:
    first = statement.body[0] if _is_import(statement) else None
    return (
        isinstance(first, cst.ImportFrom) and getattr(first.module, "value", None) == "__future__"
    )


# --- expressions -------------------------------------------------------------------------
def expression(text: str) -> cst.BaseExpression:
    return cst.parse_expression(text)


def source(node: cst.CSTNode) -> str:
    """A node's text, wherever it comes from."""
    return cst.Module([]).code_for_node(node)


def operand(node: cst.BaseExpression) -> str:
    """A node's text, in parentheses unless it is an atom (a name, a call, a number)."""
    text = source(node)
    atoms = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float)
    return text if isinstance(node, atoms) or node.lpar else f"({text})"


def ceil_division(node: cst.BaseExpression) -> cst.BinaryOperation | None:
    """The division under a count that rounds down (`a // b`, `int(a / b)`,
    `math.floor(a / b)`, `np.floor(a / b)`, `round(a / b)`), as `a / b`; else None."""
    if not floors_to_zero(source(node)):
        return None
    while isinstance(node, cst.Call) and _called(node) in FLOORING and node.args:
        node = node.args[0].value
    if not isinstance(node, cst.BinaryOperation):
        return None
    if isinstance(node.operator, cst.FloorDivide):
        op = node.operator
        divide = cst.Divide(
            whitespace_before=op.whitespace_before, whitespace_after=op.whitespace_after
        )
        node = node.with_changes(operator=divide)
    return node.with_changes(lpar=[], rpar=[])


def _called(call: cst.Call) -> str | None:
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)


# --- one pass over the data, as the code writes it ----------------------------------------
@dataclass(frozen=True)
class Pass:
    """What one pass is made of in the code: the data (`x`) and the batch size (a name,
    a number), each None when the code does not say; `call`: the expression that makes
    the source (a generator's or a Sequence's call), when there is one."""

    data: cst.BaseExpression | None
    batch: cst.BaseExpression | None
    call: cst.Call | None


def one_pass(code: Code, fit: cst.Call) -> Pass:
    """How the code writes one pass of fit()'s source: the arguments of the call that
    makes it (`batches(x, y, batch_size)`, a Sequence's constructor, `datagen.flow(x, y,
    batch_size=32)`), also through a name bound once; for arrays, fit()'s x and
    batch_size."""
    made = first_argument(fit)
    if isinstance(made, cst.Name) and (statement := bound_once(code, made.value)):
        value = statement.body[0].value
        made = value if isinstance(value, cst.Call) and _makes_batches(code, value) else made
    if not isinstance(made, cst.Call):
        size = keyword(fit, "batch_size")
        return Pass(made if _array(made) else None, size.value if size else None, None)
    given = _arguments(code, made)
    batch = next((v for k, v in given.items() if _batch_name(k)), None)
    positional = [a.value for a in made.args if a.keyword is None and not a.star]
    data = positional[0] if positional and _array(positional[0]) else None
    return Pass(data if data is not batch else None, batch, made)


def _makes_batches(code: Code, call: cst.Call) -> bool:
    """A call that makes batches: of a generator function or a class in the file, or
    one given a batch size (`datagen.flow(x, y, batch_size=32)`), not `np.load(...)`."""
    named = any(a.keyword is not None and _batch_name(a.keyword.value) for a in call.args)
    return named or bool(_parameters(code, call.func))


def _array(node) -> bool:
    return isinstance(node, cst.Name | cst.Attribute | cst.Subscript)


def _batch_name(name) -> bool:
    return isinstance(name, str) and (name in BATCH_PARAMETERS or "batch" in name)


def _arguments(code: Code, call: cst.Call) -> dict:
    """The call's arguments by parameter name (positional ones named from the function or
    the class's __init__ in the file; defaults filled in), else by position."""
    params = _parameters(code, call.func)
    given: dict = {}
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for i, arg in enumerate(positional):
        given[params[i].name.value if i < len(params) else i] = arg.value
    for arg in call.args:
        if arg.keyword is not None:
            given[arg.keyword.value] = arg.value
    for param in params:
        if param.default is not None:
            given.setdefault(param.name.value, param.default)
    return given


def _parameters(code: Code, func: cst.BaseExpression) -> list[cst.Param]:
    if not isinstance(func, cst.Name):
        return []
    found = function(code, func.value)
    if found is not None:
        return list(found.params.posonly_params) + list(found.params.params)
    init = method(function(code, func.value, cst.ClassDef), "__init__")
    if init is None:
        return []
    return (list(init.params.posonly_params) + list(init.params.params))[1:]  # less self


def method(cls: cst.ClassDef | None, name: str) -> cst.FunctionDef | None:
    """A class's method of that name, defined in its body."""
    body = cls.body.body if cls is not None else []
    return next((s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


def pass_steps(code: Code, fit: cst.Call, site: Site, batch: int | None):
    """`math.ceil(len(x) / batch_size)`, one pass in the code's own names, when they can
    be written at `site`; else None. `batch`: the batch size training showed."""
    made = one_pass(code, fit)
    size = made.batch
    if isinstance(size, cst.Integer) and batch and int(size.value) != batch:
        return None  # the code's number is not what training showed
    if made.data is None or size is None or not writable(code, fit, site, made):
        return None
    return expression(f"math.ceil(len({source(made.data)}) / {operand(size)})")


def writable(code: Code, fit: cst.Call, site: Site, made: Pass) -> bool:
    """Whether the names of `made` (data, batch size) can be written at `site`: in the
    fit() call that makes the source, or where module-level names are bound above."""
    if site.in_fit and (made.call is None or within(code, made.call, fit)):
        return True
    return all(available(code, n, site.line) for n in (made.data, made.batch) if n is not None)


def new_keyword_site(code: Code, fit: cst.Call) -> Site:
    """Where a keyword fit() does not have yet will be written."""
    return Site(cst.Name("None"), code.statement(fit), "", code.line(fit), True)


MEASURED = "# one pass: {} batches, as fitprobe measured it"


def set_one_pass(
    code: Code, fit: cst.Call, at: list[Site], batches: int | None, batch: int | None
) -> tuple[cst.Module, Site, str] | None:
    """steps of one pass written at the first of the sites `at` where the code's own
    names can say it, else the `batches` fitprobe measured, with a comment that says so:
    (module, the site, the new value's text)."""
    for site in at:
        steps = pass_steps(code, fit, site, batch)
        if steps is not None:
            return with_import(replace(code, site, steps), "math"), site, source(steps)
    if not at or not batches:
        return None
    return (
        replace(code, at[0], cst.Integer(str(batches)), MEASURED.format(batches)),
        at[0],
        str(batches),
    )


def within(code: Code, node: cst.CSTNode, outer: cst.CSTNode) -> bool:
    """Whether `node` is `outer` or inside it."""
    while node is not None:
        if node is outer:
            return True
        node = code.parents.get(node)
    return False
