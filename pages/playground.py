"""Playground: set up an input pipeline with sliders, read what fitprobe predicts Keras 3
and Keras 2 will train per epoch, then run the real probe and see reality over the
prediction. Where they differ, reality wins."""

from __future__ import annotations

import streamlit as st

from diagnostics import JOBS, ProbeOptions, charts, playground
from pages import _view as view

MAX_STEPS = 60  # the probe's cap on batches per epoch here: an endless epoch ends at it

view.page_setup()
st.title("Playground")
st.caption(
    "Choose a data source and the numbers fit() gets. fitprobe predicts, from what Keras's "
    "code does, how many batches each epoch trains on Keras 3 and on Keras 2; **Run the real "
    "probe** trains it and draws what really happened over the prediction."
)

kind = st.selectbox(
    "Data source",
    list(playground.SOURCE_KINDS),
    format_func=playground.SOURCE_KINDS.get,
    key="kind",
)
left, right = st.columns(2)
samples = left.slider("Samples", 10, 300, 100, step=5, key="samples")
batch_size = left.slider("Batch size", 1, 64, 10, key="batch_size")
epochs = left.slider("epochs", 1, 8, 5, key="epochs")
with_steps = right.toggle("Pass steps_per_epoch", value=True, key="with_steps")
steps = right.slider("steps_per_epoch", 1, 40, 10, key="steps_per_epoch", disabled=not with_steps)
drop = right.toggle("drop_remainder (skip the last short batch)", key="drop_remainder")
sequence_len = None
if kind == "sequence":
    correct = right.toggle("__len__ returns the right length", value=False, key="len_correct")
    if not correct:
        sequence_len = right.slider("__len__ returns", 1, 40, 5, key="sequence_len")

setup = playground.Setup(
    kind=kind,
    samples=samples,
    batch_size=batch_size,
    steps_per_epoch=steps if with_steps else None,
    epochs=epochs,
    drop_remainder=drop,
    sequence_len=sequence_len,
)
problems = setup.problems()
if problems:
    for problem in problems:
        st.error(view.md(problem))
    st.stop()

predictions = playground.predict(setup, max_steps=MAX_STEPS)
st.markdown(f"One pass over the data is **{setup.pass_length()} batches**.")
cols = st.columns(2)
for col, (stack, p) in zip(cols, predictions.items(), strict=False):
    with col.container(border=True):
        st.markdown(f"**Predicted, {view.stacks_text([stack])}:** {p.batches or 'no epoch'}")
        st.caption(view.md(p.reason))

with st.expander("The script fitprobe will run"):
    st.code(playground.script(setup), language="python")

key = repr(setup)  # a result belongs to the setup it was run with
runs = st.session_state.setdefault("playground_jobs", {})
job_id = runs.get(key)
if st.button("Run the real probe", type="primary", key="run_probe", disabled=view.running(job_id)):
    job_id = runs[key] = JOBS.submit(
        ProbeOptions(keras="both", epochs=setup.epochs, max_steps=MAX_STEPS, timeout=90),
        code=playground.script(setup),
        name=f"playground_{kind}.py",
        origin="playground",
        probed_by=view.signed_in_as(),
    )

report = None
if view.running(job_id):
    view.follow(job_id, key="playground")
else:
    report, error = view.finished(job_id)
    if error:
        st.error(view.md(error))

rows = playground.compare(setup, predictions, report) if report is not None else None
view.figure(charts.prediction_overlay(predictions, rows), key="playground-chart")
if rows is None:
    st.stop()
for row in rows:
    note = view.md(row["note"])
    if row["match"]:
        st.success(f"Reality matched the prediction: {note}")
    elif row["observed_stopped_by"] is None and not row["observed"]:
        st.info(note)  # the stack did not run: nothing to compare
    else:
        st.warning(f"Reality differs from the prediction. {note}")  # the note: reality wins
view.banner(report)
st.markdown(f"[The full report]({view.permalink(report['id'])})")
