"""Athena's CREATE [EXTERNAL] TABLE as a catalog table, and a catalog table back as CREATE TABLE text.

Hive DDL is what Athena reads for external tables: columns in Hive types, ``PARTITIONED BY``, ``ROW FORMAT
DELIMITED`` (``FIELDS TERMINATED BY``, ``ESCAPED BY``, ``NULL DEFINED AS``) or ``ROW FORMAT SERDE`` with
``SERDEPROPERTIES`` (LazySimpleSerDe, OpenCSVSerde, the JSON SerDes, Parquet's), ``STORED AS`` a format or an
input/output format pair, ``LOCATION`` and ``TBLPROPERTIES`` (``skip.header.line.count``,
``serialization.null.format``, ``compressionType``; ``'table_type'='ICEBERG'`` makes an Iceberg table).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from lakeport.catalog.model import ICEBERG, OPEN_CSV_SERDE, VIRTUAL_VIEW, Column, Table, TableFormat
from lakeport.catalog.types import parse_type
from lakeport.errors import InvalidInput

HIVE_DEFAULT_DELIMITER = "\x01"  # LazySimpleSerDe's field separator when the DDL names none (Ctrl-A)
_LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
_JSON_SERDES = ("org.openx.data.jsonserde.JsonSerDe", "org.apache.hive.hcatalog.data.JsonSerDe")
_PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
_STORED_AS = {
    "PARQUET": "parquet",
    "TEXTFILE": "csv",
    "JSONFILE": "json",
    "JSON": "json",
    "ORC": "orc",
    "AVRO": "avro",
    "ICEBERG": "iceberg",
}
_INPUT_FORMATS = {
    "org.apache.hadoop.mapred.TextInputFormat": "csv",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat": "parquet",
    "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat": "orc",
    "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat": "avro",
}


@dataclass
class TableDdl:
    """What a CREATE TABLE statement says, before it becomes a catalog table."""

    database: str
    name: str
    columns: list[Column]
    partition_keys: list[Column] = field(default_factory=list)
    external: bool = False
    if_not_exists: bool = False
    location: str | None = None
    comment: str = ""
    classification: str | None = None
    serde: str | None = None
    serde_parameters: dict[str, str] = field(default_factory=dict)
    delimited: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)  # TBLPROPERTIES and CTAS's WITH (…)
    partition_names: list[str] = field(default_factory=list)  # PARTITIONED BY (name) without a type: Iceberg's

    @property
    def is_iceberg(self) -> bool:
        return self.properties.get("table_type", "").upper() == ICEBERG or (self.classification or "") == "iceberg"


def hive_type(kind: exp.DataType, where: str) -> str:
    """A sqlglot type as the catalog's canonical Hive type text."""
    text = kind.sql(dialect="hive").lower()
    try:
        return str(parse_type(text))
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: type {text!r} is not a Hive type ({exc.message})") from None


def _text(node: exp.Expression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Literal | exp.Identifier | exp.Var):
        return str(node.this)
    return node.sql(dialect="athena").strip("'\"`")


def _unescape(value: str) -> str:
    """Hive's octal escapes (``'\\001'``) and the common backslash ones, as the characters they stand for."""
    if re.fullmatch(r"\\[0-7]{1,3}", value):
        return chr(int(value[1:], 8))
    return {"\\t": "\t", "\\n": "\n", "\\\\": "\\"}.get(value, value)


def _columns(defs: list[exp.Expression], full: str, label: str) -> list[Column]:
    out: list[Column] = []
    for column in defs:
        if not isinstance(column, exp.ColumnDef) or column.args.get("kind") is None:
            raise InvalidInput(f"table {full}: {label} {column.sql(dialect='athena')!r} needs a name and a type")
        comment = ""
        for constraint in column.args.get("constraints") or []:
            if isinstance(constraint.args.get("kind"), exp.CommentColumnConstraint):
                comment = _text(constraint.args["kind"].this)
        name = column.name
        out.append(Column(name, hive_type(column.args["kind"], f"table {full}, {label} {name}"), comment))
    return out


def parse_create_table(tree: exp.Create, default_database: str) -> TableDdl:
    """The parts of a CREATE TABLE statement (with a column list, or CTAS's properties)."""
    target = tree.this
    schema = target if isinstance(target, exp.Schema) else None
    table = schema.this if schema is not None else target
    if not isinstance(table, exp.Table):
        raise InvalidInput("CREATE TABLE needs a table name")
    database = table.db or default_database
    full = f"{database}.{table.name}"
    columns = _columns(list(schema.expressions), full, "column") if schema is not None else []
    ddl = TableDdl(database, table.name, columns, if_not_exists=bool(tree.args.get("exists")))
    properties = tree.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        _apply(ddl, prop, full)
    return ddl


def _apply(ddl: TableDdl, prop: exp.Expression, full: str) -> None:
    if isinstance(prop, exp.ExternalProperty):
        ddl.external = True
    elif isinstance(prop, exp.SchemaCommentProperty):
        ddl.comment = _text(prop.this)
    elif isinstance(prop, exp.PartitionedByProperty):
        keys = prop.this.expressions if isinstance(prop.this, exp.Schema | exp.Array) else [prop.this]
        if all(isinstance(k, exp.ColumnDef) and k.args.get("kind") is not None for k in keys):
            ddl.partition_keys = _columns(list(keys), full, "partition key")
        else:
            ddl.partition_names = [_text(k) for k in keys]
    elif isinstance(prop, exp.RowFormatDelimitedProperty):
        ddl.serde = _LAZY_SIMPLE
        for part in ("fields", "escaped", "collection_items", "map_keys", "lines", "null"):
            if prop.args.get(part) is not None:
                ddl.delimited[part] = _unescape(_text(prop.args[part]))
    elif isinstance(prop, exp.RowFormatSerdeProperty):
        ddl.serde = _text(prop.this)
        params = prop.args.get("serde_properties")
        for pair in params.expressions if params is not None else []:
            ddl.serde_parameters[_text(pair.this)] = _unescape(_text(pair.args.get("value")))
    elif isinstance(prop, exp.FileFormatProperty):
        if isinstance(prop.this, exp.InputOutputFormat):
            name = _text(prop.this.args.get("input_format"))
            if name not in _INPUT_FORMATS:
                raise InvalidInput(f"table {full}: input format {name!r} is not one lakeport reads")
            ddl.classification = _INPUT_FORMATS[name]
        else:
            stored = _text(prop.this).upper()
            if stored not in _STORED_AS:
                raise InvalidInput(
                    f"table {full}: STORED AS {stored} is not supported", hint=", ".join(sorted(_STORED_AS))
                )
            ddl.classification = _STORED_AS[stored]
    elif isinstance(prop, exp.LocationProperty):
        ddl.location = _text(prop.this)
    elif isinstance(prop, exp.Property):
        ddl.properties[_text(prop.this).lower()] = _property_value(prop.args.get("value"))
    else:
        raise InvalidInput(
            f"table {full}: {prop.sql(dialect='athena')!r} is not supported in CREATE TABLE",
            hint="see docs/query.md for the DDL lakeport reads",
        )


def _property_value(value: exp.Expression | None) -> str:
    if isinstance(value, exp.Array):
        return ",".join(_text(v) for v in value.expressions)
    if isinstance(value, exp.Boolean):
        return "true" if value.this else "false"
    return _text(value)


def table_format(ddl: TableDdl) -> TableFormat:
    """The format Athena reads the table's files in, from its SerDe, STORED AS and TBLPROPERTIES."""
    full = f"{ddl.database}.{ddl.name}"
    serde = ddl.serde or ""
    kind = ddl.classification
    if serde in _JSON_SERDES:
        kind = "json"
    elif serde == _PARQUET_SERDE:
        kind = "parquet"
    elif serde in (_LAZY_SIMPLE, OPEN_CSV_SERDE):
        kind = kind or "csv"
    elif serde:
        raise InvalidInput(f"table {full}: SerDe {serde!r} is not one lakeport reads", hint="see docs/query.md")
    kind = kind or "csv"  # Hive's default: TEXTFILE with LazySimpleSerDe
    header = ddl.properties.get("skip.header.line.count", "0").strip()
    if header not in ("0", "1"):
        raise InvalidInput(f"table {full}: skip.header.line.count {header!r} is not supported (0 or 1)")
    compression = ddl.properties.get("compressiontype") or ddl.properties.get("write_compression") or None
    if kind != "csv":
        return TableFormat(kind, header=header == "1", compression=compression and compression.lower())
    params = ddl.serde_parameters
    null = ddl.properties.get("serialization.null.format") or params.get("serialization.null.format")
    null = ddl.delimited.get("null", null)
    if serde == OPEN_CSV_SERDE:
        return TableFormat(
            "csv",
            delimiter=params.get("separatorChar", ","),
            quote=params.get("quoteChar", '"'),
            escape=params.get("escapeChar", "\\"),
            header=header == "1",
            compression=compression,
            null_markers=(null,) if null else (),
        )
    delimiter = ddl.delimited.get("fields") or params.get("field.delim") or params.get("separatorChar")
    return TableFormat(
        "csv",
        delimiter=delimiter or HIVE_DEFAULT_DELIMITER,
        escape=ddl.delimited.get("escaped") or params.get("escape.delim"),
        header=header == "1",
        compression=compression,
        null_markers=(null,) if null else (),
    )


def external_table(ddl: TableDdl) -> Table:
    """The catalog table a CREATE EXTERNAL TABLE statement defines."""
    full = f"{ddl.database}.{ddl.name}"
    if not ddl.location:
        raise InvalidInput(f"CREATE EXTERNAL TABLE {full} needs a LOCATION", hint="LOCATION 's3://bucket/prefix/'")
    if not ddl.location.startswith("s3://"):
        raise InvalidInput(
            f"table {full}: LOCATION {ddl.location!r} is not an s3:// URI",
            hint="tables read the lake's objects: LOCATION 's3://bucket/prefix/'",
        )
    if not ddl.columns:
        raise InvalidInput(f"CREATE EXTERNAL TABLE {full} needs columns")
    kept = {k: v for k, v in ddl.properties.items() if k not in ("table_type",)}
    return Table(
        database=ddl.database,
        name=ddl.name,
        columns=tuple(ddl.columns),
        partition_keys=tuple(ddl.partition_keys),
        location=ddl.location if ddl.location.endswith("/") else ddl.location + "/",
        format=table_format(ddl),
        parameters={"EXTERNAL": "TRUE", **kept},
        description=ddl.comment,
    )


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _column_lines(columns: tuple[Column, ...]) -> str:
    lines = [f"  `{c.name}` {c.type}" + (f" COMMENT {_quote(c.comment)}" if c.comment else "") for c in columns]
    return ",\n".join(lines)


def show_create(table: Table) -> str:
    """The table (or view) as the DDL that would create it again, in Athena's layout."""
    if table.table_type == VIRTUAL_VIEW:
        return f'CREATE VIEW "{table.database}"."{table.name}" AS\n{table.view_text or ""}'
    head = (
        f"CREATE TABLE `{table.database}`.`{table.name}`("
        if table.table_type == ICEBERG
        else (f"CREATE EXTERNAL TABLE `{table.database}`.`{table.name}`(")
    )
    parts = [head, _column_lines(table.columns) + ")"]
    if table.description:
        parts.append(f"COMMENT {_quote(table.description)}")
    if table.table_type == ICEBERG:
        keys = table.parameters.get("partitioning", "")
        if keys:
            parts.append("PARTITIONED BY (" + ", ".join(f"`{k.strip()}`" for k in keys.split(",")) + ")")
        parts += ["LOCATION", f"  {_quote(table.location)}", "TBLPROPERTIES (", "  'table_type'='ICEBERG',"]
        parts.append(f"  'format'='parquet', 'write_compression'={_quote(table.format.compression or 'snappy')})")
        return "\n".join(parts)
    if table.partition_keys:
        parts += ["PARTITIONED BY (", _column_lines(table.partition_keys) + ")"]
    fmt = table.format
    descriptor = fmt.storage_descriptor()
    serde = descriptor["SerdeInfo"]
    parts.append(f"ROW FORMAT SERDE \n  {_quote(serde['SerializationLibrary'])} ")
    params: Mapping[str, str] = serde["Parameters"]
    if params:
        rendered = ", \n  ".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(params.items()))
        parts.append(f"WITH SERDEPROPERTIES ( \n  {rendered}) ")
    parts += [
        "STORED AS INPUTFORMAT ",
        f"  {_quote(descriptor['InputFormat'])} ",
        "OUTPUTFORMAT ",
        f"  {_quote(descriptor['OutputFormat'])}",
        "LOCATION",
        f"  {_quote(table.location)}",
    ]
    properties = {k: v for k, v in table.parameters.items() if k not in ("EXTERNAL", "classification")}
    if fmt.header:
        properties["skip.header.line.count"] = "1"
    properties["classification"] = fmt.classification
    rendered = ", \n  ".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(properties.items()))
    parts.append(f"TBLPROPERTIES (\n  {rendered})")
    return "\n".join(parts)
