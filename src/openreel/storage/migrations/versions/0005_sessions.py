"""Studio sessions held by the server: the cookie names a row here instead of holding a token.

Written out in full rather than derived from ``openreel.storage.db`` so that history never
changes when the code's tables do.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates ``studio_sessions``."""
    op.create_table(
        "studio_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_hash", sa.String(128), nullable=False),
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_studio_sessions"),
        sa.UniqueConstraint("session_hash", name="uq_studio_sessions_session_hash"),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["tokens.id"],
            name="fk_studio_sessions_token_id_tokens",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_studio_sessions_token_id", "studio_sessions", ["token_id"])
    op.create_index("ix_studio_sessions_expires_at", "studio_sessions", ["expires_at"])


def downgrade() -> None:
    """Drops ``studio_sessions`` (every browser is signed out)."""
    op.drop_index("ix_studio_sessions_expires_at", table_name="studio_sessions")
    op.drop_index("ix_studio_sessions_token_id", table_name="studio_sessions")
    op.drop_table("studio_sessions")
