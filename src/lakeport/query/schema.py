"""The query service's tables in the metadata DB: query executions, workgroups, named (saved) queries and
prepared statements (Athena's QueryExecution, WorkGroup, NamedQuery and PreparedStatement)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

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
    Column("execution_parameters", JSON, nullable=True),  # ExecutionParameters: SQL literal texts for ``?``
    # the process that runs it (query/orphans.py): an active execution whose process died is FAILED when read
    Column("host", String(255), nullable=True),  # None: recorded before revision 0015
    Column("pid", Integer, nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),  # while QUEUED or RUNNING, now and then
    UniqueConstraint("client_request_token", name="uq_query_executions_token"),
)
Index("ix_query_executions_submitted", query_executions.c.submitted_at)
Index("ix_query_executions_workgroup", query_executions.c.workgroup)

query_workgroups = Table(
    "query_workgroups",
    metadata_obj,
    Column("name", String(128), primary_key=True),
    Column("description", String(1024), nullable=True),
    Column("state", String(16), nullable=False),  # ENABLED | DISABLED
    Column("configuration", JSON, nullable=False),  # Athena's WorkGroupConfiguration, as stored
    Column("created_at", DateTime(timezone=True), nullable=False),
)

query_named_queries = Table(
    "query_named_queries",
    metadata_obj,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("description", String(1024), nullable=True),
    Column("database", String(255), nullable=False),
    Column("query_string", Text, nullable=False),
    Column("workgroup", String(128), nullable=False),
    Column("client_request_token", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("client_request_token", name="uq_query_named_queries_token"),
)
Index("ix_query_named_queries_workgroup", query_named_queries.c.workgroup)

query_prepared_statements = Table(
    "query_prepared_statements",
    metadata_obj,
    Column("workgroup", String(128), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("query_statement", Text, nullable=False),
    Column("description", String(1024), nullable=True),
    Column("last_modified", DateTime(timezone=True), nullable=False),
)
