"""What the app can tell about a pasted or uploaded file before anything runs: whether it
can be probed, its static findings, its data sources, the paths it reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from diagnostics.diagnosis.code import DataSource, calls_fit, list_sources
from diagnostics.diagnosis.facts import read_code
from diagnostics.engine.inputs import InputError, parse_user_bytes
from diagnostics.report.labels import locate

__all__ = ["Precheck", "check_source"]


@dataclass
class Precheck:
    """What the app can tell about a pasted or uploaded file before anything runs."""

    error: str | None  # why it cannot be probed at all (empty, binary, syntax error, ...)
    findings: list[dict]  # static findings, most severe first
    sources: list[DataSource]  # its data sources, for module mode
    calls_fit: bool  # whether it can be probed as a script
    sha256: str | None = None
    data_paths: list[dict] = field(default_factory=list)  # what it reads (Facts.data_paths)
    notebook: dict | None = None  # notebook.Converted.to_dict() for a notebook or its cells
    script: str | None = None  # the Python that runs (a notebook's code cells, converted)

    def where(self, line: int | None) -> str:
        return locate({"notebook": self.notebook}, line)


def check_source(data: bytes | str, name: str) -> Precheck:
    """Read `data` as the file `name` and run the static checks (milliseconds, nothing runs)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        user_file = parse_user_bytes(raw, name)
    except InputError as exc:
        return Precheck(str(exc), [], [], False, exc.sha256)
    info = {"notebook": user_file.notebook.to_dict()} if user_file.notebook else {}
    code = read_code(user_file, info)
    return Precheck(
        None,
        [f.to_dict() for f in code.static],
        list_sources(user_file.tree),
        calls_fit(user_file.tree),
        user_file.sha256,
        code.facts["data_paths"],
        info.get("notebook"),
        user_file.text,
    )
