"""Fixture cases for the crawler: folders of files to upload and the catalog a crawl of them must produce.

Layout of one case, ``tests/crawler/fixtures/<case>/``::

    files/            the objects, at their keys relative to the include path s3://<bucket>/staging/<case>/
    expected.json     the catalog the crawl must produce (format below)

**Source files.** Most files under ``files/`` are uploaded byte for byte. Binary formats are kept as text and
written when the case is uploaded (:func:`materialize`); the source's name says what to make of it:

=====================  ===============================================================================================
source                 uploaded as
=====================  ===============================================================================================
``NAME.parquet.json``  ``NAME.parquet``: a Parquet file written with pyarrow from
                       ``{"schema": [[column, arrow type], ...], "rows": [[value, ...], ...]}``. Arrow types:
                       ``int64 int32 float64 string bool date32 timestamp[us] decimal128(P,S) list<T>
                       struct<name: T, ...>``. Dates, timestamps and decimals are written as strings
                       (``"2024-01-31"``, ``"2024-01-31T10:00:00"``, ``"12.50"``); a struct value is an object.
                       An optional ``"row_group_size"`` is passed to ``pyarrow.parquet.write_table``.
``NAME.avro.json``     ``NAME.avro``: a real Avro container written with polars from the same JSON shape, plus
                       ``"name"``, the top-level record's name (default ``"record"``; the Avro spec requires one, and
                       polars would otherwise write ``""``).
``NAME.gz.src``        ``NAME.gz``: the source's bytes compressed with gzip (mtime 0, so the bytes are stable).
``NAME.bz2.src``       ``NAME.bz2``: the same with bzip2.
``NAME.zst.src``       ``NAME.zst``: the same with zstandard.
``NAME.hex``           ``NAME``: the bytes spelled by the hex digits of the source (whitespace ignored), for
                       binary junk that cannot live in git as text.
``NAME.truncate-N``    ``NAME``: only the first ``N`` bytes of the source.
=====================  ===============================================================================================

**Options sidecar.** ``SOURCE.opts`` (``x.parquet.json.opts`` next to ``x.parquet.json``) holds a JSON object of
options for that one source and is never uploaded itself. The only option is ``{"truncate": N}``: after the source
has been turned into its object (a Parquet file, gzip bytes …), keep only its first ``N`` bytes, which is how a
truncated Parquet or gzip file is made. A negative ``N`` drops that many bytes from the end instead.

**expected.json** (every key but ``tables`` and ``table_count`` is optional)::

    {
      "description": "what the case shows",
      "crawler": {"exclusions": ["**.tmp"]},       # run through create_crawler + start_crawler with these fields
      "include": "sales/",                         # crawl this sub-folder of the case (locations stay relative
                                                   # to the case's folder)
      "table_count": 1,                            # how many tables the database holds after the crawl
      "tables": [{
        "name": "sales",
        "location": "sales/",                      # relative to the include path ("" = the include path itself)
        "classification": "parquet",
        "table_type": "EXTERNAL_TABLE",            # the default; ICEBERG for Iceberg folders
        "columns": [["id", "bigint"], ...],        # in order
        "partition_keys": [["year", "bigint"]],    # in order; default none
        "partitions": [["2022"], ...],             # sorted values; or objects {"values": [...], "location": "…/",
                                                   #   "row_count": 3, "file_count": 1} to check more of each
        "format": {"delimiter": ",", "header": true},  # a subset of TableFormat.to_dict()
        "serde": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
        "parameters": {"recordCount": "20"}        # a subset; "{include}" stands for s3://<bucket>/staging/<case>/
      }],
      "warnings": [["empty.csv", "empty"]],        # every warning of the crawl: (file suffix, reason substring)
      "summary": {"files_ignored": 5}              # a subset of the first crawl's summary counters
    }
"""

from __future__ import annotations

import bz2
import datetime as dt
import decimal
import gzip
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from lakeport import Lake

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STAGING = "staging"
OPTIONS_SUFFIX = ".opts"

_TRUNCATE_SUFFIX = re.compile(r"\.truncate-(\d+)$")
_TABLE_KEYS = frozenset(
    {
        "name",
        "location",
        "classification",
        "table_type",
        "columns",
        "partition_keys",
        "partitions",
        "format",
        "serde",
        "parameters",
    }
)
_CASE_KEYS = frozenset({"description", "crawler", "include", "table_count", "tables", "warnings", "summary"})
_PARTITION_KEYS = frozenset({"values", "location", "row_count", "file_count"})


# ---------------------------------------------------------------------------------------------------------------------
# Arrow types from their short spellings.


def _split_top_level(text: str) -> list[str]:
    """``"a: int64, b: list<int64>"`` → ``["a: int64", "b: list<int64>"]`` (commas inside <> or () stay)."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


_SIMPLE_TYPES: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "float64": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "date32": pa.date32(),
    "timestamp[us]": pa.timestamp("us"),
}


def arrow_type(spelling: str) -> pa.DataType:
    """The Arrow type of a short spelling (see the module docstring); ValueError for anything else."""
    text = spelling.strip()
    if text in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[text]
    if match := re.fullmatch(r"decimal128\(\s*(\d+)\s*,\s*(\d+)\s*\)", text):
        return pa.decimal128(int(match[1]), int(match[2]))
    if text.startswith("list<") and text.endswith(">"):
        return pa.list_(arrow_type(text[5:-1]))
    if text.startswith("struct<") and text.endswith(">"):
        fields = []
        for part in _split_top_level(text[7:-1]):
            name, sep, kind = part.partition(":")
            if not sep:
                raise ValueError(f"struct field {part!r} in {spelling!r} needs 'name: type'")
            fields.append(pa.field(name.strip(), arrow_type(kind)))
        return pa.struct(fields)
    raise ValueError(f"unsupported Arrow type spelling {spelling!r}")


def _python_value(value: Any, kind: pa.DataType) -> Any:
    """A JSON value turned into what pyarrow wants for ``kind`` (dates, timestamps, decimals, nested values)."""
    if value is None:
        return None
    if pa.types.is_date32(kind):
        return dt.date.fromisoformat(value)
    if pa.types.is_timestamp(kind):
        return dt.datetime.fromisoformat(value)
    if pa.types.is_decimal(kind):
        return decimal.Decimal(str(value))
    if pa.types.is_list(kind):
        return [_python_value(item, kind.value_type) for item in value]
    if pa.types.is_struct(kind):
        return {
            kind.field(i).name: _python_value(value.get(kind.field(i).name), kind.field(i).type)
            for i in range(kind.num_fields)
        }
    return value


def arrow_table(spec: Mapping[str, Any]) -> pa.Table:
    """The Arrow table of a ``{"schema": [[name, type]], "rows": [[...]]}`` spec."""
    schema = pa.schema([pa.field(str(name), arrow_type(str(kind))) for name, kind in spec["schema"]])
    rows: Sequence[Sequence[Any]] = spec["rows"]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(schema):
            raise ValueError(f"row {number} has {len(row)} values for {len(schema)} columns")
    columns = [pa.array([_python_value(row[i], f.type) for row in rows], type=f.type) for i, f in enumerate(schema)]
    return pa.Table.from_arrays(columns, schema=schema)


# ---------------------------------------------------------------------------------------------------------------------
# Source files → objects.


def _parquet(source: bytes) -> bytes:
    spec = json.loads(source)
    out = io.BytesIO()
    pq.write_table(arrow_table(spec), out, row_group_size=spec.get("row_group_size"))
    return out.getvalue()


def _avro(source: bytes) -> bytes:
    import polars as pl

    spec = json.loads(source)
    frame = pl.from_arrow(arrow_table(spec))
    assert isinstance(frame, pl.DataFrame)
    out = io.BytesIO()
    frame.write_avro(out, name=spec.get("name", "record"))
    return out.getvalue()


def _zstd(source: bytes) -> bytes:
    import zstandard

    data: bytes = zstandard.ZstdCompressor(level=3).compress(source)
    return data


def _hex(source: bytes) -> bytes:
    return bytes.fromhex("".join(source.decode("ascii").split()))


_CONVERTERS: tuple[tuple[str, str, Callable[[bytes], bytes]], ...] = (
    (".parquet.json", ".parquet", _parquet),
    (".avro.json", ".avro", _avro),
    (".gz.src", ".gz", lambda data: gzip.compress(data, mtime=0)),
    (".bz2.src", ".bz2", bz2.compress),
    (".zst.src", ".zst", _zstd),
    (".hex", "", _hex),
)


@dataclass(frozen=True)
class FixtureObject:
    """One object to upload: its key relative to the include path and its bytes."""

    key: str
    body: bytes
    source: str  # the fixture file it came from, relative to files/


def materialize_one(relative: str, data: bytes, options: Mapping[str, Any]) -> FixtureObject:
    """The object a source file stands for (naming rules in the module docstring)."""
    key = relative
    body = data
    if match := _TRUNCATE_SUFFIX.search(key):
        key = key[: match.start()]
        body = body[: int(match[1])]
    for suffix, replacement, convert in _CONVERTERS:
        if key.endswith(suffix):
            key = key[: -len(suffix)] + replacement
            body = convert(body)
            break
    unknown = set(options) - {"truncate"}
    if unknown:
        raise ValueError(f"{relative}{OPTIONS_SUFFIX}: unknown options {sorted(unknown)}")
    if "truncate" in options:
        body = body[: int(options["truncate"])]
    return FixtureObject(key, body, relative)


def materialize(files_dir: Path) -> list[FixtureObject]:
    """Every object of a case's ``files/`` folder, in key order."""
    objects: list[FixtureObject] = []
    for path in sorted(p for p in files_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(files_dir).as_posix()
        if relative.endswith(OPTIONS_SUFFIX):
            if not path.with_name(path.name[: -len(OPTIONS_SUFFIX)]).is_file():
                raise ValueError(f"{relative}: an options file without its source")
            continue
        sidecar = path.with_name(path.name + OPTIONS_SUFFIX)
        options: dict[str, Any] = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
        objects.append(materialize_one(relative, path.read_bytes(), options))
    keys = [o.key for o in objects]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"{files_dir}: several sources make the same object: {duplicates}")
    return sorted(objects, key=lambda o: o.key)


# ---------------------------------------------------------------------------------------------------------------------
# Expected catalogs.


@dataclass(frozen=True)
class ExpectedPartition:
    values: tuple[str | None, ...]
    location: str | None = None  # relative to the include path
    row_count: int | None = None
    file_count: int | None = None
    check_row_count: bool = False


@dataclass(frozen=True)
class ExpectedTable:
    name: str
    location: str
    classification: str
    columns: tuple[tuple[str, str], ...]
    table_type: str = "EXTERNAL_TABLE"
    partition_keys: tuple[tuple[str, str], ...] = ()
    partitions: tuple[ExpectedPartition, ...] = ()
    format: Mapping[str, Any] = field(default_factory=dict)
    serde: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    table_count: int
    tables: tuple[ExpectedTable, ...]
    warnings: tuple[tuple[str, str], ...] = ()
    summary: Mapping[str, int] = field(default_factory=dict)
    crawler: Mapping[str, Any] = field(default_factory=dict)
    include: str = ""
    description: str = ""

    @property
    def files_dir(self) -> Path:
        return self.folder / "files"

    def prefix(self) -> str:
        """The include path's key prefix: ``staging/<case>/``."""
        return f"{STAGING}/{self.name}/"


def _pairs(raw: Sequence[Sequence[str]], what: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for item in raw:
        if len(item) != 2:
            raise ValueError(f"{what}: expected [name, type] pairs, got {item!r}")
        out.append((str(item[0]), str(item[1])))
    return tuple(out)


def _partition(raw: Any, where: str) -> ExpectedPartition:
    if isinstance(raw, list):
        return ExpectedPartition(tuple(None if v is None else str(v) for v in raw))
    if not isinstance(raw, dict) or "values" not in raw:
        raise ValueError(f"{where}: a partition is a list of values or an object with 'values'")
    unknown = set(raw) - _PARTITION_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown partition keys {sorted(unknown)}")
    return ExpectedPartition(
        values=tuple(None if v is None else str(v) for v in raw["values"]),
        location=raw.get("location"),
        row_count=raw.get("row_count"),
        file_count=raw.get("file_count"),
        check_row_count="row_count" in raw,
    )


def _table(raw: Mapping[str, Any], where: str) -> ExpectedTable:
    unknown = set(raw) - _TABLE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown table keys {sorted(unknown)}")
    name = str(raw["name"])
    return ExpectedTable(
        name=name,
        location=str(raw["location"]),
        classification=str(raw["classification"]),
        columns=_pairs(raw["columns"], f"{where} {name} columns"),
        table_type=str(raw.get("table_type", "EXTERNAL_TABLE")),
        partition_keys=_pairs(raw.get("partition_keys", []), f"{where} {name} partition_keys"),
        partitions=tuple(_partition(p, f"{where} {name}") for p in raw.get("partitions", [])),
        format=dict(raw.get("format", {})),
        serde=raw.get("serde"),
        parameters={str(k): str(v) for k, v in raw.get("parameters", {}).items()},
    )


def load_case(folder: Path) -> Case:
    """A case folder with its expected.json parsed and checked for typos."""
    where = f"{folder.name}/expected.json"
    raw = json.loads((folder / "expected.json").read_text())
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    if not (folder / "files").is_dir():
        raise ValueError(f"{folder.name}: no files/ folder")
    tables = tuple(_table(t, where) for t in raw["tables"])
    return Case(
        name=folder.name,
        folder=folder,
        table_count=int(raw["table_count"]),
        tables=tables,
        warnings=tuple((str(s), str(r)) for s, r in raw.get("warnings", [])),
        summary={str(k): int(v) for k, v in raw.get("summary", {}).items()},
        crawler=dict(raw.get("crawler", {})),
        include=str(raw.get("include", "")),
        description=str(raw.get("description", "")),
    )


def load_cases(root: Path = FIXTURES) -> list[Case]:
    """Every case folder under ``root`` (a folder with an expected.json), by name."""
    return [load_case(p.parent) for p in sorted(root.glob("*/expected.json"))]


# ---------------------------------------------------------------------------------------------------------------------
# Uploading.


def upload(lake: Lake, case: Case) -> str:
    """Put a case's objects under ``staging/<case>/`` of the lake's default bucket; the include path's URI."""
    bucket = lake.storage.default_bucket
    for obj in materialize(case.files_dir):
        lake.storage.put_object(bucket, case.prefix() + obj.key, obj.body)
    return f"s3://{bucket}/{case.prefix()}"
