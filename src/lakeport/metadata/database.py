"""One metadata database shared by CLI calls, the server and workers, safely, at the same time.

SQLite (the default) runs in WAL mode with a busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of failing with "database is
locked" when a read transaction tries to upgrade. PostgreSQL (``postgresql://``) needs none of that.
Schema changes are Alembic migrations, applied on open when the database is behind, under a lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import NoSuchModuleError, OperationalError

from lakeport.errors import ConfigError, LakeportError, ServiceUnavailable, missing_dependency
from lakeport.metadata.schema import lake_info

HEAD_REVISION = "0015"
"""The newest migration; a test checks it matches Alembic's head so start-up never has to load Alembic."""

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_WRITE = "lakeport_write"
SQLITE_POOL_SIZE = 20
SQLITE_POOL_OVERFLOW = 60
_PG_MIGRATION_LOCK = 7_261_305_118

T = TypeVar("T")


_UNREACHABLE = (
    "unable to open database",
    "disk i/o error",
    "connection refused",
    "could not connect",
    "server closed the connection",
    "connection timed out",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
)


def _is_locked(exc: BaseException) -> bool:
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def _enable_wal(cur: Any, timeout_ms: int) -> None:
    """Switch a SQLite database to WAL mode, waiting up to the busy timeout for other processes.

    The switch needs an exclusive lock, and SQLite answers "database is locked" at once, without calling the
    busy handler, when two connections try it together (each holds a shared lock and waits for the other):
    two processes opening a brand-new database at the same moment. So retry it here, as the busy handler would.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    pause = 0.001
    while True:
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


class MetadataDB:
    """The metadata database of one lake."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30000) -> None:
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            if self.dialect == "sqlite":
                self.engine = self._sqlite_engine(parsed.render_as_string(hide_password=False))
            elif self.dialect == "postgresql":
                self.engine = create_engine(parsed, pool_pre_ping=True)
            else:
                raise ConfigError(
                    f"metadata.url {url!r}: unsupported database '{self.dialect}'",
                    hint="use sqlite:///path/to/lakeport.db or postgresql://user@host/db",
                )
        except (NoSuchModuleError, ModuleNotFoundError):
            raise missing_dependency("psycopg", "postgres", "A PostgreSQL metadata database") from None
        # PostgreSQL's default, READ COMMITTED, gives every statement a new snapshot; REPEATABLE READ gives the
        # whole read block one (a read-only transaction never fails to serialize). SQLite's BEGIN already does.
        self._read_options: dict[str, Any] = (
            {"isolation_level": "REPEATABLE READ"} if self.dialect == "postgresql" else {}
        )

    @classmethod
    def for_lake(cls, url: str, root: Path, *, busy_timeout_ms: int = 30000) -> MetadataDB:
        """Resolve a relative ``sqlite:///name.db`` against the lake folder."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            if not path.is_absolute():
                url = parsed.set(database=str(root / path)).render_as_string(hide_password=False)
        return cls(url, busy_timeout_ms=busy_timeout_ms)

    def _sqlite_engine(self, url: str) -> Engine:
        pool: dict[str, Any] = {}
        if make_url(url).database not in (None, "", ":memory:"):
            # `lakeport serve` answers from up to 40 threads (anyio's default), each holding one connection at a
            # time, beside the scheduler and the audit flusher. QueuePool's default (5 kept, 10 more) makes the
            # 16th concurrent request wait for a connection, and closes and reopens the extra ones (open, four
            # PRAGMAs, the WAL check) all the time under load. Kept SQLite connections cost a few file handles.
            pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_OVERFLOW}
        engine = create_engine(url, connect_args={"timeout": self.busy_timeout_ms / 1000}, **pool)
        timeout = self.busy_timeout_ms

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {int(timeout)}")
            _enable_wal(cur, timeout)
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get(_WRITE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on error."""
        try:
            with self.engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            raise self._translate(exc) from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot for the whole block."""
        try:
            with self.engine.connect().execution_options(**self._read_options) as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            raise self._translate(exc) from exc

    def run_write(self, work: Callable[[Connection], T], *, attempts: int = 5) -> T:
        """Run ``work`` in a write transaction, retrying when the database is momentarily unavailable."""
        for attempt in range(1, attempts + 1):
            try:
                with self.write() as conn:
                    return work(conn)
            except ServiceUnavailable:
                if attempt == attempts:
                    raise
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def _translate(self, exc: OperationalError) -> LakeportError:
        where = self.engine.url.render_as_string(hide_password=True)
        if _is_locked(exc):
            return ServiceUnavailable(
                f"metadata database {where} stayed locked for {self.busy_timeout_ms} ms",
                hint="another process holds a long write; retry, or raise metadata.busy_timeout_ms",
            )
        detail = str(exc.orig).strip()
        if exc.connection_invalidated or any(word in detail.lower() for word in _UNREACHABLE):
            return ServiceUnavailable(
                f"metadata database {where}: {detail}",
                hint="check that the database is reachable and the lake folder is writable",
            )
        # Anything else (a missing table, bad SQL) is a bug or a broken database: retrying will not help.
        return LakeportError(
            f"metadata database {where}: {detail}",
            hint="run `lakeport init` on the lake to apply migrations; if it persists, report it",
        )

    # ---- schema

    def current_revision(self) -> str | None:
        """The applied migration, or None for an empty database."""
        with self.read() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def ensure_schema(self, *, load_tables: Callable[[], None] | None = None) -> None:
        """Apply pending migrations (a no-op, one query, when the database is current).

        ``load_tables`` imports every module that declares tables on ``metadata_obj``: with it, an *empty*
        database gets the newest schema in one ``create_all`` and is stamped at the head revision, instead of
        running every migration in turn (the same schema: ``tests/metadata/test_migrations_match_schema.py``)."""
        if self.current_revision() != HEAD_REVISION:
            self.upgrade(load_tables=load_tables)

    def upgrade(self, *, load_tables: Callable[[], None] | None = None) -> None:
        """Migrate to the newest schema; concurrent callers wait for one another."""
        from alembic import command
        from alembic.config import Config

        with self._migration_lock():
            if self.current_revision() == HEAD_REVISION:
                return
            if load_tables is not None and self._empty():
                self._create_newest(load_tables)
                return
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            with self.engine.connect().execution_options(**{_WRITE: True}) as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()

    def _empty(self) -> bool:
        with self.read() as conn:
            return not inspect(conn).get_table_names()

    def _create_newest(self, load_tables: Callable[[], None]) -> None:
        from lakeport.metadata.schema import metadata_obj

        load_tables()
        with self.engine.connect().execution_options(**{_WRITE: True}) as conn:
            metadata_obj.create_all(conn, checkfirst=False)  # the database is empty
            conn.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION})
            conn.commit()

    def schema_lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the lock schema changes take (migrations; libraries that create their own tables on first use)."""
        return self._migration_lock()

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.dialect == "sqlite":
            db_path = self.engine.url.database or ""
            lock_path = (
                None if db_path in ("", ":memory:") else Path(db_path).with_name(f".{Path(db_path).name}.migrate.lock")
            )
            if lock_path is None:
                yield
                return
            with lock_path.open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        else:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                    conn.commit()

    # ---- lake facts

    def get_info(self, name: str) -> str | None:
        with self.read() as conn:
            return conn.execute(select(lake_info.c.value).where(lake_info.c.name == name)).scalar()

    def set_info_default(self, name: str, value: str) -> str:
        """Store ``value`` under ``name`` unless a value is already there; return the stored value.

        ``INSERT … ON CONFLICT DO NOTHING`` then a read: two processes racing to set the same fact (opening a new
        lake at once) both get the first one's value, and neither sees an error."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement: Any = pg_insert(lake_info).on_conflict_do_nothing(index_elements=["name"])
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(lake_info).on_conflict_do_nothing(index_elements=["name"])

        def work(conn: Connection) -> str:
            conn.execute(statement.values(name=name, value=value))
            stored = conn.execute(select(lake_info.c.value).where(lake_info.c.name == name)).scalar()
            return str(stored)

        return self.run_write(work)

    def dispose(self) -> None:
        self.engine.dispose()
