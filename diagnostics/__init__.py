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

_WHERE = {  # name -> (module, attribute); imported when first used (PEP 562)
    "archive_listing": ("diagnostics.engine.attach", "archive_listing"),
    "ARCHIVE_SUFFIXES": ("diagnostics.engine.attach", "ARCHIVE_SUFFIXES"),
    "bare_title": ("diagnostics.diagnosis.facts", "bare_title"),
    "BWRAP": ("diagnostics.engine.sandbox", "BWRAP"),
    "catalog": ("diagnostics.rules", "catalog"),
    "cells_as_text": ("diagnostics.engine.notebook", "cells_as_text"),
    "charts": ("diagnostics.render.charts", None),
    "code_span": ("diagnostics.render.markdown", "code_span"),
    "escape_markdown": ("diagnostics.render.markdown", "escape"),
    "plain_text": ("diagnostics.render.markdown", "plain"),
    "quiet_output": ("diagnostics.report.output", "quiet"),
    "severities": ("diagnostics.render.text", "severities"),
    "severity_note": ("diagnostics.render.text", "severity_note"),
    "severity_words": ("diagnostics.render.text", "severity_words"),
    "compare": ("diagnostics.report.compare", "compare"),
    "order_reports": ("diagnostics.report.compare", "order"),
    "ProbedSource": ("diagnostics.engine.store", "ProbedSource"),
    "check_source": ("diagnostics.engine.precheck", "check_source"),
    "covers": ("diagnostics.engine.attach", "covers"),
    "data_dir": ("diagnostics.engine.store", "data_dir"),
    "DataSource": ("diagnostics.engine.inputs", "DataSource"),
    "DB_NAME": ("diagnostics.engine.store", "DB_NAME"),
    "DEFAULT_EPOCHS": ("diagnostics.schema", "DEFAULT_EPOCHS"),
    "DEFAULT_MAX_STEPS": ("diagnostics.schema", "DEFAULT_MAX_STEPS"),
    "default_store": ("diagnostics.engine.store", "default_store"),
    "DEFAULT_TIMEOUT": ("diagnostics.schema", "DEFAULT_TIMEOUT"),
    "DEVICES": ("diagnostics.schema", "DEVICES"),
    "diagnose": ("diagnostics.diagnosis.diagnose", "diagnose"),
    "epoch_table": ("diagnostics.report", "epoch_table"),
    "exit_code": ("diagnostics.report", "exit_code"),
    "fixable": ("diagnostics.fix", "fixable"),
    "gpu_present": ("diagnostics.engine.probe", "gpu_present"),
    "input_notes": ("diagnostics.report", "input_notes"),
    "InputError": ("diagnostics.engine.inputs", "InputError"),
    "JOBS": ("diagnostics.engine.jobs", "JOBS"),
    "list_sources": ("diagnostics.engine.inputs", "list_sources"),
    "locate": ("diagnostics.report.labels", "locate"),
    "MAX_ARCHIVE_BYTES": ("diagnostics.engine.attach", "MAX_ARCHIVE_BYTES"),
    "MAX_FILE_BYTES": ("diagnostics.engine.inputs", "MAX_FILE_BYTES"),
    "MAX_IMPORT_BYTES": ("diagnostics.report.imported", "MAX_IMPORT_BYTES"),
    "MAX_NOTEBOOK_BYTES": ("diagnostics.engine.inputs", "MAX_NOTEBOOK_BYTES"),
    "off_data_path": ("diagnostics.packages", "off_data_path"),
    "parse_argument": ("diagnostics.engine.inputs", "parse_argument"),
    "parse_counts": ("diagnostics.engine.attach", "parse_counts"),
    "parse_found_line": ("diagnostics.engine.attach", "parse_found_line"),
    "parse_standin": ("diagnostics.engine.attach", "parse_standin"),
    "playground": ("diagnostics.playground", None),
    "plural": ("diagnostics.report.labels", "plural"),
    "Precheck": ("diagnostics.engine.precheck", "Precheck"),
    "probe": ("diagnostics.engine.probe", "probe"),
    "probe_code": ("diagnostics.engine.probe", "probe_code"),
    "propose_fix": ("diagnostics.fix", "propose_fix"),
    "ProbeOptions": ("diagnostics.schema", "ProbeOptions"),
    "read_report": ("diagnostics.report.imported", "read_report"),
    "read_user_file": ("diagnostics.engine.inputs", "read_user_file"),
    "render_findings": ("diagnostics.render", "render_findings"),
    "render_html": ("diagnostics.render", "render_html"),
    "render_markdown": ("diagnostics.render", "render_markdown"),
    "render_table": ("diagnostics.render", "render_table"),
    "ReportRefused": ("diagnostics.report.imported", "ReportRefused"),
    "rule_doc": ("diagnostics.rules", "rule_doc"),
    "sandbox_isolation": ("diagnostics.engine.sandbox", "detect"),
    "SCHEMA": ("diagnostics.report", "SCHEMA"),
    "STACK_LABELS": ("diagnostics.report.labels", "STACK_LABELS"),
    "STACKS": ("diagnostics.schema", "STACKS"),
    "StandIn": ("diagnostics.schema", "StandIn"),
    "to_json": ("diagnostics.report", "to_json"),
    "worst_severity": ("diagnostics.report.labels", "worst_severity"),
}


def __getattr__(name: str):
    """The public API, imported when first used: a worker (`python -m diagnostics.worker`)
    imports this package and must load nothing of the engine's."""
    try:
        module, attribute = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'diagnostics' has no attribute {name!r}") from None
    import importlib

    value = importlib.import_module(module)
    value = value if attribute is None else getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
    "ProbedSource",
    "ReportRefused",
    "StandIn",
    "archive_listing",
    "bare_title",
    "catalog",
    "cells_as_text",
    "charts",
    "check_source",
    "code_span",
    "compare",
    "covers",
    "data_dir",
    "default_store",
    "diagnose",
    "epoch_table",
    "escape_markdown",
    "exit_code",
    "fixable",
    "gpu_present",
    "input_notes",
    "list_sources",
    "locate",
    "off_data_path",
    "order_reports",
    "parse_argument",
    "parse_counts",
    "parse_found_line",
    "parse_standin",
    "plain_text",
    "playground",
    "plural",
    "probe",
    "probe_code",
    "propose_fix",
    "quiet_output",
    "read_report",
    "read_user_file",
    "render_findings",
    "render_html",
    "render_markdown",
    "render_table",
    "rule_doc",
    "sandbox_isolation",
    "severities",
    "severity_note",
    "severity_words",
    "to_json",
    "worst_severity",
]
