"""Log groups, streams and events in the metadata DB (CloudWatch Logs' role)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, String, Table, Text, text

from lakeport.metadata.schema import metadata_obj

log_groups = Table(
    "log_groups",
    metadata_obj,
    Column("name", String(512), primary_key=True),
    Column("retention_days", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # when retention last deleted this group's expired events (0011): at most one sweep per interval
    Column("retention_checked_at", DateTime(timezone=True), nullable=True),
)

log_streams = Table(
    "log_streams",
    metadata_obj,
    Column("group_name", String(512), primary_key=True),
    Column("name", String(512), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_event_at", DateTime(timezone=True), nullable=True),
    # 0011: what DescribeLogStreams reports without scanning the events
    Column("first_event_at", DateTime(timezone=True), nullable=True),
    Column("last_ingestion_at", DateTime(timezone=True), nullable=True),
    Column("stored_bytes", BigInteger, nullable=False, server_default=text("0")),
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
    # 0011: when the event was stored, in epoch milliseconds (CloudWatch's ingestionTime); NULL before 0011
    Column("ingestion_time", BigInteger, nullable=True),
)

Index("ix_log_events_group_stream", log_events.c.group_name, log_events.c.stream_name, log_events.c.id)
# 0011: FilterLogEvents and retention read a group in time order
Index("ix_log_events_group_time", log_events.c.group_name, log_events.c.timestamp, log_events.c.id)
