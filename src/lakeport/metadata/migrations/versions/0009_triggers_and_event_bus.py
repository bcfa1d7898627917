"""Triggers (EventBridge's role): the event bus of lakeport's own state-change events, rules, schedules, deliveries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bus_events",
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("detail_type", sa.String(256), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("time", _TS, nullable=False),
        sa.Column("resources", sa.JSON, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.UniqueConstraint("id", name="uq_bus_events_id"),
    )
    op.create_table(
        "bus_cursors",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "trigger_rules",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("arn", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("pattern", sa.JSON, nullable=True),
        sa.Column("schedule", sa.String(256), nullable=True),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("target_input", sa.Text, nullable=True),
        sa.Column("batch_window", sa.Integer, nullable=True),
        sa.Column("batch_size", sa.Integer, nullable=True),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("next_fire", _TS, nullable=True),
        sa.Column("last_fire", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "trigger_pending",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("event_key", sa.String(64), nullable=False),
        sa.Column("event", sa.JSON, nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.UniqueConstraint("owner", "event_key", name="uq_trigger_pending_event"),
    )
    op.create_index("ix_trigger_pending_owner", "trigger_pending", ["owner", "id"])
    op.create_table(
        "trigger_deliveries",
        sa.Column("owner", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("run_id", sa.String(512), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("attempted_at", _TS, nullable=True),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=True),
    )
    op.create_index("ix_trigger_deliveries_status", "trigger_deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "trigger_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("lease_until", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trigger_leases")
    op.drop_index("ix_trigger_deliveries_status", table_name="trigger_deliveries")
    op.drop_table("trigger_deliveries")
    op.drop_index("ix_trigger_pending_owner", table_name="trigger_pending")
    op.drop_table("trigger_pending")
    op.drop_table("trigger_rules")
    op.drop_table("bus_cursors")
    op.drop_table("bus_events")
