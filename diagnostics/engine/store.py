"""History: every report, kept in SQLite so a support engineer can find yesterday's case.

The database is one file, `history.sqlite3`, in the data directory: the folder named
by the environment variable `FITPROBE_DATA_DIR`, else `data/` beside this package.
A report is stored whole (zlib-compressed JSON, so it renders again exactly as it
was) next to the columns the history page lists, filters and searches on. Each
call opens its own connection: Streamlit sessions run on threads of their own,
and a second app process may share the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from diagnostics.report import to_json
from diagnostics.report.labels import worst_severity

__all__ = ["DATA_DIR_ENV", "ReportStore", "StoredReport", "data_dir", "default_store"]

DATA_DIR_ENV = "FITPROBE_DATA_DIR"
DB_NAME = "history.sqlite3"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding diagnostics/
BUSY_TIMEOUT_S = 10.0
SCHEMA_VERSION = 1  # PRAGMA user_version; a later layout migrates from it
COLUMNS = (
    "id", "created", "name", "mode", "origin", "status", "worst", "verdict", "codes", "stacks",
    "sample", "variant", "sha256", "body",
)  # fmt: skip
LISTED = (
    "id",
    "created",
    "name",
    "mode",
    "origin",
    "status",
    "worst",
    "verdict",
    "codes",
    "stacks",
    "sample",
    "variant",
)
SEARCHED = ("name", "verdict", "codes", "id")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    name TEXT NOT NULL,
    mode TEXT,
    origin TEXT NOT NULL,
    status TEXT NOT NULL,
    worst TEXT NOT NULL,
    verdict TEXT NOT NULL,
    codes TEXT NOT NULL,
    stacks TEXT NOT NULL,
    sample TEXT,
    variant TEXT,
    sha256 TEXT,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_created ON reports (created);
CREATE INDEX IF NOT EXISTS reports_sample ON reports (sample, variant, sha256);
"""


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV) or PACKAGE_ROOT / "data")


@dataclass(frozen=True)
class StoredReport:
    """One row of the history list (the report itself is fetched with `get`)."""

    id: str
    created: str
    name: str
    mode: str | None
    origin: str
    status: str
    worst: str
    verdict: str
    codes: list[str]
    stacks: list[str]
    sample: str | None
    variant: str | None


class ReportStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"{self.path} was written by a newer fitprobe (history layout {version})"
                )
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)

    def save(
        self,
        report: dict,
        *,
        origin: str = "probe",
        sample: str | None = None,
        variant: str | None = None,
    ) -> str:
        """Store (or replace) a report; returns its id. `origin` says which page made it."""
        body = zlib.compress(to_json(report, indent=None).encode("utf-8"), 6)
        codes = sorted({f["code"] for f in report.get("findings", [])})
        row = (
            report["id"],
            report["created"],
            report["input"]["name"],
            report["input"].get("mode"),
            origin,
            report["status"],
            worst_severity(report),
            report.get("verdict") or "",
            " ".join(codes),
            " ".join(s["stack"] for s in report.get("stacks", [])),
            sample,
            variant,
            report["input"].get("sha256"),
            body,
        )
        sql = (
            f"INSERT OR REPLACE INTO reports ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        with closing(self._connect()) as db, db:
            db.execute(sql, row)
        return report["id"]

    def get(self, report_id: str) -> dict | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT body FROM reports WHERE id = ?", (report_id,)).fetchone()
        return json.loads(zlib.decompress(row[0])) if row else None

    def delete(self, report_id: str) -> bool:
        with closing(self._connect()) as db, db:
            return db.execute("DELETE FROM reports WHERE id = ?", (report_id,)).rowcount > 0

    def list(
        self,
        *,
        search: str = "",
        worst: list[str] | None = None,
        origin: str | None = None,
        limit: int = 200,
    ) -> list[StoredReport]:
        """Newest first. `search` matches the name, the verdict, a finding code or the id."""
        where, params = [], {"limit": limit}
        if search.strip():
            escaped = search.strip().translate({ord(c): "\\" + c for c in "\\%_"})
            params["like"] = f"%{escaped}%"
            where.append(
                "(" + " OR ".join(f"{col} LIKE :like ESCAPE '\\'" for col in SEARCHED) + ")"
            )
        if worst:
            names = [f"worst{i}" for i in range(len(worst))]
            params.update(zip(names, worst, strict=True))
            where.append(f"worst IN ({', '.join(':' + n for n in names)})")
        if origin:
            params["origin"] = origin
            where.append("origin = :origin")
        sql = (
            f"SELECT {', '.join(LISTED)} FROM reports"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY created DESC, rowid DESC LIMIT :limit"
        )
        with closing(self._connect()) as db:
            rows = db.execute(sql, params).fetchall()
        return [StoredReport(*r[:8], r[8].split(), r[9].split(), *r[10:]) for r in rows]

    def latest_for_sample(self, sample: str, variant: str, sha256: str | None) -> dict | None:
        """The newest report of a gallery sample's variant, probed from this exact file
        (whatever its status: a sample that hangs on purpose ends in a timeout)."""
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT body FROM reports WHERE sample = ? AND variant = ? AND sha256 IS ? "
                "ORDER BY created DESC, rowid DESC LIMIT 1",
                (sample, variant, sha256),
            ).fetchone()
        return json.loads(zlib.decompress(row[0])) if row else None

    def count(self) -> int:
        with closing(self._connect()) as db:
            return db.execute("SELECT count(*) FROM reports").fetchone()[0]


def default_store() -> ReportStore:
    """The app's store: `history.sqlite3` in `data_dir()`."""
    return ReportStore(data_dir() / DB_NAME)
