"""Query sandbox, functions and the connection: system functions and catalog views reveal nothing, the
connection keeps its sandbox after many attempts, and legitimate reads still work; see sandbox_kit."""

from __future__ import annotations

import pytest

from tests.query.sandbox_kit import (
    UNDERSTANDABLE,
    Sandbox,
    params,
)

# --------------------------------------------------------------------------------------------------------------
# 4. Functions that reveal the host or the sandbox
# --------------------------------------------------------------------------------------------------------------

FUNCTIONS: list[tuple[str, str]] = [
    ("getenv", "SELECT getenv('HOME') AS v"),
    ("getenv-quoted", "SELECT \"getenv\"('HOME') AS v"),
    ("getenv-in-lambda", "SELECT transform(ARRAY['HOME'], k -> getenv(k)) AS v"),
    ("current_setting-allowed_directories", "SELECT current_setting('allowed_directories') AS v"),
    ("current_setting-external-access", "SELECT current_setting('enable_external_access') AS v"),
    ("current_setting-temp_directory", "SELECT current_setting('temp_directory') AS v"),
    ("getvariable", "SELECT getvariable('v') AS v"),
    ("version", "SELECT version() AS v"),
    ("current_database", "SELECT current_database() AS v"),
    ("current_schema", "SELECT current_schema() AS v"),
    ("current_query", "SELECT current_query() AS v"),
    ("current_user", "SELECT current_user AS v"),
    ("nextval", "SELECT nextval('s') AS v"),
    ("txid_current", "SELECT txid_current() AS v"),
    ("error", "SELECT error('x') AS v"),
    ("read_text-scalar", "SELECT read_text('{root}/secret.txt') AS v"),
    *[
        (name, f"SELECT * FROM {name}()")
        for name in (
            "duckdb_settings",
            "duckdb_extensions",
            "duckdb_secrets",
            "duckdb_databases",
            "duckdb_memory",
            "duckdb_temporary_files",
            "duckdb_functions",
            "duckdb_variables",
            "duckdb_logs",
            "duckdb_log_contexts",
            "pragma_version",
            "pragma_database_list",
            "pragma_database_size",
            "pragma_platform",
            "pragma_user_agent",
            "pragma_metadata_info",
            "test_all_types",
            "checkpoint",
            "force_checkpoint",
            "enable_logging",
            "truncate_duckdb_logs",
        )
    ],
    ("pragma_table_info", "SELECT * FROM pragma_table_info('t')"),
    ("pragma_storage_info", "SELECT * FROM pragma_storage_info('t')"),
    ("which_secret", "SELECT * FROM which_secret('s3://lakeport/x', 's3')"),
    ("query", "SELECT * FROM query('SELECT * FROM ''{root}/secret.csv''')"),
    ("query-harmless", "SELECT * FROM query('SELECT 1')"),
    ("query_table", "SELECT * FROM query_table('{root}/secret.csv')"),
    ("range", "SELECT * FROM range(3)"),
    ("repeat_row", "SELECT * FROM repeat_row(1, num_rows := 2)"),
    ("icu_calendar_names", "SELECT * FROM icu_calendar_names()"),
    ("current_setting-in-where", "SELECT 1 AS v WHERE current_setting('enable_external_access') = 'false'"),
]


@pytest.mark.parametrize("sql", params(FUNCTIONS))
def test_system_functions_are_refused(sandbox: Sandbox, sql: str) -> None:
    sandbox.assert_refused(sandbox.world.fill(sql))


SYSTEM_VIEWS: list[tuple[str, str]] = [
    ("pg_settings", "SELECT * FROM pg_catalog.pg_settings"),
    ("pg_settings-system", "SELECT * FROM system.pg_catalog.pg_settings"),
    ("pg_settings-allowed", "SELECT setting FROM pg_catalog.pg_settings WHERE name = 'allowed_directories'"),
    ("pg_database", "SELECT * FROM pg_catalog.pg_database"),
    ("pg_prepared_statements", "SELECT * FROM pg_catalog.pg_prepared_statements"),
    ("duckdb_databases", "SELECT * FROM main.duckdb_databases"),
    ("duckdb_databases-system", "SELECT * FROM system.main.duckdb_databases"),
    ("duckdb_settings", "SELECT * FROM system.main.duckdb_settings"),
    ("duckdb_logs", "SELECT * FROM system.main.duckdb_logs"),
    ("pragma_database_list", "SELECT * FROM system.main.pragma_database_list"),
    ("sqlite_master", "SELECT * FROM system.main.sqlite_master"),
    ("information_schema-tables", "SELECT * FROM information_schema.tables"),
    ("information_schema-schemata", "SELECT * FROM information_schema.schemata"),
]


@pytest.mark.parametrize(
    "sql",
    params(SYSTEM_VIEWS),
)
def test_system_views_do_not_reveal_the_sandbox(sandbox: Sandbox, sql: str) -> None:
    """A qualified name reaches DuckDB's catalog views; none may reveal the folders the sandbox is built on."""
    outcome = sandbox.attempt(sql)
    world = sandbox.world
    revealed = [row for row in outcome.rows if any(cell is not None and str(world.root) in cell for cell in row)]
    assert not revealed, f"{sql!r} revealed the sandbox's folders: {revealed[:2]}"
    if outcome.error is not None:
        assert any(phrase in outcome.message for phrase in UNDERSTANDABLE), outcome.message


# --------------------------------------------------------------------------------------------------------------
# The positive side: the sandbox is not "everything fails"
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        pytest.param("SELECT count(*) FROM read_csv('{allowed}/data.csv')", [["2"]], id="read_csv"),
        pytest.param("SELECT count(*) FROM read_csv_auto('{allowed}/data.csv')", [["2"]], id="read_csv_auto"),
        pytest.param("SELECT sum(a) FROM read_parquet('{allowed}/data.parquet')", [["6"]], id="read_parquet"),
        pytest.param("SELECT count(*) FROM read_json('{allowed}/data.json')", [["2"]], id="read_json"),
        pytest.param("SELECT b FROM '{allowed}/data.csv' ORDER BY a", [["x"], ["y"]], id="string-literal"),
        pytest.param("SELECT count(*) FROM read_csv('{allowed}/./data.csv')", [["2"]], id="dot"),
        pytest.param("SELECT count(*) FROM read_csv('{allowed}//data.csv')", [["2"]], id="double-slash"),
        pytest.param("SELECT count(*) FROM read_csv('{allowed}/../warehouse/data.csv')", [["2"]], id="out-and-in"),
        pytest.param("SELECT count(*) FROM read_csv('{allowed}/d*.csv')", [["2"]], id="glob-inside"),
        pytest.param(
            "SELECT parse_filename(file) FROM glob('{allowed}/data.*') ORDER BY 1",
            [["data.csv"], ["data.json"], ["data.parquet"]],
            id="glob-lists-inside",
        ),
    ],
)
def test_readable_folder_can_be_read(sandbox: Sandbox, sql: str, expected: list[list[str]]) -> None:
    outcome = sandbox.attempt(sandbox.world.fill(sql), engine=True)
    assert outcome.error is None, outcome.message
    assert outcome.rows == expected


def test_translated_queries_still_run(sandbox: Sandbox) -> None:
    outcome = sandbox.attempt("SELECT x * 2 AS y FROM (VALUES 1, 2, 3) AS v(x) WHERE x > 1 ORDER BY y")
    assert outcome.error is None, outcome.message
    assert outcome.rows == [["4"], ["6"]]
