"""The history: reports with their labels and kept sources, and every probe submitted.

A revision spells its tables out rather than importing `tables.py`: it must create
the layout as it was at this revision, whatever `tables.py` says later.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
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
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("label", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("before", sa.Text),
        sa.Column("saved", sa.Float),
    )
    op.create_index("reports_created", "reports", ["created"])
    op.create_index("reports_sample", "reports", ["sample", "variant", "sha256"])
    op.create_table(
        "sources",
        sa.Column(
            "id", sa.Text, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("data", sa.LargeBinary),
    )
    op.create_table(
        "jobs",
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
    )
    op.create_index("jobs_state", "jobs", ["state"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("sources")
    op.drop_table("reports")
