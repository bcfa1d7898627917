"""SPICE's role: a dataset's rows materialized as Parquet in the lake (a CTAS of the query service into the
``lakeport_spice`` database, files under ``results/spice/<dataset>/<ingestion>/``), refreshed on demand.

An ingestion writes a new table; only when it has succeeded does the dataset point at it (one metadata write),
and the previous snapshot is dropped. A failed ingestion is recorded with its error and changes nothing else.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from lakeport.dashboards.model import COMPLETED, FAILED, RUNNING
from lakeport.dashboards.schema import dashboards_datasets, dashboards_ingestions
from lakeport.errors import LakeportError, NotFound
from lakeport.metadata.times import now
from lakeport.sqltext import ident, literal

if TYPE_CHECKING:
    from lakeport.catalog import Catalog
    from lakeport.metadata import MetadataDB
    from lakeport.query.service import Queries
    from lakeport.storage import Storage

DATABASE = "lakeport_spice"
PREFIX = "results/spice/"
_JUNK = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class Result:
    table: str | None  # db.table written (None: failed)
    rows: int | None
    bytes: int | None
    execution_id: str | None
    error: str | None


def start(db: MetadataDB, dataset: str, principal: str) -> str:
    ingestion_id = str(uuid.uuid4())
    db.run_write(
        lambda conn: conn.execute(
            dashboards_ingestions.insert().values(
                id=ingestion_id, dataset=dataset, status=RUNNING, rows=None, bytes=None, table_name=None,
                query_execution_id=None, error=None, principal=principal, created_at=now(), completed_at=None,
            )
        )
    )  # fmt: skip
    return ingestion_id


def ingest(
    ingestion_id: str,
    dataset: str,
    relation: str,
    *,
    database: str,
    queries: Queries,
    catalog: Catalog,
    storage: Storage,
    bucket: str,
) -> Result:
    """Write the dataset's rows to a new snapshot table; the error (not raised) when that fails."""
    table = f"{_JUNK.sub('_', dataset.lower())}_{ingestion_id.replace('-', '')[:12]}"
    folder = f"{PREFIX}{dataset}/{ingestion_id}/"
    try:
        try:
            catalog.get_database(DATABASE)
        except NotFound:
            catalog.create_database(DATABASE, description="SPICE snapshots of the dashboards' datasets")
        sql = (
            f"CREATE TABLE {ident(DATABASE)}.{ident(table)} WITH (format = 'PARQUET', write_compression = 'SNAPPY', "
            f"external_location = {literal(f's3://{bucket}/{folder}')}) AS {relation}"
        )
        execution = queries.start_query_execution(sql, database=database, wait=True)
    except LakeportError as exc:
        return Result(None, None, None, None, exc.one_line())
    if execution.state != "SUCCEEDED":
        return Result(None, None, None, execution.id, execution.state_change_reason or execution.state)
    rows = int(queries.get_query_results(execution.id, max_results=1).get("UpdateCount", 0))
    size = sum(o.size for o in storage.iter_objects(bucket, prefix=folder))
    return Result(f"{DATABASE}.{table}", rows, size, execution.id, None)


def finish(db: MetadataDB, ingestion_id: str, dataset: str, result: Result) -> None:
    """Record the ingestion's end and, when it succeeded, point the dataset at its snapshot (one transaction)."""

    def work(conn: Any) -> None:
        conn.execute(
            update(dashboards_ingestions)
            .where(dashboards_ingestions.c.id == ingestion_id)
            .values(
                status=FAILED if result.table is None else COMPLETED,
                rows=result.rows,
                bytes=result.bytes,
                table_name=result.table,
                query_execution_id=result.execution_id,
                error=result.error,
                completed_at=now(),
            )
        )
        if result.table is not None:
            conn.execute(
                update(dashboards_datasets)
                .where(dashboards_datasets.c.name == dataset)
                .values(snapshot=result.table, updated_at=now())
            )

    db.run_write(work)


def drop(snapshot: str, catalog: Catalog, storage: Storage, bucket: str) -> None:
    """Remove a snapshot table and its files (best effort: a missing one is already gone)."""
    db, _, table = snapshot.partition(".")
    try:
        found = catalog.get_table(db, table)
        location = found.location
        catalog.delete_table(db, table)
    except NotFound:
        return
    if location and location.startswith(f"s3://{bucket}/{PREFIX}"):
        prefix = location.removeprefix(f"s3://{bucket}/").rstrip("/") + "/"
        for item in list(storage.iter_objects(bucket, prefix=prefix)):
            storage.delete_object(bucket, item.key)
