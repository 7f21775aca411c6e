"""Shared Streamlit pieces of the pages (not a page itself): how a report, a finding
and a running probe look. Every piece renders a report dict; none decides anything
(that is `diagnostics`' job)."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

import diagnostics
from diagnostics import (
    BWRAP,
    DB_NAME,
    JOBS,
    STACK_LABELS,
    bare_title,
    charts,
    data_dir,
    default_store,
    input_notes,
    locate,
    sandbox_isolation,
    worst_severity,
)

# Material icons ship with Streamlit's frontend: they render without an emoji font.
SEVERITY_ICONS = {
    "error": ":material/error:",
    "warning": ":material/warning:",
    "info": ":material/info:",
}
CHART_TABS = {
    "coverage": "Sample coverage",
    "timeline": "Batch timeline",
    "validation": "Validation",
}


_MARKDOWN = re.compile(r"([\\*_#<>\[\]$~|])")


def md(text: str) -> str:
    """Plain text (a verdict, a title, a Keras warning) made safe for Streamlit's Markdown:
    `__len__` stays `__len__`, `steps_per_epoch * epochs` is not italics, `$` is no LaTeX.
    Spans in backticks are kept as code."""
    parts = re.split(r"(`[^`]*`)", str(text))
    return "".join(p if p.startswith("`") else _MARKDOWN.sub(r"\\\1", p) for p in parts)


def page_setup() -> None:
    """What every page does first: go through app.py's navigation, and have the warm
    pool of probe workers started (once per app process)."""
    require_navigation()
    JOBS.ensure_pool()


def require_navigation() -> None:
    """Run every page through app.py's `st.navigation`, the app's one navigation scheme.

    When a fresh server's first request is a page's own URL (a permalink, say) and a
    `pages/` folder sits beside app.py, Streamlit runs that page file on its own, as a
    legacy multipage app (`PagesManager.uses_pages_directory`, set once per process in
    streamlit/runtime/pages_manager.py). Turn that off and rerun, through app.py.
    (AppTest sets the flag again before every run, and its runs carry clicks: it
    reruns only a session that has no state yet.)
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not st.session_state:  # a new session: a rerun loses no click, no input
            st.rerun()


def kept(key: str, default):
    """What the user last chose in the widget `key`, for its initial value: Streamlit
    forgets a widget's state once a run does not draw it (another mode, another page)."""
    return st.session_state.setdefault(f"kept.{key}", default)


def keep(key: str, value) -> None:
    st.session_state[f"kept.{key}"] = value


@st.cache_resource
def _open_store():
    return default_store()


def store():
    """The history store, opened once per app process; a page that needs it stops with a
    clear message when it cannot be opened (a read-only or full data directory, say)."""
    try:
        return _open_store()
    except (OSError, sqlite3.Error) as exc:
        st.error(f"The history cannot be opened ({data_dir() / DB_NAME}): {exc}")
        st.stop()


def stacks_text(stacks) -> str:
    return ", ".join(STACK_LABELS.get(s, s) for s in stacks or [])


def permalink(report_id: str) -> str:
    """The probe page (the app's root) opens any saved report by its id."""
    url = urlsplit(st.context.url or "")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    root = (f"{url.scheme}://{url.netloc}" if url.netloc else "") + "/"
    return f"{root}{base + '/' if base else ''}?report={report_id}"


def banner(report: dict) -> None:
    """The verdict, coloured by the worst thing found."""
    worst = worst_severity(report)
    if report.get("status") != "ok" or worst == "error":
        st.error(md(report["verdict"]), icon=SEVERITY_ICONS["error"])
    elif worst == "warning":
        st.warning(md(report["verdict"]), icon=SEVERITY_ICONS["warning"])
    elif worst == "info":
        st.info(md(report["verdict"]), icon=SEVERITY_ICONS["info"])
    else:
        st.success(md(report["verdict"]), icon=":material/check_circle:")


def keras_versions(env: dict) -> str:
    return ", ".join(
        f"{STACK_LABELS.get(k, k)} {v}" for k, v in (env.get("keras_versions") or {}).items() if v
    )


def meta_line(report: dict) -> None:
    env = report.get("environment", {})
    versions = keras_versions(env)
    st.caption(
        f"`{report['input']['name']}` ({report['input'].get('mode')}) · probed {report['created']}"
        f" in {report.get('duration_s', 0):.1f} s · TensorFlow {env.get('tensorflow')}"
        + (f" ({versions})" if versions else "")
        + f" · device {env.get('device')} · isolation `{env.get('isolation')}`"
        + f" · report `{report['id']}`"
    )


def provenance(report: dict) -> None:
    """Where a report was made, when not on this server: a customer's machine."""
    env = report.get("environment", {})
    imported = report.get("imported")
    if not (env.get("local") or imported):
        return
    where = "on the customer's machine (local mode)" if env.get("local") else "elsewhere"
    versions = keras_versions(env)
    text = (
        f"Probed {where}: Python {env.get('python')}, TensorFlow {env.get('tensorflow')}"
        + (f" ({versions})" if versions else "")
        + f", {env.get('platform') or 'platform not given'}"
    )
    if imported:
        text += f"; imported from `{imported.get('file')}` on {imported.get('at')}"
    st.info(md(text), icon=":material/computer:")


def finding_card(
    finding: dict, key: str, several_calls: bool = False, report: dict | None = None
) -> None:
    with st.container(border=True, key=key):
        icon = SEVERITY_ICONS.get(finding["severity"], "")
        where = f" · {stacks_text(finding['stack'])}" if finding.get("stack") else ""
        numbered = several_calls and finding.get("call") is not None
        call = f" · fit() call {finding['call']}" if numbered else ""
        line = f" · {locate(report, finding['line'])}" if finding.get("line") else ""
        st.markdown(
            f"{icon} **{finding['severity'].upper()}** · `{finding['code']}`{where}{call}{line}"
        )
        st.markdown(f"**{md(finding['title'])}**")
        st.markdown("Fix:")
        st.code(finding.get("fix") or "", language=None, wrap_lines=True)
        left, right = st.columns([3, 1])
        with left.expander("Evidence (the numbers behind it)"):
            st.json(finding.get("evidence") or {}, expanded=2)
        right.page_link(
            "pages/rules.py",
            label="Rule page",
            icon=":material/menu_book:",
            query_params={"rule": finding["code"]},
        )


def figure(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False}, theme=None)


def chart(draw, report: dict, key: str) -> None:
    """One chart of a report; a chart that cannot be drawn says so, the page goes on."""
    try:
        fig = draw(report)
    except Exception as exc:  # a fitprobe bug on an unusual report: never a traceback
        st.warning(f"fitprobe could not draw this chart ({type(exc).__name__}: {exc}).")
        return
    figure(fig, key)


def report_view(report: dict, key: str) -> None:
    """A whole report: verdict, headline chart, findings, the other charts, the table,
    output and warnings, exports. A report this app cannot show (an imported one that a
    check let through, say) says so instead of breaking the page."""
    try:
        _report_view(report, key)
    except Exception as exc:  # never a traceback on the page
        st.error(
            f"fitprobe cannot show this report in full ({type(exc).__name__}: {md(str(exc))}); "
            "its JSON is below."
        )
        st.json(report, expanded=False)


def _report_view(report: dict, key: str) -> None:
    banner(report)
    meta_line(report)
    provenance(report)
    notes = input_notes(report)
    if notes:
        with st.expander(f"What the script was given here ({len(notes)})"):
            for note in notes:
                st.markdown(f"- {md(note)}")
    chart(charts.batches_per_epoch, report, key=f"{key}-chart-batches")
    findings = report.get("findings", [])
    if findings:
        st.subheader(f"Findings ({len(findings)})")
        several = len({r["call"] for r in report.get("runs", [])}) > 1
        for i, finding in enumerate(findings):
            finding_card(finding, key=f"{key}-finding-{i}", several_calls=several, report=report)
    tabs = st.tabs([*CHART_TABS.values(), "Epoch table", "Pre-flight"])
    for tab, name in zip(tabs, CHART_TABS, strict=False):
        with tab:
            chart(charts.CHARTS[name], report, key=f"{key}-chart-{name}")
    with tabs[len(CHART_TABS)]:
        table = pd.DataFrame(diagnostics.epoch_table(report))
        if table.empty:
            st.info("No epoch was observed.")
        else:
            st.dataframe(table, hide_index=True, width="stretch", key=f"{key}-table")
    with tabs[len(CHART_TABS) + 1]:
        preflight_table(report.get("preflight") or [])
    output(report)
    exports(report, key)


def preflight_table(record: list[dict]) -> None:
    if not record:
        st.write("Reading the code found nothing suspicious.")
        return
    st.caption(
        "What reading the code suggested before anything ran, and what the probe made of it: "
        "confirmed (seen happening), retracted (the probe ran past it), or unconfirmed."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "status": f.get("status", "static"),
                    "code": f["code"],
                    "line": f.get("line"),
                    "what": bare_title(f),
                }
                for f in record
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def output(report: dict) -> None:
    for stack in report.get("stacks", []):
        label = STACK_LABELS.get(stack["stack"], stack["stack"])
        warnings = [
            w for r in report["runs"] if r["stack"] == stack["stack"] for w in r["warnings"]
        ]
        title = f"{label}: output and warnings ({stack['status']}"
        title += f", {len(warnings)} warnings)" if warnings else ")"
        with st.expander(title):
            if stack.get("reason"):
                st.markdown(md(stack["reason"]))
            for warning in warnings:
                st.warning(md(warning))
            for note in stack.get("notes") or []:
                st.caption(md(note))
            for stream in ("stdout", "stderr"):
                captured = stack.get(stream) or {}
                if captured.get("text"):
                    st.markdown(
                        f"`{stream}`"
                        + (
                            f" ({captured['bytes']} bytes, truncated)"
                            if captured.get("truncated")
                            else ""
                        )
                    )
                    st.code(captured["text"], language=None)
            exc = stack.get("script_exception")
            if exc and exc.get("traceback"):
                st.markdown("The script's own exception (outside fit()):")
                st.code(exc["traceback"], language=None)


def exports(report: dict, key: str) -> None:
    st.subheader("Export and share")
    name = f"fitprobe-{report['id']}"
    formats = [
        ("JSON", diagnostics.to_json, "json", "application/json"),
        ("Markdown", diagnostics.render_markdown, "md", "text/markdown"),
        ("HTML, with charts", diagnostics.render_html, "html", "text/html"),
    ]
    for col, (label, render, ext, mime) in zip(st.columns(3), formats, strict=True):
        col.download_button(
            f"Report ({label})",
            lambda render=render: render(report),  # made when clicked, not on every rerun
            file_name=f"{name}.{ext}",
            mime=mime,
            key=f"{key}-download-{ext}",
            on_click="ignore",
        )
    if store().get(report["id"]) is None:
        st.caption("This report is not in the history (it could not be saved): no permalink.")
    else:
        link = permalink(report["id"])
        st.markdown(f"Permalink: [{link}]({link})")


def static_findings(findings: list[dict], where=None) -> None:
    """Pre-flight findings for code that has not run yet; `where(line)` names a line
    ("cell 3, line 2" in a notebook)."""
    where = where or (lambda line: f"line {line}")
    if not findings:
        st.caption("Pre-flight: reading the code found nothing suspicious.")
        return
    with st.container(border=True, key="preflight"):
        st.markdown(f"**Pre-flight** ({len(findings)} from reading the code; the probe will tell)")
        for f in findings:
            icon = SEVERITY_ICONS.get(f["severity"], "")
            line = f" ({where(f['line'])})" if f.get("line") else ""
            what = md(bare_title(f))
            st.markdown(f"{icon} `{f['code']}`{line}: {what}")


def isolation_note() -> None:
    """Which sandbox the probes run in here (the reports say it too)."""
    isolation = sandbox_isolation()
    if isolation.level == BWRAP:
        st.caption(
            f"Probes run in a sandbox: `{isolation.label}`: no network, a read-only file "
            "system but for a private /tmp, a process of its own per stack and probe."
        )
    else:
        st.warning(
            f"Probes run without the sandbox here: `{isolation.label}`. Install bubblewrap "
            "(`apt-get install bubblewrap`) to run them with no network and a read-only "
            "file system.",
            icon=SEVERITY_ICONS["warning"],
        )


def follow(job_id: str, *, key: str) -> None:
    """Live progress of a probe job; reruns the page once it has finished."""

    @st.fragment(run_every=0.5)
    def _progress():
        job = JOBS.get(job_id)
        if job is None:
            st.warning("This probe is no longer known (the app was restarted). Run it again.")
            return
        if job.state in ("done", "failed"):
            st.rerun()
        position = JOBS.queue_position(job_id)
        label = (
            f"Waiting for a free probe slot: number {position} in the queue"
            if position
            else "Probing with real Keras…"
        )
        with st.status(label, expanded=True, state="running"):
            st.progress(job.fraction, text=f"{job.fraction:.0%}")
            for line in list(job.lines)[-40:]:
                st.markdown(md(line))

    with st.container(key=f"{key}-progress"):
        _progress()


def finished(job_id: str | None):
    """(report, error) of a finished job; (None, None) while it runs or when unknown."""
    job = JOBS.get(job_id)
    if job is None or job.state not in ("done", "failed"):
        return None, None
    return job.report, job.error


def running(job_id: str | None) -> bool:
    job = JOBS.get(job_id)
    return job is not None and job.state in ("queued", "running")
