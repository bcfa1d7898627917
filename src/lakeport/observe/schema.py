"""Log groups, streams and events in the metadata DB (CloudWatch Logs' role)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text

from lakeport.metadata.schema import metadata_obj

log_groups = Table(
    "log_groups",
    metadata_obj,
    Column("name", String(512), primary_key=True),
    Column("retention_days", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

log_streams = Table(
    "log_streams",
    metadata_obj,
    Column("group_name", String(512), primary_key=True),
    Column("name", String(512), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_event_at", DateTime(timezone=True), nullable=True),
)

log_events = Table(
    "log_events",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_name", String(512), nullable=False),
    Column("stream_name", String(512), nullable=False),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("level", String(8), nullable=False),
    Column("message", Text, nullable=False),
    Column("fields", JSON, nullable=False),
)

Index("ix_log_events_group_stream", log_events.c.group_name, log_events.c.stream_name, log_events.c.id)
