"""The ETL service's tables in the metadata DB: job definitions, job runs and bookmarks."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from lakeport.metadata.schema import metadata_obj

jobs = Table(
    "jobs",
    metadata_obj,
    Column("name", String(255), primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("bookmark_state", String(16), nullable=False),  # enabled | paused
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

job_runs = Table(
    "job_runs",
    metadata_obj,
    Column("id", String(64), primary_key=True),
    Column("job", String(255), ForeignKey("jobs.name", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("previous_run_id", String(64), nullable=True),
    Column("state", String(16), nullable=False),
    Column("arguments", JSON, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("principal", String(255), nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("error", Text, nullable=True),
    Column("log_group", String(512), nullable=False),
    Column("log_stream", String(512), nullable=False),
)
Index("ix_job_runs_job", job_runs.c.job)

job_bookmarks = Table(
    "job_bookmarks",
    metadata_obj,
    Column("job", String(255), ForeignKey("jobs.name", ondelete="CASCADE"), primary_key=True),
    Column("bucket", String(63), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("etag", String(80), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("committed", Boolean, nullable=False),
)
