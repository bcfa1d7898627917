"""The data catalog (Glue Data Catalog's role): databases, tables, columns, partitions and table versions."""

from lakeport.catalog.catalog import Catalog, CatalogSession, EntityNotFound
from lakeport.catalog.model import (
    EXTERNAL_TABLE,
    ICEBERG,
    VIRTUAL_VIEW,
    BatchResult,
    Column,
    Database,
    Partition,
    PartitionError,
    Table,
    TableFormat,
    TableVersion,
)
from lakeport.catalog.versions import Change, diff_tables

__all__ = [
    "EXTERNAL_TABLE",
    "ICEBERG",
    "VIRTUAL_VIEW",
    "BatchResult",
    "Catalog",
    "CatalogSession",
    "Change",
    "Column",
    "Database",
    "EntityNotFound",
    "Partition",
    "PartitionError",
    "Table",
    "TableFormat",
    "TableVersion",
    "diff_tables",
]
