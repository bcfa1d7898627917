"""Query sandbox, statements: everything that is not a query (COPY, ATTACH, INSTALL/LOAD, SET/RESET, PRAGMA,
CALL, secrets, DDL/DML, several statements, comments) is refused; see sandbox_kit for the method."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from lakeport.query.engine import connect, run
from lakeport.query.translate import translate
from lakeport.sqltext import literal
from tests.query.sandbox_kit import (
    DOTDOT_ESCAPE,
    NO_SERVER,
    Sandbox,
    World,
    build_world,
    params,
    sandbox_settings,
)
from tests.query.test_sandbox_functions import FUNCTIONS

# --------------------------------------------------------------------------------------------------------------
# 3. Statements
# --------------------------------------------------------------------------------------------------------------

SETTINGS: dict[str, str] = {
    "enable_external_access": "true",
    "allowed_directories": "['/']",
    "allowed_paths": "['{root}/secret.csv']",
    "lock_configuration": "false",
    "memory_limit": "'1GB'",
    "threads": "1",
    "temp_directory": "'{root}'",
    "home_directory": "'{root}'",
    "extension_directory": "'{root}'",
    "secret_directory": "'{root}'",
    "TimeZone": "'America/New_York'",
    "autoload_known_extensions": "true",
    "autoinstall_known_extensions": "true",
    "allow_community_extensions": "true",
    "allow_unsigned_extensions": "true",
    "custom_extension_repository": f"'http://{NO_SERVER}'",
    "enable_profiling": "'json'",
    "profiling_output": "'{root}/profile.json'",
}

STATEMENTS: list[tuple[str, str]] = [
    ("copy-query-to", "COPY (SELECT 1 AS x) TO '{root}/copied.csv'"),
    ("copy-query-to-parquet", "COPY (SELECT 1 AS x) TO '{root}/copied.parquet' (FORMAT PARQUET)"),
    ("copy-query-to-allowed", "COPY (SELECT 1 AS x) TO '{allowed}/copied.csv'"),
    ("copy-query-to-temp", "COPY (SELECT 1 AS x) TO '{cwd}/.tmp/copied.csv'"),
    ("copy-table-to", "COPY t TO '{root}/copied.csv'"),
    ("copy-table-from", "COPY t FROM '{root}/secret.csv'"),
    ("export-database", "EXPORT DATABASE '{root}/exported'"),
    ("import-database", "IMPORT DATABASE '{root}/exported'"),
    ("attach-file", "ATTACH '{root}/attached.db' AS a"),
    ("attach-memory", "ATTACH ':memory:' AS m"),
    ("attach-motherduck", "ATTACH 'md:' AS md"),
    ("attach-sqlite", "ATTACH '{root}/attached.sqlite' (TYPE sqlite)"),
    ("attach-s3", "ATTACH 's3://lakeport/attached.db' AS s"),
    ("detach", "DETACH memory"),
    ("install", "INSTALL httpfs"),
    ("install-from", f"INSTALL httpfs FROM 'http://{NO_SERVER}'"),
    ("force-install", "FORCE INSTALL httpfs"),
    ("load", "LOAD httpfs"),
    ("load-path", "LOAD '{root}/evil.duckdb_extension'"),
    *[(f"set-{name}", f"SET {name} = {value}") for name, value in SETTINGS.items()],
    *[(f"set-global-{name}", f"SET GLOBAL {name} = {value}") for name, value in SETTINGS.items()],
    *[(f"reset-{name}", f"RESET {name}") for name in SETTINGS],
    ("reset-all", "RESET ALL"),
    ("set-session", "SET SESSION query_max_run_time = '1s'"),
    ("set-variable", "SET VARIABLE v = 1"),
    ("pragma-enable-profiling", "PRAGMA enable_profiling"),
    ("pragma-database-list", "PRAGMA database_list"),
    ("pragma-threads", "PRAGMA threads = 1"),
    ("pragma-show-tables", "PRAGMA show_tables"),
    ("call-pragma-version", "CALL pragma_version()"),
    ("call-duckdb-secrets", "CALL duckdb_secrets()"),
    ("call-enable-logging", "CALL enable_logging()"),
    ("call-trino-procedure", "CALL system.sync_partition_metadata('default', 't', 'FULL')"),
    ("create-secret", "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')"),
    ("create-persistent-secret", "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')"),
    ("create-macro", "CREATE MACRO m(x) AS x"),
    ("create-table-macro", "CREATE MACRO leak() AS TABLE SELECT * FROM read_text('{root}/secret.txt')"),
    ("create-function", "CREATE FUNCTION f(x) RETURNS integer RETURN x"),
    ("create-table-as", "CREATE TABLE t AS SELECT 1 AS x"),
    ("create-table", "CREATE TABLE t (x integer)"),
    ("create-external-table", "CREATE EXTERNAL TABLE t (s string) LOCATION 'file://{root}/'"),
    ("create-view", "CREATE VIEW v AS SELECT 1 AS x"),
    ("create-schema", "CREATE SCHEMA s"),
    ("create-database", "CREATE DATABASE d LOCATION '{root}/'"),
    ("insert", "INSERT INTO t VALUES (1)"),
    ("insert-select", "INSERT INTO t SELECT * FROM read_csv('{root}/secret.csv')"),
    ("delete", "DELETE FROM t"),
    ("update", "UPDATE t SET x = 1"),
    ("merge", "MERGE INTO t USING u ON t.x = u.x WHEN MATCHED THEN DELETE"),
    ("drop-table", "DROP TABLE t"),
    ("drop-database", "DROP DATABASE d"),
    ("alter-table", "ALTER TABLE t ADD COLUMNS (c integer)"),
    ("truncate", "TRUNCATE TABLE t"),
    ("msck-repair", "MSCK REPAIR TABLE t"),
    ("unload", "UNLOAD (SELECT 1) TO 's3://lakeport/out/' WITH (format = 'CSV')"),
    ("unload-local", "UNLOAD (SELECT 1) TO 'file://{root}/unloaded/' WITH (format = 'PARQUET')"),
    ("checkpoint", "CHECKPOINT"),
    ("force-checkpoint", "FORCE CHECKPOINT"),
    ("vacuum", "VACUUM"),
    ("analyze", "ANALYZE"),
    ("use", "USE memory"),
    ("use-system", "USE system.main"),
    ("begin", "BEGIN TRANSACTION"),
    ("commit", "COMMIT"),
    ("explain", "EXPLAIN SELECT 1"),
    ("explain-analyze", "EXPLAIN ANALYZE SELECT 1"),
    ("describe", "DESCRIBE t"),
    ("show-tables", "SHOW TABLES"),
    ("show-databases", "SHOW DATABASES"),
    ("summarize", "SUMMARIZE t"),
    ("prepare", "PREPARE p FROM SELECT 1"),
    ("execute", "EXECUTE p"),
    ("deallocate", "DEALLOCATE p"),
    ("grant", "GRANT SELECT ON t TO u"),
    ("two-selects", "SELECT 1; SELECT 2"),
    ("select-then-copy", "SELECT 1; COPY (SELECT 1 AS x) TO '{root}/copied.csv'"),
    ("copy-then-select", "COPY (SELECT 1 AS x) TO '{root}/copied.csv'; SELECT 1"),
    ("select-then-set", "SELECT 1;\nSET enable_external_access = true"),
    ("select-then-attach", "SELECT 1 ; ATTACH ':memory:' AS m"),
    ("select-then-install", "SELECT 1;INSTALL httpfs;"),
    ("nested-block-comment", "SELECT 1 AS one /* /* */ ; COPY (SELECT 1) TO '{root}/copied.csv'; */"),
    ("block-comment-between", "SELECT 1 /* */ ; COPY (SELECT 1) TO '{root}/copied.csv' /* */"),
    ("line-comment-before", "-- harmless\nCOPY (SELECT 1) TO '{root}/copied.csv'"),
    ("quote-breakout", "SELECT 'a\\'; COPY (SELECT 1) TO ''{root}/copied.csv''; --'"),
]


@pytest.mark.parametrize("sql", params(STATEMENTS))
def test_statements_other_than_queries_are_refused_by_translate(sandbox: Sandbox, sql: str) -> None:
    outcome = sandbox.assert_refused(sandbox.world.fill(sql))
    assert outcome.refused_by == "translate", outcome.message


# DuckDB-only syntax written as if it were Athena. translate may let some of it through (FROM-first, a string
# literal as a table); then DuckDB's sandbox must refuse it.
DUCKDB_ONLY: list[tuple[str, str]] = [
    ("from-first-literal", "FROM '{root}/secret.csv'"),
    ("from-first-reader", "FROM read_csv('{root}/secret.csv')"),
    ("select-from-literal", "SELECT * FROM '{root}/secret.csv'"),
    ("select-from-reader", "SELECT * FROM read_csv('{root}/secret.csv')"),
    ("table-statement", 'TABLE "{root}/secret.csv"'),
    ("three-part-name", 'SELECT * FROM "{root}/"."secret"."csv"'),
    ("describe-literal", "DESCRIBE '{root}/secret.csv'"),
    ("summarize-literal", "SUMMARIZE '{root}/secret.csv'"),
    ("show-literal", "SHOW '{root}/secret.csv'"),
    ("polymorphic-table-function", "SELECT * FROM TABLE(read_csv('{root}/secret.csv'))"),
    ("unnest-reader", "SELECT * FROM UNNEST(read_csv('{root}/secret.csv'))"),
    ("lambda-getenv", "SELECT transform(ARRAY[1], x -> getenv('HOME')) AS home"),
    ("dollar-quoted", "SELECT * FROM read_text($${root}/secret.txt$$)"),
]


@pytest.mark.parametrize("sql", params(DUCKDB_ONLY))
def test_duckdb_only_syntax_is_refused(sandbox: Sandbox, sql: str) -> None:
    sandbox.assert_refused(sandbox.world.fill(sql))


# Engine level: what DuckDB itself must refuse even if translate were bypassed.
ENGINE_STATEMENTS: list[tuple[str, str]] = [
    ("copy-to-root", "COPY (SELECT 1 AS x) TO '{root}/copied.csv'"),
    ("copy-to-root-parquet", "COPY (SELECT 1 AS x) TO '{root}/copied.parquet' (FORMAT PARQUET)"),
    ("copy-to-lake", "COPY (SELECT 1 AS x) TO '{lake}/copied.csv'"),
    ("copy-to-relative", "COPY (SELECT 1 AS x) TO '../copied.csv'"),
    ("copy-to-dotdot", "COPY (SELECT 1 AS x) TO '{allowed}/../../../../copied.csv'"),
    ("copy-to-sibling-prefix", "COPY (SELECT 1 AS x) TO '{lake}/objects/lakeport/warehouse2/copied.csv'"),
    ("copy-over-secret", "COPY (SELECT 1 AS x) TO '{root}/secret.csv'"),
    ("copy-to-home", "COPY (SELECT 1 AS x) TO '~/copied.csv'"),
    ("copy-to-file-url", "COPY (SELECT 1 AS x) TO 'file://{root}/copied.csv'"),
    ("copy-into-dir-symlink", "COPY (SELECT 1 AS x) TO '{allowed}/linkdir/copied.csv'"),
    ("copy-dir-symlink-dotdot", "COPY (SELECT 1 AS x) TO '{allowed}/linkdir/../copied.csv'"),
    ("copy-to-temp-directory", "COPY (SELECT 1 AS x) TO '{cwd}/.tmp/copied.csv'"),
    ("copy-to-temp-relative", "COPY (SELECT 1 AS x) TO '.tmp/copied.csv'"),
    ("copy-to-s3", "COPY (SELECT 1 AS x) TO 's3://lakeport/copied.csv'"),
    ("copy-to-http", f"COPY (SELECT 1 AS x) TO 'http://{NO_SERVER}/copied.csv'"),
    ("export-to-root", "EXPORT DATABASE '{root}/exported'"),
    ("import-from-root", "IMPORT DATABASE '{root}'"),
    ("attach-root", "ATTACH '{root}/attached.db' AS a"),
    ("attach-secret", "ATTACH '{root}/secret.parquet' AS a"),
    ("attach-dir-symlink-dotdot", "ATTACH '{allowed}/linkdir/../attached.db' AS a"),
    ("attach-temp-directory", "ATTACH '{cwd}/.tmp/attached.db' AS a"),
    ("attach-motherduck", "ATTACH 'md:' AS md"),
    ("attach-s3", "ATTACH 's3://lakeport/attached.db' AS s"),
    ("install", "INSTALL httpfs"),
    ("install-from", f"INSTALL httpfs FROM 'http://{NO_SERVER}'"),
    ("force-install", "FORCE INSTALL httpfs"),
    ("load", "LOAD httpfs"),
    ("load-path", "LOAD '{root}/evil.duckdb_extension'"),
    *[(f"set-{name}", f"SET {name} = {value}") for name, value in SETTINGS.items()],
    *[(f"set-global-{name}", f"SET GLOBAL {name} = {value}") for name, value in SETTINGS.items()],
    *[(f"reset-{name}", f"RESET {name}") for name in SETTINGS],
    ("pragma-enable-profiling", "PRAGMA enable_profiling"),
    ("pragma-threads", "PRAGMA threads = 1"),
    ("pragma-memory-limit", "PRAGMA memory_limit = '1GB'"),
    ("call-enable-logging", "CALL enable_logging()"),
    ("create-secret", "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')"),
    ("create-persistent-secret", "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')"),
    ("duckdb-secrets", "SELECT * FROM duckdb_secrets()"),
    ("which-secret", "SELECT * FROM which_secret('s3://lakeport/x', 's3')"),
    ("duckdb-extensions", "SELECT * FROM duckdb_extensions()"),
    ("getenv", "SELECT getenv('HOME')"),
    ("detach-default", "DETACH memory"),
]

_READABLE_GAP = (
    "GAP (engine level, not an escape; translate refuses these statements): allowed_directories grants DuckDB "
    "write access too, so connect(readable=...) folders are writable"
)

KNOWN_ENGINE_OUTCOMES: dict[str, str] = {
    "copy-dir-symlink-dotdot": f"ESCAPE (engine level; translate refuses COPY), written outside: {DOTDOT_ESCAPE}",
    "attach-dir-symlink-dotdot": f"{_READABLE_GAP} (ATTACH normalises linkdir/.. away: the file lands inside)",
}


@pytest.mark.parametrize("sql", params(ENGINE_STATEMENTS, KNOWN_ENGINE_OUTCOMES))
def test_dangerous_statements_are_blocked_by_duckdb_itself(fresh: Sandbox, sql: str) -> None:
    outcome = fresh.assert_refused(fresh.world.fill(sql), engine=True)
    assert outcome.refused_by == "duckdb"


def test_copy_from_outside_is_blocked_by_duckdb_itself(fresh: Sandbox) -> None:
    fresh.con.execute("CREATE TEMP TABLE copy_target (s VARCHAR)")
    fresh.assert_refused(fresh.world.fill("COPY copy_target FROM '{root}/secret.csv'"), engine=True)
    assert fresh.con.sql("SELECT count(*) FROM copy_target").fetchall() == [(0,)]


READABLE_WRITES: list[tuple[str, str]] = [
    ("copy-into-readable", "COPY (SELECT 1 AS x) TO '{allowed}/copied.csv'"),
    ("export-into-readable", "EXPORT DATABASE '{allowed}/exported'"),
    ("attach-in-readable", "ATTACH '{allowed}/attached.db' AS a"),
]


@pytest.mark.parametrize("sql", params(READABLE_WRITES, {case_id: _READABLE_GAP for case_id, _ in READABLE_WRITES}))
def test_readable_folders_are_read_only_at_engine_level(tmp_path: Path, sql: str) -> None:
    world = build_world(tmp_path)  # a world of its own: a write here must not disturb the shared one
    con = connect([world.allowed])
    try:
        Sandbox(con, world).assert_refused(world.fill(sql), engine=True)
    finally:
        con.close()


# --------------------------------------------------------------------------------------------------------------
# Comments hide nothing: translate emits exactly one SELECT, and the hidden statement never runs
# --------------------------------------------------------------------------------------------------------------

COMMENTS: list[tuple[str, str]] = [
    ("block", "SELECT 1 AS one /* ; COPY (SELECT 1) TO '{root}/copied.csv' */"),
    ("block-before", "/* COPY (SELECT 1) TO '{root}/copied.csv'; */ SELECT 1 AS one"),
    ("line", "SELECT 1 AS one -- ; COPY (SELECT 1) TO '{root}/copied.csv'"),
    ("line-closes-block", "SELECT 1 AS one -- */ ; COPY (SELECT 1) TO '{root}/copied.csv'; /*"),
    ("line-then-block", "SELECT 1 AS one /* a */ -- */ ; SET enable_external_access = true; /*"),
    ("line-in-middle", "SELECT 1 -- */ ; COPY (SELECT 1) TO '{root}/copied.csv';\nAS one"),
    ("string-with-semicolon", "SELECT '; COPY (SELECT 1) TO ''{root}/copied.csv''; --' AS one"),
    ("identifier-with-semicolon", "SELECT 1 AS \"one; COPY (SELECT 1) TO '{root}/copied.csv'\""),
    ("trailing-semicolons", "SELECT 1 AS one ;;"),
]


@pytest.mark.parametrize("sql", params(COMMENTS))
def test_comments_do_not_smuggle_statements(sandbox: Sandbox, sql: str) -> None:
    athena = sandbox.world.fill(sql)
    duck = translate(athena).duckdb
    statements = duckdb.extract_statements(duck)
    assert [s.type for s in statements] == [duckdb.StatementType.SELECT], duck
    outcome = sandbox.attempt(athena)  # also checks: no file written, configuration unchanged
    assert outcome.error is None, outcome.message
    assert len(outcome.rows) == 1


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("SELECT 'unterminated", id="string"),
        pytest.param('SELECT "unterminated', id="identifier"),
        pytest.param("SELECT 1 /* unterminated", id="comment"),
    ],
)
def test_unterminated_tokens_are_refused_with_a_lakeport_error(sandbox: Sandbox, sql: str) -> None:
    sandbox.assert_refused(sql)


# --------------------------------------------------------------------------------------------------------------
# 5. The connection survives: after many attempts its configuration is the same and legitimate reads work
# --------------------------------------------------------------------------------------------------------------


def _barrage() -> list[tuple[str, bool]]:
    """Fifty refused attempts of every family: (sql, engine-level?)."""
    attempts: list[tuple[str, bool]] = []
    attempts += [(f"SET {name} = {value}", True) for name, value in SETTINGS.items()]
    attempts += [(f"RESET {name}", True) for name in ("enable_external_access", "allowed_directories", "TimeZone")]
    attempts += [(sql, False) for _, sql in STATEMENTS[:12]]
    attempts += [(sql, True) for case_id, sql in ENGINE_STATEMENTS[:16] if case_id not in KNOWN_ENGINE_OUTCOMES]
    attempts += [(sql, False) for _, sql in FUNCTIONS[:10]]
    return attempts[:50]


def test_connection_is_unchanged_after_fifty_attempts(world: World) -> None:
    barrage = _barrage()
    assert len(barrage) == 50
    con = connect([world.allowed])
    try:
        sandbox = Sandbox(con, world)
        for sql, engine in barrage:
            sandbox.assert_refused(world.fill(sql), engine=engine)
        assert con.sql("SELECT current_setting('enable_external_access')").fetchall() == [(False,)]
        assert con.sql("SELECT current_setting('lock_configuration')").fetchall() == [(True,)]
        assert run(con, f"SELECT count(*) FROM read_csv({literal(str(world.allowed / 'data.csv'))})").rows == [["2"]]
        assert run(con, f"SELECT sum(a) FROM read_parquet({literal(str(world.allowed / 'data.parquet'))})").rows == [
            ["6"]
        ]
    finally:
        con.close()


def test_shared_connection_keeps_its_sandbox(sandbox: Sandbox) -> None:
    """Whatever ran before on the module's shared connection, the sandbox settings are the ones connect() set."""
    assert sandbox.con.sql("SELECT current_setting('enable_external_access')").fetchall() == [(False,)]
    assert sandbox.con.sql("SELECT current_setting('lock_configuration')").fetchall() == [(True,)]
    assert sandbox_settings(sandbox.con) == sandbox.baseline
