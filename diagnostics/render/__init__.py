"""A report, rendered: plain text (the CLI), Markdown and HTML (the exports), and the
plotly charts the app and the HTML page share. Nothing here re-runs anything."""

from diagnostics.render.html import render_html
from diagnostics.render.markdown import render_markdown
from diagnostics.render.text import render_findings, render_table

__all__ = ["render_findings", "render_html", "render_markdown", "render_table"]
