"""Catalog tables as DuckDB views, for one query: what ``db.table`` means when a query names it.

- an ICEBERG table reads the Parquet files of its current snapshot (pinned when the query starts, so the
  query sees one snapshot however long it runs);
- an external table reads the objects under its location with its declared columns and SerDe (CSV
  delimiter, quote, escape, header, null markers; JSON; Parquet), each partition's files with the
  partition's values as constant columns (a predicate on them skips whole partitions);
- a view (``VIRTUAL_VIEW``) is its stored SQL, translated like a query.

Only local lakes map objects to files DuckDB can read directly; an S3 lake's objects are fetched into the
query's scratch folder first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.catalog.model import ICEBERG, VIRTUAL_VIEW, Table
from lakeport.catalog.types import parse_type, to_duckdb
from lakeport.errors import InvalidInput, NotFound
from lakeport.sqltext import ident, literal

if TYPE_CHECKING:
    from lakeport.catalog import Catalog
    from lakeport.storage import Storage
    from lakeport.warehouse import Warehouse


_SNAPSHOT_CACHE_SIZE = 256
_SNAPSHOT_FILES: dict[str, tuple[list[str], int, int | None]] = {}  # metadata location → files, bytes, snapshot


class TableNotFound(NotFound):
    default_code = "EntityNotFoundException"


MAX_LINE_BYTES = 100 * 2**20
"""The longest line of a text table a query reads: Trino's (Athena's engine) ``hive.text.max-line-length``, 100 MB,
where DuckDB stops at 2 MB by default."""


@dataclass
class ResolvedTable:
    database: str
    name: str
    select: str  # DuckDB SELECT producing the table's rows
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    snapshot_id: int | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)  # name, Hive type (partition keys included)


@dataclass
class TableResolver:
    catalog: Catalog
    warehouse: Warehouse
    storage: Storage
    local_file: Callable[[str, str], str]  # (bucket, key) → a path DuckDB may read

    _seen: dict[tuple[str, str], Table | None] = field(default_factory=dict)

    def entry(self, database: str, name: str) -> Table | None:
        """The catalog's entry for the name (read once per query), None when there is none."""
        from lakeport.catalog import EntityNotFound

        key = (database, name)
        if key not in self._seen:
            try:
                self._seen[key] = self.catalog.get_table(database, name)
            except EntityNotFound:
                self._seen[key] = None
        return self._seen[key]

    def seen(self) -> dict[tuple[str, str], Table | None]:
        """Every catalog entry looked up so far (None for names that do not exist)."""
        return dict(self._seen)

    def view_text(self, database: str, name: str) -> str | None:
        """A view's stored query (None for a table, or a name the catalog does not have)."""
        table = self.entry(database, name)
        if table is None or table.table_type != VIRTUAL_VIEW:
            return None
        return table.view_text or ""

    def resolve(
        self, database: str, name: str, *, snapshot_id: int | None = None, as_of: datetime | None = None
    ) -> ResolvedTable:
        """The table's rows as a DuckDB SELECT; an Iceberg table as of a snapshot or a time when one is given."""
        table = self.entry(database, name)
        if table is None:
            raise TableNotFound(
                f"table {database}.{name} does not exist",
                hint="lakeport catalog tables DATABASE lists the tables; a crawler or a job creates them",
            )
        if table.table_type == VIRTUAL_VIEW:
            raise InvalidInput(f"{database}.{name} is a view; it cannot be read as of a version or time")
        if (snapshot_id is not None or as_of is not None) and table.table_type != ICEBERG:
            raise InvalidInput(
                f"table {database}.{name} is not an Iceberg table: FOR VERSION/TIMESTAMP AS OF needs one",
                hint="time travel reads the snapshots of Iceberg tables (the ones jobs and CTAS write)",
            )
        if snapshot_id is not None or as_of is not None:
            resolved = self._iceberg_as_of(table, snapshot_id, as_of)
        else:
            resolved = self._iceberg(table) if table.table_type == ICEBERG else self._external(table)
        resolved.columns = [(c.name, c.type) for c in (*table.columns, *table.partition_keys)]
        return resolved

    def _iceberg_as_of(self, table: Table, snapshot_id: int | None, as_of: datetime | None) -> ResolvedTable:
        iceberg = self.warehouse.require(table.database, table.name)
        if as_of is not None:
            found = iceberg.snapshot_as_of_timestamp(int(as_of.timestamp() * 1000))
            if found is None:
                raise InvalidInput(
                    f"table {table.full_name} has no snapshot as of {as_of.isoformat()}",
                    hint="lakeport tables history shows when each snapshot was committed",
                )
            snapshot_id = found.snapshot_id
        if snapshot_id is None or iceberg.snapshot_by_id(snapshot_id) is None:
            raise InvalidInput(
                f"table {table.full_name} has no snapshot {snapshot_id}",
                hint="lakeport tables history lists the table's snapshots",
            )
        files = self._readable(self.warehouse.data_files(table.database, table.name, snapshot_id=snapshot_id))
        size = sum(Path(f).stat().st_size for f in files if Path(f).exists())
        columns = [(c.name, c.type) for c in table.columns]
        return ResolvedTable(
            table.database, table.name, _parquet_select(files, columns), list(files), size, snapshot_id
        )

    def _iceberg(self, table: Table) -> ResolvedTable:
        """The current snapshot's files, as the catalog entry names it (its ``metadata_location``, which every
        commit updates); the file list of a metadata file never changes, so it is kept once read."""
        location = table.parameters.get("metadata_location", "")
        cached = _SNAPSHOT_FILES.get(location) if location else None
        if cached is None:
            iceberg = self.warehouse.load(table.database, table.name)
            if iceberg is None and location:  # registered by its metadata file: a crawler found it elsewhere
                iceberg = self._registered(table, location)
                snapshot = iceberg.current_snapshot()
                tasks = iceberg.scan().plan_files() if snapshot is not None else []
                files = self._readable([self.warehouse.local_path(task.file.file_path) for task in tasks])
            else:
                iceberg = iceberg or self.warehouse.require(table.database, table.name)
                snapshot = iceberg.current_snapshot()
                found = self.warehouse.data_files(table.database, table.name) if snapshot is not None else []
                files = self._readable(found)
            size = sum(Path(f).stat().st_size for f in files if Path(f).exists())
            cached = (files, size, snapshot.snapshot_id if snapshot else None)
            if location and iceberg.metadata_location == location:
                if len(_SNAPSHOT_FILES) >= _SNAPSHOT_CACHE_SIZE:
                    _SNAPSHOT_FILES.pop(next(iter(_SNAPSHOT_FILES)))
                _SNAPSHOT_FILES[location] = cached
        files, size, snapshot_id = cached
        columns = [(c.name, c.type) for c in table.columns]
        return ResolvedTable(
            table.database, table.name, _parquet_select(files, columns), list(files), size, snapshot_id
        )

    def _readable(self, files: list[str]) -> list[str]:
        """Data files as paths the sandboxed engine may open: an S3 lake's ``s3://`` files are fetched into the
        query's work folder (Iceberg data files never change, so a fetched copy stays right)."""
        out = []
        for name in files:
            if name.startswith("s3://"):
                bucket, _, key = name[5:].partition("/")
                name = self.local_file(bucket, key)
            out.append(name)
        return out

    def _registered(self, table: Table, location: str) -> Any:
        """An Iceberg table the catalog knows by its metadata file only (a crawler's ICEBERG table in another
        database than the one that writes it): read as the metadata file says, without the warehouse catalog."""
        from pyiceberg.table import StaticTable

        path = location
        if location.startswith("s3://"):  # the lake's own URI of the file: where the storage keeps it
            bucket, _, key = location[5:].partition("/")
            path = self.local_file(bucket, key)
        try:
            return StaticTable.from_metadata(path, properties=dict(self.warehouse.iceberg.properties))
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                f"table {table.full_name}: cannot read its Iceberg metadata {location}: {exc}",
                hint="crawl the table's folder again: its metadata file may have been removed by a vacuum",
            ) from None

    def _external(self, table: Table) -> ResolvedTable:
        columns = [(c.name, c.type) for c in table.columns]
        keys = [(c.name, c.type) for c in table.partition_keys]
        if keys:
            parts = self.catalog.get_partitions(table.database, table.name)
            selects: list[str] = []
            files: list[str] = []
            size = 0
            for partition in parts:
                found, found_size = self._files(partition.location)
                if not found:
                    continue
                constants = ", ".join(
                    f"CAST({'NULL' if v is None else literal(v)} AS {to_duckdb(parse_type(t))}) AS {ident(n)}"
                    for (n, t), v in zip(keys, partition.values, strict=True)
                )
                selects.append(f"SELECT *, {constants} FROM ({self._read(table, found, columns)})")
                files += found
                size += found_size
            if not selects:
                return ResolvedTable(table.database, table.name, _empty(columns + keys))
            return ResolvedTable(table.database, table.name, " UNION ALL BY NAME ".join(selects), files, size)
        found, size = self._files(table.location)
        if not found:
            return ResolvedTable(table.database, table.name, _empty(columns))
        return ResolvedTable(table.database, table.name, self._read(table, found, columns), found, size)

    def _files(self, location: str) -> tuple[list[str], int]:
        if not location.startswith("s3://"):
            raise InvalidInput(f"table location {location!r} is not an s3:// URI")
        bucket, _, prefix = location[5:].partition("/")
        if prefix and not prefix.endswith("/"):
            # A crawler that finds files of different schemas side by side makes a table per file, located at the
            # file itself (typeOfData: file): such a table reads that one object (Athena would read nothing).
            if self.storage.object_exists(bucket, prefix):
                info = self.storage.head_object(bucket, prefix)
                return ([self.local_file(bucket, prefix)], info.size) if info.size else ([], 0)
            prefix += "/"
        files, size = [], 0
        for info in self.storage.iter_objects(bucket, prefix=prefix):
            rest = info.key[len(prefix) :]
            if info.size == 0 or any(part.startswith(("_", ".")) for part in rest.split("/")):
                continue  # Hive/Athena skip hidden files and folders (_SUCCESS, .crc, _temporary/)
            if "/" in rest and "=" in rest.split("/")[0]:
                continue  # a partition folder: read through its partition
            files.append(self.local_file(bucket, info.key))
            size += info.size
        return files, size

    @staticmethod
    def _read(table: Table, files: Sequence[str], columns: Sequence[tuple[str, str]]) -> str:
        paths = "[" + ", ".join(literal(f) for f in files) + "]"
        fmt = table.format
        kind = fmt.classification.lower()
        if kind in ("parquet", "iceberg"):
            return _parquet_select(list(files), columns)
        typed = "{" + ", ".join(f"{literal(n)}: {literal(to_duckdb(parse_type(t)))}" for n, t in columns) + "}"
        if kind == "json":
            return f"SELECT * FROM read_json({paths}, columns = {typed}, format = 'auto', hive_partitioning = false)"
        if kind not in ("csv", "tsv", "text"):
            raise InvalidInput(f"table {table.database}.{table.name}: format {fmt.classification!r} cannot be queried")
        args = [
            paths,
            f"columns = {typed}",
            f"header = {'true' if fmt.header else 'false'}",
            f"delim = {literal(fmt.delimiter or ',')}",
            f"quote = {literal(fmt.quote or chr(34))}",
            f"escape = {literal(fmt.escape or fmt.quote or chr(34))}",
            "auto_detect = false",
            "hive_partitioning = false",  # partition values come from the catalog's partitions, not the path
            f"max_line_size = {MAX_LINE_BYTES}",
        ]
        if fmt.null_markers:
            args.append("nullstr = [" + ", ".join(literal(n) for n in fmt.null_markers) + "]")
        return f"SELECT * FROM read_csv({', '.join(args)})"


def _parquet_select(files: Sequence[str], columns: Sequence[tuple[str, str]]) -> str:
    if not files:
        return _empty(columns)
    paths = "[" + ", ".join(literal(f) for f in files) + "]"
    if not columns:
        return f"SELECT * FROM read_parquet({paths}, union_by_name = true, hive_partitioning = false)"
    picks = ", ".join(f"CAST({ident(n)} AS {to_duckdb(parse_type(t))}) AS {ident(n)}" for n, t in columns)
    return f"SELECT {picks} FROM read_parquet({paths}, union_by_name = true, hive_partitioning = false)"


def _empty(columns: Sequence[tuple[str, str]]) -> str:
    if not columns:
        return "SELECT NULL WHERE false"
    picks = ", ".join(f"CAST(NULL AS {to_duckdb(parse_type(t))}) AS {ident(n)}" for n, t in columns)
    return f"SELECT {picks} WHERE false"
