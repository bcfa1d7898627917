"""The data catalog, crawlers (definitions, runs, object index) and log groups/streams/events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "catalog_databases",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("location_uri", sa.Text, nullable=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
    )
    op.create_table(
        "catalog_tables",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "database_name",
            sa.String(255),
            sa.ForeignKey("catalog_databases.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("table_type", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.UniqueConstraint("database_name", "name", name="uq_catalog_tables_database_name_name"),
    )
    op.create_index("ix_catalog_tables_database_name", "catalog_tables", ["database_name"])
    op.create_table(
        "catalog_table_versions",
        sa.Column("table_id", sa.Integer, sa.ForeignKey("catalog_tables.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
    )
    op.create_table(
        "catalog_partitions",
        sa.Column("table_id", sa.Integer, sa.ForeignKey("catalog_tables.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("values_key", sa.String(2048), primary_key=True),
        sa.Column("partition_values", sa.JSON, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("file_count", sa.Integer, nullable=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("row_count", sa.BigInteger, nullable=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "crawlers",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("current_run_id", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "crawler_runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("crawler", sa.String(255), sa.ForeignKey("crawlers.name", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("heartbeat_at", _TS, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("log_group", sa.String(512), nullable=False),
        sa.Column("log_stream", sa.String(512), nullable=False),
    )
    op.create_index("ix_crawler_runs_crawler", "crawler_runs", ["crawler"])
    op.create_table(
        "crawler_objects",
        sa.Column("crawler", sa.String(255), sa.ForeignKey("crawlers.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("bucket", sa.String(63), primary_key=True),
        sa.Column("key", sa.String(1024), primary_key=True),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("shape", sa.Text, nullable=True),
        sa.Column("warning", sa.Text, nullable=True),
    )
    op.create_table(
        "log_groups",
        sa.Column("name", sa.String(512), primary_key=True),
        sa.Column("retention_days", sa.Integer, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "log_streams",
        sa.Column("group_name", sa.String(512), primary_key=True),
        sa.Column("name", sa.String(512), primary_key=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_event_at", _TS, nullable=True),
    )
    op.create_table(
        "log_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_name", sa.String(512), nullable=False),
        sa.Column("stream_name", sa.String(512), nullable=False),
        sa.Column("timestamp", _TS, nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
    )
    op.create_index("ix_log_events_group_stream", "log_events", ["group_name", "stream_name", "id"])


def downgrade() -> None:
    op.drop_index("ix_log_events_group_stream", "log_events")
    for table in ("log_events", "log_streams", "log_groups", "crawler_objects"):
        op.drop_table(table)
    op.drop_index("ix_crawler_runs_crawler", "crawler_runs")
    for table in ("crawler_runs", "crawlers", "catalog_partitions", "catalog_table_versions"):
        op.drop_table(table)
    op.drop_index("ix_catalog_tables_database_name", "catalog_tables")
    op.drop_table("catalog_tables")
    op.drop_table("catalog_databases")
