"""Shared Streamlit pieces of the pages (not a page itself): how a report, a finding
and a running probe look. Every piece renders a report dict; none decides anything
(that is `diagnostics`' job)."""

from __future__ import annotations

import os
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


def md(text: str, *, spans: bool = True) -> str:
    """Plain text (a verdict, a title, a Keras warning) made safe for Streamlit's Markdown:
    it reads as written (`__len__` stays `__len__`, `steps * epochs` is not italics, `$` is
    no LaTeX, `:red[...]` no colour) and makes no HTML. Spans in backticks are kept as
    code, a lone backtick is a backtick; `spans=False` for a name or a message, whose
    backticks are all text."""
    return diagnostics.escape_markdown(text, spans=spans, directives=True)


def code(text: str) -> str:
    """A name (a file, a path, a variable) as inline code, whatever it holds: not
    a name escaped with `md` inside backticks, whose escapes would show in the code."""
    return diagnostics.code_span(text)


def plain(text: str) -> str:
    """Text for a widget that shows it as is, with no Markdown (a selectbox's options):
    as `md(text)` reads, its code spans without their backticks."""
    return diagnostics.plain_text(text)


def auth_configured() -> bool:
    """Whether sign-in is set up (an [auth] section in secrets.toml, for `st.login`)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def access_gate() -> None:
    """With sign-in configured, only signed-in users see anything (customers' scripts and
    reports are in the history); without it, the app is open, and says so."""
    if not auth_configured():
        st.caption(
            "Open to everyone who can reach this server: no sign-in is configured "
            "(an `[auth]` section in `.streamlit/secrets.toml` turns it on).",
            help="For a support desk holding customers' scripts, configure sign-in.",
        )
        return
    if st.user.is_logged_in:
        return
    st.title("fitprobe")
    st.info("This fitprobe keeps customers' scripts and reports: sign in to use it.")
    st.button("Sign in", type="primary", key="sign-in", on_click=st.login)
    st.stop()


def signed_in_as() -> str | None:
    """Who is signed in (their e-mail, else name, else subject), for the reports."""
    if not auth_configured() or not st.user.is_logged_in:
        return None
    return st.user.get("email") or st.user.get("name") or st.user.get("sub")


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
    except Exception as exc:  # a full disk, a database that is down or newer: said, no trace
        where = os.environ.get("FITPROBE_DATABASE_URL") and "the database" or data_dir() / DB_NAME
        st.error(f"The history cannot be opened ({where}): {type(exc).__name__}: {exc}")
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
    if report.get("label") or report.get("note"):
        label = f"**{md(report['label'])}**" if report.get("label") else ""
        note = md(report["note"]) if report.get("note") else ""
        st.markdown(" · ".join(p for p in (label, note) if p))
    env = report.get("environment", {})
    versions = keras_versions(env)
    st.caption(
        f"`{report['input']['name']}` ({report['input'].get('mode')}) · probed {report['created']}"
        f" in {report.get('duration_s', 0):.1f} s · TensorFlow {env.get('tensorflow')}"
        + (f" ({versions})" if versions else "")
        + f" · device {env.get('device')} · isolation `{env.get('isolation')}`"
        + f" · report `{report['id']}`"
        + (f" · probed by {md(report['probed_by'])}" if report.get("probed_by") else "")
        + (f" · on worker {md(report['probed_on'])}" if report.get("probed_on") else "")
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
        if diagnostics.severity_note(finding):  # not its rule's default: say why
            st.caption(md(diagnostics.severity_note(finding)))
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


# --- the support-desk loop: edit, probe again, before and after ---------------------------
def kept_source(report: dict):
    """What the report probed, as history kept it; None when it was not kept."""
    if report.get("imported"):
        return None
    try:
        return store().source(report["id"])
    except Exception:  # a history that cannot be read: no source to offer
        return None


def start_edit(report: dict | None, source, text: str | None = None, job: str | None = None):
    """Open the report's source (or `text`, an edit of it) in the Probe page's editor; the
    next probe is linked to this report as its "after". Without a report: the source of
    probe `job`, which did not finish, to probe again."""
    name, text = source.name, source.text if text is None else text
    if source.notebook:  # JSON is no text to edit: its code cells, as pasted cells
        text = diagnostics.cells_as_text(text) or text
        name = name[: -len(".ipynb")] + ".py"
    report = report or {}
    st.session_state["edit"] = {
        "before": report.get("id"),
        "job": job,
        "name": name,
        "text": text,
        "options": source.options,
        "label": report.get("label"),
        "note": report.get("note"),
        "attachment": (source.data_name, source.data) if source.data is not None else None,
        "data_note": source.data_note,
    }
    st.session_state.pop("probe_report", None)
    st.session_state.pop("probe_job", None)
    st.session_state.pop("kept.edit_text", None)
    keep("label", report.get("label") or "")  # the case goes on under its label
    keep("note", report.get("note") or "")
    st.query_params.clear()  # a permalink's ?report= would show the report, not the editor


def submit_edit(edit: dict, text: str, options) -> str:
    """Queue the edited source, linked to the report it came from; returns the job id."""
    return JOBS.submit(
        options,
        code=text,
        name=edit["name"],
        origin="probe",
        attachment=edit.get("attachment"),
        label=edit.get("label"),
        note=edit.get("note"),
        before=edit["before"],
        probed_by=signed_in_as(),
    )


def fix_preview(report: dict, finding: dict, source, key: str) -> None:
    """"Apply the fix": the rule's edit of the user's code as a diff, and a button that
    probes the edited code as the "after" of this report."""
    if source is None or not diagnostics.fixable(finding["code"]):
        return
    fix = diagnostics.propose_fix(report, finding, source.text)
    if fix is None:
        return
    with st.expander(f"Apply the fix to {code(source.name)}", icon=":material/build:"):
        st.markdown(md(fix.summary))
        st.code(fix.diff, language="diff", wrap_lines=True)
        left, right = st.columns(2)
        if left.button("Probe the fixed script", type="primary", key=f"{key}-probe"):
            options = diagnostics.ProbeOptions.of(**source.options)
            start_edit(report, source, fix.source)
            st.session_state["probe_job"] = submit_edit(
                st.session_state["edit"], fix.source, options
            )
            st.switch_page("pages/probe.py")
        if right.button("Edit it first", key=f"{key}-edit"):
            start_edit(report, source, fix.source)
            st.switch_page("pages/probe.py")


def lineage(report: dict, key: str) -> None:
    """The report this one was made after (before and after, side by side), the reports
    made after it, and the way to edit its code and probe again."""
    before_id = report.get("before")
    before = store().get(before_id) if before_id else None
    if before_id and before is None:
        st.caption(f"Made after report `{before_id}`, which is no longer in the history.")
    if before is not None:
        with st.container(border=True, key=f"{key}-before-after"):
            st.markdown(
                f"**Before and after**: this probe edits the code of report "
                f"[`{before_id}`]({permalink(before_id)})."
            )
            compare_view(before, report, key=f"{key}-compare")
    later = [] if report.get("imported") else store().after(report["id"])
    if later:
        links = ", ".join(f"[`{r}`]({permalink(r)})" for r in later)
        st.caption(f"Edited and probed again: report {links}.")
    source = kept_source(report)
    if source is not None and st.button(
        "Edit the code and probe again", icon=":material/edit:", key=f"{key}-edit"
    ):
        start_edit(report, source)
        st.switch_page("pages/probe.py")


CHANGE_ICONS = {
    "fixed": ":material/check_circle:",
    "partly fixed": ":material/check:",
    "new": ":material/error:",
    "changed": ":material/swap_horiz:",
    "unchanged": ":material/remove:",
}


def compare_view(before: dict, after: dict, key: str) -> None:
    """What changed from `before` to `after`: the findings fixed, new and unchanged, the
    trained batches per epoch per stack, the two verdicts, and the chart overlaid."""
    result = diagnostics.compare(before, after)
    st.markdown(md(result.summary()))
    for change in result.findings:
        st.markdown(
            f"{CHANGE_ICONS[change.change]} **{change.words()}**: `{change.code}`, "
            f"{md(change.title)}"
        )
    rows = [
        {
            "stack": STACK_LABELS.get(r.stack, r.stack),
            "fit() call": r.call,
            "trained per epoch, before → after": r.words(),
            "expected per epoch": _expected_words(r),
        }
        for r in result.runs
    ]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"{key}-runs")
    left, right = st.columns(2)
    for col, which, report in ((left, "Before", before), (right, "After", after)):
        with col:
            st.markdown(f"**{which}** · report `{report['id']}` · {report['created']}")
            banner(report)
    chart(lambda _: charts.before_after(before, after), after, key=f"{key}-chart")


def _expected_words(run) -> str:
    if run.expected_before == run.expected_after:
        return "unknown" if run.expected_after is None else str(run.expected_after)
    return f"{run.expected_before} → {run.expected_after}"


def accepted_upload(upload, key: str, limits: dict[str, int]):
    """The uploaded file when fitprobe can take it, else None. A file of another type
    (`limits` maps each accepted suffix to its size limit in MB) or over its limit is
    refused with its reason on the page, which stays until the next upload, and the
    uploader is emptied (`upload_key(key)` changes), so refused files do not pile up."""
    refused = f"{key}-refused"
    if upload is not None:
        name = upload.name
        suffix = next((s for s in limits if name.lower().endswith(s)), None)
        size = len(upload.getvalue())
        if suffix is None:
            kinds = ", ".join(limits)
            st.session_state[refused] = f"{code(name)} was refused: fitprobe takes {kinds} files."
        elif size > limits[suffix] * 1024 * 1024:
            st.session_state[refused] = (
                f"{code(name)} was refused: it is {size / 1e6:.1f} MB; "
                f"a {suffix} file is at most {limits[suffix]} MB."
            )
        else:
            st.session_state.pop(refused, None)
            return upload
        st.session_state[f"{key}-round"] = st.session_state.get(f"{key}-round", 0) + 1
        st.rerun()
    if st.session_state.get(refused):
        st.error(st.session_state[refused], icon=":material/block:")
    return None


def upload_key(key: str) -> str:
    """The uploader's widget key: a new one empties it (see `accepted_upload`)."""
    return f"{key}-{st.session_state.get(f'{key}-round', 0)}"


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
    lineage(report, key)
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
        source = kept_source(report)
        for i, finding in enumerate(findings):
            finding_card(finding, key=f"{key}-finding-{i}", several_calls=several, report=report)
            fix_preview(report, finding, source, key=f"{key}-fix-{i}")
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
            _streams(stack)
            exc = stack.get("script_exception")
            if exc and exc.get("traceback"):
                st.markdown(
                    "The exception fit() raised, which ended the script:"
                    if exc.get("raised_by_fit")
                    else "The script's own exception (outside fit()):"
                )
                st.code(exc["traceback"], language=None)


def _streams(stack: dict) -> None:
    """A stack's stdout and stderr without TensorFlow's and CUDA's own logging; the raw
    text in a tab beside it (an expander cannot hold another)."""
    captured = {s: stack.get(s) or {} for s in ("stdout", "stderr")}
    captured = {s: c for s, c in captured.items() if c.get("text")}
    quiet = {s: diagnostics.quiet_output(c["text"]) for s, c in captured.items()}
    hidden = sum(dropped for _, dropped in quiet.values())

    def show(raw: bool) -> None:
        for stream, c in captured.items():
            text = c["text"] if raw else quiet[stream][0]
            if not text.strip():
                continue
            cut = f" ({c['bytes']} bytes, truncated)" if c.get("truncated") else ""
            st.markdown(f"`{stream}`{cut}")
            st.code(text, language=None)

    if not hidden:
        show(raw=False)
        return
    lines = diagnostics.plural(hidden, "line")
    shown, raw = st.tabs(["Output", f"Raw output ({lines} of TensorFlow/CUDA logging hidden)"])
    with shown:
        if not any(text.strip() for text, _ in quiet.values()):
            st.caption("Nothing but TensorFlow's and CUDA's own logging.")
        show(raw=False)
    with raw:
        show(raw=True)


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


RUNNING_POLL_S = 0.5
WAITING_POLL_S = 2.0


def follow(job_id: str, *, key: str) -> None:
    """Live progress of a probe job (its time, elapsed and left, and a Cancel button);
    reruns the page once it has finished. A job waiting in the queue is looked at every
    `WAITING_POLL_S` only: eight waiting tabs polling twice a second cost the server
    more than the one running probe's progress is worth."""
    job = JOBS.get(job_id)
    waiting = job is not None and job.state == "queued"

    @st.fragment(run_every=WAITING_POLL_S if waiting else RUNNING_POLL_S)
    def _progress():
        job = JOBS.get(job_id)
        if job is None:
            st.warning("This probe is no longer known (the app was restarted). Run it again.")
            return
        if job.state in ("done", "failed", "cancelled") or (waiting and job.state != "queued"):
            st.rerun()  # the report; or, once it runs, its progress at the running rate
        position = JOBS.queue_position(job_id)
        label = (
            f"Waiting for a free probe slot: number {position} in the queue"
            if position
            else "Probing with real Keras…"
        )
        with st.status(label, expanded=True, state="running"):
            clock = f" · {job.clock()}" if job.state == "running" else ""
            st.progress(job.fraction, text=f"{job.fraction:.0%}{clock}")
            for line in list(job.lines)[-40:]:
                st.markdown(md(line))
            stop = "Stop this probe now: its report says where the code was"
            if job.cancel.is_set():
                st.caption("Cancelling…")
            elif st.button("Cancel", key=f"{key}-cancel", help=stop):
                JOBS.cancel(job_id)
                st.caption("Cancelling…")

    with st.container(key=f"{key}-progress"):
        _progress()


def finished(job_id: str | None):
    """(report, error) of a finished job; (None, None) while it runs or when unknown."""
    job = JOBS.get(job_id)
    if job is None or job.state not in ("done", "failed", "cancelled"):
        return None, None
    return job.report, job.error


def running(job_id: str | None) -> bool:
    job = JOBS.get(job_id)
    return job is not None and job.state in ("queued", "running")
