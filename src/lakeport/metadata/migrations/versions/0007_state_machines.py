"""State machines, their executions and history events (the states service).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "state_machines",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("arn", sa.String(255), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("role_arn", sa.String(255), nullable=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "state_executions",
        sa.Column("arn", sa.String(512), primary_key=True),
        sa.Column("machine", sa.String(80), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("output", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("cause", sa.Text, nullable=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("role_arn", sa.String(255), nullable=True),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("stopped_at", _TS, nullable=True),
        sa.UniqueConstraint("machine", "name", name="uq_state_executions_name"),
    )
    op.create_index("ix_state_executions_machine", "state_executions", ["machine", "started_at"])
    op.create_table(
        "state_history",
        sa.Column("execution", sa.String(512), primary_key=True),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("previous_id", sa.Integer, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("timestamp", _TS, nullable=False),
        sa.Column("details", sa.JSON, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("state_history")
    op.drop_index("ix_state_executions_machine", table_name="state_executions")
    op.drop_table("state_executions")
    op.drop_table("state_machines")
