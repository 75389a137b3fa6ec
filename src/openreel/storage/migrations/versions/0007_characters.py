"""Characters: people and things cut out of an uploaded clip, named in prompts.

Written out in full rather than derived from ``openreel.storage.db`` so that history never
changes when the code's tables do.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates ``characters``."""
    op.create_table(
        "characters",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("clip_path", sa.Text, nullable=False),
        sa.Column("cutout_path", sa.Text, nullable=False),
        sa.Column("frame_path", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_characters"),
    )
    op.create_index("ix_characters_owner_id_created_at", "characters", ["owner_id", "created_at"])


def downgrade() -> None:
    """Drops it."""
    op.drop_index("ix_characters_owner_id_created_at", table_name="characters")
    op.drop_table("characters")
