"""Shared data and helpers of the catalog contract suites (test_catalog_*.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from lakeport import Lake
from lakeport.catalog import (
    Catalog,
    Column,
    Partition,
    Table,
    TableFormat,
)
from lakeport.iam import Principal

DB = "sales"
LOCATION = "s3://lakeport/warehouse/orders/"
BOB = Principal(arn="arn:aws:iam::000000000000:user/bob", name="bob")
GLUE = "arn:aws:glue:us-east-1:000000000000"

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


def orders(**changes: Any) -> Table:
    """``sales.orders``: three columns, partitioned by year (string) and month (bigint), Parquet."""
    table = Table(
        database=DB,
        name="orders",
        columns=(Column("id", "bigint"), Column("customer", "string", "who ordered"), Column("price", "double")),
        location=LOCATION,
        partition_keys=(Column("year", "string"), Column("month", "bigint")),
        format=TableFormat("parquet", compression="snappy"),
    )
    return table.with_changes(**changes)


def part(*values: str | None, location: str = "", **stats: Any) -> Partition:
    return Partition(DB, "orders", tuple(values), location, **stats)


def row_count(lake: Lake, table: Any) -> int:
    with lake.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def table_names(catalog: Catalog, database: str = DB) -> list[str]:
    return [t.name for t in catalog.list_tables(database)]


def values_of(partitions: list[Partition]) -> set[tuple[str | None, ...]]:
    return {p.values for p in partitions}
