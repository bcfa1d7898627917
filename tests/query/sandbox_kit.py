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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport.errors import LakeportError
from lakeport.query.engine import run
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


DOTDOT_ESCAPE = (
    "DuckDB checks the lexically normalised path (linkdir/.. removed: inside the warehouse) but the OS opens "
    "the raw path, where .. after a directory symlink is the parent of the symlink's target (outside)"
)
