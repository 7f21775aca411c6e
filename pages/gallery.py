"""Gallery: every input-pipeline pitfall in `sample_generators/`, broken next to fixed,
with its lesson and what a real probe of each variant observed. One click probes both."""

from __future__ import annotations

import streamlit as st

from diagnostics import DEFAULT_TIMEOUT, JOBS, ProbeOptions, charts
from pages import _view as view
from sample_generators import VARIANTS, samples

view.page_setup()
st.title("Gallery")
st.caption(
    "One broken input-pipeline pattern per rule, next to its fix. The charts are what "
    "fitprobe observed when it last probed this exact file on this server (a sample nobody "
    "probed here yet is probed when you open it); **Probe both live** runs them again on "
    "real Keras."
)

gallery = {s.name: s for s in samples()}
names = list(gallery)
wanted = st.query_params.get("sample")
chosen = st.selectbox(
    f"Sample ({len(gallery)})",
    names,
    index=names.index(wanted) if wanted in gallery else 0,
    format_func=lambda n: f"{view.plain(gallery[n].title)} ({gallery[n].rule})",
    key="sample",
)
sample = gallery[chosen]
lesson_chart = charts.LESSON_CHARTS[sample.chart]  # the chart where broken and fixed differ
st.markdown(f"### {view.md(sample.title)}")
st.markdown(view.md(sample.lesson))
st.page_link("pages/rules.py", label=f"Rule: {sample.rule}", icon=":material/menu_book:",
             query_params={"rule": sample.rule})  # fmt: skip

store = view.store()
observed = {v: store.latest_for_sample(sample.name, v, sample.sha256()) for v in VARIANTS}
jobs = st.session_state.setdefault("gallery_jobs", {})  # sample -> {variant: job id}
running = any(view.running(j) for j in jobs.get(chosen, {}).values())
clicked = st.button("Probe both live", type="primary", key="probe", disabled=running)
never_probed = chosen not in jobs and not any(observed.values())
if clicked or never_probed:  # a sample nobody probed here yet is probed on first view
    jobs[chosen] = {
        variant: JOBS.submit(
            ProbeOptions(
                timeout=sample.probe_timeout or DEFAULT_TIMEOUT,
                keras="both",
                **sample.options(variant),
            ),
            origin="gallery",
            sample=sample.name,
            variant=variant,
            probed_by=view.signed_in_as(),
            **sample.job(variant),
        )
        for variant in VARIANTS
    }

columns = st.columns(2)
for column, variant in zip(columns, VARIANTS, strict=True):
    with column:
        st.markdown(
            f"#### {':material/close: Broken' if variant == 'broken' else ':material/check: Fixed'}"
        )
        st.code(sample.variant_code(variant), language="python", wrap_lines=True)
        job_id = jobs.get(chosen, {}).get(variant)
        if view.running(job_id):
            view.follow(job_id, key=f"gallery-{variant}")
            continue
        report, error = view.finished(job_id)
        if error:
            st.error(view.md(error))
        report = report or observed[variant]
        if report is None:
            st.info("Not probed on this server yet: press **Probe both live**.")
            continue
        view.banner(report)
        view.chart(lesson_chart, report, key=f"gallery-{variant}-chart")
        st.caption(f"Observed {report['created']} · [full report]({view.permalink(report['id'])})")

with st.expander(f"The whole file: {view.code(sample.path.name)}"):
    st.code(sample.code(), language="python", line_numbers=True)
