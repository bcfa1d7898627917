"""Query executions (the query service).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "query_executions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("statement_type", sa.String(16), nullable=False),
        sa.Column("database", sa.String(255), nullable=False),
        sa.Column("workgroup", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_change_reason", sa.Text, nullable=True),
        sa.Column("output_location", sa.String(1024), nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("client_request_token", sa.String(128), nullable=True),
        sa.Column("submitted_at", _TS, nullable=False),
        sa.Column("completed_at", _TS, nullable=True),
        sa.Column("statistics", sa.JSON, nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("tables", sa.JSON, nullable=False),
        sa.UniqueConstraint("client_request_token", name="uq_query_executions_token"),
    )
    op.create_index("ix_query_executions_submitted", "query_executions", ["submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_query_executions_submitted", table_name="query_executions")
    op.drop_table("query_executions")
