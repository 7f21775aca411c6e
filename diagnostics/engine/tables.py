"""The history's tables, as SQLAlchemy Core sees them (the same on SQLite and
PostgreSQL). Their layout changes only through an Alembic revision (`migrations/`)."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["jobs", "metadata", "reports", "sources"]

metadata = sa.MetaData()

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("mode", sa.Text),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("worst", sa.Text, nullable=False),
    sa.Column("verdict", sa.Text, nullable=False),
    sa.Column("codes", sa.Text, nullable=False),
    sa.Column("stacks", sa.Text, nullable=False),
    sa.Column("sample", sa.Text),
    sa.Column("variant", sa.Text),
    sa.Column("sha256", sa.Text),
    sa.Column("body", sa.LargeBinary, nullable=False),  # the report, zlib-compressed JSON
    sa.Column("label", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("before", sa.Text),  # the id of the report whose code this one edited
    sa.Column("saved", sa.Float),  # when it was saved: the order of reports made together
    sa.Index("reports_created", "created"),
    sa.Index("reports_sample", "sample", "variant", "sha256"),
)

# What a report probed, to probe it again; goes with its report.
sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Text, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("data", sa.LargeBinary),
)

# Every probe from the moment it is submitted: queued, running, done, failed,
# cancelled, interrupted.
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("submitted", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("label", sa.Text),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("report", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("source", sa.LargeBinary),
    sa.Column("saved", sa.Float),
    sa.Index("jobs_state", "state"),
)
