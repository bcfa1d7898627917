"""Query sandbox, files: every file-reading table function in every position, and every path spelling
(.., symlinks, ~, file://, URLs, globs) through translate and at engine level; see sandbox_kit for the method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import pytest

from lakeport.sqltext import ident, literal
from tests.query.sandbox_kit import (
    DOTDOT_ESCAPE,
    NO_SERVER,
    Sandbox,
    params,
)

# --------------------------------------------------------------------------------------------------------------
# 1. File-reading table functions, in every position a query can hold one
# --------------------------------------------------------------------------------------------------------------

# name → file (in {root}) it is pointed at. read_xlsx / st_read / iceberg_scan / delta_scan live in extensions
# that are never loaded; they must fail all the same.
READERS: dict[str, str] = {
    "read_csv": "secret.csv",
    "read_csv_auto": "secret.csv",
    "read_text": "secret.txt",
    "read_blob": "secret.txt",
    "read_parquet": "secret.parquet",
    "parquet_scan": "secret.parquet",
    "read_json": "secret.json",
    "read_json_auto": "secret.json",
    "read_json_objects": "secret.json",
    "read_json_objects_auto": "secret.json",
    "read_ndjson": "secret.json",
    "read_ndjson_auto": "secret.json",
    "read_ndjson_objects": "secret.json",
    "glob": "secret.txt",
    "sniff_csv": "secret.csv",
    "parquet_metadata": "secret.parquet",
    "parquet_schema": "secret.parquet",
    "parquet_file_metadata": "secret.parquet",
    "parquet_kv_metadata": "secret.parquet",
    "read_duckdb": "secret.csv",
    "read_xlsx": "secret.csv",
    "st_read": "secret.csv",
    "iceberg_scan": "secret.parquet",
    "delta_scan": "secret.parquet",
}

POSITIONS: dict[str, str] = {
    "from": "SELECT * FROM {call}",
    "from-first": "FROM {call}",
    "scalar-subquery": "SELECT (SELECT count(*) FROM {call}) AS n",
    "cte": "WITH leak AS (SELECT * FROM {call}) SELECT * FROM leak",
    "join": "SELECT * FROM (VALUES 1) AS v(x) CROSS JOIN {call}",
    "union": "SELECT 'x' AS c UNION ALL SELECT * FROM {call}",
    "lateral": "SELECT * FROM (VALUES 1) AS v(x), LATERAL (SELECT * FROM {call}) AS l",
    "in-subquery": "SELECT 1 AS one WHERE 'x' IN (SELECT * FROM {call})",
    "exists": "SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM {call})",
    "select-list": "SELECT {call} AS leak",
}


def _reader_cases() -> list[tuple[str, str]]:
    cases = []
    for (name, target), (where, template) in product(READERS.items(), POSITIONS.items()):
        cases.append((f"{name}/{where}", template.replace("{call}", f"{name}('{{root}}/{target}')")))
    for where, template in POSITIONS.items():  # DuckDB's replacement scan: a string literal as a table
        if where != "select-list":
            cases.append((f"string-literal/{where}", template.replace("{call}", "'{root}/secret.csv'")))
    return cases


@pytest.mark.parametrize("sql", params(_reader_cases()))
def test_file_readers_are_refused_in_every_position(sandbox: Sandbox, sql: str) -> None:
    sandbox.assert_refused(sandbox.world.fill(sql))


ENGINE_TARGETS: dict[str, str] = {
    "next-to-lake": "{root}/{file}",
    "in-lake-outside-warehouse": "{lake}/outside.csv",
    "file-symlink-inside": "{allowed}/link.csv",
    "etc-passwd": "/etc/passwd",
    "proc-environ": "/proc/self/environ",
}


def _engine_reader_cases() -> list[tuple[str, str]]:
    return [
        (f"{name}/{where}", f"SELECT * FROM {name}('{target.replace('{file}', file)}')")
        for (name, file), (where, target) in product(READERS.items(), ENGINE_TARGETS.items())
    ]


@pytest.mark.parametrize("sql", params(_engine_reader_cases()))
def test_file_readers_are_blocked_by_duckdb_itself(sandbox: Sandbox, sql: str) -> None:
    """Defence in depth: with translate bypassed, DuckDB's own sandbox still refuses the read."""
    outcome = sandbox.assert_refused(sandbox.world.fill(sql), engine=True)
    assert outcome.refused_by == "duckdb"


# --------------------------------------------------------------------------------------------------------------
# 2. Path spellings, through the readers DuckDB has and the constructs translate lets through
# --------------------------------------------------------------------------------------------------------------

SPELLINGS: dict[str, str] = {
    "absolute-txt": "{root}/secret.txt",
    "absolute-csv": "{root}/secret.csv",
    "absolute-parquet": "{root}/secret.parquet",
    "absolute-json": "{root}/secret.json",
    "lake-outside-warehouse": "{lake}/outside.csv",
    "sibling-prefix": "{lake}/objects/lakeport/warehouse2/secret.csv",
    "sibling-prefix-via-dotdot": "{allowed}/../warehouse2/secret.csv",
    "relative": "../secret.csv",
    "relative-dot": "./../secret.csv",
    "relative-deep": "../../../../../../../../../../etc/passwd",
    "dotdot-from-allowed": "{allowed}/../../../../secret.csv",
    "dotdot-in-and-out": "{allowed}/../warehouse/../../../../secret.csv",
    "double-slash": "/{root}/secret.csv",
    "double-slash-dotdot": "{allowed}//..//..//..//..//secret.csv",
    "trailing-dot": "{root}/secret.csv/.",
    "file-symlink-inside": "{allowed}/link.csv",
    "dir-symlink-inside": "{allowed}/linkdir/secret.csv",
    "dir-symlink-dotdot": "{allowed}/linkdir/../secret.csv",
    "dir-symlink-dotdot-parquet": "{allowed}/linkdir/../secret.parquet",
    "dir-symlink-dotdot-twice": "{allowed}/linkdir/../../secret.csv",
    "tilde-bashrc": "~/.bashrc",
    "tilde-csv": "~/secret.csv",
    "tilde-user": "~root/.bashrc",
    "home-absolute": "{home}/secret.csv",
    "temp-directory": "{cwd}/.tmp/secret.csv",
    "temp-directory-relative": ".tmp/secret.csv",
    "temp-directory-via-proc": "/proc/self/cwd/.tmp/secret.csv",
    "file-url": "file://{root}/secret.csv",
    "file-url-localhost": "file://localhost{root}/secret.csv",
    "file-url-etc-passwd": "file:///etc/passwd",
    "file-url-dotdot": "file://{allowed}/../../../../secret.csv",
    "http": f"http://{NO_SERVER}/secret.csv",
    "https": f"https://{NO_SERVER}/secret.csv",
    "s3": "s3://lakeport/secret.csv",
    "gs": "gs://lakeport/secret.csv",
    "az": "az://lakeport/secret.csv",
    "hf": "hf://datasets/lakeport/secret/secret.csv",
    "glob-root": "{root}/*",
    "glob-recursive": "{root}/**/secret*",
    "glob-allowed-parent": "{allowed}/../*",
    "glob-recursive-from-allowed": "{allowed}/**/secret*",
    "glob-star-directory": "{allowed}/*/secret.csv",
    "glob-brace": "{allowed}/{data,../../../../secret}.csv",
    "glob-class": "{root}/[s]ecret.csv",
    "url-encoded-dots": "{allowed}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.csv",
    "url-encoded-slashes": "{allowed}%2F..%2F..%2F..%2F..%2Fsecret.csv",
    "unicode-one-dot-leader": "{allowed}/\u2024\u2024/\u2024\u2024/\u2024\u2024/\u2024\u2024/secret.csv",
    "unicode-fullwidth-dots": "{allowed}/\uff0e\uff0e/\uff0e\uff0e/\uff0e\uff0e/\uff0e\uff0e/secret.csv",
    "unicode-division-slash": "{allowed}/..\u2215..\u2215..\u2215..\u2215secret.csv",
    "backslashes": "{allowed}\\..\\..\\..\\..\\secret.csv",
    "etc-passwd": "/etc/passwd",
    "proc-environ": "/proc/self/environ",
    "proc-cwd-dotdot": "/proc/self/cwd/../secret.csv",
    "proc-root": "/proc/self/root{root}/secret.csv",
    "dev-stdin": "/dev/stdin",
    "pipe": "pipe:cat {root}/secret.txt",
}


def _split(path: str) -> tuple[str, str] | None:
    """DuckDB reads a missing table ``"a"."b"`` as the file ``a.b``: the split of a path into such a pair."""
    head, dot, tail = path.rpartition(".")
    if not dot or not head or not tail or "/" in tail:
        return None
    return head, tail


@dataclass(frozen=True)
class Mode:
    """One way of handing a path to the query path."""

    engine: bool
    build: Callable[[str], tuple[str, str]]  # path → (sql, default_database)


def _quoted_name(path: str) -> tuple[str, str]:
    """``SELECT * FROM "<path up to the last dot>"."<extension>"``."""
    split = _split(path)
    name = f"{ident(split[0])}.{ident(split[1])}" if split else ident(path)
    return f"SELECT * FROM {name}", "default"


def _default_database(path: str) -> tuple[str, str]:
    """The path's head as the execution's database (Athena's QueryExecutionContext), its extension as the table."""
    split = _split(path)
    if split is None:
        return f"SELECT * FROM {ident(path)}", path
    return f"SELECT * FROM {ident(split[1])}", split[0]


def _cte_shadow(path: str) -> tuple[str, str]:
    name = ident(path)
    sql = f"SELECT * FROM (WITH {name} AS (SELECT 1 AS one) SELECT one FROM {name}) AS shadow CROSS JOIN {name}"
    return sql, "default"


MODES: dict[str, Mode] = {
    # straight into DuckDB
    "engine-read_text": Mode(True, lambda p: (f"SELECT * FROM read_text({literal(p)})", "")),
    "engine-read_blob": Mode(True, lambda p: (f"SELECT * FROM read_blob({literal(p)})", "")),
    "engine-read_csv": Mode(True, lambda p: (f"SELECT * FROM read_csv({literal(p)})", "")),
    "engine-string-literal": Mode(True, lambda p: (f"SELECT * FROM {literal(p)}", "")),
    # through translate: a path can only travel as a table name
    "athena-string-literal": Mode(False, lambda p: (f"SELECT * FROM {literal(p)}", "default")),
    "athena-quoted-name": Mode(False, _quoted_name),
    "athena-default-database": Mode(False, _default_database),
    "athena-cte-shadow": Mode(False, _cte_shadow),
}


ENGINE_MODES = ("engine-read_text", "engine-read_blob", "engine-read_csv", "engine-string-literal")

# Through translate, a query names catalog tables only (path-like names, DuckDB's schemas and CTE shadows are
# refused), and DuckDB's temp folder is private to each connection. What remains is DuckDB's own, reached only
# by lakeport code that bypasses translate: a directory symlink followed by ".." inside a readable folder.
KNOWN_PATH_OUTCOMES: dict[str, str] = {
    **{
        f"{mode}/dir-symlink-dotdot": f"ESCAPE (engine level, bypassing translate): {DOTDOT_ESCAPE}"
        for mode in ENGINE_MODES
    },
    **{
        f"{mode}/dir-symlink-dotdot-parquet": f"ESCAPE (engine level, bypassing translate): {DOTDOT_ESCAPE}"
        for mode in ("engine-read_blob", "engine-string-literal")
    },
    **{
        f"{mode}/dir-symlink-dotdot-parquet": f"ESCAPE (engine level, bypassing translate): {DOTDOT_ESCAPE} (the secret "
        "does not show only because the Parquet file is parsed as text; the parse error proves it was opened)"
        for mode in ("engine-read_text", "engine-read_csv")
    },
}


# read_text / read_blob treat their argument as a glob: a pattern matching nothing is an empty result, not an
# error. Allowed only where the lexically normalised path stays inside the readable folder (and names nothing).
EMPTY_RESULT_IS_A_REFUSAL: set[str] = {
    f"{mode}/{spelling}"
    for mode in ("engine-read_text", "engine-read_blob")
    for spelling in (
        "glob-recursive-from-allowed",
        "url-encoded-dots",
        "unicode-one-dot-leader",
        "unicode-fullwidth-dots",
        "unicode-division-slash",
    )
}


def _path_cases() -> list[object]:
    cases: list[object] = []
    for (mode_id, mode), (spelling_id, path) in product(MODES.items(), SPELLINGS.items()):
        case_id = f"{mode_id}/{spelling_id}"
        reason = KNOWN_PATH_OUTCOMES.get(case_id)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        cases.append(pytest.param(mode, path, case_id in EMPTY_RESULT_IS_A_REFUSAL, id=case_id, marks=marks))
    unknown = (set(KNOWN_PATH_OUTCOMES) | EMPTY_RESULT_IS_A_REFUSAL) - {
        f"{m}/{s}" for m, s in product(MODES, SPELLINGS)
    }
    assert not unknown, unknown
    return cases


@pytest.mark.parametrize(("mode", "path", "allow_empty"), _path_cases())
def test_path_spellings_cannot_reach_outside(sandbox: Sandbox, mode: Mode, path: str, allow_empty: bool) -> None:
    sql, default_database = mode.build(sandbox.world.fill(path))
    sandbox.assert_refused(sql, engine=mode.engine, default_database=default_database, allow_empty=allow_empty)


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("SELECT * FROM read_csv({allowed_csv} || chr(0) || '/../../../../secret.csv')", id="nul-after"),
        pytest.param("SELECT * FROM read_csv('{allowed}/../../../../secret.csv' || chr(0) || '{allowed}/')", id="nul"),
        pytest.param("SELECT * FROM read_csv([{allowed_csv}, '{root}/secret.csv'])", id="list-mixed"),
        pytest.param("SELECT * FROM read_text([{allowed_csv}, '/etc/passwd'])", id="list-mixed-text"),
        pytest.param("SELECT * FROM read_csv({allowed_csv}, files_to_sniff := 1) , '{root}/secret.csv'", id="two"),
        pytest.param("SELECT * FROM query_table('{root}/secret.csv')", id="query_table"),
        pytest.param("SELECT * FROM query_table(['{root}/secret.csv'])", id="query_table-list"),
        pytest.param("SELECT * FROM query('SELECT * FROM ''{root}/secret.csv''')", id="query"),
        pytest.param("SELECT * FROM read_csv('{allowed}/*.csv')", id="glob-inside-meets-file-symlink"),
    ],
)
def test_engine_only_path_tricks(sandbox: Sandbox, sql: str) -> None:
    world = sandbox.world
    filled = world.fill(sql.replace("{allowed_csv}", literal(str(world.allowed / "data.csv"))))
    outcome = sandbox.assert_refused(filled, engine=True)
    assert outcome.refused_by == "duckdb"


def test_refusal_is_no_existence_oracle(sandbox: Sandbox) -> None:
    """An outside file that exists and one that does not are refused with the same message."""
    world = sandbox.world
    for template in ("SELECT * FROM read_csv({path})", "SELECT * FROM {path}"):
        messages = []
        for name in ("secret.csv", "missing.csv"):
            path = str(world.root / name)
            outcome = sandbox.assert_refused(template.format(path=literal(path)), engine=True)
            messages.append(outcome.message.replace(path, "<path>"))
        assert messages[0] == messages[1]
    via_translate = [
        sandbox.assert_refused(_quoted_name(str(world.root / name))[0]).message.replace(Path(name).stem, "<name>")
        for name in ("secret.csv", "missing.csv")
    ]
    assert via_translate[0] == via_translate[1]
