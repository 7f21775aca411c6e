"""Rules: the catalog, one section per rule, rendered from the rules' own docstrings."""

from __future__ import annotations

import streamlit as st

from diagnostics import catalog, code_span, rule_doc, severities, severity_words
from pages import _view as view

view.page_setup()
st.title("Rules")
st.caption(
    "Every finding fitprobe reports comes from one rule: a pure function of what the probe "
    "observed. Each page says what the rule detects, why it hurts (and where Keras 2 and "
    "Keras 3 differ), the broken pattern and the fix."
)

rules = catalog()
wanted = st.query_params.get("rule")
if wanted and wanted not in rules:
    st.warning(f"There is no rule {code_span(wanted)}; here is the whole catalog.")
    wanted = None

search = st.text_input("Filter", placeholder="a code or a word, e.g. generator", key="filter")
chosen = st.pills("Severity", ["error", "warning", "info"], selection_mode="multi", key="severity")

shown = [
    code
    for code, module in rules.items()
    if (not chosen or set(severities(code)) & set(chosen))  # any severity its findings take
    and (
        not search.strip()
        or search.lower() in code
        or search.lower() in (module.TITLE + rule_doc(code)).lower()
    )
]
if wanted:  # the rule a finding card linked to comes first, open
    shown = [wanted] + [c for c in shown if c != wanted]
st.caption(
    f"{len(shown)} of {len(rules)} rules. A rule's severity is its findings' usual one; "
    "where a finding takes another, its card says why."
)
for code in shown:
    module = rules[code]
    doc = rule_doc(code)
    body = doc.split("\n", 1)[1] if doc.startswith(code) else doc
    words = severity_words(code)  # "warning", or "usually warning; error when ..."
    usual = module.SEVERITY if words == module.SEVERITY else f"usually {module.SEVERITY}"
    label = f"{code_span(code)} · {usual} · {view.md(module.TITLE)}"
    with st.expander(label, expanded=code == wanted):
        if words != module.SEVERITY:
            st.markdown(f"**Severity:** {view.md(words)}.")
        st.markdown(body.replace("## ", "#### "))
