"""The crawler's tables in the metadata DB: definitions, runs, and the object index that makes re-crawls cheap."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Integer, String, Table, Text

from lakeport.metadata.schema import metadata_obj

crawlers = Table(
    "crawlers",
    metadata_obj,
    Column("name", String(255), primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # READY | RUNNING | STOPPING
    Column("current_run_id", String(64), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

crawler_runs = Table(
    "crawler_runs",
    metadata_obj,
    Column("id", String(64), primary_key=True),
    Column("crawler", String(255), ForeignKey("crawlers.name", ondelete="CASCADE"), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # RUNNING | SUCCEEDED | FAILED | CANCELLED
    Column("mode", String(32), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("principal", String(255), nullable=False),
    Column("summary", JSON, nullable=False),  # counters: files, tables, partitions
    Column("warnings", JSON, nullable=False),  # [{"file": uri, "reason": text}]
    Column("error", Text, nullable=True),
    Column("log_group", String(512), nullable=False),
    Column("log_stream", String(512), nullable=False),
)

crawler_objects = Table(
    "crawler_objects",
    metadata_obj,
    Column("crawler", String(255), ForeignKey("crawlers.name", ondelete="CASCADE"), primary_key=True),
    Column("bucket", String(63), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("etag", String(80), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("shape", Text, nullable=True),  # JSON of what the classifier found; null when the file was skipped
    Column("warning", Text, nullable=True),
)
