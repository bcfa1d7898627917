"""The catalog's tables in the metadata DB: databases, tables, table versions, partitions."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from lakeport.metadata.schema import metadata_obj

catalog_databases = Table(
    "catalog_databases",
    metadata_obj,
    Column("name", String(255), primary_key=True),
    Column("description", Text, nullable=False),
    Column("location_uri", Text, nullable=True),
    Column("parameters", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(255), nullable=False),
)

catalog_tables = Table(
    "catalog_tables",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("database_name", String(255), ForeignKey("catalog_databases.name", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("table_type", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSON, nullable=False),  # columns, partition keys, location, format, parameters, …
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(255), nullable=False),
    UniqueConstraint("database_name", "name", name="uq_catalog_tables_database_name_name"),
)

catalog_table_versions = Table(
    "catalog_table_versions",
    metadata_obj,
    Column("table_id", Integer, ForeignKey("catalog_tables.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(255), nullable=False),
)

catalog_partitions = Table(
    "catalog_partitions",
    metadata_obj,
    Column("table_id", Integer, ForeignKey("catalog_tables.id", ondelete="CASCADE"), primary_key=True),
    Column("values_key", String(2048), primary_key=True),  # the values as a JSON list: unique per table
    Column("partition_values", JSON, nullable=False),
    Column("location", Text, nullable=False),
    Column("file_count", Integer, nullable=True),
    Column("size_bytes", BigInteger, nullable=True),
    Column("row_count", BigInteger, nullable=True),
    Column("parameters", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

Index("ix_catalog_tables_database_name", catalog_tables.c.database_name)
