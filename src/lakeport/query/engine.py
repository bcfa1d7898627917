"""The DuckDB side of a query: a locked-down connection, and running a translated statement into Athena's shape.

A query connection can read only the folders it is given (``allowed_directories`` with external access off);
extensions are never installed or auto-loaded (ICU, which DuckDB bundles, is loaded up front for time zones);
the session time zone is UTC, as Athena's; then the configuration is locked, so no statement can loosen it.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.query.render import athena_type, render

if TYPE_CHECKING:
    import duckdb


@dataclass
class ResultSet:
    """Columns (name, Athena type) and rows of Athena's text values (None for NULL)."""

    columns: list[tuple[str, str]]
    rows: list[list[str | None]] = field(default_factory=list)


def connect(
    readable: Sequence[Path] = (), *, memory_limit: str = "", threads: int = 0, temp_directory: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A sandboxed DuckDB connection that may read only inside ``readable`` (folders)."""
    import duckdb

    # DuckDB adds its temp folder to the readable ones: it must be private to this connection (never the
    # default ``./.tmp`` of whatever folder the service runs in), and it goes when the connection does.
    if temp_directory is None:
        temp_directory = Path(tempfile.mkdtemp(prefix="lakeport-query-"))
        cleanup = True
    else:
        temp_directory.mkdir(parents=True, exist_ok=True)
        cleanup = False
    config: dict[str, Any] = {
        "temp_directory": str(temp_directory),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
    }
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute("LOAD icu")
    con.execute("SET TimeZone = 'UTC'")
    folders = [str(p.resolve()) + "/" for p in readable]
    if folders:
        con.execute("SET allowed_directories = ?", [folders])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    if cleanup:
        weakref.finalize(con, shutil.rmtree, str(temp_directory), True)
    return con


def run(con: duckdb.DuckDBPyConnection, sql: str, *, limit: int | None = None) -> ResultSet:
    """Run one DuckDB statement; its rows rendered as Athena renders them."""
    relation = con.sql(sql)
    if relation is None:
        return ResultSet(columns=[])
    types = relation.types
    columns = [(name, athena_type(kind)) for name, kind in zip(relation.columns, types, strict=True)]
    raw = relation.limit(limit).fetchall() if limit is not None else relation.fetchall()
    rows = [[render(value, kind) for value, kind in zip(row, types, strict=True)] for row in raw]
    return ResultSet(columns=columns, rows=rows)


class Spares:
    """Sandboxed connections made ahead of time (connecting and locking one down takes tens of milliseconds):
    a query takes a ready one, and a new one is made for the next query off the query's path."""

    def __init__(self, readable: Sequence[Path], *, keep: int = 1) -> None:
        self.readable = list(readable)
        self.keep = keep
        self._ready: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    def take(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._ready:
                return self._ready.pop()
        return connect(self.readable)

    def refill(self) -> None:
        with self._lock:
            if len(self._ready) >= self.keep:
                return
        fresh = connect(self.readable)
        with self._lock:
            if len(self._ready) < self.keep:
                self._ready.append(fresh)
                return
        fresh.close()
