"""Audit log: the append-only, hash-chained ``audit`` table.

Written out in full rather than derived from ``openreel.storage.db`` so that history never
changes when the code's tables do; a test checks that migrating an empty database yields
exactly the tables the code declares.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Creates the ``audit`` table and its indexes."""
    op.create_table(
        "audit",
        sa.Column("seq", _BIG_ID, nullable=False, autoincrement=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("token_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit"),
        sa.UniqueConstraint("prev_hash", name="uq_audit_prev_hash"),
        sa.UniqueConstraint("row_hash", name="uq_audit_row_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_ts", "audit", ["ts"])
    op.create_index("ix_audit_actor_id", "audit", ["actor_id"])
    op.create_index("ix_audit_action", "audit", ["action"])
    op.create_index("ix_audit_target_id", "audit", ["target_id"])


def downgrade() -> None:
    """Drops everything ``upgrade`` created."""
    op.drop_table("audit")
