"""fitprobe's web app: the navigation (one scheme: `st.navigation`) and its pages.

The Probe page is the landing page: paste a script and probe it. Every page is a
thin file in `pages/`: widgets, one call into `diagnostics`, render the report.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="fitprobe", page_icon=":material/search:", layout="wide")

from pages._view import access_gate  # noqa: E402  (after set_page_config)

access_gate()  # with sign-in configured, nothing shows before it

PAGES = [
    st.Page("pages/probe.py", title="Probe", icon=":material/search:", default=True),
    st.Page("pages/history.py", title="History", icon=":material/history:", url_path="history"),
    st.Page("pages/gallery.py", title="Gallery", icon=":material/school:", url_path="gallery"),
    st.Page(
        "pages/playground.py", title="Playground", icon=":material/tune:", url_path="playground"
    ),
    st.Page("pages/rules.py", title="Rules", icon=":material/menu_book:", url_path="rules"),
]

st.navigation(PAGES, position="top").run()
