"""missing-module

## What it does
Reports a script that stops because a module it needs is not installed where it is
probed: its own `import wandb`, or a package Keras needs for what the script asks of
it. It names the module, your line, and what to do: the package to install, or, for
a module that never feeds the data (an experiment tracker, a plotting or a
notification library), a no-op stand-in so the probe can go on (`--stub-missing`, or
**Stub missing modules** in the app). A stubbed module is listed as info.

## Why is this bad?
The script never reaches `fit()`, or crashes inside it, for a reason that has
nothing to do with its input pipeline: the traceback reads like a bug in your code,
and what the probe was meant to show stays hidden.

## Example
```python
import wandb                      # not installed here
from wandb.keras import WandbCallback

model.fit(batches(), steps_per_epoch=10, epochs=5, callbacks=[WandbCallback()])
```

## Use instead
Install the package where the script runs (`pip install wandb`), or, for a tracker,
probe with its module stubbed: its calls do nothing and its Keras callback is a
callback that does nothing, so the batches trained are the script's own.
```sh
python -m diagnostics probe train.py --stub-missing
```
A module of your own (`from utils import load_data`) comes with the data: attach an
archive or folder that holds it, and it imports from there.
"""

from __future__ import annotations

import functools
import importlib.util
import re

from diagnostics.packages import PIP_NAMES, off_data_path, pip_name
from diagnostics.rules.base import Finding, Observations, static_finding

CODE = "missing-module"
SEVERITY = "error"
TITLE = "a module the script needs is not installed"
PRIORITY = 5

NO_MODULE = re.compile(r"No module named '([\w.]+)'")
UNDEFINED = re.compile(r"name '(\w+)' is not defined")
# The notebook environment's own modules: provided (google.colab) or part of the stack.
PROVIDED = {"google", "__future__"}


# What Keras and friends say when an optional package they need is not installed:
# "This requires the scipy module", "Image transformations require SciPy. Install SciPy.",
# "You must install pydot (`pip install pydot`) for `plot_model` to work.",
# "TensorBoard is not installed, missing implementation for tf.summary.scalar".
NEEDS = re.compile(
    r"pip install ([A-Za-z][\w.-]*)|requires? the (\w+) module|must install (\w+)|"
    r"require (\w+)\.|^(\w+) is not installed",
    re.IGNORECASE,
)


def missing_in(exc: dict, candidates: set[str]) -> str | None:
    """The missing module an exception is about, where it is about one.

    - A ModuleNotFoundError, or TensorFlow's text of one from a generator, for a module
      the worker saw was missing (`candidates`: a submodule missing from an installed
      package, or a misspelt name, is not a missing package);
    - an ImportError whose message names one of the candidates, or that says a package
      must be installed and that package is not (Keras's optional dependencies);
    - a NameError for a name a library left undefined when its optional import failed.
    "cannot import name X" (ImportError from an installed module) is none of these."""
    for e in (exc, exc.get("root_cause") or {}):
        message = e.get("message") or ""
        named = NO_MODULE.search(message)
        module = (e.get("module") or (named.group(1) if named else "")).split(".")[0]
        if module and module in candidates:
            return module
        if _import_failure(e) and "cannot import name" not in message:
            for name in sorted(candidates):
                if re.search(rf"\b{re.escape(name)}\b", message, re.IGNORECASE):
                    return name
            for match in NEEDS.finditer(message):
                name = next(g for g in match.groups() if g)
                module = _import_name(name)
                if not installed(module):
                    return module
        if e.get("type") == "NameError":
            undefined = UNDEFINED.search(message)
            if undefined and undefined.group(1) in candidates:
                return undefined.group(1)
    return None


def _import_failure(e: dict) -> bool:
    """An ImportError, or a library's own error for a missing optional package
    (TensorFlow's TBNotInstalledError)."""
    kind = e.get("type") or ""
    return kind == "ImportError" or kind.endswith("NotInstalledError")


def _import_name(package: str) -> str:
    """The import name of a package named in a message (`scikit-learn` -> sklearn)."""
    lowered = package.lower()
    for module, pip in PIP_NAMES.items():
        if pip.lower() == lowered or module.lower() == lowered:
            return module
    return package.replace("-", "_").lower() if package[:1].isupper() else package


STUB_VALUE = re.compile(r"fitprobe stub of ([\w.()\[\]']+)|FitprobeStub")


def _stub_value_failures(obs: Observations) -> list[Finding]:
    """A value read from a stubbed module that training needed for real (a number, a
    shape): the stub cannot provide it, and the crash is the stub's doing, not Keras's."""
    found = []
    for stack, call, exc in obs.failures():
        stubbed = [m["module"] for m in (obs.stacks.get(stack) or {}).get("stubbed_modules") or []]
        text = " ".join(
            (e.get("message") or "") for e in (exc, exc.get("root_cause") or {})
        )
        match = STUB_VALUE.search(text)
        if not stubbed or match is None:
            continue
        value = match.group(1) if match.group(1) else None
        module = value.split(".")[0] if value else stubbed[0]
        what = f"`{value}`" if value else f"a value from `{module}`"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{what} came from the stub fitprobe stood in for `{module}`, and the "
                "script needed a real value there",
                evidence={"module": module, "value": value, "exception": exc.get("message")},
                fix=f"Install `{pip_name(module)}` where the script runs (a tracker can run "
                "offline), or write the value into the script instead of reading it from "
                f"`{module}`.",
                stack=[stack],
                call=call,
                summary={stack: f"{what} came from the stub of `{module}`, not a real value"},
                line=exc.get("line"),
                priority=PRIORITY,
            )
        )
    return found


def _fix(module: str, direct: bool) -> str:
    package = pip_name(module)
    what = off_data_path(module)
    if what:
        return (
            f"`{module}` is {what}: it never shapes the data fit() trains on, so fitprobe can "
            "stand in a module that does nothing for it. Tick **Stub missing modules** (CLI: "
            f"`--stub-missing`) and probe again, or install it (`pip install {package}`)."
        )
    if direct and module not in PIP_NAMES:
        return (
            f"If `{module}` is a file of your own ({module}.py or a {module}/ folder), attach it "
            "with the data (an archive or folder holding it): fitprobe imports from there. If it "
            f"is a package, it must be installed where the script runs (`pip install {package}`)."
        )
    return (
        f"Install it where the script runs: `pip install {package}`. fitprobe does not stub "
        f"`{module}`: it may shape the data the probe measures. To probe here, ask whoever "
        f"runs this fitprobe to add `{package}` to its requirements.txt."
    )


def check(obs: Observations) -> list[Finding]:
    found = []
    for stack, call, exc in obs.failures():
        record = obs.stacks.get(stack) or {}
        events = {m["module"]: m for m in record.get("missing_modules") or []}
        module = missing_in(exc, set(events))
        if module is None or module in PROVIDED:
            continue
        event = events.get(module) or {}
        direct = event.get("direct", exc.get("type") == "ModuleNotFoundError")
        line = event.get("line") or exc.get("line")
        where = obs.where(line) if line else "your script"
        helper = event.get("imported_by")
        if helper:
            needs = (
                f"`{helper['file']}` (line {helper['line']}, reached from {where}) "
                f"imports `{module}`"
            )
        elif direct:
            needs = f"the script imports `{module}` ({where})"
        else:
            needs = f"a library the script calls needs `{module}` (at {where})"
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{needs}, and it is not installed where fitprobe probes",
                evidence={
                    "module": module,
                    "package": pip_name(module),
                    "line": line,
                    "code": event.get("code") or exc.get("code"),
                    "imported_by_the_script": direct,
                    "stubbable": off_data_path(module),
                    "exception": {k: exc.get(k) for k in ("type", "message")},
                },
                fix=_fix(module, direct),
                stack=[stack],
                call=call,
                summary={stack: f"{needs}, which is not installed where fitprobe probes"},
                line=line,
                priority=PRIORITY,
            )
        )
    found += _stub_value_failures(obs)
    for stack, record in obs.stacks.items():
        stubbed = record.get("stubbed_modules") or []
        if not stubbed:
            continue
        names = ", ".join(f"`{m['module']}`" for m in stubbed)
        kinds = "; ".join(f"`{m['module']}` is {off_data_path(m['module'])}" for m in stubbed)
        uses = record.get("stub_uses") or {}
        used = "; ".join(f"`{name}` {how}" for name, how in list(uses.items())[:5])
        found.append(
            Finding(
                code=CODE,
                severity="info",
                title=f"{names} not installed: fitprobe stood in a module that does nothing, "
                "as asked",
                evidence={"stubbed": stubbed, "values_used": uses},
                fix=f"Nothing to change for the probe ({kinds}: none of it feeds fit()). "
                + (
                    f"The script used values of the stub as if real ({used}): where one "
                    "decides what is trained, the probe trained the stub's choice. "
                    if used
                    else ""
                )
                + "Install it where the script runs for real.",
                stack=[stack],
                line=stubbed[0].get("line"),
                priority=PRIORITY,
            )
        )
    return found


@functools.cache
def installed(module: str) -> bool:
    """Whether `module` can be imported where fitprobe probes (the probe runs in this
    interpreter's environment); found, never imported."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def static(facts: dict, where) -> list[Finding]:
    """Imports of known packages that are not installed here. A name fitprobe does not
    know as a package may be a file of the user's own, which only the probe can tell."""
    found = []
    for imp in facts.get("imports", []):
        module = imp["module"]
        known = module in PIP_NAMES or off_data_path(module)
        if imp["guarded"] or module in PROVIDED or not known or installed(module):
            continue
        found.append(
            static_finding(
                CODE,
                SEVERITY,
                f"the script imports `{module}` ({where(imp['line'])}), which is not "
                "installed here",
                _fix(module, True),
                imp["line"],
                {"module": module},
            )
        )
    return found
