"""History: every probe, saved; list, filter and search them, open one, compare two,
delete or export one. A support engineer finds yesterday's case here."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from diagnostics import MAX_IMPORT_BYTES, ReportRefused, charts, read_report
from pages import _view as view

SHOWN = 200  # the newest reports listed; search finds older ones
WORST = ["error", "warning", "info", "none", "input-error", "timeout", "crashed"]

view.page_setup()
st.title("History")
store = view.store()
st.caption(f"Every probe is kept in `{store.path.name}` ({store.count()} reports).")

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

left, right = st.columns([3, 2])
search = left.text_input(
    "Search", placeholder="a file name, a finding code, words of the verdict, an id", key="search"
)
worst = right.multiselect("Worst finding", WORST, key="worst", placeholder="any severity or status")
rows = store.list(search=search, worst=worst, limit=SHOWN)
if not rows:
    st.info("No saved probe matches." if search or worst else "No probe saved yet.")
    st.stop()

table = pd.DataFrame(
    [
        {
            "created (UTC)": r.created.replace("T", " ").replace("+00:00", ""),
            "name": r.name,
            "worst": r.worst,
            "verdict": r.verdict,
            "findings": ", ".join(r.codes),
            "from": r.origin,
            "id": r.id,
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
    column_config={"verdict": st.column_config.TextColumn(width="large")},
)
chosen = [ids[i] for i in picked.selection.rows if i < len(ids)][:2]
more = f" (the newest {SHOWN}: search to find older ones)" if len(rows) == SHOWN else ""
st.caption(
    f"Select one row to open it, two to compare them side by side (before/after a fix){more}."
)
if not chosen:
    st.stop()

if len(chosen) == 2:
    st.subheader("Compare")
    cols = st.columns(2)
    for col, report_id in zip(cols, chosen, strict=True):
        report = store.get(report_id)
        with col:
            if report is None:
                st.error(f"Report `{report_id}` is gone.")
                continue
            view.banner(report)
            view.meta_line(report)
            view.chart(charts.batches_per_epoch, report, key=f"compare-{report_id}")
            for finding in report.get("findings", []):
                st.markdown(
                    f"{view.SEVERITY_ICONS.get(finding['severity'], '')} `{finding['code']}`: "
                    f"{view.md(finding['title'])}"
                )
            st.markdown(f"[Open]({view.permalink(report_id)})")
    st.stop()

report_id = chosen[0]
report = store.get(report_id)
if report is None:
    st.error(f"Report `{report_id}` is gone.")
    st.stop()
with st.popover("Delete this report", icon=":material/delete:"):
    st.write(f"Delete report `{report_id}` ({report['input']['name']}) for good?")
    if st.button("Delete", type="primary", key="delete"):
        store.delete(report_id)
        st.toast(f"Deleted report {report_id}")
        st.rerun()
view.report_view(report, key=f"history-{report_id}")
