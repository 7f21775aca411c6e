"""input-structure-mismatch

## What it does
When fit() raises before any batch was trained, compares the batch it was given
with what the model takes:
the number of inputs, their names, and the shape of one sample of each. The
probe records the structure and shapes of the last batch a data source handed
over before Keras saw it (arrays, a generator's or Sequence's batch, a dataset's
element spec), and the model's inputs from its public `model.input`.

## Why is this bad?
Keras's own message is written from inside a traced training step ("Layer
'functional' expects 2 input(s), but it received 1 input tensors", or Keras 2's
"in user code:" and a page of frames) and names neither your data nor your
line. The usual causes: a two-input model fed one array with both inputs
stacked side by side, a dict whose keys are not the model's input names, samples
of the wrong width, or, on Keras 3, a generator or Sequence whose batches hold x
as a Python list (Keras 3 needs a tuple or a dict there; Keras 2 takes the list).

## Example
```python
text = keras.Input(shape=(8,), name="text")
meta = keras.Input(shape=(4,), name="meta")
model = keras.Model([text, meta], output)
model.fit(np.concatenate([x_text, x_meta], axis=1), y)     # one (n, 12) array
```

## Use instead
```python
model.fit([x_text, x_meta], y)                            # one array per input, in order
model.fit({"text": x_text, "meta": x_meta}, y)            # or keyed by input name
```
A generator or Sequence yields `((x_text, x_meta), y)`.

## Keras 2 vs Keras 3
Both refuse a batch of the wrong structure; Keras 3 names the inputs it expected,
Keras 2 wraps the message in a traceback of the training step. A Python list as x
from a generator or Sequence is refused by Keras 3 only.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations, exception_line

CODE = "input-structure-mismatch"
SEVERITY = "error"
TITLE = "the batches do not have the structure the model takes"
PRIORITY = 20


def _x(structure: dict | None, kind: str | None) -> dict | None:
    """The x part of a batch: arrays are x themselves; a batch is (x, y[, weights])."""
    if not structure or kind == "arrays":
        return structure
    items = structure.get("tuple") or structure.get("list")
    if items is not None and 2 <= len(items) <= 3:
        return items[0]
    return structure


def _shape(dims) -> str:
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in dims)
        + ("," if len(dims) == 1 else "")
        + ")"
    )


def _sample(dims) -> list:
    return list(dims[1:]) if dims else []


def _differs(expected: list, given: list) -> bool:
    if len(expected) != len(given):
        return True
    return any(
        e is not None and g is not None and e != g for e, g in zip(expected, given, strict=True)
    )


def _inputs_text(inputs: list[dict]) -> str:
    return ", ".join(
        f"`{i['name']}` {_shape(i['shape'])}" if i.get("name") else _shape(i["shape"] or [])
        for i in inputs
    )


def _given_text(x: dict) -> str:
    if "array" in x:
        return f"one array of shape {_shape(x['array'] or [])}"
    if "dict" in x:
        return "a dict with keys " + ", ".join(f"`{k}`" for k in x["dict"])
    items = x.get("tuple") or x.get("list") or []
    arrays = [_shape(i["array"] or []) for i in items if "array" in i]
    return f"a {('tuple' if 'tuple' in x else 'list')} of {len(items)} ({', '.join(arrays)})"


def mismatch(model: dict, x: dict, subject: str = "each batch's x") -> tuple[str, str] | None:
    """(what differs, the fix) between a model's inputs and a batch's x (`subject`: how
    to name it), or None."""
    inputs = model.get("inputs") or []
    if not inputs or not x:
        return None
    names = [i.get("name") for i in inputs]
    if "array" in x:
        given = [x]
    elif "dict" in x:
        keys = list(x["dict"])
        if model.get("kind") == "dict" or len(inputs) > 1:
            missing = [n for n in names if n and n not in keys]
            if missing:
                return (
                    f"the model takes {_inputs_text(inputs)} but {subject} is {_given_text(x)}: "
                    + ", ".join(f"`{m}`" for m in missing)
                    + " missing",
                    "Key x by the model's input names: {"
                    + ", ".join(f"'{n}': ..." for n in names)
                    + "}.",
                )
            given = [x["dict"][n] for n in names if n in x["dict"]]
        else:
            given = list(x["dict"].values())
    else:
        given = x.get("tuple") or x.get("list") or []
    if len(given) != len(inputs):
        text = (
            f"the model takes {len(inputs)} input{'s' if len(inputs) > 1 else ''} "
            f"({_inputs_text(inputs)}) but {subject} is {_given_text(x)}"
        )
        widths = [(_sample(i["shape"]) or [None])[-1] for i in inputs]
        single = given[0].get("array") if len(given) == 1 and "array" in given[0] else None
        if (
            single
            and len(single) == 2
            and None not in widths
            and all(len(i["shape"] or []) == 2 for i in inputs)
            and sum(widths) == single[-1]
        ):
            cuts, at = [], 0
            for w in widths:
                cuts.append(f"x[:, {at}:{at + w}]")
                at += w
            text += ": the inputs look stacked side by side"
            fix = f"Split x into one array per input, in order: `[{', '.join(cuts)}]`"
            if all(names):
                keyed = ", ".join(f"'{n}': {c}" for n, c in zip(names, cuts, strict=True))
                fix += f" (or a dict: `{{{keyed}}}`)"
            return text, fix + "; a generator or Sequence yields `((x1, x2), y)`."
        return text, (
            f"Give fit() x as {len(inputs)} arrays, one per input in order "
            f"({', '.join(f'`{n}`' for n in names if n)}), or a dict keyed by input name; a "
            "generator or Sequence yields `((x1, x2, ...), y)`."
        )
    for spec, item in zip(inputs, given, strict=True):
        dims = item.get("array")
        if dims is None or spec.get("shape") is None:
            continue
        if _differs(_sample(spec["shape"]), _sample(dims)):
            name = f"`{spec['name']}`" if spec.get("name") else "its input"
            return (
                f"the model's input {name} takes samples of shape "
                f"{_shape(_sample(spec['shape']))}, but the batch gives samples of shape "
                f"{_shape(_sample(dims))}",
                f"Make each sample of {name} the shape the model's Input declares "
                f"{_shape(_sample(spec['shape']))}, or change the Input to the data's shape.",
            )
    return None


def _list_batch(run, x: dict) -> tuple[str, str] | None:
    """Keras 3 turns a generator's or Sequence's batches into a dataset from the first
    one's structure, and a Python list in it is refused ("`output_signature` must contain
    objects that are subclass of `tf.TypeSpec` but found <class 'list'>"); Keras 2 reads
    the list as one input per item."""
    if run.stack != "keras3" or run.kind not in ("generator", "sequence") or "list" not in x:
        return None
    if "<class 'list'>" not in (run.exception or {}).get("message", ""):
        return None
    return (
        f"each batch's x is a Python list of {len(x['list'])} arrays, which Keras 3 cannot "
        "make a dataset of",
        "Return x as a tuple, `(x1, x2, ...)`, or as a dict keyed by the model's input "
        "names, not as a list.",
    )


def check(obs: Observations) -> list[Finding]:
    found = []
    for run in obs.runs:
        model = run.data.get("model_inputs")
        x = _x(run.source.get("batch_structure"), run.kind)
        if not run.exception or not x or any(run.trained):
            continue  # batches trained before the crash: a batch that changed (its own rule)
        subject = "x" if run.kind == "arrays" else "each batch's x"
        told = _list_batch(run, x) or (mismatch(model, x, subject) if model else None)
        if told is None:
            continue
        text, fix = told
        exc = run.exception
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=text[0].upper() + text[1:],
                evidence={
                    "model_inputs": model,
                    "batch_structure": run.source.get("batch_structure"),
                    "source": run.kind,
                    "exception": {
                        "type": exc.get("type"),
                        "message": exception_line(exc.get("message")),
                    },
                },
                fix=fix,
                stack=[run.stack],
                call=run.call,
                summary={run.stack: f"fit() raises {exc.get('type')}: {text}"},
                priority=PRIORITY,
            )
        )
    return found
