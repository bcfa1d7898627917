"""pyiceberg's SQL catalog, kept in the lake's metadata database and tuned for many processes.

pyiceberg stores each table's current metadata pointer in its own tables (``iceberg_tables``,
``iceberg_namespace_properties``) and commits by compare-and-swap on that pointer: one row update is the
moment a new snapshot becomes visible. On SQLite a transaction whose first statement writes starts
``BEGIN IMMEDIATE`` and waits on the busy timeout, so concurrent committers queue instead of failing with
"database is locked"; a transaction that starts by reading starts a plain (deferred) ``BEGIN``, so table loads
read a WAL snapshot and never wait on, or hold up, a writer.
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

    # The transaction's BEGIN waits for its first statement, which decides the kind (see the module docstring).
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.info["lakeport_begin_pending"] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(conn: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        if conn.info.pop("lakeport_begin_pending", False):
            reads = statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "PRAGMA", "WITH")
            cursor.execute("BEGIN" if reads else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Connection) -> None:
        conn.info.pop("lakeport_begin_pending", None)

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
