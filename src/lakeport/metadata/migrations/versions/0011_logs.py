"""Logs (CloudWatch Logs' role): ingestion time, stream statistics, retention sweeps, a time index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("log_groups") as batch:
        batch.add_column(sa.Column("retention_checked_at", _TS, nullable=True))
    with op.batch_alter_table("log_streams") as batch:
        batch.add_column(sa.Column("first_event_at", _TS, nullable=True))
        batch.add_column(sa.Column("last_ingestion_at", _TS, nullable=True))
        batch.add_column(sa.Column("stored_bytes", sa.BigInteger, nullable=False, server_default=sa.text("0")))
    with op.batch_alter_table("log_events") as batch:
        batch.add_column(sa.Column("ingestion_time", sa.BigInteger, nullable=True))
    op.create_index("ix_log_events_group_time", "log_events", ["group_name", "timestamp", "id"])
    # streams written before 0011: their statistics from their events
    op.execute(
        "UPDATE log_streams SET "
        "first_event_at = (SELECT MIN(e.timestamp) FROM log_events e "
        "WHERE e.group_name = log_streams.group_name AND e.stream_name = log_streams.name), "
        "last_ingestion_at = last_event_at, "
        "stored_bytes = COALESCE((SELECT SUM(LENGTH(e.message)) FROM log_events e "
        "WHERE e.group_name = log_streams.group_name AND e.stream_name = log_streams.name), 0)"
    )


def downgrade() -> None:
    op.drop_index("ix_log_events_group_time", "log_events")
    with op.batch_alter_table("log_events") as batch:
        batch.drop_column("ingestion_time")
    with op.batch_alter_table("log_streams") as batch:
        batch.drop_column("stored_bytes")
        batch.drop_column("last_ingestion_at")
        batch.drop_column("first_event_at")
    with op.batch_alter_table("log_groups") as batch:
        batch.drop_column("retention_checked_at")
