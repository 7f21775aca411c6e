"""fitprobe's web app (first page): paste a training script, probe it, see every epoch.

Thin by design: widgets, one call into `diagnostics`, render the report.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import diagnostics

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

STACK_CHOICES = {"both": "Keras 3 and Keras 2", "3": "Keras 3 only", "2": "Keras 2 only"}

st.set_page_config(page_title="fitprobe", page_icon="🔎", layout="wide")
st.title("fitprobe")
st.caption(
    "Why does my `fit()` stop after the first epoch, or silently train on the wrong data? "
    "Paste your training script: fitprobe runs it for real, on Keras 3 and Keras 2, and shows "
    "per epoch how many batches were expected and how many were trained."
)

code = st.text_area("Training script", value=DEFAULT_SCRIPT, height=380, key="script")
left, middle, right = st.columns(3)
keras_choice = left.selectbox(
    "Stacks", list(STACK_CHOICES), format_func=STACK_CHOICES.get, key="keras"
)
epochs = middle.number_input("Epoch cap", min_value=1, max_value=50, value=5, key="epochs")
timeout = right.number_input(
    "Time limit per stack (s)", min_value=10, max_value=600, value=120, key="timeout"
)

if st.button("Probe", type="primary", key="probe"):
    if not code.strip():
        st.info("Paste a training script first.")
        st.stop()
    with st.status("Probing with real Keras…", expanded=True) as status:

        def show(event: dict) -> None:
            label = "Keras 3" if event.get("stack") == "keras3" else "Keras 2"
            if event["type"] == "stack-start":
                status.write(
                    f"{label} {event.get('keras_version')} started on {event.get('device')}"
                )
            elif event["type"] == "epoch-end":
                status.write(
                    f"{label}, fit() call {event['call']}, epoch {event['epoch']}: "
                    f"{event['observed_batches']} batches trained"
                )

        report = diagnostics.probe_code(
            code, keras=keras_choice, epochs=int(epochs), timeout=float(timeout), on_event=show
        )
        status.update(label="Probe finished", state="complete", expanded=False)
    st.session_state["report"] = report

report = st.session_state.get("report")
if report is None:
    st.info("Press **Probe** to run the script above (it runs in a separate, isolated process).")
    st.stop()

severities = {f["severity"] for f in report["findings"]}
if report["status"] != "ok" or "error" in severities:
    st.error(report["verdict"])
elif "warning" in severities:
    st.warning(report["verdict"])
else:
    st.success(report["verdict"])

for finding in report["findings"]:
    stacks = ", ".join("Keras 3" if s == "keras3" else "Keras 2" for s in finding["stack"] or [])
    with st.container(border=True):
        st.markdown(
            f"**{finding['severity'].upper()}** `{finding['code']}`"
            + (f" — {stacks}" if stacks else "")
            + f"  \n{finding['title']}"
        )
        st.markdown(f"**Fix:** {finding['fix']}")

table = pd.DataFrame(diagnostics.epoch_table(report))
if not table.empty:
    st.subheader("Expected vs trained batches per epoch")
    st.dataframe(table, hide_index=True, width="stretch", key="epochs_table")

for stack in report["stacks"]:
    with st.expander(f"{stack['stack']}: output, warnings and status ({stack['status']})"):
        if stack.get("reason"):
            st.write(stack["reason"])
        for run in [r for r in report["runs"] if r["stack"] == stack["stack"]]:
            for warning in run.get("warnings", []):
                st.warning(warning)
        for stream in ("stdout", "stderr"):
            text = (stack.get(stream) or {}).get("text")
            if text:
                st.code(text, language=None)

st.download_button(
    "Download the report (JSON)",
    diagnostics.to_json(report),
    file_name=f"fitprobe-{report['id']}.json",
    mime="application/json",
    key="download_json",
)
