"""The DuckDB side of a query: a locked-down connection, and running a translated statement into Athena's shape.

A query connection can read only the folders it is given (``allowed_directories`` with external access off);
extensions are never installed or auto-loaded (ICU, which DuckDB bundles, is loaded up front for time zones);
the session time zone is UTC, as Athena's; then the configuration is locked, so no statement can loosen it.

Every statement is profiled (DuckDB's ``io.total_bytes_read`` only, kept in memory, never printed or written):
``run`` reads the bytes the statement actually read from files into ``ResultSet.bytes_scanned``, Athena's
DataScannedInBytes. Progress is tracked (``query_progress``) so a watch (``query/watch.py``) can estimate the
bytes read so far; a statement run while a watch is active is attached to it, so it can be interrupted.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.engines.duckdb_sandbox import NO_EXTENSIONS, lock_down
from lakeport.query.render import athena_type, renderer
from lakeport.query.watch import current as current_watch

if TYPE_CHECKING:
    import duckdb


@dataclass
class ResultSet:
    """Columns (name, Athena type) and rows of Athena's text values (None for NULL)."""

    columns: list[tuple[str, str]]
    rows: list[list[str | None]] = field(default_factory=list)
    bytes_scanned: int | None = None  # read from files by the statement (None: not run by DuckDB)
    update_count: int | None = None  # rows a CTAS or INSERT INTO wrote (Athena's UpdateCount)


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
    config: dict[str, Any] = {"temp_directory": str(temp_directory), **NO_EXTENSIONS}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute("LOAD icu")
    con.execute("SET TimeZone = 'UTC'")
    # profiling of every statement, the bytes read only, returned by get_profiling_information (no output)
    con.execute("SET enable_profiling = 'no_output'")
    con.execute("SET profiling_coverage = 'ALL'")
    con.execute("SET tracked_metrics = ['io.total_bytes_read']")
    con.execute("SET enable_progress_bar = true")  # query_progress() answers only with it on
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET parquet_metadata_cache = true")  # data files never change in place: keep their footers
    lock_down(con, readable)
    if cleanup:
        weakref.finalize(con, shutil.rmtree, str(temp_directory), True)
    return con


def run(con: duckdb.DuckDBPyConnection, sql: str, *, limit: int | None = None) -> ResultSet:
    """Run one DuckDB statement; its rows rendered as Athena renders them, and the bytes it read.

    Under an active watch (the execution this thread runs) the connection is attached to it while the
    statement runs: a stop, a timeout or the bytes-scanned cutoff interrupts it."""
    active = current_watch()
    if active is None:
        return _run(con, sql, limit)
    with active.attached(con, sql):
        result = _run(con, sql, limit)
        active.add_bytes(result.bytes_scanned)
        return result


def _run(con: duckdb.DuckDBPyConnection, sql: str, limit: int | None) -> ResultSet:
    relation = con.sql(sql)
    if relation is None:
        return ResultSet(columns=[], bytes_scanned=bytes_read(con))
    types = relation.types
    columns = [(name, athena_type(kind)) for name, kind in zip(relation.columns, types, strict=True)]
    raw = relation.limit(limit).fetchall() if limit is not None else relation.fetchall()
    renderers = [renderer(kind) for kind in types]
    rows = [[show(value) for show, value in zip(renderers, row, strict=True)] for row in raw]
    return ResultSet(columns=columns, rows=rows, bytes_scanned=bytes_read(con))


def bytes_read(con: duckdb.DuckDBPyConnection) -> int | None:
    """Bytes the connection's last statement read from files (its profile), or None when not profiled."""
    try:
        profile = json.loads(con.get_profiling_information())
        return int(profile["io"]["total_bytes_read"])
    except Exception:  # profiling off, or a statement without a profile
        return None


class Spares:
    """Sandboxed connections made ahead of time (connecting and locking one down takes tens of milliseconds):
    a query takes a ready one, and a new one is made for the next query off the query's path."""

    def __init__(self, readable: Sequence[Path], *, keep: int = 1, memory_limit: str = "") -> None:
        self.readable = list(readable)
        self.keep = keep
        self.memory_limit = memory_limit
        self._ready: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    def take(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._ready:
                return self._ready.pop()
        return connect(self.readable, memory_limit=self.memory_limit)

    def give_back(self, con: duckdb.DuckDBPyConnection, schemas: Sequence[str], *, keep_at_most: int = 4) -> None:
        """A connection whose statement finished cleanly, for the next query: the query's views dropped, and
        reused only when nothing of it is left (else closed). Reuse keeps DuckDB's Parquet metadata cache
        warm and saves making a connection for every query."""
        from lakeport.sqltext import ident

        try:
            for schema in schemas:
                con.execute(f"DROP SCHEMA IF EXISTS {ident(schema)} CASCADE").fetchall()
            rows = con.execute(
                "SELECT (SELECT count(*) FROM duckdb_views() WHERE NOT internal)"
                " + (SELECT count(*) FROM duckdb_tables())"
            ).fetchall()  # every result read to its end: DuckDB refuses new work while one is unfinished
            clean = rows == [(0,)]
        except Exception:
            clean = False
        with self._lock:
            if clean and len(self._ready) < keep_at_most:
                self._ready.append(con)
                return
        con.close()

    def refill(self) -> None:
        with self._lock:
            if len(self._ready) >= self.keep:
                return
        fresh = connect(self.readable, memory_limit=self.memory_limit)
        with self._lock:
            if len(self._ready) < self.keep:
                self._ready.append(fresh)
                return
        fresh.close()
