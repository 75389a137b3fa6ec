"""Access control: the quota ledger, kill switches, per-principal quotas, job tokens.

Written out in full rather than derived from ``openreel.storage.db`` so that history never
changes when the code's tables do. Existing jobs get no ledger rows: quotas count videos
admitted from this migration on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates ``usage`` and ``pauses`` and adds the new nullable columns."""
    op.create_table(
        "usage",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("settled_at", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("job_id", name="pk_usage"),
    )
    op.create_index("ix_usage_state", "usage", ["state"])
    op.create_index("ix_usage_owner_id_created_at", "usage", ["owner_id", "created_at"])
    op.create_table(
        "pauses",
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("scope", "target", name="pk_pauses"),
    )
    op.add_column("principals", sa.Column("quota_seconds", sa.Float, nullable=True))
    op.add_column("principals", sa.Column("quota_videos", sa.Integer, nullable=True))
    op.add_column("tokens", sa.Column("revoked_reason", sa.Text, nullable=True))
    op.add_column("jobs", sa.Column("token_id", sa.String(64), nullable=True))
    op.create_index("ix_jobs_token_id", "jobs", ["token_id"])


def downgrade() -> None:
    """Drops everything ``upgrade`` created (SQLite needs batch mode to drop columns)."""
    op.drop_index("ix_jobs_token_id", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("token_id")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("revoked_reason")
    with op.batch_alter_table("principals") as batch:
        batch.drop_column("quota_videos")
        batch.drop_column("quota_seconds")
    op.drop_table("pauses")
    op.drop_table("usage")
