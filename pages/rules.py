"""Rules: the catalog, one section per rule, rendered from the rules' own docstrings."""

from __future__ import annotations

import streamlit as st

from diagnostics import catalog, rule_doc
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
    st.warning(f"There is no rule `{wanted}`; here is the whole catalog.")
    wanted = None

search = st.text_input("Filter", placeholder="a code or a word, e.g. generator", key="filter")
severities = st.pills(
    "Severity", ["error", "warning", "info"], selection_mode="multi", key="severity"
)

shown = [
    code
    for code, module in rules.items()
    if (not severities or module.SEVERITY in severities)
    and (
        not search.strip()
        or search.lower() in code
        or search.lower() in (module.TITLE + rule_doc(code)).lower()
    )
]
if wanted:  # the rule a finding card linked to comes first, open
    shown = [wanted] + [c for c in shown if c != wanted]
st.caption(f"{len(shown)} of {len(rules)} rules")
for code in shown:
    module = rules[code]
    doc = rule_doc(code)
    body = doc.split("\n", 1)[1] if doc.startswith(code) else doc
    with st.expander(f"`{code}` · {module.SEVERITY} · {module.TITLE}", expanded=code == wanted):
        st.markdown(body.replace("## ", "#### "))
