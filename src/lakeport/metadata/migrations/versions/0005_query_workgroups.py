"""Query workgroups, named queries, prepared statements; execution parameters of query executions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("query_executions", sa.Column("execution_parameters", sa.JSON, nullable=True))
    op.create_index("ix_query_executions_workgroup", "query_executions", ["workgroup"])
    op.create_table(
        "query_workgroups",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("description", sa.String(1024), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("configuration", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "query_named_queries",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.String(1024), nullable=True),
        sa.Column("database", sa.String(255), nullable=False),
        sa.Column("query_string", sa.Text, nullable=False),
        sa.Column("workgroup", sa.String(128), nullable=False),
        sa.Column("client_request_token", sa.String(128), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("client_request_token", name="uq_query_named_queries_token"),
    )
    op.create_index("ix_query_named_queries_workgroup", "query_named_queries", ["workgroup"])
    op.create_table(
        "query_prepared_statements",
        sa.Column("workgroup", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("query_statement", sa.Text, nullable=False),
        sa.Column("description", sa.String(1024), nullable=True),
        sa.Column("last_modified", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("query_prepared_statements")
    op.drop_index("ix_query_named_queries_workgroup", table_name="query_named_queries")
    op.drop_table("query_named_queries")
    op.drop_table("query_workgroups")
    op.drop_index("ix_query_executions_workgroup", table_name="query_executions")
    with op.batch_alter_table("query_executions") as batch:
        batch.drop_column("execution_parameters")
