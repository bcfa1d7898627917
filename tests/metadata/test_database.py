"""The metadata database contract, on SQLite (a file) and on a real PostgreSQL server.

Every test taking ``metadata_url`` (or ``db``) runs once per backend: the rest of lakeport must not be able
to tell them apart.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError

from lakeport import Lake
from lakeport.errors import ConfigError, ServiceUnavailable
from lakeport.metadata import HEAD_REVISION, MetadataDB
from lakeport.metadata.database import MIGRATIONS_DIR
from lakeport.metadata.schema import lake_info
from lakeport.storage.events import CREATED_PUT, REMOVED_DELETE, EventLog, object_events, object_state

LAKE_TABLES = {"lake_info", "object_events", "object_state", "event_cursors"}


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty metadata database: a SQLite file in ``tmp_path``, or a fresh database on the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    url: str = request.getfixturevalue("postgres_db_url")
    return url


@pytest.fixture
def db(metadata_url: str) -> Iterator[MetadataDB]:
    """The empty database, opened (no schema yet)."""
    database = MetadataDB(metadata_url)
    yield database
    database.dispose()


@pytest.fixture
def migrated(db: MetadataDB) -> MetadataDB:
    db.ensure_schema()
    return db


def table_names(db: MetadataDB) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def row_count(db: MetadataDB, table: str) -> int:
    with db.read() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def alembic_downgrade(db: MetadataDB, revision: str) -> None:
    """Run Alembic's downgrade on ``db`` the way MetadataDB.upgrade runs the upgrade (on a connection we give it)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


# ---- schema


def test_head_revision_is_alembics_head() -> None:
    """Start-up compares against HEAD_REVISION without loading Alembic: it must name the newest migration."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert script.get_heads() == [HEAD_REVISION]  # one head: no unmerged branches
    assert script.get_current_head() == HEAD_REVISION
    base_to_head = list(script.walk_revisions("base", "heads"))
    assert base_to_head[0].revision == HEAD_REVISION


def test_an_empty_database_has_no_revision_until_ensure_schema(db: MetadataDB) -> None:
    assert db.current_revision() is None
    assert not table_names(db) & LAKE_TABLES

    db.ensure_schema()

    assert db.current_revision() == HEAD_REVISION
    assert table_names(db) >= LAKE_TABLES | {"alembic_version"}
    assert row_count(db, "alembic_version") == 1
    for table in LAKE_TABLES:
        assert row_count(db, table) == 0


def test_upgrade_migrates_an_empty_database(db: MetadataDB) -> None:
    db.upgrade()
    assert db.current_revision() == HEAD_REVISION
    assert table_names(db) >= LAKE_TABLES


def test_ensure_schema_on_a_current_database_does_not_migrate(
    migrated: MetadataDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrated.set_info_default("kept", "yes")

    def no_upgrade(self: MetadataDB) -> None:
        raise AssertionError("ensure_schema ran a migration on a current database")

    with monkeypatch.context() as patched:
        patched.setattr(MetadataDB, "upgrade", no_upgrade)
        migrated.ensure_schema()
    migrated.upgrade()  # also a no-op: the revision is re-checked under the migration lock
    assert migrated.current_revision() == HEAD_REVISION
    assert migrated.get_info("kept") == "yes"
    assert row_count(migrated, "alembic_version") == 1


def test_a_second_handle_on_a_migrated_database_sees_the_schema(migrated: MetadataDB) -> None:
    other = MetadataDB(migrated.url)
    try:
        assert other.current_revision() == HEAD_REVISION
        other.ensure_schema()
        assert other.set_info_default("from", "other") == "other"
    finally:
        other.dispose()
    assert migrated.get_info("from") == "other"


def test_downgrade_to_base_then_upgrade_round_trips(migrated: MetadataDB) -> None:
    alembic_downgrade(migrated, "base")
    assert migrated.current_revision() is None
    assert not table_names(migrated) & LAKE_TABLES

    migrated.ensure_schema()
    assert migrated.current_revision() == HEAD_REVISION
    assert table_names(migrated) >= LAKE_TABLES
    events = EventLog(migrated)
    assert events.record_created("b", "k", etag="e1", size=1) is not None
    assert [e.key for e in events.read()] == ["k"]


# ---- lake facts


def test_get_info_of_a_missing_name_is_none(migrated: MetadataDB) -> None:
    assert migrated.get_info("nothing-here") is None


def test_set_info_default_first_writer_wins(migrated: MetadataDB) -> None:
    assert migrated.set_info_default("lake_id", "first") == "first"
    assert migrated.set_info_default("lake_id", "second") == "first"
    assert migrated.get_info("lake_id") == "first"
    assert migrated.set_info_default("other", "x") == "x"
    assert migrated.get_info("other") == "x"
    assert row_count(migrated, "lake_info") == 2


def test_set_info_default_that_loses_a_race_returns_the_winners_value(migrated: MetadataDB) -> None:
    """Another process inserts the name between our SELECT and our INSERT: its value is the one stored."""
    other = MetadataDB(migrated.url)
    sneaked: list[str] = []

    def sneak_in_first(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO lake_info") and not sneaked:
            sneaked.append(statement)
            if migrated.dialect == "sqlite":
                return  # BEGIN IMMEDIATE: nobody can write between our SELECT and INSERT (it would wait for us)
            with other.write() as theirs:
                theirs.execute(lake_info.insert().values(name="lake_id", value="theirs"))

    event.listen(migrated.engine, "before_cursor_execute", sneak_in_first)
    try:
        expected = "ours" if migrated.dialect == "sqlite" else "theirs"
        assert migrated.set_info_default("lake_id", "ours") == expected
        assert sneaked
        assert migrated.get_info("lake_id") == expected
    finally:
        event.remove(migrated.engine, "before_cursor_execute", sneak_in_first)
        other.dispose()


def test_set_info_default_keeps_unicode_and_long_values(migrated: MetadataDB) -> None:
    value = "Ünïcödé ✓ " + "x" * 10_000
    assert migrated.set_info_default("long", value) == value
    assert migrated.get_info("long") == value


# ---- transactions


def test_write_commits_when_the_block_ends(migrated: MetadataDB) -> None:
    with migrated.write() as conn:
        conn.execute(lake_info.insert().values(name="a", value="1"))
        conn.execute(lake_info.insert().values(name="b", value="2"))
    assert migrated.get_info("a") == "1"
    assert migrated.get_info("b") == "2"


def test_write_rolls_back_everything_on_an_exception(migrated: MetadataDB) -> None:
    class Boom(Exception):
        pass

    def insert_two_then_fail() -> None:
        with migrated.write() as conn:
            conn.execute(lake_info.insert().values(name="a", value="1"))
            conn.execute(lake_info.insert().values(name="b", value="2"))
            raise Boom

    with pytest.raises(Boom):
        insert_two_then_fail()
    assert migrated.get_info("a") is None
    assert migrated.get_info("b") is None
    assert row_count(migrated, "lake_info") == 0


def test_write_rolls_back_on_a_database_error(migrated: MetadataDB) -> None:
    migrated.set_info_default("taken", "old")

    def insert_then_collide() -> None:
        with migrated.write() as conn:
            conn.execute(lake_info.insert().values(name="fresh", value="1"))
            conn.execute(lake_info.insert().values(name="taken", value="new"))  # duplicate primary key

    with pytest.raises(IntegrityError):
        insert_then_collide()
    assert migrated.get_info("fresh") is None
    assert migrated.get_info("taken") == "old"
    # the connection went back to the pool in a usable state
    assert migrated.set_info_default("fresh", "2") == "2"


def test_run_write_returns_the_result_of_the_committed_work(migrated: MetadataDB) -> None:
    def work(conn: Connection) -> int:
        conn.execute(lake_info.insert().values(name="n", value="v"))
        assert migrated.get_info("n") is None  # another connection: not committed yet
        return 42

    assert migrated.run_write(work) == 42
    assert migrated.get_info("n") == "v"


def test_read_sees_committed_data_and_never_uncommitted_data(migrated: MetadataDB) -> None:
    with migrated.write() as writer:
        writer.execute(lake_info.insert().values(name="pending", value="1"))
        assert migrated.get_info("pending") is None  # another connection: not visible before the commit
    assert migrated.get_info("pending") == "1"
    with migrated.read() as conn:
        assert conn.execute(select(lake_info.c.value).where(lake_info.c.name == "pending")).scalar() == "1"


def test_a_read_block_is_one_consistent_snapshot(migrated: MetadataDB) -> None:
    """``read()`` promises one snapshot for the whole block: commits made meanwhile stay invisible to it."""
    migrated.set_info_default("before", "1")
    count = select(func.count()).select_from(lake_info)
    with migrated.read() as conn:
        assert conn.execute(count).scalar_one() == 1
        migrated.set_info_default("during", "2")  # committed by another connection while the block is open
        assert conn.execute(count).scalar_one() == 1
        assert conn.execute(select(lake_info.c.value).where(lake_info.c.name == "during")).scalar() is None
    with migrated.read() as conn:
        assert conn.execute(count).scalar_one() == 2


# ---- events stored in the metadata database


def test_event_log_round_trip(migrated: MetadataDB) -> None:
    events = EventLog(migrated)
    created = events.record_created("bucket", "a/b.csv", etag="e1", size=10)
    assert created is not None
    assert events.record_created("bucket", "a/b.csv", etag="e1", size=10) is None  # same ETag: recorded once
    removed = events.record_removed("bucket", "a/b.csv")
    assert removed is not None
    assert events.record_removed("bucket", "a/b.csv") is None
    assert [(e.event_name, e.key) for e in events.read()] == [(CREATED_PUT, "a/b.csv"), (REMOVED_DELETE, "a/b.csv")]
    assert created.id < removed.id
    assert events.poll("consumer") == events.read()
    events.ack("consumer", created.id)
    assert [e.id for e in events.poll("consumer")] == [removed.id]
    events.ack("consumer", 0)  # never moves back
    assert events.position("consumer") == created.id


def test_a_lake_keeps_its_metadata_and_events_where_metadata_url_points(metadata_url: str, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with Lake.init(root, values={"metadata.url": metadata_url}) as lake:
        assert lake.db.url == metadata_url
        lake_id = lake.db.get_info("lake_id")
        assert lake_id
        bucket = lake.settings.storage.default_bucket
        lake.storage.put_object(bucket, "staging/a.csv", b"id\n1\n")
        lake.storage.put_object(bucket, "staging/b.csv", b"id\n2\n")
        lake.storage.put_object(bucket, "staging/a.csv", b"id\n1\n2\n")
        lake.storage.delete_object(bucket, "staging/b.csv")

    if make_url(metadata_url).get_backend_name() == "postgresql":
        assert not (root / "lakeport.db").exists()  # nothing went to the default SQLite file

    # what the lake wrote is in the database the URL names, seen from a separate handle on it
    direct = MetadataDB(metadata_url)
    try:
        assert direct.current_revision() == HEAD_REVISION
        assert direct.get_info("lake_id") == lake_id
        with direct.read() as conn:
            rows = conn.execute(select(object_events).order_by(object_events.c.id)).all()
            state = conn.execute(select(object_state.c.key)).scalars().all()
        assert [(r.event_name, r.key) for r in rows] == [
            (CREATED_PUT, "staging/a.csv"),
            (CREATED_PUT, "staging/b.csv"),
            (CREATED_PUT, "staging/a.csv"),
            (REMOVED_DELETE, "staging/b.csv"),
        ]
        assert {r.bucket for r in rows} == {bucket}
        assert state == ["staging/a.csv"]
    finally:
        direct.dispose()

    with Lake.open(root) as again:  # reopening finds the same lake in the same database
        assert again.db.get_info("lake_id") == lake_id
        assert [e.key for e in again.events.read()] == [r.key for r in rows]


# ---- backend specifics


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    db = MetadataDB(f"sqlite:///{tmp_path / 'm.db'}", busy_timeout_ms=1234)
    try:
        db.ensure_schema()
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_a_relative_sqlite_url_is_inside_the_lake(tmp_path: Path) -> None:
    db = MetadataDB.for_lake("sqlite:///meta/lake.db", tmp_path)
    try:
        assert make_url(db.url).database == str(tmp_path / "meta/lake.db")
    finally:
        db.dispose()
    absolute = MetadataDB.for_lake(f"sqlite:///{tmp_path / 'abs.db'}", tmp_path / "elsewhere")
    try:
        assert make_url(absolute.url).database == str(tmp_path / "abs.db")
    finally:
        absolute.dispose()


def test_an_unsupported_database_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported database 'mysql'"):
        MetadataDB("mysql://user@localhost/lake")


def test_an_unreachable_postgresql_is_service_unavailable() -> None:
    with closed_port() as port:
        db = MetadataDB(f"postgresql://postgres@127.0.0.1:{port}/nowhere")
        try:
            with pytest.raises(ServiceUnavailable, match=f"127.0.0.1:{port}/nowhere"):
                db.current_revision()  # an unreachable database is not an empty one
            with pytest.raises(ServiceUnavailable, match=f"127.0.0.1:{port}/nowhere") as caught:
                db.get_info("lake_id")
            assert caught.value.hint
            assert caught.value.retryable
        finally:
            db.dispose()


def test_the_postgresql_fixture_gives_each_test_its_own_empty_database(postgres_db_url: str, postgres_url: str) -> None:
    assert make_url(postgres_db_url).database != make_url(postgres_url).database
    db = MetadataDB(postgres_db_url)
    try:
        with db.read() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == make_url(postgres_db_url).database
            assert str(conn.execute(text("SELECT version()")).scalar()).startswith("PostgreSQL ")
        assert not table_names(db)
    finally:
        db.dispose()


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback TCP port nothing listens on (bound but not listening until the block ends)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port
