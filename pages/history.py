"""History: every probe, saved; list, filter and search them, open one, compare two,
delete or export one. A support engineer finds yesterday's case here."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from diagnostics import MAX_IMPORT_BYTES, ReportRefused, order_reports, plural, read_report
from pages import _view as view

SHOWN = 200  # the newest reports listed; search finds older ones
WORST = ["error", "warning", "info", "none", "input-error", "timeout", "cancelled", "crashed"]

view.page_setup()
st.title("History")
store = view.store()
st.caption(f"Every probe is kept in {view.code(store.where)} ({store.count()} reports).")

with st.expander("Import a report (made on a customer's machine)"):
    st.caption(
        "A customer runs the probe where their data is, `fitprobe probe train.py --local "
        "--json > report.json`, and sends the file: it is checked, kept here and shown like "
        "any other report, marked as probed on their machine."
    )
    incoming = st.file_uploader(
        "Report (JSON)",
        type=["json"],
        key="import",
        max_upload_size=MAX_IMPORT_BYTES // (1024 * 1024),
    )
    if incoming is not None:
        digest = hashlib.sha256(incoming.getvalue()).hexdigest()
        done = st.session_state.setdefault("imported", {})
        if digest not in done:
            try:
                report = read_report(incoming.getvalue(), incoming.name)
                done[digest] = store.save(report, origin="import")
            except ReportRefused as exc:
                done[digest] = None
                st.session_state[f"import-error-{digest}"] = str(exc)
        if done[digest]:
            st.success(
                f"Imported as report `{done[digest]}`: "
                f"[open it]({view.permalink(done[digest])})",
                icon=":material/download_done:",
            )
        else:
            st.error(view.md(st.session_state[f"import-error-{digest}"]))

unfinished = [job for job in store.jobs(("interrupted", "failed"), limit=50) if not job.report]
if unfinished:
    with st.expander(f"Probes that did not finish ({len(unfinished)})", expanded=True):
        st.caption(
            "Their process ended before they did (the server was restarted or killed, or a "
            "queue worker stopped twice). What they were to probe was kept: open it and "
            "probe it again."
        )
        for job in unfinished:
            text, button = st.columns([5, 1])
            text.markdown(
                f"`{job.id}` · {view.md(job.label or job.name)} · submitted "
                f"{job.submitted.replace('T', ' ').replace('+00:00', '')} UTC · {job.state}"
                + (f": {view.md(job.error)}" if job.error else "")
            )
            if button.button("Probe again", key=f"rerun-{job.id}"):
                source = store.job_source(job.id)
                if source is None:
                    st.error(f"What probe `{job.id}` was to probe was not kept.")
                else:
                    view.start_edit(None, source, job=job.id)
                    st.switch_page("pages/probe.py")

left, right = st.columns([3, 2])
search = left.text_input(
    "Search",
    placeholder="a label, words of a note, a file name, a finding code, the verdict, an id",
    key="search",
)
worst = right.multiselect("Worst finding", WORST, key="worst", placeholder="any severity or status")
rows = store.list(search=search, worst=worst, limit=SHOWN)
if not rows:
    st.info("No saved probe matches." if search or worst else "No probe saved yet.")
    st.stop()
if search.strip() or worst:
    st.caption(f"{plural(len(rows), 'report')} match.")

# The id and the case (its label, else the file's name) first: visible without scrolling.
table = pd.DataFrame(
    [
        {
            "id": r.id,
            "case": r.label or r.name,
            "created (UTC)": r.created.replace("T", " ").replace("+00:00", ""),
            "worst": r.worst,
            "findings": ", ".join(r.codes),
            "verdict": r.verdict,
            "file": r.name,
            "note": r.note or "",
            "after": r.before or "",
            "from": r.origin,
        }
        for r in rows
    ]
)
ids = [r.id for r in rows]
picked = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="multi-row",
    # A selection is of row positions: a list that changed (a search, a delete, a probe
    # saved from another tab) gets a new key, so no stale position opens the wrong report.
    key=f"list-{hashlib.sha1(' '.join(ids).encode()).hexdigest()[:12]}",
    column_config={
        "id": st.column_config.TextColumn(pinned=True),
        "case": st.column_config.TextColumn(pinned=True, width="medium"),
        "verdict": st.column_config.TextColumn(width="large"),
        "after": st.column_config.TextColumn(help="made after this report (its code edited)"),
    },
)
chosen = [ids[i] for i in picked.selection.rows if i < len(ids)]
more = f" (the newest {SHOWN}: search to find older ones)" if len(rows) == SHOWN else ""
st.caption(
    f"Select one row to open it, two to compare them, before and after (the older on the "
    f"left){more}."
)
if not chosen:
    st.stop()
if len(chosen) > 2:
    st.warning(
        f"{len(chosen)} reports are selected: select one to open it, or two to compare them."
    )
    st.stop()

if len(chosen) == 2:
    first, second = (store.get(report_id) for report_id in chosen)
    gone = [rid for rid, r in zip(chosen, (first, second), strict=True) if r is None]
    if gone:
        st.error(f"Report `{gone[0]}` is gone.")
        st.stop()
    before, after = order_reports(first, second)
    st.subheader(f"Compare: `{before['id']}` (before) → `{after['id']}` (after)")
    view.compare_view(before, after, key="history-compare")
    cols = st.columns(2)
    for col, report in zip(cols, (before, after), strict=True):
        with col:
            view.meta_line(report)
            for finding in report.get("findings", []):
                st.markdown(
                    f"{view.SEVERITY_ICONS.get(finding['severity'], '')} `{finding['code']}`: "
                    f"{view.md(finding['title'])}"
                )
            st.markdown(f"[Open]({view.permalink(report['id'])})")
    st.stop()

report_id = chosen[0]
report = store.get(report_id)
if report is None:
    st.error(f"Report `{report_id}` is gone.")
    st.stop()
with st.popover("Label and note", icon=":material/label:"):
    new_label = st.text_input(
        "Label", value=report.get("label") or "", key=f"relabel-label-{report_id}"
    )
    new_note = st.text_area(
        "Note", value=report.get("note") or "", key=f"relabel-note-{report_id}"
    )
    if st.button("Save", type="primary", key="relabel"):
        store.relabel(report_id, new_label, new_note)
        st.toast(f"Saved the label of report {report_id}")
        st.rerun()
with st.popover("Delete this report", icon=":material/delete:"):
    st.write(f"Delete report `{report_id}` ({report['input']['name']}) for good?")
    if st.button("Delete", type="primary", key="delete"):
        store.delete(report_id)
        st.toast(f"Deleted report {report_id}")
        st.rerun()
view.report_view(report, key=f"history-{report_id}")
