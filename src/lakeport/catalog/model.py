"""What the catalog holds: databases, tables (columns, partition keys, storage format), partitions, versions.

Names follow the Glue Data Catalog; :meth:`Table.to_glue` and friends give the exact shapes the Glue API
returns (``StorageDescriptor``, ``SerdeInfo``, ``PartitionKeys`` …), so the AWS-compatible endpoint and
``--output json`` print what AWS users already know.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lakeport.metadata.times import iso

EXTERNAL_TABLE = "EXTERNAL_TABLE"
ICEBERG = "ICEBERG"
VIRTUAL_VIEW = "VIRTUAL_VIEW"
TABLE_TYPES = (EXTERNAL_TABLE, ICEBERG, VIRTUAL_VIEW)

CLASSIFICATIONS = ("csv", "json", "parquet", "avro", "orc", "iceberg")

# How each classification is read and written, in the Hive class names Glue and Athena use.
_TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
_TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
_FORMATS: dict[str, tuple[str, str, str]] = {
    "csv": (_TEXT_INPUT, _TEXT_OUTPUT, "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"),
    "json": (_TEXT_INPUT, _TEXT_OUTPUT, "org.openx.data.jsonserde.JsonSerDe"),
    "parquet": (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    ),
    "avro": (
        "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
        "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
        "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
    ),
    "orc": (
        "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
        "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
        "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
    ),
    "iceberg": ("", "", ""),
}
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"

# Table parameters that describe the data (or where its current snapshot is) rather than the table: refreshing
# them is not a schema change.
STATISTICS_PARAMETERS = frozenset(
    {
        "recordCount",
        "sizeKey",
        "objectCount",
        "averageRecordSize",
        "numFiles",
        "numRows",
        "totalSize",
        "transient_lastDdlTime",
        "DEPRECATED_BY_CRAWLER",
        # an Iceberg table's pointer moves with every commit; its schema is what versions record
        "metadata_location",
        "previous_metadata_location",
        "current-snapshot-id",
        "last-updated-ms",
    }
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "comment": self.comment}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Column:
        return cls(str(data["name"]), str(data["type"]), str(data.get("comment") or ""))

    def to_glue(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": self.name, "Type": self.type}
        if self.comment:
            out["Comment"] = self.comment
        return out


@dataclass(frozen=True)
class TableFormat:
    """How the table's files are laid out: what Glue keeps in the StorageDescriptor and its SerDe."""

    classification: str = "parquet"
    delimiter: str | None = None
    quote: str | None = None
    escape: str | None = None
    header: bool = False
    compression: str | None = None
    null_markers: tuple[str, ...] = ()
    timestamp_formats: Mapping[str, str] = field(default_factory=dict)
    json_layout: str | None = None  # "lines" | "array"
    multiline: bool = False

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: a crawl serializes one of these per file, and asdict deep-copies.
        return {
            "classification": self.classification,
            "delimiter": self.delimiter,
            "quote": self.quote,
            "escape": self.escape,
            "header": self.header,
            "compression": self.compression,
            "null_markers": list(self.null_markers),
            "timestamp_formats": dict(self.timestamp_formats),
            "json_layout": self.json_layout,
            "multiline": self.multiline,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableFormat:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["null_markers"] = tuple(values.get("null_markers") or ())
        values["timestamp_formats"] = dict(values.get("timestamp_formats") or {})
        return cls(**values)

    @property
    def serde_library(self) -> str:
        if self.classification == "csv" and (self.quote or self.multiline):
            return OPEN_CSV_SERDE
        return _FORMATS.get(self.classification, ("", "", ""))[2]

    def serde_parameters(self) -> dict[str, str]:
        """The SerDe parameters Hive and Athena read for this format."""
        if self.classification != "csv":
            params: dict[str, str] = {}
            if self.classification == "json" and self.json_layout == "array":
                params["lakeport.json.layout"] = "array"
            return params
        if self.serde_library == OPEN_CSV_SERDE:
            params = {"separatorChar": self.delimiter or ",", "quoteChar": self.quote or '"'}
            if self.escape:
                params["escapeChar"] = self.escape
        else:
            params = {"field.delim": self.delimiter or ","}
            if self.escape:
                params["escape.delim"] = self.escape
        if self.null_markers:
            params["serialization.null.format"] = self.null_markers[0]
        formats = sorted(set(self.timestamp_formats.values()))
        if formats:
            params["timestamp.formats"] = ",".join(formats)
        return params

    def storage_descriptor(self) -> dict[str, Any]:
        inp, out, _ = _FORMATS.get(self.classification, ("", "", ""))
        return {
            "InputFormat": inp,
            "OutputFormat": out,
            "Compressed": bool(self.compression),
            "SerdeInfo": {"SerializationLibrary": self.serde_library, "Parameters": self.serde_parameters()},
        }


@dataclass(frozen=True)
class Database:
    name: str
    description: str = ""
    location_uri: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    created_by: str = ""
    catalog_id: str = ""  # the AWS account id, as Glue reports it

    def to_glue(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": self.name,
            "Description": self.description,
            "Parameters": dict(self.parameters),
            "CreateTime": iso(self.created_at),
            "CatalogId": self.catalog_id,
        }
        if self.location_uri:
            out["LocationUri"] = self.location_uri
        return out


@dataclass(frozen=True)
class Table:
    database: str
    name: str
    columns: tuple[Column, ...] = ()
    location: str = ""
    partition_keys: tuple[Column, ...] = ()
    format: TableFormat = field(default_factory=TableFormat)
    table_type: str = EXTERNAL_TABLE
    parameters: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    view_text: str | None = None
    version: int = 0
    created_at: datetime | None = None
    created_by: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""
    catalog_id: str = ""  # the AWS account id, as Glue reports it

    @property
    def full_name(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def classification(self) -> str:
        return self.format.classification

    def column(self, name: str) -> Column | None:
        wanted = name.lower()
        return next((c for c in (*self.columns, *self.partition_keys) if c.name.lower() == wanted), None)

    def definition(self) -> dict[str, Any]:
        """Everything that defines the table (what a version keeps), as JSON-able data."""
        return {
            "columns": [c.to_dict() for c in self.columns],
            "partition_keys": [c.to_dict() for c in self.partition_keys],
            "location": self.location,
            "format": self.format.to_dict(),
            "table_type": self.table_type,
            "parameters": dict(self.parameters),
            "description": self.description,
            "view_text": self.view_text,
        }

    def schema_definition(self) -> dict[str, Any]:
        """The definition without data statistics: two tables with equal schema definitions are one version."""
        data = self.definition()
        data["parameters"] = {k: v for k, v in self.parameters.items() if k not in STATISTICS_PARAMETERS}
        return data

    @classmethod
    def from_definition(cls, database: str, name: str, definition: Mapping[str, Any], **meta: Any) -> Table:
        return cls(
            database=database,
            name=name,
            columns=tuple(Column.from_dict(c) for c in definition.get("columns", ())),
            partition_keys=tuple(Column.from_dict(c) for c in definition.get("partition_keys", ())),
            location=str(definition.get("location") or ""),
            format=TableFormat.from_dict(definition.get("format") or {}),
            table_type=str(definition.get("table_type") or EXTERNAL_TABLE),
            parameters={str(k): str(v) for k, v in (definition.get("parameters") or {}).items()},
            description=str(definition.get("description") or ""),
            view_text=definition.get("view_text"),
            **meta,
        )

    def with_changes(self, **changes: Any) -> Table:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "name": self.name,
            "version": self.version,
            **self.definition(),
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "updated_at": iso(self.updated_at),
            "updated_by": self.updated_by,
        }

    def to_glue(self) -> dict[str, Any]:
        """The table as Glue's GetTable returns it."""
        parameters = {"classification": self.classification, **self.parameters}
        table_type = self.table_type
        if self.table_type == ICEBERG:
            table_type = EXTERNAL_TABLE
            parameters["table_type"] = "ICEBERG"
        descriptor = {
            "Columns": [c.to_glue() for c in self.columns],
            "Location": self.location,
            **self.format.storage_descriptor(),
            "NumberOfBuckets": -1,
            "Parameters": {"classification": self.classification},
            "StoredAsSubDirectories": False,
        }
        if self.format.compression:
            parameters.setdefault("compressionType", self.format.compression)
        if self.format.header:
            parameters.setdefault("skip.header.line.count", "1")
        if self.format.delimiter:
            parameters.setdefault("delimiter", self.format.delimiter)
        out: dict[str, Any] = {
            "Name": self.name,
            "DatabaseName": self.database,
            "Description": self.description,
            "Owner": self.created_by,
            "CreateTime": iso(self.created_at),
            "UpdateTime": iso(self.updated_at),
            "Retention": 0,
            "StorageDescriptor": descriptor,
            "PartitionKeys": [c.to_glue() for c in self.partition_keys],
            "TableType": table_type,
            "Parameters": parameters,
            "CreatedBy": self.created_by,
            "IsRegisteredWithLakeFormation": False,
            "CatalogId": self.catalog_id,
            "VersionId": str(self.version),
        }
        if self.view_text is not None:
            out["ViewOriginalText"] = self.view_text
        return out


@dataclass(frozen=True)
class Partition:
    database: str
    table: str
    values: tuple[str | None, ...]
    location: str
    file_count: int | None = None
    size_bytes: int | None = None
    row_count: int | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "table": self.table,
            "values": list(self.values),
            "location": self.location,
            "file_count": self.file_count,
            "size_bytes": self.size_bytes,
            "row_count": self.row_count,
            "parameters": dict(self.parameters),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }

    def to_glue(self, table: Table | None = None) -> dict[str, Any]:
        parameters = dict(self.parameters)
        if self.file_count is not None:
            parameters.setdefault("objectCount", str(self.file_count))
        if self.size_bytes is not None:
            parameters.setdefault("sizeKey", str(self.size_bytes))
        if self.row_count is not None:
            parameters.setdefault("recordCount", str(self.row_count))
        descriptor: dict[str, Any] = {"Location": self.location}
        if table is not None:
            descriptor = {"Columns": [c.to_glue() for c in table.columns], **descriptor}
            descriptor.update(table.format.storage_descriptor())
        return {
            "Values": list(self.values),
            "DatabaseName": self.database,
            "TableName": self.table,
            "CreationTime": iso(self.created_at),
            "LastAccessTime": iso(self.updated_at),
            "StorageDescriptor": descriptor,
            "Parameters": parameters,
        }


@dataclass(frozen=True)
class TableVersion:
    version: int
    table: Table
    created_at: datetime | None = None
    created_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "table": self.table.to_dict(),
        }


@dataclass(frozen=True)
class PartitionError:
    """One partition a batch call could not apply, and why (Glue's ``PartitionError``)."""

    values: tuple[str | None, ...]
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "PartitionValues": list(self.values),
            "ErrorDetail": {"ErrorCode": self.code, "ErrorMessage": self.message},
        }


@dataclass(frozen=True)
class BatchResult:
    succeeded: int
    errors: Sequence[PartitionError] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"Succeeded": self.succeeded, "Errors": [e.to_dict() for e in self.errors]}
