"""Columns from the schemas of Parquet/Arrow, Iceberg table metadata and Avro files.

No Avro library (``fastavro``, ``avro``) is installed, so the Avro container files here come from two sources: real
files written by Polars' Avro writer (an independent implementation), and files built by :func:`avro_container`, a
small writer that follows the Avro 1.12 specification ("Object Container Files", "Binary Encoding"). The hand-built
files are read back with Polars' Avro reader, so the helper itself is checked by a real implementation.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal as PyDecimal
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport.catalog.external_schemas import (
    columns_from_arrow_schema,
    columns_from_avro_schema,
    columns_from_iceberg_schema,
    iceberg_current_schema,
    iceberg_partition_columns,
    read_avro_header_schema,
)
from lakeport.catalog.types import HiveType, parse_type
from lakeport.errors import InvalidInput


def rendered(columns: list[tuple[str, HiveType]]) -> list[tuple[str, str]]:
    return [(name, str(kind)) for name, kind in columns]


# --------------------------------------------------------------------------------------------------------------------
# Arrow / Parquet.


def test_columns_from_a_real_parquet_schema(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([1], pa.int64()),
            "name": pa.array(["x"], pa.large_string()),
            "price": pa.array([PyDecimal("1.25")], pa.decimal128(9, 2)),
            "day": pa.array([date(2024, 1, 2)], pa.date32()),
            "at": pa.array([datetime(2024, 1, 2, 3, 4)], pa.timestamp("ms", tz="UTC")),
            "tags": pa.array([["a"]], pa.list_(pa.string())),
            "attrs": pa.array([[("k", 1.5)]], pa.map_(pa.string(), pa.float64())),
            "Owner": pa.array(
                [{"First Name": "a", "age": 3}], pa.struct([("First Name", pa.string()), ("age", pa.int16())])
            ),
            "flag": pa.array([True]),
            "code": pa.array(["a"]).dictionary_encode(),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    assert rendered(columns_from_arrow_schema(pq.read_schema(path))) == [
        ("id", "bigint"),
        ("name", "string"),
        ("price", "decimal(9,2)"),
        ("day", "date"),
        ("at", "timestamp"),
        ("tags", "array<string>"),
        ("attrs", "map<string,double>"),
        ("Owner", "struct<`First Name`:string,age:smallint>"),
        ("flag", "boolean"),
        ("code", "string"),
    ]


# --------------------------------------------------------------------------------------------------------------------
# Iceberg.


def iceberg_v2_metadata() -> dict[str, Any]:
    """Table metadata as an Iceberg v2 writer leaves it after one schema change (spec: "Table Metadata Fields")."""
    first = {
        "type": "struct",
        "schema-id": 0,
        "identifier-field-ids": [1],
        "fields": [
            {"id": 1, "name": "id", "required": True, "type": "long"},
            {"id": 2, "name": "ts", "required": False, "type": "timestamptz"},
            {"id": 3, "name": "data", "required": False, "type": "string"},
        ],
    }
    second = {
        "type": "struct",
        "schema-id": 1,
        "identifier-field-ids": [1],
        "fields": [
            {"id": 1, "name": "id", "required": True, "type": "long"},
            {"id": 2, "name": "ts", "required": False, "type": "timestamptz"},
            {"id": 3, "name": "data", "required": False, "type": "string"},
            {"id": 4, "name": "count", "required": False, "type": "int"},
            {"id": 5, "name": "ratio", "required": False, "type": "float"},
            {"id": 6, "name": "score", "required": False, "type": "double"},
            {"id": 7, "name": "amount", "required": False, "type": "decimal(12, 2)"},
            {"id": 8, "name": "ok", "required": False, "type": "boolean"},
            {"id": 9, "name": "day", "required": False, "type": "date"},
            {"id": 10, "name": "clock", "required": False, "type": "time"},
            {"id": 11, "name": "local_ts", "required": False, "type": "timestamp"},
            {"id": 12, "name": "precise_ts", "required": False, "type": "timestamptz_ns"},
            {"id": 13, "name": "key", "required": False, "type": "uuid"},
            {"id": 14, "name": "digest", "required": False, "type": "fixed[16]"},
            {"id": 15, "name": "payload", "required": False, "type": "binary"},
            {
                "id": 16,
                "name": "location",
                "required": False,
                "type": {
                    "type": "struct",
                    "fields": [
                        {"id": 17, "name": "city", "required": False, "type": "string"},
                        {"id": 18, "name": "lat", "required": False, "type": "double"},
                    ],
                },
            },
            {
                "id": 19,
                "name": "tags",
                "required": False,
                "type": {"type": "list", "element-id": 20, "element": "string", "element-required": False},
            },
            {
                "id": 21,
                "name": "props",
                "required": False,
                "type": {
                    "type": "map",
                    "key-id": 22,
                    "key": "string",
                    "value-id": 23,
                    "value": {"type": "list", "element-id": 24, "element": "long", "element-required": True},
                    "value-required": False,
                },
            },
        ],
    }
    return {
        "format-version": 2,
        "table-uuid": "9c12d441-03fe-4693-9a96-a0705ddf69c1",
        "location": "s3://lake/warehouse/db/events",
        "last-sequence-number": 3,
        "last-updated-ms": 1717000000000,
        "last-column-id": 24,
        "current-schema-id": 1,
        "schemas": [first, second],
        "default-spec-id": 1,
        "partition-specs": [
            {"spec-id": 0, "fields": [{"name": "data", "transform": "identity", "source-id": 3, "field-id": 1000}]},
            {
                "spec-id": 1,
                "fields": [
                    {"name": "ts_day", "transform": "day", "source-id": 2, "field-id": 1001},
                    {"name": "id_bucket", "transform": "bucket[16]", "source-id": 1, "field-id": 1002},
                    {"name": "city", "transform": "identity", "source-id": 17, "field-id": 1003},
                    {"name": "data_trunc", "transform": "truncate[4]", "source-id": 3, "field-id": 1004},
                ],
            },
        ],
        "last-partition-id": 1004,
        "default-sort-order-id": 0,
        "sort-orders": [{"order-id": 0, "fields": []}],
        "properties": {"write.format.default": "parquet"},
        "current-snapshot-id": -1,
        "snapshots": [],
        "snapshot-log": [],
        "metadata-log": [],
    }


def test_iceberg_v2_current_schema_and_columns() -> None:
    metadata = iceberg_v2_metadata()
    schema = iceberg_current_schema(metadata)
    assert schema["schema-id"] == 1
    assert rendered(columns_from_iceberg_schema(schema)) == [
        ("id", "bigint"),
        ("ts", "timestamp"),
        ("data", "string"),
        ("count", "int"),
        ("ratio", "float"),
        ("score", "double"),
        ("amount", "decimal(12,2)"),
        ("ok", "boolean"),
        ("day", "date"),
        ("clock", "string"),
        ("local_ts", "timestamp"),
        ("precise_ts", "timestamp"),
        ("key", "string"),
        ("digest", "binary"),
        ("payload", "binary"),
        ("location", "struct<city:string,lat:double>"),
        ("tags", "array<string>"),
        ("props", "map<string,array<bigint>>"),
    ]


def test_iceberg_v2_partition_columns_follow_the_default_spec() -> None:
    assert iceberg_partition_columns(iceberg_v2_metadata()) == [
        "day(ts)",
        "bucket(16, id)",
        "location.city",
        "truncate(4, data)",
    ]


def test_iceberg_partition_source_may_be_a_column_dropped_from_the_current_schema() -> None:
    metadata = iceberg_v2_metadata()
    metadata["schemas"][1]["fields"] = [f for f in metadata["schemas"][1]["fields"] if f["name"] != "data"]
    metadata["default-spec-id"] = 0
    assert iceberg_partition_columns(metadata) == ["data"]


def test_iceberg_v1_metadata() -> None:
    metadata = {
        "format-version": 1,
        "table-uuid": "0f6b1a6e-5a8b-4b53-9d61-b0b2c3d4e5f6",
        "location": "s3://lake/warehouse/db/logs",
        "last-updated-ms": 1600000000000,
        "last-column-id": 3,
        "schema": {
            "type": "struct",
            "fields": [
                {"id": 1, "name": "level", "required": True, "type": "string"},
                {"id": 2, "name": "event_time", "required": True, "type": "timestamp"},
                {"id": 3, "name": "message", "required": False, "type": "string"},
            ],
        },
        "partition-spec": [
            {"name": "level", "transform": "identity", "source-id": 1, "field-id": 1000},
            {"name": "event_time_hour", "transform": "hour", "source-id": 2, "field-id": 1001},
            {"name": "dropped", "transform": "void", "source-id": 3, "field-id": 1002},
        ],
        "properties": {},
        "current-snapshot-id": -1,
        "snapshots": [],
    }
    schema = iceberg_current_schema(metadata)
    assert rendered(columns_from_iceberg_schema(schema)) == [
        ("level", "string"),
        ("event_time", "timestamp"),
        ("message", "string"),
    ]
    assert iceberg_partition_columns(metadata) == ["level", "hour(event_time)"]


def test_iceberg_unpartitioned_table() -> None:
    metadata = iceberg_v2_metadata()
    metadata["partition-specs"] = [{"spec-id": 0, "fields": []}]
    metadata["default-spec-id"] = 0
    assert iceberg_partition_columns(metadata) == []


def test_iceberg_errors_name_what_is_wrong() -> None:
    metadata = iceberg_v2_metadata()
    metadata["current-schema-id"] = 7
    with pytest.raises(InvalidInput, match="current-schema-id 7"):
        iceberg_current_schema(metadata)
    with pytest.raises(InvalidInput, match="neither"):
        iceberg_current_schema({"format-version": 2})
    deep = {"id": 2, "name": "deep", "required": False, "type": "varchar"}
    bad = {"type": "struct", "fields": [{"id": 1, "name": "n", "type": {"type": "struct", "fields": [deep]}}]}
    with pytest.raises(InvalidInput, match=r"Iceberg column 'n\.deep' has unknown type 'varchar'"):
        columns_from_iceberg_schema(bad)
    metadata = iceberg_v2_metadata()
    metadata["partition-specs"][1]["fields"][0]["source-id"] = 99
    with pytest.raises(InvalidInput, match="ts_day"):
        iceberg_partition_columns(metadata)


# --------------------------------------------------------------------------------------------------------------------
# Avro schemas.


def test_avro_schema_types() -> None:
    schema = {
        "type": "record",
        "name": "Event",
        "namespace": "com.example",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "n", "type": "int"},
            {"name": "ratio", "type": "float"},
            {"name": "score", "type": "double"},
            {"name": "ok", "type": "boolean"},
            {"name": "name", "type": ["null", "string"], "default": None},
            {"name": "note", "type": ["string", "null"]},
            {"name": "either", "type": ["int", "string"]},
            {"name": "raw", "type": "bytes"},
            {"name": "hash", "type": {"type": "fixed", "name": "MD5", "size": 16}},
            {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "at_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "at_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
            {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
            {"name": "clock", "type": {"type": "int", "logicalType": "time-millis"}},
            {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
            {
                "name": "fixed_price",
                "type": {"type": "fixed", "name": "Money", "size": 8, "logicalType": "decimal", "precision": 18},
            },
            {"name": "bad_decimal", "type": {"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 5}},
            {"name": "mystery", "type": {"type": "string", "logicalType": "no-such-logical-type"}},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "counts", "type": {"type": "map", "values": ["null", "long"]}},
            {
                "name": "address",
                "type": [
                    "null",
                    {
                        "type": "record",
                        "name": "Address",
                        "fields": [{"name": "City", "type": "string"}, {"name": "zip", "type": ["null", "int"]}],
                    },
                ],
            },
            {"name": "previous_address", "type": ["null", "Address"]},
            {"name": "other_hash", "type": "com.example.MD5"},
            {"name": "colors", "type": {"type": "array", "items": "Color"}},
        ],
    }
    assert rendered(columns_from_avro_schema(schema)) == [
        ("id", "bigint"),
        ("n", "int"),
        ("ratio", "float"),
        ("score", "double"),
        ("ok", "boolean"),
        ("name", "string"),
        ("note", "string"),
        ("either", "string"),
        ("raw", "binary"),
        ("hash", "binary"),
        ("color", "string"),
        ("day", "date"),
        ("at_ms", "timestamp"),
        ("at_us", "timestamp"),
        ("local", "timestamp"),
        ("clock", "string"),
        ("uid", "string"),
        ("price", "decimal(10,2)"),
        ("fixed_price", "decimal(18,0)"),
        ("bad_decimal", "binary"),
        ("mystery", "string"),
        ("tags", "array<string>"),
        ("counts", "map<string,bigint>"),
        ("address", "struct<City:string,zip:int>"),
        ("previous_address", "struct<City:string,zip:int>"),
        ("other_hash", "binary"),
        ("colors", "array<string>"),
    ]
    assert columns_from_avro_schema(json.dumps(schema)) == columns_from_avro_schema(schema)


def test_avro_named_references_follow_namespaces() -> None:
    schema = {
        "type": "record",
        "name": "a.Outer",
        "fields": [
            {
                "name": "inner",
                "type": {
                    "type": "record",
                    "name": "Inner",
                    "namespace": "b",
                    "fields": [
                        {"name": "x", "type": {"type": "fixed", "name": "Id", "size": 4, "logicalType": "uuid"}}
                    ],
                },
            },
            {"name": "again", "type": "b.Inner"},
            {"name": "id", "type": "b.Id"},
        ],
    }
    assert rendered(columns_from_avro_schema(schema)) == [
        ("inner", "struct<x:string>"),
        ("again", "struct<x:string>"),
        ("id", "string"),
    ]
    wrong = {"type": "record", "name": "a.Outer", "fields": [*schema["fields"][:1], {"name": "bad", "type": "Inner"}]}
    with pytest.raises(InvalidInput, match="unknown type 'Inner'"):
        columns_from_avro_schema(wrong)


def test_avro_schema_errors() -> None:
    recursive = {
        "type": "record",
        "name": "Node",
        "fields": [{"name": "value", "type": "int"}, {"name": "next", "type": ["null", "Node"]}],
    }
    with pytest.raises(InvalidInput, match="'Node' contains itself"):
        columns_from_avro_schema(recursive)
    with pytest.raises(InvalidInput, match="not a record"):
        columns_from_avro_schema("string")
    with pytest.raises(InvalidInput, match="not a record"):
        columns_from_avro_schema({"type": "array", "items": "int"})
    with pytest.raises(InvalidInput, match="not valid JSON"):
        columns_from_avro_schema("{oops")
    assert rendered(
        columns_from_avro_schema('["null", {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}]')
    ) == [("a", "int")]


# --------------------------------------------------------------------------------------------------------------------
# Avro container files.


def zigzag(n: int) -> bytes:
    """An Avro ``long``: zig-zag then little-endian base-128 varint (spec, "Primitive Types" encoding)."""
    value = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def avro_bytes(raw: bytes) -> bytes:
    """Avro ``bytes``/``string``: a long length, then the bytes."""
    return zigzag(len(raw)) + raw


SYNC = bytes(range(16))


def avro_header(metadata: dict[str, bytes], *, blocks: int = 1, negative_counts: bool = False) -> bytes:
    """Magic, the metadata map split into ``blocks`` blocks (a negative count carries the block size), sync."""
    items = list(metadata.items())
    out = bytearray(b"Obj\x01")
    for i in range(blocks):
        chunk = items[i::blocks]
        if not chunk:
            continue
        body = b"".join(avro_bytes(k.encode()) + avro_bytes(v) for k, v in chunk)
        out += zigzag(-len(chunk)) + zigzag(len(body)) if negative_counts else zigzag(len(chunk))
        out += body
    out += zigzag(0) + SYNC
    return bytes(out)


def avro_container(schema: dict[str, Any], records: list[bytes], **options: Any) -> bytes:
    """A whole object container file: header, then one data block of already-encoded records (null codec)."""
    header = avro_header({"avro.schema": json.dumps(schema).encode(), "avro.codec": b"null"}, **options)
    data = b"".join(records)
    return header + zigzag(len(records)) + zigzag(len(data)) + data + SYNC


PEOPLE = {
    "type": "record",
    "name": "Person",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": ["null", "string"]},
        {"name": "born", "type": {"type": "int", "logicalType": "date"}},
    ],
}


def person(id_: int, name: str | None, born_days: int) -> bytes:
    encoded_name = zigzag(0) if name is None else zigzag(1) + avro_bytes(name.encode())
    return zigzag(id_) + encoded_name + zigzag(born_days)


@pytest.mark.parametrize(
    "options", [{}, {"negative_counts": True}, {"blocks": 2}, {"blocks": 2, "negative_counts": True}]
)
def test_hand_built_container_is_read_by_polars_and_by_the_header_reader(options: dict[str, Any]) -> None:
    data = avro_container(PEOPLE, [person(1, "Ada", 0), person(-300, None, 19000)], **options)
    if not options.get("negative_counts"):  # allowed by the spec, but Polars' reader refuses them in a header
        frame = pl.read_avro(io.BytesIO(data))
        assert frame.to_dicts() == [
            {"id": 1, "name": "Ada", "born": date(1970, 1, 1)},
            {"id": -300, "name": None, "born": date(2022, 1, 8)},
        ]
    schema = read_avro_header_schema(data)
    assert schema == PEOPLE
    assert rendered(columns_from_avro_schema(schema)) == [("id", "bigint"), ("name", "string"), ("born", "date")]


@pytest.mark.parametrize("compression", ["uncompressed", "deflate", "snappy"])
def test_header_of_a_file_written_by_polars(compression: Literal["uncompressed", "deflate", "snappy"]) -> None:
    frame = pl.DataFrame(
        {
            "id": [1],
            "name": ["x"],
            "scores": [[1, 2]],
            "day": [date(2020, 1, 1)],
            "at": [datetime(2020, 1, 1, 12)],
            "owner": [{"first": "a", "age": 3}],
            "ratio": pl.Series([1.5], dtype=pl.Float32),
            "small": pl.Series([1], dtype=pl.Int32),
            "ok": [True],
            "blob": [b"\x00"],
            "price": pl.Series([PyDecimal("1.23")], dtype=pl.Decimal(10, 2)),
        }
    )
    buffer = io.BytesIO()
    frame.write_avro(buffer, compression=compression, name="row")
    schema = read_avro_header_schema(buffer.getvalue())
    assert schema["name"] == "row"
    assert rendered(columns_from_avro_schema(schema)) == [
        ("id", "bigint"),
        ("name", "string"),
        ("scores", "array<bigint>"),
        ("day", "date"),
        ("at", "timestamp"),
        ("owner", "struct<first:string,age:bigint>"),
        ("ratio", "float"),
        ("small", "int"),
        ("ok", "boolean"),
        ("blob", "binary"),
        ("price", "decimal(10,2)"),
    ]


def test_header_errors() -> None:
    good = avro_header({"avro.schema": json.dumps(PEOPLE).encode()})
    with pytest.raises(InvalidInput, match="not an Avro container file: bad magic"):
        read_avro_header_schema(b"PAR1" + good[4:])
    with pytest.raises(InvalidInput, match="bad magic"):
        read_avro_header_schema(b"")
    end_of_map = len(good) - len(SYNC)
    for cut in range(4, end_of_map):
        with pytest.raises(InvalidInput, match="truncated Avro header"):
            read_avro_header_schema(good[:cut])
    assert read_avro_header_schema(good[:end_of_map]) == PEOPLE  # the sync marker is not needed
    with pytest.raises(InvalidInput, match=r"no 'avro\.schema' entry"):
        read_avro_header_schema(avro_header({"avro.codec": b"null"}))
    with pytest.raises(InvalidInput, match="not JSON"):
        read_avro_header_schema(avro_header({"avro.schema": b"{not json"}))
    with pytest.raises(InvalidInput, match="not a JSON object"):
        read_avro_header_schema(avro_header({"avro.schema": b'"string"'}))
    with pytest.raises(InvalidInput, match="negative length"):
        read_avro_header_schema(b"Obj\x01" + zigzag(1) + zigzag(-5))
    with pytest.raises(InvalidInput, match="longer than 10 bytes"):
        read_avro_header_schema(b"Obj\x01" + b"\xff" * 11)


def test_parse_type_accepts_what_the_readers_render() -> None:
    columns = columns_from_iceberg_schema(iceberg_current_schema(iceberg_v2_metadata()))
    for _, kind in columns:
        assert parse_type(str(kind)) == kind
