"""Dashboards (QuickSight's role): datasets, SPICE ingestions, dashboards.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dashboards_datasets",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("import_mode", sa.String(16), nullable=False),
        sa.Column("snapshot", sa.String(255), nullable=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "dashboards_ingestions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=True),
        sa.Column("bytes", sa.BigInteger, nullable=True),
        sa.Column("table_name", sa.String(255), nullable=True),
        sa.Column("query_execution_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("completed_at", _TS, nullable=True),
    )
    op.create_index("ix_dashboards_ingestions_dataset", "dashboards_ingestions", ["dataset", "created_at"])
    op.create_table(
        "dashboards_dashboards",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dashboards_dashboards")
    op.drop_index("ix_dashboards_ingestions_dataset", table_name="dashboards_ingestions")
    op.drop_table("dashboards_ingestions")
    op.drop_table("dashboards_datasets")
