"""Table columns from the schemas that file and table formats carry themselves: Arrow (Parquet, ORC, Feather),
Iceberg table metadata and Avro.

Every reader returns ``[(column name, HiveType), ...]`` in the format's column order. Types follow the mapping of
:mod:`lakeport.catalog.types`; format-specific rules:

* Iceberg (spec "Schemas and Data Types"): ``int``→int, ``long``→bigint, ``time``→string (Hive has no TIME),
  every ``timestamp``/``timestamptz`` flavour→timestamp, ``uuid``→string, ``fixed[L]``→binary, ``decimal(P,S)``,
  nested ``struct``/``list``/``map``; the v3 types ``variant``→string, ``geometry``/``geography``→binary (WKB) and
  ``unknown`` (always null)→string.
* Avro (spec 1.12): a union of null and one type is that type (the column is nullable anyway), any other union is
  string; ``bytes``/``fixed``→binary, ``enum``→string, ``map`` has string keys, ``record``→struct; logical types
  ``date``, ``timestamp-*``/``local-timestamp-*``→timestamp, ``decimal``, ``uuid``→string, ``time-*``→string. As
  the spec says, a logical type that is unknown or invalid is ignored and the underlying type used. A named type
  (record, enum, fixed) may be referenced by its full name or, inside its namespace, by its short name.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow as pa

from lakeport.catalog.types import (
    BIGINT,
    BINARY,
    BOOLEAN,
    DATE,
    DOUBLE,
    FLOAT,
    INT,
    STRING,
    TIMESTAMP,
    ArrayType,
    HiveType,
    MapType,
    StructField,
    StructType,
    closest_decimal,
    from_arrow,
)
from lakeport.errors import InvalidInput

Columns = list[tuple[str, HiveType]]

# --------------------------------------------------------------------------------------------------------------------
# Arrow.


def columns_from_arrow_schema(schema: pa.Schema) -> Columns:
    """Columns of an Arrow schema (as Parquet, ORC and Arrow files report it)."""
    columns: Columns = []
    for field in schema:
        try:
            columns.append((field.name, from_arrow(field.type)))
        except InvalidInput as exc:
            raise InvalidInput(f"column '{field.name}': {exc.message}", hint=exc.hint) from None
    return columns


# --------------------------------------------------------------------------------------------------------------------
# Iceberg.

_ICEBERG_PRIMITIVES: dict[str, HiveType] = {
    "boolean": BOOLEAN,
    "int": INT,
    "long": BIGINT,
    "float": FLOAT,
    "double": DOUBLE,
    "date": DATE,
    "time": STRING,  # Hive has no TIME type
    "timestamp": TIMESTAMP,
    "timestamptz": TIMESTAMP,
    "timestamp_ns": TIMESTAMP,
    "timestamptz_ns": TIMESTAMP,
    "string": STRING,
    "uuid": STRING,
    "binary": BINARY,
    "variant": STRING,
    "geometry": BINARY,
    "geography": BINARY,
    "unknown": STRING,
}
_ICEBERG_DECIMAL = re.compile(r"decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_ICEBERG_FIXED = re.compile(r"fixed\[\s*(\d+)\s*\]")
_ICEBERG_PARAMETERISED = re.compile(r"(geometry|geography)\s*\(.*\)")  # v3: a CRS (and an algorithm) in brackets
_ICEBERG_HINT = "see the Iceberg table spec, section 'Schemas and Data Types'"


def columns_from_iceberg_schema(schema: dict[str, Any]) -> Columns:
    """Columns of an Iceberg schema object (``{"type": "struct", "schema-id": 0, "fields": [...]}``)."""
    return _iceberg_fields(schema, "")


def _iceberg_fields(struct: dict[str, Any], path: str) -> list[tuple[str, HiveType]]:
    fields = struct.get("fields")
    if not isinstance(fields, list):
        raise InvalidInput(f"Iceberg struct{_at(path)} has no 'fields' list", hint=_ICEBERG_HINT)
    result: list[tuple[str, HiveType]] = []
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("name"), str) or "type" not in field:
            raise InvalidInput(f"Iceberg field{_at(path)} needs a 'name' and a 'type': {field!r}", hint=_ICEBERG_HINT)
        name = field["name"]
        result.append((name, _iceberg_type(field["type"], f"{path}.{name}" if path else name)))
    return result


def _iceberg_type(kind: Any, path: str) -> HiveType:
    if isinstance(kind, str):
        text = kind.strip().lower()
        if text in _ICEBERG_PRIMITIVES:
            return _ICEBERG_PRIMITIVES[text]
        if match := _ICEBERG_DECIMAL.fullmatch(text):
            return closest_decimal(int(match[1]), int(match[2]))
        if _ICEBERG_FIXED.fullmatch(text) or _ICEBERG_PARAMETERISED.fullmatch(text):
            return BINARY
        raise InvalidInput(f"Iceberg column '{path}' has unknown type '{kind}'", hint=_ICEBERG_HINT)
    if isinstance(kind, dict):
        nested = kind.get("type")
        if nested == "struct":
            return StructType(tuple(StructField(n, t) for n, t in _iceberg_fields(kind, path)))
        if nested == "list" and "element" in kind:
            return ArrayType(_iceberg_type(kind["element"], f"{path}.element"))
        if nested == "map" and "key" in kind and "value" in kind:
            return MapType(_iceberg_type(kind["key"], f"{path}.key"), _iceberg_type(kind["value"], f"{path}.value"))
    raise InvalidInput(f"Iceberg column '{path}' has an unreadable type: {kind!r}", hint=_ICEBERG_HINT)


def _at(path: str) -> str:
    return f" '{path}'" if path else ""


def iceberg_current_schema(metadata: dict[str, Any]) -> dict[str, Any]:
    """The table's current schema: ``current-schema-id`` looked up in ``schemas`` (format v2, and v1 writers that
    already track schemas), else the v1 ``schema`` key."""
    schemas = metadata.get("schemas")
    current = metadata.get("current-schema-id")
    if isinstance(schemas, list) and current is not None:
        for schema in schemas:
            if isinstance(schema, dict) and schema.get("schema-id") == current:
                return schema
        raise InvalidInput(
            f"Iceberg metadata names current-schema-id {current}, which is not in 'schemas'", hint=_ICEBERG_HINT
        )
    schema = metadata.get("schema")
    if isinstance(schema, dict):
        return schema
    raise InvalidInput(
        "Iceberg metadata has neither 'schemas' with 'current-schema-id' nor 'schema'", hint=_ICEBERG_HINT
    )


def iceberg_partition_columns(metadata: dict[str, Any]) -> list[str]:
    """The default partition spec as Athena writes it in ``PARTITIONED BY``.

    An identity field gives the source column name; other transforms wrap it: ``year(ts)``, ``month(ts)``,
    ``day(ts)``, ``hour(ts)``, ``bucket(16, id)``, ``truncate(10, name)``. A nested source column is written with
    dots (``address.city``). ``void`` fields (partition fields dropped in format v1) partition nothing and are
    left out. The spec is ``partition-specs`` chosen by ``default-spec-id`` (v2), else the v1 ``partition-spec``
    list of fields.
    """
    specs = metadata.get("partition-specs")
    if isinstance(specs, list) and "default-spec-id" in metadata:
        wanted = metadata["default-spec-id"]
        chosen = [s for s in specs if isinstance(s, dict) and s.get("spec-id") == wanted]
        if not chosen:
            raise InvalidInput(f"Iceberg default-spec-id {wanted} is not in 'partition-specs'", hint=_ICEBERG_HINT)
        fields = chosen[0].get("fields", [])
    else:
        fields = metadata.get("partition-spec", [])
    if not isinstance(fields, list):
        raise InvalidInput("Iceberg partition spec fields are not a list", hint=_ICEBERG_HINT)
    names = _iceberg_field_names(metadata)
    columns: list[str] = []
    for field in fields:
        if not isinstance(field, dict):
            raise InvalidInput(f"Iceberg partition field is not an object: {field!r}", hint=_ICEBERG_HINT)
        transform = str(field.get("transform", "")).strip().lower()
        if transform == "void":
            continue
        source_ids = field.get("source-ids") or [field.get("source-id")]
        source = names.get(source_ids[0]) if len(source_ids) == 1 else None
        if source is None:
            raise InvalidInput(
                f"Iceberg partition field '{field.get('name')}' has unknown source column {source_ids}",
                hint=_ICEBERG_HINT,
            )
        columns.append(_partition_expression(transform, source, field))
    return columns


def _partition_expression(transform: str, source: str, field: dict[str, Any]) -> str:
    if transform == "identity":
        return source
    if transform in ("year", "month", "day", "hour"):
        return f"{transform}({source})"
    if match := re.fullmatch(r"(bucket|truncate)\[\s*(\d+)\s*\]", transform):
        return f"{match[1]}({match[2]}, {source})"
    raise InvalidInput(
        f"Iceberg partition field '{field.get('name')}' has unknown transform '{transform}'", hint=_ICEBERG_HINT
    )


def _iceberg_field_names(metadata: dict[str, Any]) -> dict[Any, str]:
    """Field id → dotted column name, from the current schema first and then any older one (ids never change)."""
    schemas: list[dict[str, Any]] = [iceberg_current_schema(metadata)]
    schemas += [s for s in metadata.get("schemas", []) if isinstance(s, dict)]
    names: dict[Any, str] = {}
    for schema in schemas:
        _collect_ids(schema, "", names)
    return names


def _collect_ids(struct: dict[str, Any], prefix: str, names: dict[Any, str]) -> None:
    for field in struct.get("fields", []):
        if not isinstance(field, dict):
            continue
        name = f"{prefix}{field.get('name')}"
        names.setdefault(field.get("id"), name)
        kind = field.get("type")
        if isinstance(kind, dict) and kind.get("type") == "struct":  # partition sources never sit in lists/maps
            _collect_ids(kind, f"{name}.", names)


# --------------------------------------------------------------------------------------------------------------------
# Avro.

_AVRO_PRIMITIVES: dict[str, HiveType] = {
    "null": STRING,  # a column of nothing but nulls: string accepts whatever comes later
    "boolean": BOOLEAN,
    "int": INT,
    "long": BIGINT,
    "float": FLOAT,
    "double": DOUBLE,
    "bytes": BINARY,
    "string": STRING,
}
_AVRO_TIMESTAMPS = frozenset(
    {
        "timestamp-millis",
        "timestamp-micros",
        "timestamp-nanos",
        "local-timestamp-millis",
        "local-timestamp-micros",
        "local-timestamp-nanos",
    }
)
_AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_AVRO_HINT = "see the Apache Avro specification, section 'Schema Declaration'"


def columns_from_avro_schema(schema: dict[str, Any] | str | list[Any]) -> Columns:
    """Columns of an Avro record schema, given as parsed JSON, as JSON text, or as a bare type name.

    The top level must be a record (or a union of null and a record); its fields are the columns.
    """
    if isinstance(schema, str) and not _AVRO_NAME.fullmatch(schema.strip()):  # a bare name is a schema as it is
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"Avro schema is not valid JSON: {exc}", hint=_AVRO_HINT) from None
    reader = _AvroReader()
    top = reader.unwrap_nullable(schema)
    if not (isinstance(top, dict) and top.get("type") == "record"):
        raise InvalidInput(f"Avro schema is not a record: {_short(schema)}", hint="a table needs a record schema")
    result = reader.read(top, "")
    assert isinstance(result, StructType)  # a record always reads as a struct
    return [(f.name, f.type) for f in result.fields]


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _AvroReader:
    """Reads one Avro schema, remembering named types (record, enum, fixed) by full name as it meets them."""

    def __init__(self) -> None:
        self.named: dict[str, HiveType | None] = {}  # None while a record's own fields are being read

    @staticmethod
    def unwrap_nullable(schema: Any) -> Any:
        """The one non-null branch of a ``["null", T]`` union; anything else unchanged."""
        if isinstance(schema, list):
            branches = [b for b in schema if b != "null"]
            if len(branches) == 1 and len(schema) == 2:
                return branches[0]
        return schema

    def read(self, schema: Any, namespace: str) -> HiveType:
        if isinstance(schema, list):
            unwrapped = self.unwrap_nullable(schema)
            if unwrapped is schema:
                for branch in schema:  # still define the named types inside, in case they are referenced later
                    self.read(branch, namespace)
                return STRING  # Hive has no union type; the text form holds any branch
            return self.read(unwrapped, namespace)
        if isinstance(schema, str):
            return self.reference(schema, namespace)
        if not isinstance(schema, dict) or "type" not in schema:
            raise InvalidInput(f"unreadable Avro schema: {_short(schema)}", hint=_AVRO_HINT)
        kind = schema["type"]
        if not isinstance(kind, str):  # {"type": {...}} or {"type": [...]} wraps another schema
            return self.read(kind, namespace)
        logical = self.logical(schema, kind)
        if kind in ("record", "error"):
            return self.record(schema, namespace)
        if kind in ("enum", "fixed"):
            full = self.define(schema, namespace)
            result = STRING if kind == "enum" else BINARY
            self.named[full] = logical or result
            return logical or result
        if kind == "array":
            return ArrayType(self.read(schema.get("items"), namespace))
        if kind == "map":
            return MapType(STRING, self.read(schema.get("values"), namespace))  # Avro map keys are strings
        if kind in _AVRO_PRIMITIVES:
            return logical or _AVRO_PRIMITIVES[kind]
        return self.reference(kind, namespace)

    def logical(self, schema: dict[str, Any], kind: str) -> HiveType | None:
        """The Hive type for a valid logical type, or None to use the underlying type (as the spec demands)."""
        name = schema.get("logicalType")
        if name == "date" and kind == "int":
            return DATE
        if name in _AVRO_TIMESTAMPS and kind == "long":
            return TIMESTAMP
        if name in ("time-millis", "time-micros") and kind in ("int", "long"):
            return STRING  # Hive has no TIME type
        if name == "uuid" and kind in ("string", "fixed"):
            return STRING
        if name == "decimal" and kind in ("bytes", "fixed"):
            precision, scale = schema.get("precision"), schema.get("scale", 0)
            if isinstance(precision, int) and isinstance(scale, int) and 0 <= scale <= precision and precision > 0:
                return closest_decimal(precision, scale)  # past 38 digits: double
        return None

    def record(self, schema: dict[str, Any], namespace: str) -> HiveType:
        full = self.define(schema, namespace)
        self.named[full] = None
        inner = full.rpartition(".")[0]
        fields = schema.get("fields")
        if not isinstance(fields, list) or not fields:
            raise InvalidInput(f"Avro record '{full}' has no fields", hint="Hive structs need at least one field")
        members: list[StructField] = []
        for field in fields:
            if not isinstance(field, dict) or not isinstance(field.get("name"), str) or "type" not in field:
                raise InvalidInput(f"Avro record '{full}' has a field without name or type: {_short(field)}")
            members.append(StructField(field["name"], self.read(field["type"], inner)))
        result = StructType(tuple(members))
        self.named[full] = result
        return result

    def define(self, schema: dict[str, Any], namespace: str) -> str:
        """The full name of a named type, which sets the namespace its inner types are read in."""
        name = schema.get("name")
        if name == "" or name is None:
            # The spec requires a name, but real writers (polars) leave the top-level record's empty; nothing can
            # refer to a nameless type, so a private name is enough to read it.
            name = f"_unnamed_{len(self.named)}"
        if not isinstance(name, str):
            raise InvalidInput(f"Avro {schema.get('type')} without a name: {_short(schema)}", hint=_AVRO_HINT)
        if "." in name:
            return name
        space = schema.get("namespace", namespace)
        return f"{space}.{name}" if space else name

    def reference(self, name: str, namespace: str) -> HiveType:
        if name in _AVRO_PRIMITIVES:
            return _AVRO_PRIMITIVES[name]
        candidates = [name]
        if namespace and "." not in name:
            candidates.insert(0, f"{namespace}.{name}")  # a short name is looked up in the enclosing namespace first
        for full in candidates:
            if full in self.named:
                found = self.named[full]
                if found is None:
                    raise InvalidInput(
                        f"Avro type '{full}' contains itself, which no Hive column type can",
                        hint="recursive records cannot be catalogued",
                    )
                return found
        raise InvalidInput(
            f"Avro schema refers to unknown type '{name}'", hint="a named type must be defined before use"
        )


# --------------------------------------------------------------------------------------------------------------------
# Avro object container file header.

AVRO_MAGIC = b"Obj\x01"


def read_avro_header_schema(data: bytes) -> dict[str, Any]:
    """The writer's schema of an Avro object container file, parsed from the start of the file.

    The header (Avro spec, "Object Container Files") is the magic ``Obj\\x01`` and then the file metadata, an Avro
    ``map<bytes>``: blocks, each a zig-zag varint ``long`` count of entries (a negative count is followed by the
    block's byte size and means abs(count) entries), each entry a length-prefixed UTF-8 key and a length-prefixed
    value, until a block with count 0. The schema is the JSON of the ``avro.schema`` entry and must be an object.
    The 16-byte sync marker after the map is not needed and may be missing from ``data``.
    """
    if data[:4] != AVRO_MAGIC:
        raise InvalidInput("not an Avro container file: bad magic", hint="Avro files start with the bytes 'Obj\\x01'")
    reader = _Bytes(data, 4)
    metadata: dict[str, bytes] = {}
    while count := reader.long():
        if count < 0:
            count = -count
            reader.long()  # the block's size in bytes, useful only for skipping it
        for _ in range(count):
            key = reader.block()
            try:
                metadata[key.decode("utf-8")] = reader.block()
            except UnicodeDecodeError:
                raise InvalidInput("Avro header has a metadata key that is not UTF-8") from None
    if "avro.schema" not in metadata:
        raise InvalidInput("Avro header has no 'avro.schema' entry", hint="the file was not written by an Avro writer")
    try:
        schema = json.loads(metadata["avro.schema"].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"Avro header's 'avro.schema' is not JSON: {exc}") from None
    if not isinstance(schema, dict):
        raise InvalidInput(f"Avro file schema is not a JSON object: {_short(schema)}", hint="a table needs a record")
    return schema


class _Bytes:
    """Avro binary decoding of the two shapes a header needs: ``long`` and length-prefixed ``bytes``."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def long(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise InvalidInput(f"truncated Avro header at byte {self.pos}", hint="the file ends inside its header")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return (value >> 1) ^ -(value & 1)  # zig-zag: 0, -1, 1, -2, ... are stored as 0, 1, 2, 3, ...
            shift += 7
            if shift >= 70:
                raise InvalidInput(f"bad Avro varint at byte {self.pos}: longer than 10 bytes")

    def block(self) -> bytes:
        start = self.pos
        size = self.long()
        if size < 0:
            raise InvalidInput(f"bad Avro header: negative length {size} at byte {start}")
        if self.pos + size > len(self.data):
            raise InvalidInput(f"truncated Avro header at byte {self.pos}", hint="the file ends inside its header")
        value = self.data[self.pos : self.pos + size]
        self.pos += size
        return value


__all__ = [
    "AVRO_MAGIC",
    "Columns",
    "columns_from_arrow_schema",
    "columns_from_avro_schema",
    "columns_from_iceberg_schema",
    "iceberg_current_schema",
    "iceberg_partition_columns",
    "read_avro_header_schema",
]
