"""Dashboards: answers of visuals over SPICE snapshots, kept until the snapshot is replaced.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboards_answers",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("snapshot", sa.String(255), nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("rows", sa.JSON, nullable=False),
        sa.Column("query_execution_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dashboards_answers_snapshot", "dashboards_answers", ["snapshot"])


def downgrade() -> None:
    op.drop_index("ix_dashboards_answers_snapshot", table_name="dashboards_answers")
    op.drop_table("dashboards_answers")
