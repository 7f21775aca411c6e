"""History: every report, kept so a support engineer can find yesterday's case.

With nothing configured, the history is one SQLite file, `history.sqlite3`, in the
data directory: the folder named by `FITPROBE_DATA_DIR`, else `data/` beside this
package. With `FITPROBE_DATABASE_URL` (a SQLAlchemy URL, `postgresql+psycopg://...`)
it lives in that database, shared by every app process and worker that names it. The
tables are SQLAlchemy Core (`tables.py`); their layout is Alembic's to migrate
(`migrations/`), and a SQLite history written before Alembic is brought up in place.

A report is stored whole (zlib-compressed JSON, so it renders again exactly as it
was) next to the columns the history page lists, filters and searches on: its
label and note (a ticket number, a student's name), and the report it was made
after (`before`, when the user edited a probed script and probed it again). What
was probed is kept beside it (`ProbedSource`: the script or notebook text, the
options, an attached data archive while it is small), so a report can be opened
in the editor and probed again; reports saved without it still work. Probes are
recorded from the moment they are submitted (`jobs`), so none is lost to a crash.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from diagnostics.engine.tables import jobs, metadata, reports, sources
from diagnostics.report import labelled, to_json
from diagnostics.report.labels import worst_severity

__all__ = [
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "JobRecord",
    "ProbedSource",
    "ReportStore",
    "StoredReport",
    "data_dir",
    "default_store",
]

DATA_DIR_ENV = "FITPROBE_DATA_DIR"
DATABASE_URL_ENV = "FITPROBE_DATABASE_URL"
DB_NAME = "history.sqlite3"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding diagnostics/
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 10.0
LEGACY_LAYOUT = 3  # the last SQLite layout numbered with PRAGMA user_version
UNFINISHED = ("queued", "running")
MAX_SOURCE_BYTES = 25 * 1024 * 1024  # the largest input fitprobe probes (a notebook)
MAX_KEPT_DATA_BYTES = 20 * 1024 * 1024  # an attached archive kept to probe again
LISTED = (
    "id", "created", "name", "mode", "origin", "status", "worst", "verdict", "codes",
    "stacks", "sample", "variant", "label", "note", "before",
)  # fmt: skip
SEARCHED = ("label", "note", "name", "verdict", "codes", "id")


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV) or PACKAGE_ROOT / "data")


class LayoutError(RuntimeError):
    """The database was written by a newer fitprobe, or is not a fitprobe history."""


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
    def __init__(self, where: str | os.PathLike):
        """`where`: a SQLAlchemy URL, or the path of a SQLite file."""
        text = str(where)
        if "://" in text:
            self.url = make_url(text)
        else:
            Path(text).parent.mkdir(parents=True, exist_ok=True)
            self.url = make_url(f"sqlite:///{Path(text).resolve()}")
        sqlite = self.url.get_backend_name() == "sqlite"
        self.path = Path(self.url.database) if sqlite else None
        self.engine = sa.create_engine(
            self.url,
            connect_args={"timeout": BUSY_TIMEOUT_S} if sqlite else {},
            pool_pre_ping=not sqlite,
        )
        if sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_settings)
        self._migrate()

    def close(self) -> None:
        """Let go of the database connections this store holds."""
        self.engine.dispose()

    @property
    def where(self) -> str:
        """The history, as a page names it: its file, or its database."""
        if self.path is not None:
            return self.path.name
        return f"{self.url.get_backend_name()} database {self.url.database} on {self.url.host}"

    def layout(self) -> str | None:
        """The Alembic revision the database is at."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as db:
            return MigrationContext.configure(db).get_current_revision()

    def _migrate(self) -> None:
        """Bring the layout to Alembic's head; a SQLite history from before Alembic is
        upgraded in place first, then marked as at head."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        heads = set(ScriptDirectory.from_config(config).get_heads())
        with self.engine.begin() as db:
            config.attributes["connection"] = db
            current = set(MigrationContext.configure(db).get_current_heads())
            if current - heads and not current & heads:
                known = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
                if current - known:
                    raise LayoutError(
                        f"{self.where} was written by a newer fitprobe "
                        f"(history layout {', '.join(sorted(current))})"
                    )
            if not current and _legacy_sqlite(db):
                metadata.create_all(db)  # the tables and indexes layout 3 lacked
                command.stamp(config, "head")
            else:
                command.upgrade(config, "head")

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
        codes = sorted({f["code"] for f in report.get("findings", [])})
        row = {
            "id": report["id"],
            "created": report["created"],
            "name": report["input"]["name"],
            "mode": report["input"].get("mode"),
            "origin": origin,
            "status": report["status"],
            "worst": worst_severity(report),
            "verdict": report.get("verdict") or "",
            "codes": " ".join(codes),
            "stacks": " ".join(s["stack"] for s in report.get("stacks", [])),
            "sample": sample,
            "variant": variant,
            "sha256": report["input"].get("sha256"),
            "label": report.get("label"),
            "note": report.get("note"),
            "before": report.get("before"),
            "saved": time.time(),
            "body": _pack(to_json(report, indent=None)),
        }
        with self.engine.begin() as db:
            # An upsert: replacing the row would take its kept source along.
            _upsert(db, reports, row)
            if source is not None:
                kept = {"id": report["id"], "body": _pack(json.dumps(source.to_dict()))}
                _upsert(db, sources, {**kept, "data": source.data})
        return report["id"]

    def source(self, report_id: str) -> ProbedSource | None:
        """What the report probed, or None when it was not kept (an imported report, one
        saved before sources were kept, one over the size cap)."""
        query = sa.select(sources.c.body, sources.c.data).where(sources.c.id == report_id)
        with self.engine.connect() as db:
            row = db.execute(query).first()
        if row is None:
            return None
        return ProbedSource(**json.loads(_unpack(row.body)), data=row.data)

    def relabel(self, report_id: str, label: str | None, note: str | None) -> bool:
        """Set a saved report's label and note (in its row and in the report itself)."""
        report = self.get(report_id)
        if report is None:
            return False
        report.update(labelled(label, note))
        change = (
            sa.update(reports)
            .where(reports.c.id == report_id)
            .values(
                label=report["label"],
                note=report["note"],
                body=_pack(to_json(report, indent=None)),
            )
        )
        with self.engine.begin() as db:
            db.execute(change)
        return True

    def after(self, report_id: str) -> list[str]:
        """The ids of the reports made after this one (edited and probed again), oldest first."""
        query = (
            sa.select(reports.c.id)
            .where(reports.c.before == report_id)
            .order_by(reports.c.created, reports.c.saved)
        )
        with self.engine.connect() as db:
            return list(db.execute(query).scalars())

    def get(self, report_id: str) -> dict | None:
        query = sa.select(reports.c.body).where(reports.c.id == report_id)
        with self.engine.connect() as db:
            body = db.execute(query).scalar()
        return json.loads(_unpack(body)) if body is not None else None

    def delete(self, report_id: str) -> bool:
        with self.engine.begin() as db:
            db.execute(sa.delete(sources).where(sources.c.id == report_id))
            return db.execute(sa.delete(reports).where(reports.c.id == report_id)).rowcount > 0

    def list(
        self,
        *,
        search: str = "",
        worst: list[str] | None = None,
        origin: str | None = None,
        limit: int = 200,
    ) -> list[StoredReport]:
        """Newest first. `search` matches the label, the note, the name, the verdict, a
        finding code or the id (case-insensitive)."""
        query = sa.select(*(reports.c[c] for c in LISTED))
        if search.strip():
            escaped = search.strip().translate({ord(c): "\\" + c for c in "\\%_"})
            like = f"%{escaped}%"
            query = query.where(sa.or_(*(reports.c[c].ilike(like, escape="\\") for c in SEARCHED)))
        if worst:
            query = query.where(reports.c.worst.in_(worst))
        if origin:
            query = query.where(reports.c.origin == origin)
        query = query.order_by(reports.c.created.desc(), reports.c.saved.desc()).limit(limit)
        with self.engine.connect() as db:
            rows = db.execute(query).all()
        return [
            StoredReport(*r[:8], (r.codes or "").split(), (r.stacks or "").split(), *r[10:])
            for r in rows
        ]

    def latest_for_sample(self, sample: str, variant: str, sha256: str | None) -> dict | None:
        """The newest report of a gallery sample's variant, probed from this exact file
        (whatever its status: a sample that hangs on purpose ends in a timeout)."""
        same_file = reports.c.sha256.is_(None) if sha256 is None else reports.c.sha256 == sha256
        query = (
            sa.select(reports.c.body)
            .where(reports.c.sample == sample, reports.c.variant == variant, same_file)
            .order_by(reports.c.created.desc(), reports.c.saved.desc())
            .limit(1)
        )
        with self.engine.connect() as db:
            body = db.execute(query).scalar()
        return json.loads(_unpack(body)) if body is not None else None

    # --- probes as submitted: none is lost ----------------------------------------------
    def record_job(
        self, job_id: str, *, name: str, label: str | None, origin: str, owner: str,
        source: ProbedSource | None,
    ) -> None:  # fmt: skip
        """A probe, as it is submitted (state "queued"), with what it will probe."""
        kept = None
        if source is not None:
            body = source.to_dict()
            if source.data is not None:  # the bytes stay with the job, not with its record
                body["data_note"] = (
                    f"the data archive `{source.data_name}` was not kept with a probe that "
                    "did not finish: attach it again"
                )
            kept = _pack(json.dumps(body))
        row = {
            "id": job_id,
            "submitted": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "state": "queued",
            "name": name,
            "label": label,
            "origin": origin,
            "owner": owner,
            "saved": time.time(),
            "source": kept,
        }
        with self.engine.begin() as db:
            _upsert(db, jobs, row)

    def job_state(
        self, job_id: str, state: str, *, report: str | None = None, error: str | None = None
    ) -> None:
        change = (
            sa.update(jobs)
            .where(jobs.c.id == job_id)
            .values(state=state, report=sa.func.coalesce(report, jobs.c.report), error=error)
        )
        with self.engine.begin() as db:
            db.execute(change)

    def jobs(self, states: tuple[str, ...] = ("interrupted",), limit: int = 200) -> list:
        """Newest first: the probes in these states."""
        columns = ("id", "submitted", "state", "name", "label", "origin", "owner", "report")
        query = (
            sa.select(*(jobs.c[c] for c in columns), jobs.c.error)
            .where(jobs.c.state.in_(states))
            .order_by(jobs.c.submitted.desc(), jobs.c.saved.desc())
            .limit(limit)
        )
        with self.engine.connect() as db:
            return [JobRecord(*row) for row in db.execute(query).all()]

    def job_source(self, job_id: str) -> ProbedSource | None:
        query = sa.select(jobs.c.source).where(jobs.c.id == job_id)
        with self.engine.connect() as db:
            body = db.execute(query).scalar()
        return None if body is None else ProbedSource(**json.loads(_unpack(body)))

    def interrupt_orphans(self, alive) -> list[str]:
        """Mark "interrupted" the unfinished probes whose process is gone (`alive(owner)`
        False; None, another host's, is left alone); returns their ids."""
        query = sa.select(jobs.c.id, jobs.c.owner).where(jobs.c.state.in_(UNFINISHED))
        with self.engine.begin() as db:
            gone = [row.id for row in db.execute(query).all() if alive(row.owner) is False]
            if gone:
                db.execute(
                    sa.update(jobs)
                    .where(jobs.c.id.in_(gone), jobs.c.state.in_(UNFINISHED))
                    .values(state="interrupted", error="its process ended before the probe did")
                )
        return gone

    def count(self) -> int:
        with self.engine.connect() as db:
            return db.execute(sa.select(sa.func.count()).select_from(reports)).scalar()


def _pack(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def _unpack(body: bytes) -> str:
    return zlib.decompress(body).decode("utf-8")


def _upsert(db, table: sa.Table, row: dict) -> None:
    """Insert `row`, or update the row with its primary key (SQLite and PostgreSQL both
    say INSERT ... ON CONFLICT)."""
    if db.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(**row)
    keys = [c.name for c in table.primary_key.columns]
    changed = {k: statement.excluded[k] for k in row if k not in keys}
    db.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed))


def _sqlite_settings(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers and a writer at once, two processes
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _legacy_sqlite(db) -> bool:
    """A SQLite history from before Alembic (PRAGMA user_version 1 to 3): brought to the
    columns of layout 3 in place. False for any other database."""
    if db.dialect.name != "sqlite":
        return False
    version = db.exec_driver_sql("PRAGMA user_version").scalar()
    if not version:
        return False
    if version > LEGACY_LAYOUT:
        raise LayoutError(f"a history of layout {version}, newer than this fitprobe's")
    if version == 1:  # no labels, no kept sources yet
        for column in ("label", "note", "before"):
            db.exec_driver_sql(f"ALTER TABLE reports ADD COLUMN {column} TEXT")
    for table in ("reports", "jobs"):
        names = {row[1] for row in db.exec_driver_sql(f"PRAGMA table_info({table})")}
        if names and "saved" not in names:
            db.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN saved FLOAT")
    return True


def default_store() -> ReportStore:
    """The app's store: the database `FITPROBE_DATABASE_URL` names, else
    `history.sqlite3` in `data_dir()`."""
    return ReportStore(os.environ.get(DATABASE_URL_ENV) or data_dir() / DB_NAME)
