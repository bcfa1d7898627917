"""Query executions record the process that runs them (host, pid) and its heartbeat, so one whose process died
does not stay QUEUED or RUNNING for ever.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("query_executions", sa.Column("host", sa.String(255), nullable=True))
    op.add_column("query_executions", sa.Column("pid", sa.Integer, nullable=True))
    op.add_column("query_executions", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("query_executions") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("pid")
        batch.drop_column("host")
