"""fitprobe's library: observe what Keras `fit()` really does with an input pipeline.

Data moves one way; each folder is one side of the process boundary or one stage:
- `schema`: the contract between the two sides: `ProbeOptions` (what the user asked,
  from the CLI or the app to the worker), the job and the events. The only module
  both sides import.
- `engine/` (the app's or the CLI's process): read the input (`inputs`, `notebook`,
  `attach`), start and contain one worker per Keras stack (`isolation`, `sandbox`,
  `pool`), run probes for the app (`jobs`), turn events into runs (`assemble`), keep
  the history (`store`). `probe` orchestrates.
- `worker/` (a process of its own, beside the user's code): `main` runs the job;
  `recorder` and `channel` observe each fit() call; `keras_hooks` is the one private
  hook per Keras stack; `adapters`, `fingerprint`, `surroundings`, `module_mode`,
  `userframes`.
- `diagnosis/`: `facts` reads the code once (static facts), `diagnose` runs the rules
  and writes the verdict.
- `rules/`: one module per finding code: its observed check, its static check, its text.
- `report/`: the report as a value (schema "fitprobe.report/1"), its labels.
- `render/`: text, Markdown, HTML and plotly charts of a report.
- `cli`: `python -m diagnostics` / `fitprobe`; `playground`: the Playground's
  predictions; `packages`: what fitprobe knows of third-party packages.
Rules never run Keras; the probe never decides what is wrong. This package never
imports streamlit. The app's pages use only the names below.
"""

from diagnostics import playground
from diagnostics.diagnosis.diagnose import diagnose
from diagnostics.diagnosis.facts import Precheck, bare_title, check_source
from diagnostics.engine.attach import (
    ARCHIVE_SUFFIXES,
    MAX_ARCHIVE_BYTES,
    archive_listing,
    covers,
    parse_counts,
    parse_found_line,
    parse_standin,
)
from diagnostics.engine.inputs import (
    MAX_FILE_BYTES,
    MAX_NOTEBOOK_BYTES,
    DataSource,
    InputError,
    list_sources,
    parse_argument,
    read_user_file,
)
from diagnostics.engine.jobs import JOBS
from diagnostics.engine.probe import gpu_present, probe, probe_code
from diagnostics.engine.sandbox import BWRAP
from diagnostics.engine.sandbox import detect as sandbox_isolation
from diagnostics.engine.store import DB_NAME, data_dir, default_store
from diagnostics.packages import off_data_path
from diagnostics.render import charts, render_findings, render_html, render_markdown, render_table
from diagnostics.report import SCHEMA, epoch_table, exit_code, input_notes, to_json
from diagnostics.report.imported import MAX_IMPORT_BYTES, ReportRefused, read_report
from diagnostics.report.labels import STACK_LABELS, locate, plural, worst_severity
from diagnostics.rules import catalog, rule_doc
from diagnostics.schema import (
    DEFAULT_EPOCHS,
    DEFAULT_MAX_STEPS,
    DEFAULT_TIMEOUT,
    DEVICES,
    STACKS,
    ProbeOptions,
    StandIn,
)

__all__ = [
    "ARCHIVE_SUFFIXES",
    "BWRAP",
    "DB_NAME",
    "DEFAULT_EPOCHS",
    "DEFAULT_MAX_STEPS",
    "DEFAULT_TIMEOUT",
    "DEVICES",
    "JOBS",
    "MAX_ARCHIVE_BYTES",
    "MAX_FILE_BYTES",
    "MAX_IMPORT_BYTES",
    "MAX_NOTEBOOK_BYTES",
    "SCHEMA",
    "STACKS",
    "STACK_LABELS",
    "DataSource",
    "InputError",
    "Precheck",
    "ProbeOptions",
    "ReportRefused",
    "StandIn",
    "archive_listing",
    "bare_title",
    "catalog",
    "charts",
    "check_source",
    "covers",
    "data_dir",
    "default_store",
    "diagnose",
    "epoch_table",
    "exit_code",
    "gpu_present",
    "input_notes",
    "list_sources",
    "locate",
    "off_data_path",
    "parse_argument",
    "parse_counts",
    "parse_found_line",
    "parse_standin",
    "playground",
    "plural",
    "probe",
    "probe_code",
    "read_report",
    "read_user_file",
    "render_findings",
    "render_html",
    "render_markdown",
    "render_table",
    "rule_doc",
    "sandbox_isolation",
    "to_json",
    "worst_severity",
]
