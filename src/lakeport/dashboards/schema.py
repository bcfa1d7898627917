"""The dashboards service's tables in the metadata DB: datasets, their SPICE ingestions, dashboards."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from lakeport.metadata.schema import metadata_obj

# A QuickSight DataSet: a catalog table or an Athena SQL query, direct or imported (SPICE).
dashboards_datasets = Table(
    "dashboards_datasets",
    metadata_obj,
    Column("name", String(255), primary_key=True),
    Column("arn", String(512), nullable=False),
    Column("definition", JSON, nullable=False),  # the definition as given, normalized (source, fields, rules)
    Column("columns", JSON, nullable=False),  # [[name, Athena type], …] including calculated fields
    Column("import_mode", String(16), nullable=False),  # DIRECT_QUERY | SPICE
    Column("snapshot", String(255), nullable=True),  # SPICE: the catalog table (db.table) of the last good ingestion
    Column("owner", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One SPICE refresh (CreateIngestion): its state, rows and bytes, times and error.
dashboards_ingestions = Table(
    "dashboards_ingestions",
    metadata_obj,
    Column("id", String(64), primary_key=True),
    Column("dataset", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # RUNNING | COMPLETED | FAILED
    Column("rows", BigInteger, nullable=True),
    Column("bytes", BigInteger, nullable=True),
    Column("table_name", String(255), nullable=True),  # the snapshot table it wrote (db.table)
    Column("query_execution_id", String(64), nullable=True),
    Column("error", Text, nullable=True),
    Column("principal", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
)
Index("ix_dashboards_ingestions_dataset", dashboards_ingestions.c.dataset, dashboards_ingestions.c.created_at)

# A dashboard as code: the validated definition and the text it came from.
dashboards_dashboards = Table(
    "dashboards_dashboards",
    metadata_obj,
    Column("name", String(255), primary_key=True),
    Column("arn", String(512), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("source", Text, nullable=True),  # the YAML/JSON text as given
    Column("version", Integer, nullable=False),
    Column("owner", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Answers of visuals over a SPICE snapshot, kept until the snapshot is replaced: a snapshot never changes, so the
# same statement (its SQL names the snapshot table and holds the viewer's row rule and the filters) has the same
# answer. Filled by the first viewer asking and, after each ingestion, for every dashboard's default view.
dashboards_answers = Table(
    "dashboards_answers",
    metadata_obj,
    Column("key", String(64), primary_key=True),  # sha256 of the statement
    Column("snapshot", String(255), nullable=False),  # the snapshot table (db.table) the statement reads
    Column("columns", JSON, nullable=False),  # [[name, Athena type], …]
    Column("rows", JSON, nullable=False),
    Column("query_execution_id", String(64), nullable=False),  # the execution that computed it
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_dashboards_answers_snapshot", dashboards_answers.c.snapshot)
