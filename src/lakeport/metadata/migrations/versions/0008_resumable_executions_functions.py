"""Resumable state-machine executions (runner lease, checkpoints) and registered functions (Lambda's role).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("state_executions") as batch:
        batch.add_column(sa.Column("runner", sa.String(128), nullable=True))
        batch.add_column(sa.Column("lease_until", _TS, nullable=True))
    op.create_table(
        "state_checkpoints",
        sa.Column("execution", sa.String(512), primary_key=True),
        sa.Column("key", sa.String(1024), primary_key=True),
        sa.Column("value", sa.JSON, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "functions",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("arn", sa.String(255), nullable=False),
        sa.Column("handler", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("timeout", sa.Integer, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("functions")
    op.drop_table("state_checkpoints")
    with op.batch_alter_table("state_executions") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("runner")
