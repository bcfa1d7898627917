"""Notifications (SNS's role): topics, subscriptions, messages, deliveries.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notify_topics",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("private_key", sa.Text, nullable=False),
        sa.Column("certificate", sa.Text, nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "notify_subscriptions",
        sa.Column("arn", sa.String(600), primary_key=True),
        sa.Column("topic", sa.String(256), nullable=False),
        sa.Column("protocol", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("token", sa.String(128), nullable=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index("ix_notify_subscriptions_topic", "notify_subscriptions", ["topic"])
    op.create_table(
        "notify_messages",
        sa.Column("message_id", sa.String(64), primary_key=True),
        sa.Column("topic", sa.String(256), nullable=False),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("message_structure", sa.String(16), nullable=True),
        sa.Column("message_attributes", sa.JSON, nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("published_at", _TS, nullable=False),
    )
    op.create_index("ix_notify_messages_topic", "notify_messages", ["topic", "published_at"])
    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("subscription", sa.String(600), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("at", _TS, nullable=False),
    )
    op.create_index("ix_notify_deliveries_message", "notify_deliveries", ["message_id"])
    op.create_index("ix_notify_deliveries_subscription", "notify_deliveries", ["subscription", "id"])
    op.create_table(
        "notify_dead_letters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(256), nullable=False),
        sa.Column("subscription", sa.String(600), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index("ix_notify_dead_letters_topic", "notify_dead_letters", ["topic", "id"])


def downgrade() -> None:
    op.drop_index("ix_notify_dead_letters_topic", table_name="notify_dead_letters")
    op.drop_table("notify_dead_letters")
    op.drop_index("ix_notify_deliveries_subscription", table_name="notify_deliveries")
    op.drop_index("ix_notify_deliveries_message", table_name="notify_deliveries")
    op.drop_table("notify_deliveries")
    op.drop_index("ix_notify_messages_topic", table_name="notify_messages")
    op.drop_table("notify_messages")
    op.drop_index("ix_notify_subscriptions_topic", table_name="notify_subscriptions")
    op.drop_table("notify_subscriptions")
    op.drop_table("notify_topics")
