"""Warehouse tables: Apache Iceberg tables (pyiceberg) whose snapshots make writes atomic.

An engine writes Parquet files into the table's ``data/`` folder; they stay invisible until ONE Iceberg
commit adds them (append), replaces everything (overwrite), replaces the partitions they cover
(overwrite_partitions) or replaces the table's content computed by a merge. The commit is a compare-and-swap
of the table's metadata pointer in the metadata database: readers see the old snapshot or the new one,
never a mix, and a run killed at any point before the swap leaves the previous snapshot current (its files
are unreferenced and ``vacuum`` removes them). A commit that loses a race is retried against the new
snapshot a bounded number of times, then fails with one line.

Every table is also registered in lakeport's catalog as an ``ICEBERG`` table at ``s3://<bucket>/warehouse/
<database>/<table>/``, so the query service, the crawler and the dashboards find it like any other.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlparse

from lakeport.catalog.model import ICEBERG, Column, Table, TableFormat
from lakeport.catalog.names import check_name
from lakeport.errors import Conflict, InvalidInput, NotFound
from lakeport.iam.arns import glue_arn
from lakeport.warehouse.evolution import plan_columns

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.table import Table as IcebergTable

    from lakeport.catalog import Catalog
    from lakeport.catalog.types import HiveType
    from lakeport.iam import IAM, Principal
    from lakeport.metadata.database import MetadataDB
    from lakeport.settings import StorageSettings

COMMIT_ATTEMPTS = 8
MODES = ("append", "overwrite", "overwrite_partitions", "replace")


class CommitConflict(Conflict):
    default_code = "ConcurrentModificationException"


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    parent_id: int | None
    committed_at: datetime
    operation: str
    summary: Mapping[str, str]
    current: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "parent_id": self.parent_id,
            "committed_at": self.committed_at.isoformat(),
            "operation": self.operation,
            "current": self.current,
            "summary": dict(self.summary),
        }


@dataclass(frozen=True)
class CommitResult:
    table: str
    snapshot_id: int | None
    files_added: int
    rows_added: int
    bytes_added: int
    attempts: int
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VacuumResult:
    table: str
    snapshots_expired: int
    files_deleted: int
    bytes_deleted: int


class Warehouse:
    """Iceberg tables in the lake's warehouse area, with their pointers in the metadata DB."""

    def __init__(
        self,
        *,
        db: MetadataDB,
        catalog: Catalog,
        iam: IAM,
        principal: Principal,
        storage: StorageSettings,
        objects_root: Path | None,
        bucket: str,
        region: str,
        account_id: str,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.iam = iam
        self.principal = principal
        self.storage = storage
        self.objects_root = objects_root  # the local backend's folder; None for S3
        self.bucket = bucket
        self.region = region
        self.account_id = account_id

    # ---- where things are

    @property
    def root_uri(self) -> str:
        """The warehouse root as Iceberg sees it (a file:// folder locally, s3:// on S3)."""
        if self.objects_root is not None:
            return (self.objects_root / self.bucket / "warehouse").resolve().as_uri()
        return f"s3://{self.bucket}/warehouse"

    def lake_location(self, database: str, table: str) -> str:
        return f"s3://{self.bucket}/warehouse/{database}/{table}/"

    def table_uri(self, database: str, table: str) -> str:
        return f"{self.root_uri}/{database}/{table}"

    def local_path(self, uri: str) -> str:
        """A file:// URI as a path DuckDB can open (S3 URIs are returned as they are)."""
        parsed = urlparse(uri)
        if parsed.scheme == "file":
            return unquote(parsed.path)
        return uri

    def data_dir(self, database: str, table: str) -> Path:
        """Where an engine writes new files for the table (local lakes)."""
        if self.objects_root is None:
            raise InvalidInput("writing warehouse tables on an S3 lake goes through a local staging folder")
        return self.objects_root / self.bucket / "warehouse" / database / table / "data"

    @cached_property
    def iceberg(self) -> SqlCatalog:
        from lakeport.warehouse.iceberg_catalog import open_iceberg_catalog

        # pyiceberg creates its catalog tables on first use (check, then CREATE): one process at a time
        with self.db.schema_lock():
            return open_iceberg_catalog(self.db, self.storage, warehouse=self.root_uri)

    def _authorize(self, action: str, database: str, table: str) -> None:
        self.iam.authorize(self.principal, action, glue_arn(self.region, self.account_id, f"table/{database}/{table}"))

    def _names(self, database: str, table: str) -> tuple[str, str]:
        return check_name("database", database), check_name("table", table)

    def load(self, database: str, table: str) -> IcebergTable | None:
        from pyiceberg.exceptions import NoSuchTableError

        database, table = self._names(database, table)
        try:
            return self.iceberg.load_table(f"{database}.{table}")
        except NoSuchTableError:
            return None

    def require(self, database: str, table: str) -> IcebergTable:
        found = self.load(database, table)
        if found is None:
            raise NotFound(
                f"warehouse table {database}.{table} not found",
                hint="a job with a sink writing it creates it",
                code="EntityNotFoundException",
            )
        return found

    # ---- schema

    def target_schema(self, database: str, table: str, incoming: pa.Schema) -> pa.Schema:
        """The schema new files must have: the table's types for its columns, new columns appended.

        A column whose incoming type cannot be read as the table's (or safely widened to it) is an error
        naming the column (see ``lakeport.warehouse.evolution``).
        """
        import pyarrow as pa

        from lakeport.catalog.types import from_arrow, to_arrow

        current = self.load(database, table)
        if current is None:
            return incoming
        existing = current.schema().as_arrow()
        fields = {f.name.lower(): f for f in [*incoming, *existing]}
        planned = plan_columns(
            f"{database}.{table}",
            [(f.name, from_arrow(f.type)) for f in existing],
            [(f.name, from_arrow(f.type)) for f in incoming],
        )
        return pa.schema(
            pa.field(c.name, to_arrow(c.type))
            if c.origin == "widened"
            else pa.field(c.name, fields[c.name.lower()].type)
            for c in planned
        )

    def target_columns(
        self, database: str, table: str, incoming: Sequence[tuple[str, HiveType]]
    ) -> list[tuple[str, HiveType]]:
        """``target_schema`` in Hive types, from the table's catalog entry: no Iceberg metadata is read.

        The commit checks the real table again (``union_by_name``), so an entry a moment behind a racing
        commit costs nothing but that check.
        """
        from lakeport.catalog import EntityNotFound
        from lakeport.catalog.types import parse_type

        database, table = self._names(database, table)
        try:
            entry = self.catalog.get_table(database, table)
        except EntityNotFound:
            return list(incoming)
        if entry.table_type != ICEBERG:
            return list(incoming)
        existing = [(c.name, parse_type(c.type)) for c in entry.columns]
        return [(c.name, c.type) for c in plan_columns(f"{database}.{table}", existing, incoming)]

    # ---- commits

    def commit(
        self,
        database: str,
        table: str,
        *,
        files: Sequence[str],
        schema: pa.Schema,
        mode: str = "append",
        partition_by: Sequence[str] = (),
        properties: Mapping[str, str] | None = None,
        replace_values: Sequence[Mapping[str, Any]] = (),
        expected_snapshot: int | str | None = "any",
    ) -> CommitResult:
        """Make ``files`` (Parquet, already written and flushed) visible in one snapshot.

        ``mode``: append; overwrite (everything); overwrite_partitions (the partitions in ``replace_values``);
        replace (everything, but only if the table is still at ``expected_snapshot``, for merges).
        """
        from pyiceberg.exceptions import CommitFailedException, ValidationError, ValidationException

        database, table = self._names(database, table)
        if mode not in MODES:
            raise InvalidInput(f"commit mode {mode!r} is not one of {', '.join(MODES)}")
        self._authorize("glue:UpdateTable", database, table)
        props = {k: str(v) for k, v in (properties or {}).items()}
        # pyiceberg opens file:// locations without percent-decoding them: a Hive folder such as ``day=2024-01-01``
        # must stay as it is on disk (``as_uri`` would write ``day%3D2024-01-01``)
        uris = [f if "://" in f else "file://" + str(Path(f).resolve()) for f in files]
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            iceberg = self._ensure_table(database, table, schema, partition_by)
            current = iceberg.current_snapshot()
            if mode == "replace" and expected_snapshot != "any":
                at = current.snapshot_id if current is not None else None
                if at != expected_snapshot:
                    raise CommitConflict(
                        f"table {database}.{table} changed while the merge ran (snapshot {at}, read {expected_snapshot})",
                        hint="run the job again: it merges into the new snapshot",
                    )
            try:
                snapshot_id = self._commit_once(iceberg, uris, schema, mode, replace_values, props)
            except ValidationError as exc:  # the schema cannot evolve that way
                raise InvalidInput(
                    f"table {database}.{table}: {exc}", hint="cast the column in the job, or write a new table"
                ) from None
            except (CommitFailedException, ValidationException):  # another writer committed first
                if mode == "replace" or attempt == COMMIT_ATTEMPTS:
                    raise CommitConflict(
                        f"table {database}.{table}: another writer committed first ({attempt} attempts)",
                        hint="run the job again",
                    ) from None
                time.sleep(min(0.02 * 2**attempt, 1.0))
                continue
            fresh = iceberg  # the commit left it at the metadata it wrote
            summary = fresh.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
            info = dict(summary.summary.additional_properties) if summary and summary.summary else {}
            self._register(database, table, fresh)
            return CommitResult(
                table=f"{database}.{table}",
                snapshot_id=snapshot_id,
                files_added=int(info.get("added-data-files", len(uris))),
                rows_added=int(info.get("added-records", 0)),
                bytes_added=int(info.get("added-files-size", 0)),
                attempts=attempt,
                properties=props,
            )
        raise AssertionError("unreachable")

    def _commit_once(
        self,
        iceberg: IcebergTable,
        uris: Sequence[str],
        schema: pa.Schema,
        mode: str,
        replace_values: Sequence[Mapping[str, Any]],
        props: Mapping[str, str],
    ) -> int | None:
        from pyiceberg.table import TableProperties, _parquet_files_to_data_files

        with iceberg.transaction() as tx:
            if not _same_columns(iceberg, schema):  # most commits change nothing: skip a metadata update
                with tx.update_schema() as update:
                    update.union_by_name(schema)
            if tx.table_metadata.name_mapping() is None:  # engines' files carry no field ids: match by name
                mapping = tx.table_metadata.schema().name_mapping.model_dump_json()
                tx.set_properties({TableProperties.DEFAULT_NAME_MAPPING: mapping})
            doomed = self._replaced_files(iceberg, mode, replace_values)
            if doomed is None:  # partitions that files do not line up with: delete by filter, then append
                tx.delete(self._partition_filter(replace_values), snapshot_properties=dict(props))
                doomed = []
            added = list(_parquet_files_to_data_files(tx.table_metadata, list(uris), iceberg.io)) if uris else []
            producer: Any
            if doomed or (mode != "append" and iceberg.current_snapshot() is not None):
                producer = tx.update_snapshot(snapshot_properties=dict(props)).overwrite()
            else:
                producer = tx.update_snapshot(snapshot_properties=dict(props)).fast_append()
            if doomed or added:
                with producer as snapshot:
                    for data_file in doomed:
                        snapshot.delete_data_file(data_file)
                    for data_file in added:
                        snapshot.append_data_file(data_file)
        current = iceberg.current_snapshot()
        return None if current is None else current.snapshot_id  # None: a new table, committed empty

    @staticmethod
    def _replaced_files(
        iceberg: IcebergTable, mode: str, replace_values: Sequence[Mapping[str, Any]]
    ) -> list[Any] | None:
        """The data files a commit replaces (all of them, or those of the given partitions), to drop in the same
        snapshot that adds the new ones; None when some file may hold rows of several partitions."""
        if iceberg.current_snapshot() is None or mode == "append":
            return []
        if mode in ("overwrite", "replace"):
            return [task.file for task in iceberg.scan().plan_files()]
        if not replace_values:
            return []
        keys = {k.lower() for k in replace_values[0]}
        schema = iceberg.schema()
        aligned = set()
        for spec_id, spec in iceberg.specs().items():
            names = {(schema.find_column_name(f.source_id) or "").lower() for f in spec.fields}
            if (
                len(spec.fields) == len(keys)
                and names == keys
                and all(str(f.transform) == "identity" for f in spec.fields)
            ):
                aligned.add(spec_id)
        # the files that may hold rows of these partitions; under identity partitioning on exactly these keys a
        # file is wholly inside or wholly outside each partition, so those files are exactly what is replaced
        files = [
            task.file for task in iceberg.scan(row_filter=Warehouse._partition_filter(replace_values)).plan_files()
        ]
        return files if all(f.spec_id in aligned for f in files) else None

    @staticmethod
    def _partition_filter(replace_values: Sequence[Mapping[str, Any]]) -> Any:
        from pyiceberg.expressions import And, EqualTo, IsNull, Or

        # pyiceberg's expression classes are pydantic models whose signatures mypy misreads: call them as Any
        is_null, equal_to, and_, or_ = cast(Any, IsNull), cast(Any, EqualTo), cast(Any, And), cast(Any, Or)
        clauses = []
        for values in replace_values:
            parts = [is_null(k) if v is None else equal_to(k, v) for k, v in values.items()]
            clauses.append(parts[0] if len(parts) == 1 else and_(*parts))
        return clauses[0] if len(clauses) == 1 else or_(*clauses)

    def _ensure_table(self, database: str, table: str, schema: pa.Schema, partition_by: Sequence[str]) -> IcebergTable:
        from pyiceberg.exceptions import NamespaceAlreadyExistsError, TableAlreadyExistsError

        found = self.load(database, table)
        if found is not None:
            return found
        from sqlalchemy.exc import IntegrityError

        # pyiceberg checks, then inserts: a racing process may win in between (IntegrityError)
        with contextlib.suppress(NamespaceAlreadyExistsError, IntegrityError):
            self.iceberg.create_namespace(database)
        self.catalog.create_database(database, exist_ok=True)
        try:
            created = self.iceberg.create_table(
                f"{database}.{table}",
                schema=schema,
                location=self.table_uri(database, table),
                properties={"write.parquet.compression-codec": "snappy", "format-version": "2"},
            )
        except TableAlreadyExistsError:
            return self.require(database, table)
        if partition_by:
            with created.update_spec() as spec:
                for name in partition_by:
                    spec.add_identity(name)
        return self.require(database, table)

    def sync_catalog(self, database: str, table: str) -> bool:
        """Bring the table's catalog entry up to its current Iceberg metadata; whether it was behind.

        A commit swaps the Iceberg pointer, then registers the new metadata in the catalog: a writer killed in
        between leaves the entry naming the previous metadata (which still exists). Recovery calls this."""
        from lakeport.catalog import EntityNotFound

        database, table = self._names(database, table)
        iceberg = self.load(database, table)
        if iceberg is None:
            return False
        try:
            entry = self.catalog.get_table(database, table)
        except EntityNotFound:
            entry = None
        if entry is not None and entry.parameters.get("metadata_location") == iceberg.metadata_location:
            return False
        self._register(database, table, iceberg)
        return True

    def _register(self, database: str, table: str, iceberg: IcebergTable) -> None:
        """Create or update the table's entry in lakeport's catalog (a new version only when its schema changed)."""
        from lakeport.catalog.external_schemas import columns_from_arrow_schema

        columns = tuple(Column(n, str(t)) for n, t in columns_from_arrow_schema(iceberg.schema().as_arrow()))
        snapshot = iceberg.current_snapshot()
        parameters = {
            "table_type": "ICEBERG",
            "last-updated-ms": str(iceberg.metadata.last_updated_ms),
            "metadata_location": iceberg.metadata_location,
            "format-version": str(iceberg.format_version),
            "current-snapshot-id": str(snapshot.snapshot_id if snapshot else ""),
            "classification": "parquet",
        }
        spec = [f.name for f in iceberg.spec().fields]
        if spec:
            parameters["partitioning"] = ", ".join(spec)
        wanted = Table(
            database=database,
            name=table,
            columns=columns,
            location=self.lake_location(database, table),
            format=TableFormat("iceberg", compression="snappy"),
            table_type=ICEBERG,
            parameters=parameters,
        )
        from lakeport.catalog import EntityNotFound

        try:
            current = self.catalog.get_table(database, table)
        except EntityNotFound:
            self.catalog.create_table(wanted, replace=True)
            return
        if int(current.parameters.get("last-updated-ms", "0") or 0) > iceberg.metadata.last_updated_ms:
            return  # a later commit registered itself first: never take the catalog back to an older state
        self.catalog.update_table(wanted.with_changes(description=current.description))

    # ---- reading

    def data_files(
        self, database: str, table: str, *, snapshot_id: int | None = None, as_of: datetime | None = None
    ) -> list[str]:
        """The data files of the current snapshot (or of one snapshot, or as of a time), as local paths/URIs."""
        database, table = self._names(database, table)
        self._authorize("glue:GetTable", database, table)
        iceberg = self.require(database, table)
        if as_of is not None:
            found = iceberg.snapshot_as_of_timestamp(int(as_of.timestamp() * 1000))
            if found is None:
                raise NotFound(f"table {database}.{table} has no snapshot as of {as_of.isoformat()}")
            snapshot_id = found.snapshot_id
        if snapshot_id is not None and iceberg.snapshot_by_id(snapshot_id) is None:
            raise NotFound(f"table {database}.{table} has no snapshot {snapshot_id}")
        if iceberg.current_snapshot() is None:
            return []
        scan = iceberg.scan(snapshot_id=snapshot_id)
        return [self.local_path(task.file.file_path) for task in scan.plan_files()]

    def history(self, database: str, table: str) -> list[Snapshot]:
        database, table = self._names(database, table)
        self._authorize("glue:GetTable", database, table)
        iceberg = self.require(database, table)
        current = iceberg.current_snapshot()
        out = []
        for s in iceberg.snapshots():
            summary = dict(s.summary.additional_properties) if s.summary else {}
            out.append(
                Snapshot(
                    snapshot_id=s.snapshot_id,
                    parent_id=s.parent_snapshot_id,
                    committed_at=datetime.fromtimestamp(s.timestamp_ms / 1000, UTC),
                    operation=str(s.summary.operation.value) if s.summary else "",
                    summary=summary,
                    current=current is not None and s.snapshot_id == current.snapshot_id,
                )
            )
        return out

    def rollback(self, database: str, table: str, snapshot_id: int) -> Snapshot:
        database, table = self._names(database, table)
        self._authorize("glue:UpdateTable", database, table)
        iceberg = self.require(database, table)
        if iceberg.snapshot_by_id(snapshot_id) is None:
            raise NotFound(f"table {database}.{table} has no snapshot {snapshot_id}")
        iceberg.manage_snapshots().set_current_snapshot(snapshot_id=snapshot_id).commit()
        self._register(database, table, self.require(database, table))
        return next(s for s in self.history(database, table) if s.current)

    def vacuum(
        self, database: str, table: str, *, retain: timedelta = timedelta(days=5), keep_last: int = 1
    ) -> VacuumResult:
        """Expire snapshots older than ``retain`` (keeping the newest ``keep_last``), then delete every file in the
        table's folder that no remaining snapshot or metadata references and that is older than ``retain``."""
        database, table = self._names(database, table)
        self._authorize("glue:UpdateTable", database, table)
        iceberg = self.require(database, table)
        cutoff_ms = int((datetime.now(UTC) - retain).timestamp() * 1000)
        snapshots = sorted(iceberg.snapshots(), key=lambda s: s.timestamp_ms)
        current = iceberg.current_snapshot()
        keep = {s.snapshot_id for s in snapshots[-keep_last:]} if keep_last else set()
        if current is not None:
            keep.add(current.snapshot_id)
        expire = [s.snapshot_id for s in snapshots if s.timestamp_ms < cutoff_ms and s.snapshot_id not in keep]
        if expire:
            iceberg.maintenance.expire_snapshots().by_ids(expire).commit()
            iceberg = self.require(database, table)
        referenced = self._referenced(iceberg)
        deleted, freed = 0, 0
        if self.objects_root is not None:
            folder = Path(self.local_path(self.table_uri(database, table)))
            cutoff = time.time() - retain.total_seconds()
            for path in folder.rglob("*"):
                if not path.is_file() or str(path.resolve()) in referenced:
                    continue
                stat = path.stat()
                if stat.st_mtime >= cutoff:
                    continue  # may belong to a run that has not committed yet
                path.unlink()
                deleted += 1
                freed += stat.st_size
        return VacuumResult(f"{database}.{table}", len(expire), deleted, freed)

    def _referenced(self, iceberg: IcebergTable) -> set[str]:
        """Every file the table's metadata still points at: data files, manifests, manifest lists, metadata."""
        io = iceberg.io
        out = {self._resolved(iceberg.metadata_location)}
        for logged in iceberg.metadata.metadata_log:
            out.add(self._resolved(logged.metadata_file))
        for snapshot in iceberg.snapshots():
            out.add(self._resolved(snapshot.manifest_list))
            for manifest in snapshot.manifests(io):
                out.add(self._resolved(manifest.manifest_path))
                for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
                    out.add(self._resolved(entry.data_file.file_path))
        return out

    def _resolved(self, uri: str) -> str:
        path = self.local_path(uri)
        return str(Path(path).resolve()) if "://" not in path else path

    def drop(self, database: str, table: str) -> None:
        database, table = self._names(database, table)
        self._authorize("glue:DeleteTable", database, table)
        self.iceberg.drop_table(f"{database}.{table}")


def _same_columns(iceberg: IcebergTable, schema: pa.Schema) -> bool:
    """Whether ``schema`` has exactly the table's columns, in order, with the same Iceberg types."""
    from pyiceberg.io.pyarrow import pyarrow_to_schema

    current = iceberg.schema()
    try:
        incoming = pyarrow_to_schema(schema, name_mapping=current.name_mapping)
    except Exception:
        return False
    ours = [(f.name, f.field_type) for f in current.fields]
    theirs = [(f.name, f.field_type) for f in incoming.fields]
    return ours == theirs


def fsync_files(paths: Sequence[str]) -> None:
    """Flush written files and their folders to disk before they are committed."""
    folders = set()
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        folders.add(os.path.dirname(path))
    for folder in folders:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
