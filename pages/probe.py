"""Probe: paste a script, upload a file (script or module), or pick a gallery sample;
probe it on real Keras; see what happened and what to change."""

from __future__ import annotations

import streamlit as st

from diagnostics import (
    DEFAULT_EPOCHS,
    DEFAULT_TIMEOUT,
    JOBS,
    MAX_ARCHIVE_BYTES,
    MAX_FILE_BYTES,
    MAX_NOTEBOOK_BYTES,
    ProbeOptions,
    check_source,
    gpu_present,
    parse_argument,
    plural,
)
from pages import _view as view
from pages._data import DataChoice, data_section
from sample_generators import VARIANTS, samples

DEFAULT_SCRIPT = '''\
"""A finite generator fed to fit() for more batches than it holds."""
import numpy as np
from tensorflow import keras

features = np.random.default_rng(7).normal(size=(100, 10)).astype("float32")
targets = features.sum(axis=1, keepdims=True)


def batches(x, y, batch_size=10):
    # one pass over the data, then the generator is used up
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], y[start:start + batch_size]


model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(batches(features, targets), steps_per_epoch=10, epochs=5, verbose=0)
'''

MODES = {
    "paste": "Paste a script",
    "upload": "Upload a .py or .ipynb file",
    "sample": "Gallery sample",
}
STACK_CHOICES = {"both": "Keras 3 and Keras 2", "3": "Keras 3 only", "2": "Keras 2 only"}
UPLOAD_MB = MAX_FILE_BYTES // (1024 * 1024)
NOTEBOOK_MB = MAX_NOTEBOOK_BYTES // (1024 * 1024)
# The uploader takes anything up to the server's limit, so that a file fitprobe refuses
# (its type, its size) is refused here, with its reason on the page.
SERVER_MB = MAX_ARCHIVE_BYTES // (1024 * 1024)
MIN_TIMEOUT, MAX_TIMEOUT = 10, 600

view.page_setup()
st.title("fitprobe")

# --- a saved report, opened from its permalink -------------------------------------------
wanted = st.query_params.get("report")
if wanted:
    saved = view.store().get(wanted)
    if st.button("← New probe", key="new_probe"):
        st.query_params.clear()
        st.rerun()
    if saved is None:
        st.error(f"There is no saved report `{wanted}`: it may have been deleted from History.")
        st.stop()
    view.report_view(saved, key="saved")
    st.stop()

st.caption(
    "Why does my `fit()` stop after the first epoch, or silently train on the wrong data? "
    "fitprobe runs your input pipeline for real, on Keras 3 and Keras 2, and shows per epoch "
    "how many batches were expected and how many were trained, which samples were seen, "
    "and what to change. New here? The [Gallery](gallery) shows each pitfall next to its fix; "
    "the [Playground](playground) predicts and measures; [History](history) keeps every probe."
)

# --- the input ---------------------------------------------------------------------------
# Streamlit forgets the state of a widget a run does not draw (another input mode, another
# page): what the user typed and chose is kept under keys of its own (`view.kept`).
edit = st.session_state.get("edit")  # a saved report's code, opened to edit and probe again
target: dict = {}  # which file the job probes, and its name
option_fields: dict = {}  # what else the user chose, for ProbeOptions
code = None
precheck = None
sample = variant = None
blockers: list[str] = []  # why Probe is off, each already shown on the page

if edit is not None:
    mode = "edit"
    left, right = st.columns([4, 1])
    if edit["before"]:
        left.info(
            f"Editing {view.code(edit['name'])}, the code of report "
            f"[`{edit['before']}`]({view.permalink(edit['before'])}): the next probe is "
            "saved as its *after*, and shows both side by side.",
            icon=":material/edit:",
        )
    else:
        left.info(
            f"{view.code(edit['name'])}, as it was submitted in probe `{edit['job']}`, which "
            "did not finish: probe it again.",
            icon=":material/replay:",
        )
    if right.button("Stop editing", key="stop_edit"):
        for name in ("edit", "kept.edit_text", "probe_report", "probe_job"):
            st.session_state.pop(name, None)
        st.rerun()
    code = st.text_area(
        f"{view.code(edit['name'])}",
        value=view.kept("edit_text", edit["text"]),
        height=420,
        key="edit_text",
    )
    view.keep("edit_text", code)
    if edit.get("data_note"):
        st.warning(view.md(edit["data_note"]))
    elif edit.get("attachment"):
        st.caption(f"With its data as before: {view.code(edit['attachment'][0])}.")
    if code.strip():
        precheck = check_source(code, edit["name"])
        target = {"name": edit["name"]}
    else:
        blockers.append("the editor is empty")
        st.warning("The editor is empty: write the script to probe.")
    # What the first probe was given, but for the caps chosen below.
    carried = ("keras", "epochs", "timeout", "device", "local", "standin_images", "stub_missing")
    option_fields = {k: v for k, v in edit["options"].items() if k not in carried}
else:
    mode = st.radio(
        "Input",
        list(MODES),
        index=list(MODES).index(view.kept("input_mode", "paste")),
        format_func=MODES.get,
        horizontal=True,
        key="input_mode",
    )
    view.keep("input_mode", mode)

if mode == "paste":
    code = st.text_area(
        "Training script", value=view.kept("script", DEFAULT_SCRIPT), height=420, key="script"
    )
    view.keep("script", code)
    if code.strip():
        precheck = check_source(code, "pasted_script.py")
        target = {"name": "pasted_script.py"}
    else:
        blockers.append("there is no script")
        st.info("Paste a training script to probe.")
elif mode == "upload":
    upload = st.file_uploader(
        f"A training script or a module with data sources (.py, at most {UPLOAD_MB} MB), or a "
        f"Jupyter / Colab notebook (.ipynb, at most {NOTEBOOK_MB} MB)",
        key=view.upload_key("upload"),
        max_upload_size=SERVER_MB,
    )
    upload = view.accepted_upload(upload, "upload", {".py": UPLOAD_MB, ".ipynb": NOTEBOOK_MB})
    if upload is not None:
        data = upload.getvalue()
        precheck = check_source(data, upload.name)
        if precheck.error is None:
            code = data.decode("utf-8-sig")
            target = {"name": upload.name}
            with st.expander(f"{view.code(upload.name)} ({len(data)} bytes)"):
                st.code(precheck.script, language="python", line_numbers=True)
    else:
        blockers.append("no file is uploaded")
elif mode == "sample":
    gallery = {s.name: s for s in samples()}
    names = list(gallery)
    chosen = st.selectbox(
        "Sample",
        names,
        index=names.index(view.kept("sample", names[0])),
        format_func=lambda n: f"{view.plain(gallery[n].title)} ({n})",
        key="sample",
    )
    variant = st.radio(
        "Variant",
        VARIANTS,
        index=VARIANTS.index(view.kept("variant", VARIANTS[0])),
        horizontal=True,
        key="variant",
    )
    view.keep("sample", chosen)
    view.keep("variant", variant)
    sample = gallery[chosen]
    st.caption(view.md(sample.lesson))
    with st.expander(f"`{sample.path.name}` (runs its `{variant}()` variant)"):
        st.code(sample.code(), language="python", line_numbers=True)
    precheck = check_source(sample.code(), sample.path.name)
    elsewhere = sample.other_variants_lines(variant)  # the other variant's findings
    precheck.findings = [f for f in precheck.findings if f.get("line") not in elsewhere]
    target, option_fields = sample.job(variant), sample.options(variant)

if precheck is not None and precheck.error:
    st.error(view.md(precheck.error))
    blockers.append("the input cannot be read")
if precheck is not None and precheck.error is None and precheck.notebook is not None:
    nb = precheck.notebook
    skipped = nb.get("skipped") or []
    what = "notebook cells" if nb.get("source") == "pasted cells" else "a notebook"
    cells = plural(len(nb.get("cells") or []), "code cell")
    text = f"Read as {what}: {cells} run in order as one script."
    if skipped:
        lines = [f"cell {x['cell']}, line {x['line']}: `{x['text']}`" for x in skipped[:6]]
        text += f" {len(skipped)} IPython line(s) will not run here: " + "; ".join(lines)
        text += "; …" if len(skipped) > 6 else ""
    st.info(text, icon=":material/description:")

# --- module mode: pick a data source and fill its arguments ------------------------------
as_module = mode == "edit" and bool(option_fields.get("source"))
if mode == "edit" and precheck is not None and precheck.error is None:
    if not (as_module or precheck.calls_fit):
        st.error("This script never calls fit() or fit_generator(): nothing to probe.")
        blockers.append("nothing to probe")
    elif as_module:
        st.caption(
            f"Probed as a module, as before: data source `{option_fields['source']}`"
            + (f" with {view.md(str(option_fields['args']))}" if option_fields.get("args") else "")
        )
if mode == "upload" and precheck is not None and precheck.error is None:
    ways = []
    if precheck.calls_fit:
        ways.append("script")
    if precheck.sources:
        ways.append("module")
    if not ways:
        st.error(
            "This file neither calls fit() nor defines a data source (a generator function, "
            "a Sequence/PyDataset subclass, or a function returning a tf.data.Dataset)."
        )
        blockers.append("nothing to probe")
    else:
        run_as = st.radio(
            "Probe it as",
            ways,
            format_func={
                "script": "a script (run it, intercepting its fit() calls)",
                "module": "a module (pick one data source; fitprobe builds a stand-in model)",
            }.get,
            horizontal=True,
            key="run_as",
        )
        as_module = run_as == "module"
elif mode == "paste" and precheck is not None and precheck.error is None:
    if not precheck.calls_fit:
        hint = (
            " To probe one of its data sources, upload it as a file and probe it as a module."
            if precheck.sources
            else ""
        )
        st.error(f"This script never calls fit() or fit_generator(): nothing to probe.{hint}")
        blockers.append("nothing to probe")
missing: list[str] = []
if as_module and mode != "edit":
    sources = {s.name: s for s in precheck.sources}
    name = st.selectbox(
        "Data source",
        list(sources),
        format_func=lambda n: f"{n} ({sources[n].kind}, line {sources[n].line})",
        key="source",
    )
    source = sources[name]
    if source.doc:
        st.caption(view.md(source.doc))
    args = {}
    if source.params:
        st.markdown("Arguments (Python literals; a bare word is a string; empty keeps the default)")
        cols = st.columns(min(len(source.params), 4))
        for i, param in enumerate(source.params):
            text = cols[i % len(cols)].text_input(
                param["name"],
                value=param["default"] or "",
                placeholder="required" if param["default"] is None else None,
                key=f"arg-{name}-{param['name']}",
            )
            if not text.strip():
                if param["default"] is None:
                    missing.append(param["name"])
                continue
            if text == (param["default"] or ""):
                continue  # the function's own default, as written
            value = parse_argument(text)
            if isinstance(value, str) and any(c in text for c in "()[]{}"):
                st.warning(
                    f"`{param['name']}`: `{text}` is not a Python literal (a number, string, "
                    "list, dict, ...), so it is passed as that string."
                )
            args[param["name"]] = value
    steps = st.number_input(
        "steps_per_epoch (0: let fit() decide)", min_value=0, value=0, key="module_steps"
    )
    option_fields.update(source=name, args=args, steps_per_epoch=int(steps) or None)
    if missing:
        st.warning(f"Fill in {', '.join(missing)}: {name} has no default for it.")
        blockers.append("an argument has no value")

# --- options -----------------------------------------------------------------------------
if precheck is not None and precheck.error is None:
    view.static_findings(precheck.findings, precheck.where)
data_choice = DataChoice()
if mode in ("paste", "upload") and precheck is not None and precheck.error is None:
    data_choice = data_section(precheck)
elif mode == "edit":  # the data, stand-ins and stubs of the first probe
    data_choice = DataChoice(
        attachment=edit.get("attachment"),
        standins=list(edit["options"].get("standin_images") or []),
        stub_missing=bool(edit["options"].get("stub_missing")),
    )
if data_choice.problems:
    blockers.append("the data needs attention")

has_gpu = gpu_present()
left, middle, right, last = st.columns(4)
stacks = list(STACK_CHOICES)
keras_choice = left.selectbox(
    "Stacks",
    stacks,
    index=stacks.index(view.kept("keras", "both")),
    format_func=STACK_CHOICES.get,
    key="keras",
)
device = middle.radio(
    "Device",
    ["cpu", "gpu"],
    format_func=str.upper,
    horizontal=True,
    disabled=not has_gpu,
    key="device",
    help=None if has_gpu else "No GPU on this server: probes run on the CPU.",
)
if not has_gpu:
    middle.caption("GPU: none on this server")
epochs = right.number_input(
    "Epoch cap", min_value=1, max_value=50, value=view.kept("epochs", DEFAULT_EPOCHS),
    key="epochs",
)  # fmt: skip
# No min_value/max_value: Streamlit would put back the old value without a word.
timeout = last.number_input(
    "Time limit per stack (s)", value=view.kept("timeout", int(DEFAULT_TIMEOUT)), step=10,
    key="timeout", help=f"From {MIN_TIMEOUT} to {MAX_TIMEOUT} seconds",
)  # fmt: skip
for key, value in (("keras", keras_choice), ("epochs", epochs), ("timeout", timeout)):
    view.keep(key, value)
if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
    last.error(f"{timeout:g} s is not allowed: from {MIN_TIMEOUT} to {MAX_TIMEOUT} s.")
    blockers.append("the time limit is out of range")
limit = float(timeout)
if sample is not None and sample.probe_timeout and sample.probe_timeout < limit:
    limit = float(sample.probe_timeout)
    last.caption(f"This sample hangs on purpose: it is stopped after {limit:g} s.")

label_col, note_col = st.columns([1, 2])
label = label_col.text_input(
    "Label (optional)",
    value=view.kept("label", (edit or {}).get("label") or ""),
    placeholder="a ticket number, a student's name",
    key="label",
)
note = note_col.text_input(
    "Note (optional)", value=view.kept("note", (edit or {}).get("note") or ""), key="note"
)
view.keep("label", label)
view.keep("note", note)

view.isolation_note()
job_id = st.session_state.get("probe_job")
busy = view.running(job_id)
ready = not blockers and precheck is not None and precheck.error is None and bool(target)
pressed = st.button("Probe", type="primary", key="probe", disabled=busy or not ready)
if not ready and not busy:
    st.caption("Probe is off until the input can be probed: " + "; ".join(blockers) + ".")
if pressed and ready:  # a disabled button cannot be pressed; a script's click can
    try:
        options = ProbeOptions.of(
            keras=keras_choice,
            epochs=int(epochs),
            timeout=limit,
            device=device if has_gpu else "cpu",
            **data_choice.options(),
            **option_fields,
        )
        job_id = JOBS.submit(
            options,
            code=None if sample else code,
            origin="gallery" if sample else "probe",
            sample=sample.name if sample else None,
            variant=variant,
            attachment=data_choice.attachment,
            label=label,
            note=note,
            before=edit["before"] if edit else None,
            probed_by=view.signed_in_as(),
            **target,
        )
    except ValueError as exc:  # an option the probe refuses
        st.error(view.md(str(exc)))
        st.stop()
    st.session_state["probe_job"] = job_id
    st.session_state.pop("probe_report", None)
    busy = True

# --- progress, then the report -----------------------------------------------------------
if busy:
    view.follow(job_id, key="probe")
    st.stop()

report, error = view.finished(job_id)
if error:
    st.error(view.md(error))
if report is not None or error:
    st.session_state["probe_report"] = report
    st.session_state.pop("probe_job", None)
report = st.session_state.get("probe_report")
if report is None:
    if not error and ready:
        st.info("Press **Probe** to run it (in separate, isolated processes, one per Keras stack).")
    st.stop()
if edit is not None and report.get("before") == edit["before"]:
    edit["before"] = report["id"]  # editing on: the next probe comes after this one
if precheck is not None and report["input"].get("sha256") != precheck.sha256:
    st.caption(
        f"This is the report of an earlier probe of `{report['input']['name']}` "
        f"({report['created']}); press **Probe** to probe the input above."
    )
view.report_view(report, key="probe")
