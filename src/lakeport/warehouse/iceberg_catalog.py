"""pyiceberg's SQL catalog, kept in the lake's metadata database and tuned for many processes.

pyiceberg stores each table's current metadata pointer in its own tables (``iceberg_tables``,
``iceberg_namespace_properties``) and commits by compare-and-swap on that pointer: one row update is the
moment a new snapshot becomes visible. On SQLite every one of its transactions starts ``BEGIN IMMEDIATE``
and waits on the busy timeout, so concurrent committers queue instead of failing with "database is locked".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event

if TYPE_CHECKING:
    from pyiceberg.catalog.sql import SqlCatalog
    from sqlalchemy.engine import Connection

    from lakeport.metadata.database import MetadataDB
    from lakeport.settings import StorageSettings


def _sqlite_engine(url: str, timeout_ms: int) -> Any:
    engine = create_engine(url, connect_args={"timeout": timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def open_iceberg_catalog(
    db: MetadataDB, storage: StorageSettings, *, warehouse: str, properties: dict[str, str] | None = None
) -> SqlCatalog:
    from pyiceberg.catalog.sql import SqlCatalog

    url = db.engine.url.render_as_string(hide_password=False)
    props: dict[str, str] = {"uri": url, "warehouse": warehouse, **(properties or {})}
    if storage.url.startswith("s3"):
        if storage.endpoint_url:
            props["s3.endpoint"] = storage.endpoint_url
        if storage.access_key_id:
            props["s3.access-key-id"] = storage.access_key_id
            props["s3.secret-access-key"] = storage.secret_access_key
        props["s3.region"] = storage.region
    catalog = SqlCatalog("lakeport", **props)
    if db.dialect == "sqlite":
        catalog.engine.dispose()
        catalog.engine = _sqlite_engine(url, db.busy_timeout_ms)
    return catalog


def local_uri(path: Path) -> str:
    return path.resolve().as_uri()
