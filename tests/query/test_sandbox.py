"""Sandbox escape attempts against the query path: ``run(con, translate(sql).duckdb)``.

A small world is built in a temporary folder: a lake whose warehouse folder is the only readable folder, legitimate
CSV / Parquet / JSON files inside it, and sentinel files holding ``SECRET`` everywhere else (next to the lake, in
the lake but outside the warehouse, in a sibling folder whose name shares the warehouse's prefix, in a fake home,
in the process's working folder, behind a file symlink and behind a directory symlink inside the warehouse).

Every attempt must be refused: a :class:`LakeportError` from ``translate`` or a ``duckdb.Error`` from ``run``,
with a message a person understands (:data:`UNDERSTANDABLE`). After every attempt the secret is in no row and no
message, no file appeared or changed anywhere in the world, and the connection's sandbox settings are unchanged.

Attempts that get through are kept, as strict expected failures whose reason starts with ``ESCAPE`` (the secret
was read or a file was written outside the readable folders), ``LEAK`` (the sandbox's own configuration was
revealed), ``GAP`` (a readable folder was written to) or ``BUG`` (refused, but not with a lakeport error).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport.errors import LakeportError
from lakeport.query.engine import connect, run
from lakeport.query.functions import UnsupportedFunction
from lakeport.query.translate import translate

SECRET = "lakeport-sandbox-secret-5d0c7e21"
# How the secret reads in a returned cell: as text, or as a varbinary rendered in hex (read_blob, casts).
SECRET_FORMS: tuple[str, ...] = (SECRET, " ".join(f"{b:02x}" for b in SECRET.encode()), SECRET.encode().hex())

# Phrases a person can act on. Every refusal's message must contain one of them.
UNDERSTANDABLE: tuple[str, ...] = (
    "only catalog tables can be queried",  # lakeport: a table name that is a path, not a catalog name
    "is not a catalog database",  # lakeport: DuckDB's own schemas (pg_catalog, information_schema, main …)
    "is not known; tables are in AwsDataCatalog",  # lakeport: a catalog other than Athena's
    "not supported",  # lakeport: function / statement refused by translate
    "one statement per query",  # lakeport: several statements
    "syntax error",  # lakeport's QuerySyntaxError, or DuckDB's parser on a construct translate let through
    "Permission Error",  # DuckDB: file outside the readable folders, extension loading
    "disabled by configuration",
    "disabled through configuration",
    "configuration has been locked",  # DuckDB: SET / RESET / PRAGMA after lock_configuration
    "does not exist",  # DuckDB: unknown table / function / schema
    "No files found",  # DuckDB: a path inside the readable folders that names no file
    "requires the extension",  # DuckDB: a URL scheme (s3://, ...) of an extension that is not loaded
    "not in the catalog",  # DuckDB: a function of an extension that is not loaded
    "Cannot detach",  # DuckDB: DETACH of the default database
)

NO_SERVER = "127.0.0.1:9"  # the discard port on loopback: never a real network call (external access is off anyway)


# --------------------------------------------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    root: Path  # holds everything; secret.* live here, outside the lake
    lake: Path
    allowed: Path  # the one readable folder: lake/objects/lakeport/warehouse
    cwd: Path  # the process's working folder while attacking (DuckDB's default temp_directory is cwd/.tmp)
    home: Path  # $HOME while attacking (what ``~`` expands to)

    def fill(self, template: str) -> str:
        """Substitute the world's folders into an attack template (other braces, e.g. globs, are left alone)."""
        for key, value in (
            ("{allowed}", self.allowed),
            ("{lake}", self.lake),
            ("{root}", self.root),
            ("{cwd}", self.cwd),
            ("{home}", self.home),
        ):
            template = template.replace(key, str(value))
        return template


def _secret_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "secret.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    (folder / "secret.csv").write_text(f"s\n{SECRET}\n", encoding="utf-8")
    (folder / "secret.json").write_text(f'{{"s": "{SECRET}"}}\n', encoding="utf-8")
    pq.write_table(pa.table({"s": [SECRET]}), folder / "secret.parquet")


def build_world(root: Path) -> World:
    root = root.resolve()
    lake = root / "lake"
    allowed = lake / "objects" / "lakeport" / "warehouse"
    world = World(root=root, lake=lake, allowed=allowed, cwd=root / "work", home=root / "home")

    allowed.mkdir(parents=True)
    (allowed / "data.csv").write_text("a,b\n1,x\n2,y\n", encoding="utf-8")
    (allowed / "data.json").write_text('{"a": 1}\n{"a": 2}\n', encoding="utf-8")
    pq.write_table(pa.table({"a": [1, 2, 3]}), allowed / "data.parquet")

    _secret_files(root)  # next to the lake
    (lake / "outside.csv").write_text(f"s\n{SECRET}\n", encoding="utf-8")  # in the lake, outside the warehouse
    _secret_files(lake / "objects" / "lakeport" / "warehouse2")  # shares the warehouse's name as a prefix
    _secret_files(root / "outside")  # parent of the directory symlink's target
    _secret_files(root / "outside" / "inner")  # the directory symlink's target
    _secret_files(world.cwd / ".tmp")  # DuckDB's default temp directory for an in-memory database
    world.home.mkdir()
    (world.home / ".bashrc").write_text(f"export TOKEN={SECRET}\n", encoding="utf-8")
    (world.home / "secret.csv").write_text(f"s\n{SECRET}\n", encoding="utf-8")

    (allowed / "link.csv").symlink_to(root / "secret.csv")
    (allowed / "linkdir").symlink_to(root / "outside" / "inner", target_is_directory=True)
    return world


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` (symlinks not followed) with its size and modification time."""
    found: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            found[os.path.relpath(path, root)] = (info.st_size, info.st_mtime_ns)
    return found


def sandbox_settings(con: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
    """The settings the sandbox rests on, read directly (bypassing translate)."""
    rows = con.sql(
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration'),"
        " current_setting('allowed_directories'), current_setting('allowed_paths'),"
        " current_setting('autoload_known_extensions'), current_setting('autoinstall_known_extensions'),"
        " current_setting('allow_community_extensions'), current_setting('TimeZone')"
    ).fetchall()
    assert len(rows) == 1
    return tuple(rows[0])


# --------------------------------------------------------------------------------------------------------------
# Attempts
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    sql: str  # what was attempted (Athena text, or DuckDB text for engine-level attempts)
    duckdb_sql: str | None = None  # what reached DuckDB, if anything
    rows: list[list[str | None]] = field(default_factory=list)
    error: Exception | None = None

    @property
    def refused_by(self) -> str:
        if self.error is None:
            return ""
        return "translate" if isinstance(self.error, LakeportError) else "duckdb"

    @property
    def message(self) -> str:
        return "" if self.error is None else str(self.error)


def _has_secret(text: str | None) -> bool:
    return text is not None and any(form in text for form in SECRET_FORMS)


class Sandbox:
    """One sandboxed connection in one world; every attempt is checked for leaks, writes and config changes."""

    def __init__(self, con: duckdb.DuckDBPyConnection, world: World) -> None:
        self.con = con
        self.world = world
        self.baseline = sandbox_settings(con)

    def attempt(self, sql: str, *, engine: bool = False, default_database: str = "default") -> Outcome:
        """Run ``sql`` the way a user's query runs (or straight into DuckDB with ``engine=True``)."""
        outcome = Outcome(sql=sql)
        before = snapshot(self.world.root)
        try:
            outcome.duckdb_sql = sql if engine else translate(sql, default_database=default_database).duckdb
            outcome.rows = run(self.con, outcome.duckdb_sql).rows
        except (LakeportError, duckdb.Error) as exc:
            outcome.error = exc
        self._check_no_side_effects(outcome, before)
        return outcome

    def _check_no_side_effects(self, outcome: Outcome, before: dict[str, tuple[int, int]]) -> None:
        leaked = [row for row in outcome.rows if any(_has_secret(cell) for cell in row)]
        assert not leaked, f"ESCAPE: secret returned by {outcome.sql!r}: {leaked[:3]}"
        assert not _has_secret(outcome.message), f"ESCAPE: secret in the error of {outcome.sql!r}"
        after = snapshot(self.world.root)
        changed = sorted(path for path in after.keys() | before.keys() if after.get(path) != before.get(path))
        assert not changed, f"WRITE: {outcome.sql!r} created or changed {changed}"
        assert sandbox_settings(self.con) == self.baseline, f"ESCAPE: {outcome.sql!r} changed the configuration"

    def assert_refused(
        self, sql: str, *, engine: bool = False, default_database: str = "default", allow_empty: bool = False
    ) -> Outcome:
        """Refused with an understandable message (or, with ``allow_empty``, refused or an empty result)."""
        outcome = self.attempt(sql, engine=engine, default_database=default_database)
        if allow_empty and outcome.error is None and not outcome.rows:
            return outcome
        assert outcome.error is not None, (
            f"not refused: {sql!r} ran as {outcome.duckdb_sql!r} and returned {outcome.rows[:3]}"
        )
        assert any(phrase in outcome.message for phrase in UNDERSTANDABLE), (
            f"{sql!r} was refused with a message a person cannot act on: {outcome.message!r}"
        )
        if isinstance(outcome.error, UnsupportedFunction):
            assert outcome.message.startswith("function "), outcome.message
        return outcome


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("sandbox"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(built.cwd)  # relative paths (and DuckDB's default temp directory) resolve inside the world
        patch.setenv("HOME", str(built.home))  # ``~`` expands into the world
        yield built


@pytest.fixture(scope="module")
def sandbox(world: World) -> Iterator[Sandbox]:
    """One connection shared by the attempts of this module, as a long-lived service connection would be."""
    con = connect([world.allowed])
    yield Sandbox(con, world)
    con.close()


@pytest.fixture
def fresh(world: World) -> Iterator[Sandbox]:
    """A connection of its own, for engine-level statements whose effects (or errors) depend on history."""
    con = connect([world.allowed])
    yield Sandbox(con, world)
    con.close()


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def params(cases: Sequence[tuple[str, str]], known: dict[str, str] | None = None) -> list[object]:
    """``pytest.param`` per (id, sql); ids listed in ``known`` become strict expected failures with the reason."""
    known = known or {}
    unknown = set(known) - {case_id for case_id, _ in cases}
    assert not unknown, f"known outcomes for cases that do not exist: {unknown}"
    return [
        pytest.param(sql, id=case_id, marks=[pytest.mark.xfail(strict=True, reason=known[case_id])])
        if case_id in known
        else pytest.param(sql, id=case_id)
        for case_id, sql in cases
    ]


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

_DOTDOT = (
    "DuckDB checks the lexically normalised path (linkdir/.. removed: inside the warehouse) but the OS opens "
    "the raw path, where .. after a directory symlink is the parent of the symlink's target (outside)"
)

ENGINE_MODES = ("engine-read_text", "engine-read_blob", "engine-read_csv", "engine-string-literal")

# Through translate, a query names catalog tables only (path-like names, DuckDB's schemas and CTE shadows are
# refused), and DuckDB's temp folder is private to each connection. What remains is DuckDB's own, reached only
# by lakeport code that bypasses translate: a directory symlink followed by ".." inside a readable folder.
KNOWN_PATH_OUTCOMES: dict[str, str] = {
    **{f"{mode}/dir-symlink-dotdot": f"ESCAPE (engine level, bypassing translate): {_DOTDOT}" for mode in ENGINE_MODES},
    **{
        f"{mode}/dir-symlink-dotdot-parquet": f"ESCAPE (engine level, bypassing translate): {_DOTDOT}"
        for mode in ("engine-read_blob", "engine-string-literal")
    },
    **{
        f"{mode}/dir-symlink-dotdot-parquet": f"ESCAPE (engine level, bypassing translate): {_DOTDOT} (the secret "
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
    "copy-dir-symlink-dotdot": f"ESCAPE (engine level; translate refuses COPY), written outside: {_DOTDOT}",
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
