"""fitprobe's library: observe what Keras `fit()` really does with an input pipeline.

Stages of the flow (design.md), one module each; data moves one way:
- `sources`: read the user's file, static checks, list a module's data sources.
- `probe`: run one worker per Keras stack and collect events; `isolation` starts and
  contains a worker in the sandbox `sandbox` detects; `pool` keeps workers started
  ahead of time for the app.
- `worker`, `intercept`, `keras_hooks`, `adapters`, `standin`, `fingerprint`,
  `userframes`: inside the worker only; intercept fit, observe, stream events.
- `observations`: events -> per-stack records and per-fit-call runs (`batches`: their
  per-batch records, column by column).
- `preflight`: static facts and findings read from the code (AST), before any run.
- `rules/`: one module per finding code, pure functions of the observations.
- `diagnose`: reconcile static and observed findings, write the verdict.
- `report`: the report JSON (schema "fitprobe.report/1") and its renderings;
  `charts`: report -> plotly figures, for the app and the HTML export.
- `store`: the history (SQLite); `jobs`: probes on background threads for the app;
  `playground`: the Playground's predictions.
- `cli`: `python -m diagnostics`.
Rules never run Keras; the probe never decides what is wrong. This package never
imports streamlit.
"""

from .diagnose import diagnose
from .probe import probe, probe_code
from .report import (
    SCHEMA,
    epoch_table,
    exit_code,
    render_html,
    render_markdown,
    render_table,
    to_json,
)
from .sources import DataSource, InputError, list_sources, read_user_file

__all__ = [
    "SCHEMA",
    "DataSource",
    "diagnose",
    "InputError",
    "epoch_table",
    "exit_code",
    "list_sources",
    "probe",
    "probe_code",
    "read_user_file",
    "render_html",
    "render_markdown",
    "render_table",
    "to_json",
]
