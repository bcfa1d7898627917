"""The data catalog (Glue Data Catalog's role): databases, tables, versions and partitions in the metadata DB.

:class:`Catalog` is the service; every call is one transaction. :class:`CatalogSession` runs the same
operations on a connection the caller holds, so a crawler can change many tables, their partitions and its
own bookkeeping in one transaction: a crawl either lands whole or not at all.

Every operation passes ``iam.authorize`` with Glue's action names and ARNs first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from lakeport.catalog.model import (
    TABLE_TYPES,
    BatchResult,
    Column,
    Database,
    Partition,
    PartitionError,
    Table,
    TableVersion,
)
from lakeport.catalog.names import check_name
from lakeport.catalog.schema import catalog_databases, catalog_partitions, catalog_table_versions, catalog_tables
from lakeport.catalog.types import parse_type
from lakeport.catalog.versions import Change, diff_tables
from lakeport.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from lakeport.iam.arns import glue_arn
from lakeport.metadata.times import now, utc

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from lakeport.iam import IAM, Principal
    from lakeport.metadata.database import MetadataDB

T = TypeVar("T")


class EntityNotFound(NotFound):
    default_code = "EntityNotFoundException"


class DatabaseAlreadyExists(AlreadyExists):
    default_code = "AlreadyExistsException"


def _values_key(values: Sequence[str | None]) -> str:
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def _canonical_columns(table: str, columns: Iterable[Column], label: str) -> tuple[Column, ...]:
    out: list[Column] = []
    seen: set[str] = set()
    for column in columns:
        name = column.name.strip().lower()
        if not name:
            raise InvalidInput(f"table {table}: a {label} has an empty name")
        if name in seen:
            raise InvalidInput(
                f"table {table}: {label} {name!r} appears twice", hint="column names are case-insensitive"
            )
        seen.add(name)
        try:
            kind = str(parse_type(column.type))
        except InvalidInput as exc:
            raise InvalidInput(f"table {table}, {label} {name}: {exc.message}", hint=exc.hint) from None
        out.append(Column(name, kind, column.comment))
    return tuple(out)


class CatalogSession:
    """Catalog operations on one open connection (inside the caller's transaction)."""

    def __init__(self, conn: Connection, catalog: Catalog, principal: Principal) -> None:
        self.conn = conn
        self.catalog = catalog
        self.principal = principal

    # ---- access

    def _authorize(self, action: str, resource: str) -> None:
        self.catalog.iam.authorize(self.principal, f"glue:{action}", self.catalog.arn(resource))

    # ---- databases

    def create_database(
        self,
        name: str,
        *,
        description: str = "",
        location_uri: str | None = None,
        parameters: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> Database:
        name = check_name("database", name)
        existing = self._database_row(name)
        if existing is not None and exist_ok:  # "make sure it exists": reading it is enough, as with GetDatabase
            self._authorize("GetDatabase", f"database/{name}")
            return self._database(existing)
        self._authorize("CreateDatabase", f"database/{name}")
        if existing is not None:
            if exist_ok:
                return self._database(existing)
            raise DatabaseAlreadyExists(f"database {name} already exists", hint="choose another name")
        stamp = now()
        values = {
            "name": name,
            "description": description,
            "location_uri": location_uri,
            "parameters": dict(parameters or {}),
            "created_at": stamp,
            "created_by": self.principal.arn,
        }
        try:
            with self.conn.begin_nested():
                self.conn.execute(catalog_databases.insert().values(**values))
        except IntegrityError:
            if exist_ok:
                row = self._database_row(name)
                if row is not None:
                    return self._database(row)
            raise DatabaseAlreadyExists(f"database {name} already exists") from None
        return Database(
            name,
            description,
            location_uri,
            dict(parameters or {}),
            stamp,
            self.principal.arn,
            catalog_id=self.catalog.account_id,
        )

    def get_database(self, name: str) -> Database:
        name = check_name("database", name)
        self._authorize("GetDatabase", f"database/{name}")
        return self._load_database(name)

    def _load_database(self, name: str) -> Database:
        row = self._database_row(name)
        if row is None:
            raise EntityNotFound(f"database {name} not found", hint="list them with: lakeport catalog databases")
        return self._database(row)

    def list_databases(self) -> list[Database]:
        self._authorize("GetDatabases", "catalog")
        rows = self.conn.execute(select(catalog_databases).order_by(catalog_databases.c.name)).all()
        return [self._database(r) for r in rows]

    def delete_database(self, name: str) -> None:
        """Drop a database with its tables, their versions and partitions (as Glue's DeleteDatabase does)."""
        name = check_name("database", name)
        self._authorize("DeleteDatabase", f"database/{name}")
        database = self._load_database(name)
        ids = select(catalog_tables.c.id).where(catalog_tables.c.database_name == database.name)
        self.conn.execute(delete(catalog_partitions).where(catalog_partitions.c.table_id.in_(ids)))
        self.conn.execute(delete(catalog_table_versions).where(catalog_table_versions.c.table_id.in_(ids)))
        self.conn.execute(delete(catalog_tables).where(catalog_tables.c.database_name == database.name))
        self.conn.execute(delete(catalog_databases).where(catalog_databases.c.name == database.name))

    def _database_row(self, name: str) -> Row[Any] | None:
        return self.conn.execute(select(catalog_databases).where(catalog_databases.c.name == name)).first()

    def _database(self, row: Row[Any]) -> Database:
        return Database(
            row.name,
            row.description,
            row.location_uri,
            dict(row.parameters or {}),
            utc(row.created_at),
            row.created_by,
            catalog_id=self.catalog.account_id,
        )

    # ---- tables

    def _check_table(self, table: Table) -> Table:
        database = check_name("database", table.database)
        name = check_name("table", table.name)
        full = f"{database}.{name}"
        if table.table_type not in TABLE_TYPES:
            raise InvalidInput(f"table {full}: unknown table type {table.table_type!r}", hint=", ".join(TABLE_TYPES))
        columns = _canonical_columns(full, table.columns, "column")
        keys = _canonical_columns(full, table.partition_keys, "partition key")
        clash = {c.name for c in columns} & {k.name for k in keys}
        if clash:
            raise InvalidInput(f"table {full}: {', '.join(sorted(clash))} is both a column and a partition key")
        return table.with_changes(database=database, name=name, columns=columns, partition_keys=keys)

    def create_table(self, table: Table, *, replace: bool = False) -> Table:
        table = self._check_table(table)
        self._authorize("CreateTable", f"table/{table.database}/{table.name}")
        self._load_database(table.database)
        existing = self._table_row(table.database, table.name)
        if existing is not None:
            if replace:
                return self.update_table(table)
            raise AlreadyExists(f"table {table.full_name} already exists", hint="update it, or drop it first")
        stamp = now()
        definition = table.definition()
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(
                    catalog_tables.insert().values(
                        database_name=table.database,
                        name=table.name,
                        table_type=table.table_type,
                        version=1,
                        definition=definition,
                        created_at=stamp,
                        created_by=self.principal.arn,
                        updated_at=stamp,
                        updated_by=self.principal.arn,
                    )
                )
        except IntegrityError:  # created by another writer since we looked (PostgreSQL does not queue writers)
            raise AlreadyExists(f"table {table.full_name} already exists", hint="update it, or drop it first") from None
        inserted = result.inserted_primary_key
        assert inserted is not None
        table_id = int(inserted[0])
        self._archive(table_id, 1, definition, stamp)
        return table.with_changes(
            version=1,
            created_at=stamp,
            created_by=self.principal.arn,
            updated_at=stamp,
            updated_by=self.principal.arn,
            catalog_id=self.catalog.account_id,
        )

    def get_table(self, database: str, name: str) -> Table:
        return self._table_action("GetTable", database, name)[1]

    def _table_action(self, action: str, database: str, name: str) -> tuple[int, Table]:
        """Authorize ``glue:<action>`` on the table's ARN, then load it: ``(row id, table)``."""
        database, name = check_name("database", database), check_name("table", name)
        self._authorize(action, f"table/{database}/{name}")
        row = self._table_row(database, name)
        if row is None:
            self._load_database(database)
            raise EntityNotFound(
                f"table {database}.{name} not found", hint=f"list them with: lakeport catalog tables {database}"
            )
        return int(row.id), self._table(row)

    def find_table(self, database: str, name: str) -> Table | None:
        try:
            return self.get_table(database, name)
        except EntityNotFound:
            return None

    def list_tables(self, database: str, *, pattern: str | None = None) -> list[Table]:
        """Tables of a database; ``pattern`` is a case-insensitive regular expression on the name (as Glue's)."""
        import re

        database = check_name("database", database)
        self._authorize("GetTables", f"database/{database}")
        db = self._load_database(database)
        rows = self.conn.execute(
            select(catalog_tables).where(catalog_tables.c.database_name == db.name).order_by(catalog_tables.c.name)
        ).all()
        tables = [self._table(r) for r in rows]
        if pattern:
            try:
                regex = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise InvalidInput(f"table name pattern {pattern!r}: {exc}") from None
            tables = [t for t in tables if regex.fullmatch(t.name) or regex.search(t.name)]
        return tables

    def all_tables(self) -> list[Table]:
        self._authorize("GetTables", "catalog")
        rows = self.conn.execute(
            select(catalog_tables).order_by(catalog_tables.c.database_name, catalog_tables.c.name)
        ).all()
        return [self._table(r) for r in rows]

    def update_table(self, table: Table, *, expected_version: int | None = None) -> Table:
        """Replace a table's definition. A schema change makes a new version; refreshed statistics do not."""
        table = self._check_table(table)
        self._authorize("UpdateTable", f"table/{table.database}/{table.name}")
        row = self._table_row(table.database, table.name, lock=True)
        if row is None:
            raise EntityNotFound(f"table {table.full_name} not found")
        current = self._table(row)
        if expected_version is not None and current.version != expected_version:
            raise Conflict(
                f"table {table.full_name} is at version {current.version}, not {expected_version}",
                hint="someone changed it since you read it; read it again and retry",
            )
        stamp = now()
        definition = table.definition()
        version = current.version
        if table.schema_definition() != current.schema_definition():
            version += 1
            self._archive(row.id, version, definition, stamp)
        self.conn.execute(
            update(catalog_tables)
            .where(catalog_tables.c.id == row.id)
            .values(
                table_type=table.table_type,
                version=version,
                definition=definition,
                updated_at=stamp,
                updated_by=self.principal.arn,
            )
        )
        return table.with_changes(
            version=version,
            created_at=current.created_at,
            created_by=current.created_by,
            updated_at=stamp,
            updated_by=self.principal.arn,
            catalog_id=self.catalog.account_id,
        )

    def delete_table(self, database: str, name: str) -> None:
        table_id, _ = self._table_action("DeleteTable", database, name)
        self.conn.execute(delete(catalog_partitions).where(catalog_partitions.c.table_id == table_id))
        self.conn.execute(delete(catalog_table_versions).where(catalog_table_versions.c.table_id == table_id))
        self.conn.execute(delete(catalog_tables).where(catalog_tables.c.id == table_id))

    def search_tables(self, text: str) -> list[Table]:
        """Tables whose name, description, columns, comments or parameters contain ``text`` (any case)."""
        self._authorize("SearchTables", "catalog")
        needle = text.lower()

        def hit(table: Table) -> bool:
            haystack = [table.name, table.database, table.description, table.location]
            haystack += [f"{c.name} {c.type} {c.comment}" for c in (*table.columns, *table.partition_keys)]
            haystack += [f"{k} {v}" for k, v in table.parameters.items()]
            return any(needle in part.lower() for part in haystack)

        return [t for t in self.all_tables() if hit(t)]

    def _table_row(self, database: str, name: str, *, lock: bool = False) -> Row[Any] | None:
        query = select(catalog_tables).where(catalog_tables.c.database_name == database, catalog_tables.c.name == name)
        if lock:  # PostgreSQL: hold the row until commit, so a concurrent update waits and then sees ours
            query = query.with_for_update()
        return self.conn.execute(query).first()

    def _table(self, row: Row[Any]) -> Table:
        return Table.from_definition(
            row.database_name,
            row.name,
            row.definition,
            version=row.version,
            created_at=utc(row.created_at),
            created_by=row.created_by,
            updated_at=utc(row.updated_at),
            updated_by=row.updated_by,
            catalog_id=self.catalog.account_id,
        )

    # ---- versions

    def _archive(self, table_id: int, version: int, definition: dict[str, Any], stamp: Any) -> None:
        self.conn.execute(
            catalog_table_versions.insert().values(
                table_id=table_id,
                version=version,
                definition=definition,
                created_at=stamp,
                created_by=self.principal.arn,
            )
        )

    def table_versions(self, database: str, name: str, *, action: str = "GetTableVersions") -> list[TableVersion]:
        table_id, table = self._table_action(action, database, name)
        rows = self.conn.execute(
            select(catalog_table_versions)
            .where(catalog_table_versions.c.table_id == table_id)
            .order_by(catalog_table_versions.c.version)
        ).all()
        return [
            TableVersion(
                r.version,
                Table.from_definition(table.database, table.name, r.definition, version=r.version),
                utc(r.created_at),
                r.created_by,
            )
            for r in rows
        ]

    def table_version(self, database: str, name: str, version: int) -> TableVersion:
        for candidate in self.table_versions(database, name, action="GetTableVersion"):
            if candidate.version == version:
                return candidate
        raise EntityNotFound(
            f"table {database}.{name} has no version {version}",
            hint=f"list them with: lakeport catalog versions {database}.{name}",
        )

    def diff_versions(self, database: str, name: str, old: int, new: int) -> list[Change]:
        return diff_tables(self.table_version(database, name, old).table, self.table_version(database, name, new).table)

    # ---- partitions

    def _check_values(self, table: Table, values: Sequence[str | None]) -> tuple[str | None, ...]:
        if len(values) != len(table.partition_keys):
            keys = ", ".join(k.name for k in table.partition_keys) or "none"
            raise InvalidInput(
                f"table {table.full_name}: {len(values)} partition values {list(values)} for "
                f"{len(table.partition_keys)} partition keys ({keys})"
            )
        return tuple(None if v is None else str(v) for v in values)

    def default_location(self, table: Table, values: Sequence[str | None]) -> str:
        from lakeport.crawler.partitions import partition_path

        base = table.location.rstrip("/")
        return f"{base}/{partition_path([k.name for k in table.partition_keys], list(values))}/"

    def create_partitions(self, database: str, name: str, partitions: Sequence[Partition]) -> BatchResult:
        """Add partitions (BatchCreatePartition): the ones that exist or are invalid are reported, not raised."""
        table_id, table = self._table_action("BatchCreatePartition", database, name)
        existing = {
            r.values_key
            for r in self.conn.execute(
                select(catalog_partitions.c.values_key).where(catalog_partitions.c.table_id == table_id)
            )
        }
        rows: list[dict[str, Any]] = []
        errors: list[PartitionError] = []
        stamp = now()
        for partition in partitions:
            try:
                values = self._check_values(table, partition.values)
            except InvalidInput as exc:
                errors.append(PartitionError(tuple(partition.values), "InvalidInputException", exc.message))
                continue
            key = _values_key(values)
            if key in existing:
                errors.append(
                    PartitionError(values, "AlreadyExistsException", f"partition {list(values)} already exists")
                )
                continue
            existing.add(key)
            rows.append(self._partition_row(table_id, table, partition, values, stamp, stamp))
        inserted = 0
        if rows:
            try:
                with self.conn.begin_nested():
                    self.conn.execute(catalog_partitions.insert(), rows)
                inserted = len(rows)
            except IntegrityError:
                # Another writer added some of them since we looked (PostgreSQL): one at a time, reporting those.
                for row in rows:
                    try:
                        with self.conn.begin_nested():
                            self.conn.execute(catalog_partitions.insert().values(**row))
                        inserted += 1
                    except IntegrityError:
                        values = tuple(row["partition_values"])
                        errors.append(
                            PartitionError(values, "AlreadyExistsException", f"partition {list(values)} already exists")
                        )
        return BatchResult(inserted, errors)

    def update_partitions(self, database: str, name: str, partitions: Sequence[Partition]) -> BatchResult:
        """Replace partitions' location and statistics (BatchUpdatePartition); missing ones are reported."""
        table_id, table = self._table_action("BatchUpdatePartition", database, name)
        errors: list[PartitionError] = []
        done = 0
        stamp = now()
        for partition in partitions:
            try:
                values = self._check_values(table, partition.values)
            except InvalidInput as exc:
                errors.append(PartitionError(tuple(partition.values), "InvalidInputException", exc.message))
                continue
            row = self._partition_row(table_id, table, partition, values, stamp, stamp)
            del row["created_at"]
            result = self.conn.execute(
                update(catalog_partitions)
                .where(catalog_partitions.c.table_id == table_id, catalog_partitions.c.values_key == row["values_key"])
                .values(**row)
            )
            if result.rowcount:
                done += 1
            else:
                errors.append(PartitionError(values, "EntityNotFoundException", f"partition {list(values)} not found"))
        return BatchResult(done, errors)

    def delete_partitions(self, database: str, name: str, values_list: Sequence[Sequence[str | None]]) -> BatchResult:
        table_id, table = self._table_action("BatchDeletePartition", database, name)
        errors: list[PartitionError] = []
        done = 0
        for raw in values_list:
            try:
                values = self._check_values(table, raw)
            except InvalidInput as exc:
                errors.append(PartitionError(tuple(raw), "InvalidInputException", exc.message))
                continue
            result = self.conn.execute(
                delete(catalog_partitions).where(
                    catalog_partitions.c.table_id == table_id, catalog_partitions.c.values_key == _values_key(values)
                )
            )
            if result.rowcount:
                done += 1
            else:
                errors.append(PartitionError(values, "EntityNotFoundException", f"partition {list(values)} not found"))
        return BatchResult(done, errors)

    def get_partition(self, database: str, name: str, values: Sequence[str | None]) -> Partition:
        table_id, table = self._table_action("GetPartition", database, name)
        checked = self._check_values(table, values)
        row = self.conn.execute(
            select(catalog_partitions).where(
                catalog_partitions.c.table_id == table_id, catalog_partitions.c.values_key == _values_key(checked)
            )
        ).first()
        if row is None:
            raise EntityNotFound(f"table {table.full_name} has no partition {list(checked)}")
        return self._partition(table, row)

    def get_partitions(self, database: str, name: str, *, expression: str | None = None) -> list[Partition]:
        """Partitions of a table, optionally only those matching a Glue ``Expression`` on the partition keys."""
        table_id, table = self._table_action("GetPartitions", database, name)
        rows = self.conn.execute(select(catalog_partitions).where(catalog_partitions.c.table_id == table_id)).all()
        partitions = [self._partition(table, r) for r in rows]
        if expression and expression.strip():
            from lakeport.catalog.expression import parse_expression

            keys = [k.name for k in table.partition_keys]
            selector = parse_expression(expression, {k.name: k.type for k in table.partition_keys})
            partitions = [p for p in partitions if selector.matches(dict(zip(keys, p.values, strict=True)))]
        return sorted(partitions, key=lambda p: tuple((v is None, v or "") for v in p.values))

    def count_partitions(self, database: str, name: str) -> int:
        table_id, _ = self._table_action("GetPartitions", database, name)
        return int(
            self.conn.execute(
                select(func.count()).select_from(catalog_partitions).where(catalog_partitions.c.table_id == table_id)
            ).scalar_one()
        )

    def _partition_row(
        self,
        table_id: int,
        table: Table,
        partition: Partition,
        values: tuple[str | None, ...],
        created: Any,
        updated: Any,
    ) -> dict[str, Any]:
        return {
            "table_id": table_id,
            "values_key": _values_key(values),
            "partition_values": list(values),
            "location": partition.location or self.default_location(table, values),
            "file_count": partition.file_count,
            "size_bytes": partition.size_bytes,
            "row_count": partition.row_count,
            "parameters": dict(partition.parameters),
            "created_at": created,
            "updated_at": updated,
        }

    @staticmethod
    def _partition(table: Table, row: Row[Any]) -> Partition:
        return Partition(
            table.database,
            table.name,
            tuple(row.partition_values),
            row.location,
            row.file_count,
            row.size_bytes,
            row.row_count,
            dict(row.parameters or {}),
            utc(row.created_at),
            utc(row.updated_at),
        )


class Catalog:
    """The data catalog service: each method is one transaction of :class:`CatalogSession`."""

    def __init__(self, db: MetadataDB, iam: IAM, principal: Principal, *, region: str, account_id: str) -> None:
        self.db = db
        self.iam = iam
        self.principal = principal
        self.region = region
        self.account_id = account_id

    def arn(self, resource: str) -> str:
        return glue_arn(self.region, self.account_id, resource)

    def as_principal(self, principal: Principal) -> Catalog:
        return Catalog(self.db, self.iam, principal, region=self.region, account_id=self.account_id)

    def session(self, conn: Connection) -> CatalogSession:
        return CatalogSession(conn, self, self.principal)

    def _read(self, work: Callable[[CatalogSession], T]) -> T:
        with self.db.read() as conn:
            return work(self.session(conn))

    def _write(self, work: Callable[[CatalogSession], T]) -> T:
        return self.db.run_write(lambda conn: work(self.session(conn)))

    # databases
    def create_database(self, name: str, **options: Any) -> Database:
        return self._write(lambda s: s.create_database(name, **options))

    def get_database(self, name: str) -> Database:
        return self._read(lambda s: s.get_database(name))

    def list_databases(self) -> list[Database]:
        return self._read(lambda s: s.list_databases())

    def delete_database(self, name: str) -> None:
        self._write(lambda s: s.delete_database(name))

    # tables
    def create_table(self, table: Table, *, replace: bool = False) -> Table:
        return self._write(lambda s: s.create_table(table, replace=replace))

    def get_table(self, database: str, name: str) -> Table:
        return self._read(lambda s: s.get_table(database, name))

    def list_tables(self, database: str, *, pattern: str | None = None) -> list[Table]:
        return self._read(lambda s: s.list_tables(database, pattern=pattern))

    def update_table(self, table: Table, *, expected_version: int | None = None) -> Table:
        return self._write(lambda s: s.update_table(table, expected_version=expected_version))

    def delete_table(self, database: str, name: str) -> None:
        self._write(lambda s: s.delete_table(database, name))

    def search_tables(self, text: str) -> list[Table]:
        return self._read(lambda s: s.search_tables(text))

    def table_versions(self, database: str, name: str) -> list[TableVersion]:
        return self._read(lambda s: s.table_versions(database, name))

    def table_version(self, database: str, name: str, version: int) -> TableVersion:
        return self._read(lambda s: s.table_version(database, name, version))

    def diff_versions(self, database: str, name: str, old: int, new: int) -> list[Change]:
        return self._read(lambda s: s.diff_versions(database, name, old, new))

    # partitions
    def create_partitions(self, database: str, name: str, partitions: Sequence[Partition]) -> BatchResult:
        return self._write(lambda s: s.create_partitions(database, name, partitions))

    def update_partitions(self, database: str, name: str, partitions: Sequence[Partition]) -> BatchResult:
        return self._write(lambda s: s.update_partitions(database, name, partitions))

    def delete_partitions(self, database: str, name: str, values: Sequence[Sequence[str | None]]) -> BatchResult:
        return self._write(lambda s: s.delete_partitions(database, name, values))

    def get_partition(self, database: str, name: str, values: Sequence[str | None]) -> Partition:
        return self._read(lambda s: s.get_partition(database, name, values))

    def get_partitions(self, database: str, name: str, *, expression: str | None = None) -> list[Partition]:
        return self._read(lambda s: s.get_partitions(database, name, expression=expression))
