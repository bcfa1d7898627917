"""Statements that write data: CREATE TABLE AS SELECT and INSERT INTO, as Athena runs them.

The SELECT runs in the query sandbox like any query; its rows stream (Arrow batches) into a separate DuckDB
connection that only writes the new files — the sandboxed one can never write. Then:

- an Iceberg table (``table_type = 'ICEBERG'``, or INSERT INTO one) gets one warehouse commit: the files
  become visible atomically, or not at all;
- a Hive table (CTAS's default) gets its files under ``external_location`` (which must be empty, as Athena
  requires) or ``<results location>/tables/<query id>/``; the catalog entry — and for INSERT INTO, the new
  partitions — are written only after every file is in place, and a failure removes the files it wrote.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlglot import exp

from lakeport.catalog.model import ICEBERG, VIRTUAL_VIEW, Column, Partition, Table, TableFormat
from lakeport.catalog.names import check_name
from lakeport.errors import AlreadyExists, InvalidInput
from lakeport.query.engine import ResultSet
from lakeport.query.table_ddl import TableDdl, parse_create_table
from lakeport.sqltext import ident, literal

if TYPE_CHECKING:
    from lakeport.query.runner import QueryRun

_FORMATS = {"PARQUET": "parquet", "TEXTFILE": "csv", "JSON": "json"}
_COMPRESSIONS = {"SNAPPY", "GZIP", "ZSTD", "LZ4", "NONE", "UNCOMPRESSED"}
_CTAS_PROPERTIES = {
    "table_type", "format", "write_compression", "parquet_compression", "partitioned_by", "partitioning",
    "external_location", "location", "is_external", "field_delimiter", "vacuum_min_snapshots_to_keep",
    "vacuum_max_snapshot_age_seconds", "optimize_rewrite_delete_file_threshold", "classification",
}  # fmt: skip


@dataclass
class Written:
    files: list[str]  # local paths
    folder: Path
    columns: list[tuple[str, str]]  # name, Hive type, in SELECT order
    rows: int


def write_statement(job: QueryRun, tree: exp.Create | exp.Insert) -> ResultSet:
    if isinstance(tree, exp.Create):
        return _ctas(job, tree)
    return _insert(job, tree)


# ---- CREATE TABLE AS SELECT


def _ctas(job: QueryRun, tree: exp.Create) -> ResultSet:
    from lakeport.catalog import EntityNotFound

    ddl = parse_create_table(tree, job.database)
    database, name = check_name("database", ddl.database), check_name("table", ddl.name)
    unknown = sorted(set(ddl.properties) - _CTAS_PROPERTIES)
    if unknown:
        raise InvalidInput(
            f"CREATE TABLE {database}.{name} AS: property {unknown[0]!r} is not supported",
            hint="see docs/query.md for CTAS properties",
        )
    try:
        job.catalog.get_table(database, name)
        if ddl.if_not_exists:
            return ResultSet(columns=[])
        raise AlreadyExists(f"table {database}.{name} already exists", hint="DROP TABLE it, or choose another name")
    except EntityNotFound:
        pass
    job.catalog.get_database(database)
    query = tree.expression
    assert isinstance(query, exp.Expression)
    if ddl.is_iceberg:
        keys = _split(ddl.properties.get("partitioning", "")) or ddl.partition_names
        return _iceberg_ctas(job, database, name, query, keys)
    return _hive_ctas(job, ddl, database, name, query)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _check_keys(full: str, columns: Sequence[tuple[str, str]], keys: Sequence[str], *, last: bool) -> None:
    names = [c for c, _ in columns]
    for key in keys:
        if "(" in key:
            raise InvalidInput(
                f"table {full}: partition transform {key!r} is not supported", hint="partition by columns (identity)"
            )
        if key.lower() not in (n.lower() for n in names):
            raise InvalidInput(f"table {full}: partition column {key!r} is not in the SELECT list")
    if last and keys and [n.lower() for n in names[-len(keys) :]] != [k.lower() for k in keys]:
        raise InvalidInput(
            f"table {full}: partition columns {', '.join(keys)} must be the last columns of the SELECT, in order",
            hint="Athena's rule for partitioned_by",
        )


def _iceberg_ctas(job: QueryRun, database: str, name: str, query: exp.Expression, keys: list[str]) -> ResultSet:
    full = f"{database}.{name}"
    written = _write_select(job, query, "parquet", "snappy", keys, full, check_last=False, hive=False)
    try:
        _commit(job, database, name, written, "append", keys)
    finally:
        if job.warehouse.objects_root is None:
            shutil.rmtree(written.folder, ignore_errors=True)
    job.update_count = written.rows
    return ResultSet(columns=[])


def _hive_ctas(job: QueryRun, ddl: TableDdl, database: str, name: str, query: exp.Expression) -> ResultSet:
    full = f"{database}.{name}"
    props = ddl.properties
    named = {"parquet": "PARQUET", "csv": "TEXTFILE", "json": "JSON"}.get(ddl.classification or "", ddl.classification)
    kind = props.get("format", named or "PARQUET").upper()  # sqlglot reads format = '…' as a file format
    if kind not in _FORMATS:
        raise InvalidInput(f"CTAS {full}: format {kind!r} is not supported", hint="PARQUET, TEXTFILE or JSON")
    compression = (props.get("write_compression") or props.get("parquet_compression") or "GZIP").upper()
    if compression not in _COMPRESSIONS or (kind != "PARQUET" and compression not in ("GZIP", "ZSTD", "NONE")):
        raise InvalidInput(f"CTAS {full}: write_compression {compression!r} is not supported for {kind}")
    keys = _split(props.get("partitioned_by", "")) or ddl.partition_names
    location = props.get("external_location") or job.output_location.rsplit("/", 1)[0] + f"/tables/{job.execution_id}/"
    if not location.startswith("s3://"):
        raise InvalidInput(f"CTAS {full}: external_location {location!r} is not an s3:// URI")
    location = location.rstrip("/") + "/"
    bucket, _, prefix = location[5:].partition("/")
    if any(True for _ in job.storage.iter_objects(bucket, prefix=prefix)):
        raise InvalidInput(
            f"CTAS {full}: external_location {location} is not empty",
            hint="Athena writes CTAS results to an empty place",
        )
    delimiter = props.get("field_delimiter", "\x01")
    written = _write_select(job, query, _FORMATS[kind], compression, keys, full, check_last=True, delimiter=delimiter)
    with _published(job, written) as uploaded:
        for path in written.files:
            key = prefix + str(Path(path).relative_to(written.folder))
            job.storage.upload_file(Path(path), bucket, key)
            uploaded.append((bucket, key))
        data = [(n, t) for n, t in written.columns if n.lower() not in {k.lower() for k in keys}]
        part_cols = [next((n, t) for n, t in written.columns if n.lower() == k.lower()) for k in keys]
        fmt = TableFormat(
            _FORMATS[kind],
            delimiter=delimiter if kind == "TEXTFILE" else None,
            compression=None if compression in ("NONE", "UNCOMPRESSED") else compression.lower(),
        )
        table = Table(
            database=database,
            name=name,
            columns=tuple(Column(n, t) for n, t in data),
            partition_keys=tuple(Column(n, t) for n, t in part_cols),
            location=location,
            format=fmt,
            parameters={"EXTERNAL": "TRUE", "has_encrypted_data": "false"},
        )
        job.catalog.create_table(table)
        if keys:
            _add_partitions(job, table, written)
    return ResultSet(columns=[])


@contextmanager
def _published(job: QueryRun, written: Written) -> Iterator[list[tuple[str, str]]]:
    """Upload the written files (the block appends each object it puts): on failure every object put is deleted
    again; the local files go either way; on success the rows count as the statement's UpdateCount."""
    uploaded: list[tuple[str, str]] = []
    try:
        yield uploaded
    except BaseException:
        for bucket, key in uploaded:
            job.storage.delete_object(bucket, key)
        raise
    finally:
        shutil.rmtree(written.folder, ignore_errors=True)
    job.update_count = written.rows


def _add_partitions(job: QueryRun, table: Table, written: Written) -> None:
    """The partitions of the folders just written (Hive paths; the crawler's rules read them back)."""
    from lakeport.crawler.partitions import parse_partition_path

    found: dict[tuple[str | None, ...], str] = {}
    keys = len(table.partition_keys)
    for path in written.files:
        relative = str(Path(path).parent.relative_to(written.folder))
        levels = relative.split("/")[:keys]
        values = tuple(v for _, v in parse_partition_path("/".join(levels)))
        found.setdefault(values, f"{table.location}{'/'.join(levels)}/")
    known = {p.values for p in job.catalog.get_partitions(table.database, table.name)}
    new = [Partition(table.database, table.name, v, loc) for v, loc in found.items() if v not in known]
    if new:
        result = job.catalog.create_partitions(table.database, table.name, new)
        if result.errors:
            raise InvalidInput(f"table {table.full_name}: {result.errors[0].message}")


# ---- INSERT INTO


def _insert(job: QueryRun, tree: exp.Insert) -> ResultSet:
    if tree.args.get("overwrite"):
        raise InvalidInput("INSERT OVERWRITE is not supported by Athena", hint="INSERT INTO, or CTAS into a new table")
    target = tree.this
    listed: list[str] = []
    if isinstance(target, exp.Schema):
        listed = [c.name for c in target.expressions]
        target = target.this
    if not isinstance(target, exp.Table):
        raise InvalidInput("INSERT INTO needs a table name")
    database = check_name("database", target.db or job.database)
    name = check_name("table", target.name)
    table = job.catalog.get_table(database, name)
    full = table.full_name
    if table.table_type == VIRTUAL_VIEW:
        raise InvalidInput(f"{full} is a view; INSERT INTO writes tables")
    query = tree.expression
    if not isinstance(query, exp.Query | exp.Values):
        raise InvalidInput(f"INSERT INTO {full} needs a SELECT or VALUES")
    columns = [(c.name, c.type) for c in (*table.columns, *table.partition_keys)]
    if listed:
        lowered = [c.lower() for c in listed]
        unknown = [c for c in listed if c.lower() not in {n.lower() for n, _ in columns}]
        if unknown:
            raise InvalidInput(f"INSERT INTO {full}: table has no column {unknown[0]!r}")
        if len(set(lowered)) != len(lowered):
            raise InvalidInput(f"INSERT INTO {full}: a column is listed twice")
    targets = listed or [n for n, _ in columns]
    select = _shaped(cast(exp.Expression, query), targets, columns, full)
    keys = [c.name for c in table.partition_keys]
    if table.table_type == ICEBERG:
        iceberg_keys = _split(table.parameters.get("partitioning", ""))
        written = _write_select(job, select, "parquet", "snappy", iceberg_keys, full, check_last=False, hive=False)
        try:
            _commit(job, database, name, written, "append", iceberg_keys)
        finally:
            if job.warehouse.objects_root is None:
                shutil.rmtree(written.folder, ignore_errors=True)
        job.update_count = written.rows
        return ResultSet(columns=[])
    kind = table.format.classification.lower()
    if kind not in ("parquet", "csv", "json"):
        raise InvalidInput(f"INSERT INTO {full}: writing {kind} files is not supported")
    compression = (table.format.compression or ("snappy" if kind == "parquet" else "none")).upper()
    written = _write_select(
        job,
        select,
        kind,
        compression,
        keys,
        full,
        check_last=False,
        delimiter=table.format.delimiter or ",",
        header=table.format.header,  # the table skips a header line: new files have one too
    )
    bucket, _, prefix = table.location.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    with _published(job, written) as uploaded:
        for path in written.files:
            relative = Path(path).relative_to(written.folder)
            key = prefix + str(relative.parent / f"{job.execution_id}_{relative.name}").removeprefix("./")
            job.storage.upload_file(Path(path), bucket, key)
            uploaded.append((bucket, key))
        if keys:
            _add_partitions(job, table, written)
    return ResultSet(columns=[])


def _shaped(query: exp.Expression, targets: list[str], columns: list[tuple[str, str]], full: str) -> exp.Expression:
    """SELECT the query's columns by position as the table's columns (the unlisted ones NULL), each cast to
    the column's type — Athena matches INSERT columns by position, not by name."""
    from lakeport.catalog.types import parse_type

    width = _width(query)
    if width is not None and width != len(targets):
        raise InvalidInput(
            f"INSERT INTO {full}: the query has {width} columns, the insert {len(targets)}",
            hint="Athena matches INSERT columns by position",
        )
    source = "__lakeport_insert"
    positions = {t.lower(): i for i, t in enumerate(targets)}
    picks = []
    for name, kind in columns:
        athena_type = _athena_type(str(parse_type(kind)))
        at = positions.get(name.lower())
        value = f'"{source}"."_c{at}"' if at is not None else "NULL"
        picks.append(f"CAST({value} AS {athena_type}) AS {ident(name)}")
    aliases = ", ".join(f"_c{i}" for i in range(len(targets)))
    inner = query.sql(dialect="athena")
    sql = f'SELECT {", ".join(picks)} FROM ({inner}) AS "{source}"({aliases})'
    from lakeport.query.translate import parse

    return parse(sql)


def _width(query: exp.Expression) -> int | None:
    if isinstance(query, exp.Values) and query.expressions:
        first = query.expressions[0]
        return len(first.expressions) if isinstance(first, exp.Tuple) else 1
    if isinstance(query, exp.Query) and not any(isinstance(e, exp.Star) for e in query.selects):
        return len(query.selects)
    return None


def _athena_type(hive: str) -> str:
    """A Hive type as Athena's SQL writes it in a CAST (string → varchar, struct<a:int> → row(a int))."""
    from lakeport.catalog.types import parse_type

    return str(exp.DataType.build(str(parse_type(hive)), dialect="hive").sql(dialect="athena"))


# ---- the shared path: run the SELECT sandboxed, write files with a writer connection


def _write_select(
    job: QueryRun,
    query: exp.Expression,
    kind: str,
    compression: str,
    keys: Sequence[str],
    full: str,
    *,
    check_last: bool,
    delimiter: str = ",",
    hive: bool = True,
    header: bool = False,
) -> Written:
    import duckdb

    from lakeport.catalog.types import from_duckdb

    database, name = full.split(".", 1)
    folder = _scratch(job, database, name)
    with job.sandboxed(query.sql(dialect="athena"), tree=query) as (con, translation):
        relation = con.sql(translation.duckdb)
        columns = [(c, str(from_duckdb(str(t)))) for c, t in zip(relation.columns, relation.types, strict=True)]
        lowered = [c.lower() for c, _ in columns]
        duplicated = sorted({c for c in lowered if lowered.count(c) > 1})
        if duplicated:
            raise InvalidInput(f"table {full}: column {duplicated[0]!r} appears twice", hint="alias the columns")
        _check_keys(full, columns, keys, last=check_last)
        reader = relation.to_arrow_reader()
        writer = duckdb.connect(config={"threads": 2})
        try:
            writer.register("rows_in", reader)
            options = [f"FORMAT {'csv' if kind == 'csv' else kind}"]
            if kind == "csv":
                options += [f"DELIMITER {literal(delimiter)}", f"HEADER {'true' if header else 'false'}"]
            if compression not in ("NONE", "UNCOMPRESSED"):
                options.append(f"COMPRESSION {compression.lower()}")
            elif kind == "parquet":
                options.append("COMPRESSION uncompressed")
            if keys:
                inside = "true" if hive is False else "false"  # Iceberg files keep their partition columns
                options += [f"PARTITION_BY ({', '.join(ident(k) for k in keys)})", f"WRITE_PARTITION_COLUMNS {inside}"]
            target = folder if keys else folder / f"{uuid.uuid4().hex}{_suffix(kind, compression)}"
            counted = writer.execute(f"COPY rows_in TO {literal(str(target))} ({', '.join(options)})").fetchone()
        finally:
            writer.close()
    files = sorted(str(p) for p in folder.rglob("*") if p.is_file())
    return Written(files, folder, columns, int(counted[0]) if counted else 0)


def _suffix(kind: str, compression: str) -> str:
    ext = {"parquet": ".parquet", "csv": ".csv", "json": ".json"}[kind]
    if kind != "parquet" and compression == "GZIP":
        ext += ".gz"
    elif kind != "parquet" and compression == "ZSTD":
        ext += ".zst"
    return ext


def _scratch(job: QueryRun, database: str, name: str) -> Path:
    """Where new files are written: inside the table's warehouse folder for local Iceberg writes (the commit
    references them there), else a private temp folder they are uploaded from."""
    if job.warehouse.objects_root is not None:
        folder = job.warehouse.data_dir(database, name) / f"query-{job.execution_id}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return Path(tempfile.mkdtemp(prefix="lakeport-write-"))


def _commit(job: QueryRun, database: str, name: str, written: Written, mode: str, keys: Sequence[str]) -> None:
    import pyarrow as pa

    from lakeport.catalog.types import parse_type, to_arrow
    from lakeport.warehouse.warehouse import fsync_files

    schema = pa.schema([pa.field(n, to_arrow(parse_type(t))) for n, t in written.columns])
    files = list(written.files)
    if job.warehouse.objects_root is None:
        uploaded = []
        for path in files:
            key = f"warehouse/{database}/{name}/data/query-{job.execution_id}/{Path(path).name}"
            job.storage.upload_file(Path(path), job.warehouse.bucket, key)
            uploaded.append(f"s3://{job.warehouse.bucket}/{key}")
        files = uploaded
    else:
        fsync_files(files)
    try:
        job.warehouse.commit(
            database,
            name,
            files=files,
            schema=schema,
            mode=mode,
            partition_by=list(keys),
            properties={"lakeport.query-execution-id": job.execution_id},
        )
    except BaseException:
        if job.warehouse.objects_root is not None:
            shutil.rmtree(written.folder, ignore_errors=True)
        raise


def create_iceberg_table(job: QueryRun, ddl: TableDdl) -> None:
    """CREATE TABLE … TBLPROPERTIES ('table_type'='ICEBERG'): an empty Iceberg table in the warehouse."""
    import pyarrow as pa

    from lakeport.catalog import EntityNotFound
    from lakeport.catalog.types import parse_type, to_arrow

    full = f"{ddl.database}.{ddl.name}"
    try:
        job.catalog.get_table(ddl.database, ddl.name)
        if ddl.if_not_exists:
            return
        raise AlreadyExists(f"table {full} already exists", hint="CREATE TABLE IF NOT EXISTS")
    except EntityNotFound:
        pass
    job.catalog.get_database(ddl.database)
    columns = [*ddl.columns, *ddl.partition_keys]
    if not columns:
        raise InvalidInput(f"CREATE TABLE {full} needs columns")
    keys = [c.name for c in ddl.partition_keys] or ddl.partition_names
    _check_keys(full, [(c.name, c.type) for c in columns], keys, last=False)
    schema = pa.schema([pa.field(c.name, to_arrow(parse_type(c.type))) for c in columns])
    job.warehouse.commit(ddl.database, ddl.name, files=[], schema=schema, mode="append", partition_by=keys)
