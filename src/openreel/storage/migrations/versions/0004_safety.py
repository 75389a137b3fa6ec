"""Safety and provenance: the artists' opt-out registry, the content registry, prompt retention.

Written out in full rather than derived from ``openreel.storage.db`` so that history never
changes when the code's tables do.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates ``artist_optouts`` and ``content``; adds ``jobs.prompt_kept``."""
    op.create_table(
        "artist_optouts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("aliases", sa.Text, nullable=False),
        sa.Column("allow_style", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("contact", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artist_optouts"),
        sa.UniqueConstraint("key", name="uq_artist_optouts_key"),
    )
    op.create_index("ix_artist_optouts_updated_at", "artist_optouts", ["updated_at"])
    op.create_table(
        "content",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("fps", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("hashes", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_content"),
    )
    op.create_index("ix_content_sha256", "content", ["sha256"])
    op.add_column(
        "jobs",
        sa.Column("prompt_kept", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_index("ix_jobs_prompt_kept", "jobs", ["prompt_kept"])


def downgrade() -> None:
    """Drops both tables and the column."""
    op.drop_index("ix_jobs_prompt_kept", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("prompt_kept")
    op.drop_index("ix_content_sha256", table_name="content")
    op.drop_table("content")
    op.drop_index("ix_artist_optouts_updated_at", table_name="artist_optouts")
    op.drop_table("artist_optouts")
