"""The query service's table in the metadata DB: one row per query execution (Athena's QueryExecution)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, String, Table, Text, UniqueConstraint

from lakeport.metadata.schema import metadata_obj

query_executions = Table(
    "query_executions",
    metadata_obj,
    Column("id", String(64), primary_key=True),
    Column("query", Text, nullable=False),
    Column("statement_type", String(16), nullable=False),  # DML | DDL | UTILITY
    Column("database", String(255), nullable=False),
    Column("workgroup", String(128), nullable=False),
    Column("state", String(16), nullable=False),  # QUEUED | RUNNING | SUCCEEDED | FAILED | CANCELLED
    Column("state_change_reason", Text, nullable=True),
    Column("output_location", String(1024), nullable=False),
    Column("principal", String(255), nullable=False),
    Column("client_request_token", String(128), nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("statistics", JSON, nullable=False),
    Column("columns", JSON, nullable=False),  # [[name, athena type], ...] of the result
    Column("tables", JSON, nullable=False),  # [[database, table], ...] the query read
    UniqueConstraint("client_request_token", name="uq_query_executions_token"),
)
Index("ix_query_executions_submitted", query_executions.c.submitted_at)
