"""Metrics and alarms (CloudWatch's role): datapoints, alarms, alarm history.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "metric_data",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("metric_name", sa.String(255), nullable=False),
        sa.Column("dimensions_key", sa.Text, nullable=False),
        sa.Column("dimensions", sa.JSON, nullable=False),
        sa.Column("timestamp", _TS, nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("sample_count", sa.Float, nullable=False),
        sa.Column("sum", sa.Float, nullable=False),
        sa.Column("minimum", sa.Float, nullable=False),
        sa.Column("maximum", sa.Float, nullable=False),
        sa.Column("samples", sa.JSON, nullable=True),
    )
    op.create_index("ix_metric_data_metric", "metric_data", ["namespace", "metric_name", "dimensions_key", "timestamp"])
    op.create_index("ix_metric_data_timestamp", "metric_data", ["timestamp"])
    op.create_table(
        "metric_alarms",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("metric_name", sa.String(255), nullable=False),
        sa.Column("dimensions", sa.JSON, nullable=False),
        sa.Column("statistic", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("period", sa.Integer, nullable=False),
        sa.Column("evaluation_periods", sa.Integer, nullable=False),
        sa.Column("datapoints_to_alarm", sa.Integer, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("comparison_operator", sa.String(64), nullable=False),
        sa.Column("treat_missing_data", sa.String(16), nullable=False),
        sa.Column("actions_enabled", sa.Boolean, nullable=False),
        sa.Column("alarm_actions", sa.JSON, nullable=False),
        sa.Column("ok_actions", sa.JSON, nullable=False),
        sa.Column("insufficient_data_actions", sa.JSON, nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("state_reason", sa.Text, nullable=False),
        sa.Column("state_reason_data", sa.JSON, nullable=True),
        sa.Column("state_updated_at", _TS, nullable=False),
        sa.Column("configuration_updated_at", _TS, nullable=False),
    )
    op.create_table(
        "metric_alarm_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alarm_name", sa.String(255), nullable=False),
        sa.Column("timestamp", _TS, nullable=False),
        sa.Column("item_type", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_metric_alarm_history_alarm", "metric_alarm_history", ["alarm_name", "id"])


def downgrade() -> None:
    op.drop_index("ix_metric_alarm_history_alarm", table_name="metric_alarm_history")
    op.drop_table("metric_alarm_history")
    op.drop_table("metric_alarms")
    op.drop_index("ix_metric_data_timestamp", table_name="metric_data")
    op.drop_index("ix_metric_data_metric", table_name="metric_data")
    op.drop_table("metric_data")
