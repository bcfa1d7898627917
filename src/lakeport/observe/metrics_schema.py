"""Metric datapoints, metric alarms and alarm history in the metadata DB (CloudWatch metrics' role).

One row per datum as it was put (raw, never rolled up): a single ``Value`` is a row with sample count 1; ``Values``
and ``Counts`` keep their pairs (for percentiles); ``StatisticValues`` keep only the four aggregates. A metric is
the unique (namespace, name, dimensions) triple; ``dimensions_key`` is the dimensions in one canonical string.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Index, Integer, String, Table, Text

from lakeport.metadata.schema import metadata_obj

metric_data = Table(
    "metric_data",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("namespace", String(255), nullable=False),
    Column("metric_name", String(255), nullable=False),
    Column("dimensions_key", Text, nullable=False),
    Column("dimensions", JSON, nullable=False),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("sample_count", Float, nullable=False),
    Column("sum", Float, nullable=False),
    Column("minimum", Float, nullable=False),
    Column("maximum", Float, nullable=False),
    Column("samples", JSON, nullable=True),  # [[value, count], ...]; None for a statistic set
)

Index(
    "ix_metric_data_metric",
    metric_data.c.namespace,
    metric_data.c.metric_name,
    metric_data.c.dimensions_key,
    metric_data.c.timestamp,
)
Index("ix_metric_data_timestamp", metric_data.c.timestamp)

metric_alarms = Table(
    "metric_alarms",
    metadata_obj,
    Column("name", String(255), primary_key=True),
    Column("arn", String(512), nullable=False),
    Column("description", Text, nullable=True),
    Column("namespace", String(255), nullable=False),
    Column("metric_name", String(255), nullable=False),
    Column("dimensions", JSON, nullable=False),
    Column("statistic", String(32), nullable=False),  # Sum, Average, ... or an extended statistic (p95)
    Column("unit", String(32), nullable=True),
    Column("period", Integer, nullable=False),
    Column("evaluation_periods", Integer, nullable=False),
    Column("datapoints_to_alarm", Integer, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("comparison_operator", String(64), nullable=False),
    Column("treat_missing_data", String(16), nullable=False),
    Column("actions_enabled", Boolean, nullable=False),
    Column("alarm_actions", JSON, nullable=False),
    Column("ok_actions", JSON, nullable=False),
    Column("insufficient_data_actions", JSON, nullable=False),
    Column("state", String(24), nullable=False),
    Column("state_reason", Text, nullable=False),
    Column("state_reason_data", JSON, nullable=True),
    Column("state_updated_at", DateTime(timezone=True), nullable=False),
    Column("configuration_updated_at", DateTime(timezone=True), nullable=False),
)

metric_alarm_history = Table(
    "metric_alarm_history",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alarm_name", String(255), nullable=False),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("item_type", String(32), nullable=False),  # ConfigurationUpdate, StateUpdate, Action
    Column("summary", Text, nullable=False),
    Column("data", JSON, nullable=False),
)

Index("ix_metric_alarm_history_alarm", metric_alarm_history.c.alarm_name, metric_alarm_history.c.id)
