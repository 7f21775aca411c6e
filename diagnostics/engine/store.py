"""History: every report, kept in SQLite so a support engineer can find yesterday's case.

The database is one file, `history.sqlite3`, in the data directory: the folder named
by the environment variable `FITPROBE_DATA_DIR`, else `data/` beside this package.
A report is stored whole (zlib-compressed JSON, so it renders again exactly as it
was) next to the columns the history page lists, filters and searches on: its
label and note (a ticket number, a student's name), and the report it was made
after (`before`, when the user edited a probed script and probed it again). What
was probed is kept beside it (`ProbedSource`: the script or notebook text, the
options, an attached data archive while it is small), so a report can be opened
in the editor and probed again; reports saved without it still work. Each call
opens its own connection: Streamlit sessions run on threads of their own, and a
second app process may share the file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import zlib
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from diagnostics.report import labelled, to_json
from diagnostics.report.labels import worst_severity

__all__ = [
    "DATA_DIR_ENV",
    "JobRecord",
    "ProbedSource",
    "ReportStore",
    "StoredReport",
    "data_dir",
    "default_store",
]

DATA_DIR_ENV = "FITPROBE_DATA_DIR"
DB_NAME = "history.sqlite3"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding diagnostics/
BUSY_TIMEOUT_S = 10.0
SCHEMA_VERSION = 3  # PRAGMA user_version; a later layout migrates from it
UNFINISHED = ("queued", "running")
MAX_SOURCE_BYTES = 25 * 1024 * 1024  # the largest input fitprobe probes (a notebook)
MAX_KEPT_DATA_BYTES = 20 * 1024 * 1024  # an attached archive kept to probe again
COLUMNS = (
    "id", "created", "name", "mode", "origin", "status", "worst", "verdict", "codes", "stacks",
    "sample", "variant", "sha256", "label", "note", "before", "body",
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
    "label",
    "note",
    "before",
)
SEARCHED = ("label", "note", "name", "verdict", "codes", "id")

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
    body BLOB NOT NULL,
    label TEXT,
    note TEXT,
    before TEXT
);
CREATE INDEX IF NOT EXISTS reports_created ON reports (created);
CREATE INDEX IF NOT EXISTS reports_sample ON reports (sample, variant, sha256);
CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    body BLOB NOT NULL,
    data BLOB
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    submitted TEXT NOT NULL,
    state TEXT NOT NULL,
    name TEXT NOT NULL,
    label TEXT,
    origin TEXT NOT NULL,
    owner TEXT NOT NULL,
    report TEXT,
    error TEXT,
    source BLOB
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
"""
# Layout 1 (no labels, no kept sources) to 2, in place: the old reports stay.
_MIGRATE_1_TO_2 = """
ALTER TABLE reports ADD COLUMN label TEXT;
ALTER TABLE reports ADD COLUMN note TEXT;
ALTER TABLE reports ADD COLUMN before TEXT;
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
    label: str | None = None
    note: str | None = None
    before: str | None = None


@dataclass(frozen=True)
class JobRecord:
    """A probe as submitted: queued, running, done, failed, cancelled, or interrupted (its
    process died before it ended: a server killed, say)."""

    id: str
    submitted: str
    state: str
    name: str
    label: str | None
    origin: str
    owner: str  # leftovers.process_id of the process that ran it
    report: str | None  # the report's id, once there is one
    error: str | None


@dataclass(frozen=True)
class ProbedSource:
    """What a report probed, kept to probe it again: the file's text under its name, the
    options it was probed with (ProbeOptions as a dict, without this machine's data
    path), the gallery sample it came from, and the attached data archive while it is
    at most MAX_KEPT_DATA_BYTES (`data_note` says why one was not kept)."""

    name: str
    text: str
    options: dict = field(default_factory=dict)
    sample: str | None = None
    variant: str | None = None
    data_name: str | None = None
    data: bytes | None = field(default=None, repr=False)
    data_note: str | None = None

    @property
    def notebook(self) -> bool:
        return self.name.lower().endswith(".ipynb")

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "text": self.text,
            "options": self.options,
            "sample": self.sample,
            "variant": self.variant,
            "data_name": self.data_name,
            "data_note": self.data_note,
        }

    @classmethod
    def of(
        cls,
        name: str,
        text: str,
        options: dict,
        *,
        sample: str | None = None,
        variant: str | None = None,
        attachment: tuple[str, bytes] | None = None,
    ) -> ProbedSource | None:
        """The source to keep, or None when the text is over MAX_SOURCE_BYTES."""
        if len(text.encode("utf-8")) > MAX_SOURCE_BYTES:
            return None
        options = {k: v for k, v in options.items() if k not in ("data", "data_name", "workdir")}
        data_name = data = note = None
        if attachment is not None:
            data_name, raw = attachment
            if len(raw) <= MAX_KEPT_DATA_BYTES:
                data = raw
            else:
                note = (
                    f"the data archive `{data_name}` ({len(raw) / 1e6:.0f} MB) was not kept: "
                    f"history keeps archives up to {MAX_KEPT_DATA_BYTES // 1_000_000} MB; "
                    "attach it again"
                )
        return cls(name, text, options, sample, variant, data_name, data, note)


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
            if version == 1:
                db.executescript(_MIGRATE_1_TO_2)
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        db.execute("PRAGMA foreign_keys = ON")  # a deleted report takes its source along
        return db

    def save(
        self,
        report: dict,
        *,
        origin: str = "probe",
        sample: str | None = None,
        variant: str | None = None,
        source: ProbedSource | None = None,
    ) -> str:
        """Store (or replace) a report, and what it probed when `source` is given; returns
        its id. `origin` says which page made it. The report's `label`, `note` and
        `before` (the id of the report it was made after) are listed and searched."""
        if "label" in report or "note" in report:
            report.update(labelled(report.get("label"), report.get("note")))
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
            report.get("label"),
            report.get("note"),
            report.get("before"),
            body,
        )
        # An upsert, not INSERT OR REPLACE: a replaced row would take its kept source along.
        sql = (
            f"INSERT INTO reports ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(COLUMNS))}) ON CONFLICT (id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        )
        with closing(self._connect()) as db, db:
            db.execute(sql, row)
            if source is not None:
                kept = zlib.compress(json.dumps(source.to_dict()).encode("utf-8"), 6)
                db.execute(
                    "INSERT OR REPLACE INTO sources (id, body, data) VALUES (?, ?, ?)",
                    (report["id"], kept, source.data),
                )
        return report["id"]

    def source(self, report_id: str) -> ProbedSource | None:
        """What the report probed, or None when it was not kept (an imported report, one
        saved before sources were kept, one over the size cap)."""
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT body, data FROM sources WHERE id = ?", (report_id,)
            ).fetchone()
        if row is None:
            return None
        kept = json.loads(zlib.decompress(row[0]))
        return ProbedSource(**kept, data=row[1])

    def relabel(self, report_id: str, label: str | None, note: str | None) -> bool:
        """Set a saved report's label and note (in its row and in the report itself)."""
        report = self.get(report_id)
        if report is None:
            return False
        report.update(labelled(label, note))
        body = zlib.compress(to_json(report, indent=None).encode("utf-8"), 6)
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE reports SET label = ?, note = ?, body = ? WHERE id = ?",
                (report["label"], report["note"], body, report_id),
            )
        return True

    def after(self, report_id: str) -> list[str]:
        """The ids of the reports made after this one (edited and probed again), oldest first."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT id FROM reports WHERE before = ? ORDER BY created, rowid", (report_id,)
            ).fetchall()
        return [r[0] for r in rows]

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
        """Newest first. `search` matches the label, the note, the name, the verdict, a
        finding code or the id."""
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

    # --- probes as submitted: none is lost ----------------------------------------------
    def record_job(
        self, job_id: str, *, name: str, label: str | None, origin: str, owner: str,
        source: ProbedSource | None,
    ) -> None:  # fmt: skip
        """A probe, as it is submitted (state "queued"), with what it will probe."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        kept = None
        if source is not None:
            body = source.to_dict()
            if source.data is not None:  # the bytes stay with the job, not with its record
                body["data_note"] = (
                    f"the data archive `{source.data_name}` was not kept with a probe that "
                    "did not finish: attach it again"
                )
            kept = zlib.compress(json.dumps(body).encode("utf-8"), 6)
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR REPLACE INTO jobs (id, submitted, state, name, label, origin, owner, "
                "source) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
                (job_id, now, name, label, origin, owner, kept),
            )

    def job_state(
        self, job_id: str, state: str, *, report: str | None = None, error: str | None = None
    ) -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE jobs SET state = ?, report = coalesce(?, report), error = ? "
                "WHERE id = ?",
                (state, report, error, job_id),
            )

    def jobs(self, states: tuple[str, ...] = ("interrupted",), limit: int = 200) -> list:
        """Newest first: the probes in these states."""
        marks = ", ".join("?" * len(states))
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT id, submitted, state, name, label, origin, owner, report, error "
                f"FROM jobs WHERE state IN ({marks}) ORDER BY submitted DESC, rowid DESC "
                "LIMIT ?",
                (*states, limit),
            ).fetchall()
        return [JobRecord(*row) for row in rows]

    def job_source(self, job_id: str) -> ProbedSource | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT source FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        return ProbedSource(**json.loads(zlib.decompress(row[0])))

    def interrupt_orphans(self, alive) -> list[str]:
        """Mark "interrupted" the unfinished probes whose process is gone (`alive(owner)`
        False; None, another host's, is left alone); returns their ids."""
        with closing(self._connect()) as db, db:
            rows = db.execute(
                f"SELECT id, owner FROM jobs WHERE state IN {UNFINISHED}"
            ).fetchall()
            gone = [job_id for job_id, owner in rows if alive(owner) is False]
            db.executemany(
                "UPDATE jobs SET state = 'interrupted', error = ? WHERE id = ?",
                [("its process ended before the probe did", job_id) for job_id in gone],
            )
        return gone

    def count(self) -> int:
        with closing(self._connect()) as db:
            return db.execute("SELECT count(*) FROM reports").fetchone()[0]


def default_store() -> ReportStore:
    """The app's store: `history.sqlite3` in `data_dir()`."""
    return ReportStore(data_dir() / DB_NAME)
