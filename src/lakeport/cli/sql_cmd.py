"""``lakeport sql``: an interactive SQL shell over the query service (Athena), or a script runner for piped SQL.

On a terminal it is a prompt_toolkit prompt: statements span lines until a ``;``, history is kept in
``<lake>/.lakeport/sql_history``, Tab completes keywords and the catalog's database, table and column names,
Ctrl-C cancels a running query (StopQueryExecution) and Ctrl-D leaves. With stdin not a terminal it runs the
statements it reads, one by one, and exits 1 if any failed. The session itself is :mod:`lakeport.cli.sql_shell`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.sql_shell import META_COMMANDS, Session, SqlFormat, is_complete, split_statements
from lakeport.errors import LakeportError

if TYPE_CHECKING:
    from lakeport.lake import Lake

app = typer.Typer()
HISTORY = Path(".lakeport") / "sql_history"  # inside the lake folder

_KEYWORD_TEXT = """SELECT FROM WHERE GROUP BY ORDER HAVING LIMIT OFFSET FETCH FIRST NEXT ROWS ONLY JOIN INNER LEFT RIGHT
FULL OUTER CROSS ON USING AS AND OR NOT IN IS NULL LIKE ESCAPE BETWEEN EXISTS CASE WHEN THEN ELSE END DISTINCT ALL
UNION INTERSECT EXCEPT WITH RECURSIVE ASC DESC NULLS LAST OVER PARTITION RANGE PRECEDING FOLLOWING UNBOUNDED
CURRENT ROW TRUE FALSE CAST TRY_CAST INTERVAL DATE TIME TIMESTAMP ZONE AT UNNEST ORDINALITY LATERAL VALUES
TABLESAMPLE BERNOULLI SYSTEM ARRAY MAP FILTER WINDOW SHOW TABLES DATABASES SCHEMAS COLUMNS PARTITIONS DESCRIBE
CREATE EXTERNAL TABLE DATABASE SCHEMA VIEW DROP ALTER INSERT INTO IF EXPLAIN USE VARCHAR CHAR INTEGER INT BIGINT
SMALLINT TINYINT DOUBLE REAL DECIMAL BOOLEAN VARBINARY JSON"""
_FUNCTION_TEXT = """count sum avg min max approx_distinct approx_percentile arbitrary array_agg bool_and bool_or count_if
max_by min_by stddev variance coalesce nullif if greatest least abs ceil floor round truncate mod power sqrt ln log10
exp rand random length lower upper trim ltrim rtrim substr substring replace split split_part concat concat_ws
strpos position regexp_like regexp_extract regexp_replace lpad rpad reverse format date_trunc date_add date_diff
date_format date_parse from_unixtime to_unixtime from_iso8601_timestamp current_date current_timestamp now year
month day hour minute second day_of_week extract cardinality contains element_at sequence array_join transform
reduce zip map_keys map_values json_extract json_extract_scalar json_parse json_format row_number rank dense_rank
ntile lag lead first_value last_value percent_rank cume_dist"""
KEYWORDS = _KEYWORD_TEXT.split()
FUNCTIONS = _FUNCTION_TEXT.split()
# after these words a name is a table (or a database, then ``.``)
_TABLE_CONTEXT = {"FROM", "JOIN", "INTO", "TABLE", "DESCRIBE", "DESC", "EXISTS"}
_DATABASE_CONTEXT = {"USE", "DATABASE", "SCHEMA"}
_SHOW_TABLES_IN = re.compile(r"\bTABLES\s+(?:IN|FROM)\s+$", re.I)
_NOT_ALIASES = {k for k in KEYWORDS if k not in ("DATE", "TIME", "TIMESTAMP", "DATABASE", "SCHEMA")}
_NAME = r'(?:"[^"]+"|`[^`]+`|[\w\-]+)'
_TABLE_REF = re.compile(rf"\b(?:FROM|JOIN)\s+({_NAME}(?:\.{_NAME})?)(?:\s+(?:AS\s+)?([A-Za-z_]\w*))?", re.I)
_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")
_META_ARGUMENTS: dict[str, Callable[[SqlCompleter], Iterable[tuple[str, str]]]] = {
    "\\c": lambda c: ((d, "database") for d in c.databases()),
    "\\dt": lambda c: ((d, "database") for d in c.databases()),
    "\\d": lambda c: c.table_names(),
    "\\format": lambda c: ((f.value, "format") for f in SqlFormat),
    "\\timing": lambda c: (("on", ""), ("off", "")),
}


def _bare(name: str) -> str:
    return name[1:-1] if name[:1] in ('"', "`") and name[-1:] == name[:1] else name.lower()


def _quoted(name: str) -> str:
    return name if _PLAIN.match(name) else '"' + name.replace('"', '""') + '"'


class SqlCompleter(Completer):
    """Completes SQL keywords and functions, meta commands, and the catalog's names: databases, ``db.table``,
    tables and columns of the current database, ``table.column`` and ``alias.column`` for the tables a
    statement reads. Catalog names are read once and kept until :meth:`refresh` (after DDL, ``\\dt``, ``\\c``)."""

    def __init__(self, lake: Lake, database: str | Callable[[], str] = "default") -> None:
        self._catalog = lake.catalog
        self._database: Callable[[], str] = database if callable(database) else (lambda: database)
        self._databases: list[str] | None = None
        self._tables: dict[str, dict[str, list[str]]] = {}

    def refresh(self) -> None:
        self._databases = None
        self._tables = {}

    def databases(self) -> list[str]:
        if self._databases is None:
            try:
                self._databases = sorted(d.name for d in self._catalog.list_databases())
            except LakeportError:
                self._databases = []
        return self._databases

    def tables(self, database: str) -> dict[str, list[str]]:
        """``{table: [column, …]}`` of a database (empty when it does not exist)."""
        if database not in self._tables:
            try:
                found = self._catalog.list_tables(database)
            except LakeportError:
                found = []
            self._tables[database] = {t.name: [c.name for c in (*t.columns, *t.partition_keys)] for t in found}
        return self._tables[database]

    def table_names(self) -> Iterable[tuple[str, str]]:
        yield from ((t, "table") for t in self.tables(self._database()))
        yield from ((d + ".", "database") for d in self.databases())

    def _columns_of(self, ref: str, aliases: dict[str, str]) -> list[str] | None:
        """The columns of ``ref`` (an alias, ``table`` or ``db.table``), or None when it names no table."""
        parts = [_bare(p) for p in re.findall(_NAME, aliases.get(ref.lower(), ref))]
        database, table = (parts[0], parts[1]) if len(parts) == 2 else (self._database(), parts[-1] if parts else "")
        return self.tables(database).get(table)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        before = document.text_before_cursor
        statement = split_statements(before)[1].lstrip()
        word = re.search(r'[\w."`\-\\]*$', before)
        typed = word.group() if word else ""
        if statement.startswith("\\"):
            yield from self._meta(statement, typed)
            return
        if typed.startswith("\\"):
            return
        qualifier, dot, part = typed.rpartition(".")
        if dot:
            yield from self._dotted(qualifier, part, document.text)
            return
        head = before[: len(before) - len(typed)]
        previous = re.search(r"(\w+)\s+$", head)
        context = previous.group(1).upper() if previous else ""
        if context in _DATABASE_CONTEXT or _SHOW_TABLES_IN.search(head):
            candidates: Iterable[tuple[str, str]] = ((d, "database") for d in self.databases())
        elif context in _TABLE_CONTEXT:
            candidates = self.table_names()
        else:
            candidates = self._anything(document.text)
        yield from _matching(candidates, typed)

    def _meta(self, statement: str, typed: str) -> Iterable[Completion]:
        command, space, _ = statement.partition(" ")
        if not space:
            names = sorted({w for key in META_COMMANDS for w in key.split() if w.startswith("\\")})
            yield from _matching(((n, "command") for n in names), typed)
        elif command == "\\d" and "." in typed:
            qualifier, _, part = typed.rpartition(".")
            yield from self._dotted(qualifier, part, "")
        elif command in _META_ARGUMENTS:
            yield from _matching(_META_ARGUMENTS[command](self), typed)

    def _dotted(self, qualifier: str, part: str, text: str) -> Iterable[Completion]:
        bare = _bare(qualifier)
        if "." not in qualifier and bare in self.databases():
            yield from _matching(((t, f"table in {bare}") for t in self.tables(bare)), part)
        columns = self._columns_of(qualifier, _aliases(text))
        if columns is not None:
            yield from _matching(((c, f"column of {qualifier}") for c in columns), part)

    def _anything(self, text: str) -> Iterable[tuple[str, str]]:
        """Columns of the tables the statement reads, then the current database's tables and their columns,
        databases, keywords and functions."""
        database = self._database()
        for ref in dict.fromkeys(_aliases(text).values()):
            yield from ((c, f"column of {ref}") for c in self._columns_of(ref, {}) or [])
        tables = self.tables(database)
        yield from ((t, "table") for t in tables)
        for name, columns in tables.items():
            yield from ((c, f"column of {name}") for c in columns)
        yield from ((d, "database") for d in self.databases())
        yield from ((k, "keyword") for k in KEYWORDS)
        yield from ((f, "function") for f in FUNCTIONS)


def _aliases(text: str) -> dict[str, str]:
    """``{alias or table name: table reference}`` for each ``FROM``/``JOIN`` in ``text``."""
    found: dict[str, str] = {}
    for match in _TABLE_REF.finditer(text):
        ref, alias = match.group(1), match.group(2)
        found[_bare(ref.rpartition(".")[2])] = ref
        if alias and alias.upper() not in _NOT_ALIASES:
            found[alias.lower()] = ref
    return found


def _matching(candidates: Iterable[tuple[str, str]], typed: str) -> Iterable[Completion]:
    """Completions that start with ``typed`` (any case), each once; keywords follow the case being typed."""
    prefix = typed.lstrip('"`').lower()
    seen: set[str] = set()
    for name, meta in candidates:
        if not name.lower().startswith(prefix):
            continue
        text = name.lower() if meta == "keyword" and typed and typed == typed.lower() else name
        text = text if meta in ("keyword", "function", "command", "format", "") else _quoted(name.rstrip("."))
        if meta == "database" and name.endswith("."):
            text += "."
        if text not in seen:
            seen.add(text)
            yield Completion(text, start_position=-len(typed), display_meta=meta)


# ---- the command


@app.command("sql")
def sql(
    ctx: typer.Context,
    database: Annotated[
        str, typer.Option("--database", "-d", help="the database unqualified names are in (\\c db switches)")
    ] = "default",
    fmt: Annotated[
        SqlFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table, csv or json (JSON Lines) [default: table; json with -o json]",
            case_sensitive=False,
        ),
    ] = None,
    execute: Annotated[
        str | None, typer.Option("--execute", "-e", help="run these statements and exit (exit code 1 on failure)")
    ] = None,
    timing: Annotated[
        bool, typer.Option("--timing/--no-timing", help="print rows · time · bytes scanned after each query")
    ] = True,
    max_rows: Annotated[int, typer.Option("--max-rows", help="rows a table shows (csv and json print all)")] = 1000,
    output: OutputOption = None,
) -> None:
    """An interactive SQL shell (Athena) with history and completion; runs piped SQL when stdin is not a terminal."""
    cli = state(ctx)
    if fmt is None:
        fmt = SqlFormat.json if output_of(ctx, output) is OutputFormat.json else SqlFormat.table
    lake = cli.open_lake()
    session = Session(lake, database=database, fmt=fmt, timing=timing, max_rows=max_rows, debug=cli.debug)
    if execute is not None:
        session.run_text(execute)
    elif sys.stdin.isatty():
        session.interactive = True
        _prompt_loop(session, lake)
    else:
        session.run_lines(sys.stdin)
    if session.failures and not session.interactive:
        raise typer.Exit(1)


def _prompt_loop(session: Session, lake: Lake) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.application import get_app
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory

    completer = SqlCompleter(lake, lambda: session.database)
    session.catalog_changed = completer.refresh
    history: History
    try:
        path = lake.root / HISTORY
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        history = FileHistory(str(path))
    except OSError as exc:
        session.note(f"history is not kept: {exc}")
        history = InMemoryHistory()
    prompt: PromptSession[str] = PromptSession(
        history=history,
        completer=completer,
        complete_while_typing=False,
        multiline=Condition(lambda: not is_complete(get_app().current_buffer.text)),
        prompt_continuation=lambda width, line, wrap: "-> ".rjust(width),
    )
    session.note("lakeport sql: statements end with ;  help lists the commands, Ctrl-D leaves")
    while not session.done:
        try:
            text = prompt.prompt(f"{session.database}> ")
        except KeyboardInterrupt:  # Ctrl-C at the prompt drops what was typed
            continue
        except EOFError:
            break
        session.run_text(text)
