"""The ``lakeport sql`` session without its terminal: statements split on ``;``, meta commands, results in three
formats, the timing line. The interactive prompt (``sql_cmd``) and piped scripts both feed text to one
:class:`Session`; everything it runs goes through the query and catalog services.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import StrEnum
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from lakeport.catalog.names import check_name, split_table_name
from lakeport.cli.output import human_size
from lakeport.errors import InvalidInput, LakeportError

if TYPE_CHECKING:
    from lakeport.lake import Lake
    from lakeport.query.service import QueryExecution

FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")
_NUMERIC = re.compile(r"^(tinyint|smallint|integer|bigint|real|double|decimal)", re.I)
_INTEGER = re.compile(r"^(tinyint|smallint|integer|bigint)$", re.I)
_FLOAT = re.compile(r"^(real|double)$", re.I)
_USE = re.compile(r"^use\s+(\S+?)\s*;?$", re.I | re.S)
_WORDS = ("help", "exit", "quit")
_CHANGES_CATALOG = ("CREATE", "DROP", "ALTER", "MSCK", "INSERT")
META_COMMANDS = {
    "\\d [table]": "describe a table (db.table or one of this database); alone: list this database's tables",
    "\\dt [db]": "list the tables of a database (default: this one)",
    "\\l": "list the databases",
    "\\c db  |  USE db": "switch to another database",
    "\\format [table|csv|json]": "show or set how results print",
    "\\timing [on|off]": "show or hide the rows · time · bytes scanned line (no argument: toggle)",
    "\\q  |  exit  |  Ctrl-D": "leave",
    "help  |  \\?": "this list",
}


class SqlFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def split_statements(text: str) -> tuple[list[str], str]:
    """The complete statements in ``text`` (each without its ``;``) and the unfinished rest.

    A ``;`` ends a statement only outside '…' strings, "…" and `…` names, ``--`` and ``/* */`` comments.
    Statements that hold only comments and blanks are dropped.
    """
    statements: list[str] = []
    start = i = 0
    quote: str | None = None
    while i < len(text):
        char = text[i]
        if quote is not None:
            if char == quote:
                if text[i + 1 : i + 2] == quote:  # a doubled quote stands for itself
                    i += 1
                else:
                    quote = None
        elif char in "'\"`":
            quote = char
        elif text.startswith("--", i):
            end = text.find("\n", i)
            if end < 0:
                break
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                break
            i = end + 1
        elif char == ";":
            statements.append(text[start:i])
            start = i + 1
        i += 1
    return [s for s in (strip_comments(s) for s in statements) if s], text[start:]


def strip_comments(sql: str) -> str:
    """``sql`` without the blanks and comments it starts and ends with ('' when that is all it has)."""
    text = sql.strip()
    while True:
        if text.startswith("--"):
            text = text.partition("\n")[2].strip()
        elif text.startswith("/*") and "*/" in text:
            text = text.partition("*/")[2].strip()
        else:
            break
    lines = text.split("\n")
    while lines and lines[-1].lstrip().startswith("--"):
        lines.pop()
    return "\n".join(lines).strip()


def is_meta(text: str) -> bool:
    """Whether ``text`` (a whole input) is a shell command rather than SQL: ``\\x``, help, exit, quit, USE db."""
    text = text.strip()
    return text.startswith("\\") or text.rstrip(";").strip().lower() in _WORDS or bool(_USE.match(text))


def is_complete(text: str) -> bool:
    """Whether the prompt should run ``text`` on Enter: a meta command, or SQL whose last statement ended in ``;``."""
    if not text.strip() or is_meta(text):
        return True
    return not strip_comments(split_statements(text)[1])


class QueryCancelled(KeyboardInterrupt):
    """Ctrl-C while a query ran: it was stopped (and said so)."""


class Session:
    """One shell: the current database and output settings, and the statements and commands it is given."""

    def __init__(
        self,
        lake: Lake,
        *,
        database: str = "default",
        fmt: SqlFormat = SqlFormat.table,
        timing: bool = True,
        max_rows: int = 1000,
        debug: bool = False,
        out: Console | None = None,
        err: Console | None = None,
        stream: TextIO | None = None,
    ) -> None:
        from lakeport.cli.output import stderr, stdout

        self.lake = lake
        self.database = check_name("database", database)
        self.fmt = fmt
        self.timing = timing
        self.max_rows = max_rows
        self.debug = debug
        self.out = out or stdout
        self.err = err or stderr
        self.stream = stream
        self.interactive = False
        self.failures = 0
        self.done = False
        self.catalog_changed: Callable[[], None] = lambda: None

    # ---- input

    def run_text(self, text: str) -> None:
        """Run everything in ``text``: meta commands on lines of their own, then statements (the last may lack ``;``)."""
        self.run_lines(text.splitlines(keepends=True))

    def run_lines(self, lines: Iterable[str]) -> None:
        """Run a script line by line as it arrives (piped stdin): each statement as soon as its ``;`` is read."""
        buffer = ""
        for line in lines:
            if self.done:
                return
            if not strip_comments(buffer) and is_meta(line):
                buffer = ""
                self._guarded(partial(self.meta, line.strip()))
                continue
            statements, buffer = split_statements(buffer + line)
            for statement in statements:
                if self.done:
                    return
                self._guarded(partial(self.statement, statement))
        rest = strip_comments(buffer)
        if rest and not self.done:
            self._guarded(partial(self.statement, rest))

    def _guarded(self, action: Callable[[], None]) -> None:
        """Run ``action``; an error is one line (and a failure), Ctrl-C stops the action but not an interactive shell."""
        try:
            action()
        except LakeportError as exc:
            self.failures += 1
            self.error(exc.message, exc.hint)
        except KeyboardInterrupt as exc:
            if not self.interactive:
                raise
            if not isinstance(exc, QueryCancelled):
                self.note("interrupted")
        except Exception as exc:  # a bug: one line, the traceback with --debug; the shell goes on
            self.failures += 1
            if self.debug:
                self.err.print(traceback.format_exc(), markup=False)
            self.error(f"internal error: {type(exc).__name__}: {exc}", "run again with --debug for the traceback")

    def error(self, message: str, hint: str | None = None) -> None:
        self.err.print(f"[bold red]error:[/] {escape(' '.join(message.split()))}", markup=True, highlight=False)
        if hint:
            self.err.print(f"[dim]hint:[/] {escape(hint)}", markup=True, highlight=False)

    def note(self, text: str) -> None:
        self.err.print(f"[dim]{escape(text)}[/]", markup=True, highlight=False)

    # ---- SQL

    def statement(self, sql: str) -> None:
        if is_meta(sql):  # USE db; inside a script
            self.meta(sql)
            return
        execution = self._execute(sql)
        if execution.state != "SUCCEEDED":
            self.failures += 1
            self.error(f"query {execution.state}: {execution.state_change_reason or 'no reason given'}")
            return
        columns = [(name, kind) for name, kind in execution.columns]
        pages = self._pages(execution.id)
        first = next(pages)
        shown = self.render(columns, _rows([first], pages)) if columns else 0
        stats = execution.statistics
        total = int(stats.get("ResultRows", shown))
        written = int(first.get("UpdateCount") or 0)
        if columns:
            what = _rows_text(total) + (f" (showing {shown})" if shown < total else "")
        elif written or execution.statement_type == "DML":
            what = _rows_text(written) + " written"
        else:
            what = "done"
        if self.timing:
            self.note(
                f"{what} in {int(stats.get('EngineExecutionTimeInMillis', 0))} ms"
                f" · {human_size(int(stats.get('DataScannedInBytes', 0)))} scanned"
            )
        if execution.statement_type == "DDL" or sql.split(None, 1)[0].upper() in _CHANGES_CATALOG:
            self.catalog_changed()

    def _execute(self, sql: str) -> QueryExecution:
        """Start the query and follow it to its end; Ctrl-C stops it (StopQueryExecution) and is raised on."""
        queries = self.lake.queries
        execution = queries.start_query_execution(sql, database=self.database)
        delay = 0.002
        try:
            while execution.state not in FINISHED:
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
                execution = queries.get_query_execution(execution.id)
        except KeyboardInterrupt:
            queries.stop_query_execution(execution.id)
            self.note(f"cancelled query {execution.id}")
            raise QueryCancelled from None
        return execution

    def _pages(self, execution_id: str) -> Iterator[dict[str, Any]]:
        """GetQueryResults pages, the first one always (it has the header row and the UpdateCount)."""
        token: str | None = None
        while True:
            page = self.lake.queries.get_query_results(execution_id, max_results=1000, next_token=token)
            yield page
            token = page.get("NextToken")
            if not token:
                return

    # ---- output

    def render(self, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str | None]]) -> int:
        """Print rows in the session's format; returns how many were printed (a table stops at ``max_rows``)."""
        if self.fmt is SqlFormat.table:
            return self._table(columns, rows)
        stream = self.stream or sys.stdout
        writer = csv.writer(stream, lineterminator="\n")
        if self.fmt is SqlFormat.csv:
            writer.writerow([name for name, _ in columns])
        count = 0
        for row in rows:
            count += 1
            if self.fmt is SqlFormat.csv:
                writer.writerow(["" if v is None else v for v in row])
            else:
                record = {name: _json_value(v, kind) for (name, kind), v in zip(columns, row, strict=False)}
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        stream.flush()
        return count

    def _table(self, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str | None]]) -> int:
        table = Table(show_edge=False, header_style="bold")
        for name, kind in columns:
            table.add_column(name, justify="right" if _NUMERIC.match(kind) else "left")
        shown = list(islice(rows, self.max_rows))
        for row in shown:
            table.add_row(*(Text("NULL", style="dim") if v is None else Text(v) for v in row))
        self.out.print(table)
        return len(shown)

    # ---- meta commands

    def meta(self, text: str) -> None:
        text = text.strip()
        if found := _USE.match(text):
            self.use(found.group(1))
            return
        command, _, arg = text.rstrip(";").strip().partition(" ")
        arg = arg.strip()
        command = command.lower()
        if command in ("\\q", "exit", "quit"):
            self.done = True
        elif command in ("help", "\\?", "\\h"):
            self.render([("command", "varchar"), ("what it does", "varchar")], [list(i) for i in META_COMMANDS.items()])
            self.note("SQL statements end with ; and can span lines; Tab completes names, ↑ recalls history")
        elif command == "\\l":
            self.render([("database", "varchar"), ("description", "varchar")], self._databases())
        elif command == "\\dt" or (command == "\\d" and not arg):
            self.render(
                [("table", "varchar"), ("type", "varchar"), ("format", "varchar"), ("columns", "integer")],
                self._tables(arg or self.database),
            )
        elif command == "\\d":
            self.render([("column", "varchar"), ("type", "varchar"), ("comment", "varchar")], self._describe(arg))
        elif command == "\\c":
            if not arg:
                raise InvalidInput("\\c needs a database", hint="\\l lists them")
            self.use(arg)
        elif command == "\\format":
            self.set_format(arg)
        elif command == "\\timing":
            self.set_timing(arg)
        else:
            raise InvalidInput(f"unknown command {command}", hint="help lists the commands")

    def use(self, name: str) -> None:
        database = self.lake.catalog.get_database(name.strip('"`')).name
        self.database = database
        self.catalog_changed()
        self.note(f"database: {database}")

    def set_format(self, arg: str) -> None:
        if arg:
            try:
                self.fmt = SqlFormat(arg.lower())
            except ValueError:
                raise InvalidInput(f"unknown format {arg!r}", hint="one of table, csv, json") from None
        self.note(f"format: {self.fmt.value}")

    def set_timing(self, arg: str) -> None:
        if arg.lower() not in ("", "on", "off"):
            raise InvalidInput(f"\\timing {arg}: say on or off")
        self.timing = arg.lower() == "on" if arg else not self.timing
        self.note(f"timing: {'on' if self.timing else 'off'}")

    def _databases(self) -> list[list[str | None]]:
        return [[d.name, d.description] for d in sorted(self.lake.catalog.list_databases(), key=lambda d: d.name)]

    def _tables(self, database: str) -> list[list[str | None]]:
        tables = self.lake.catalog.list_tables(database.strip('"`'))
        self.catalog_changed()  # what the catalog holds now is what completion offers
        return [[t.name, t.table_type, t.classification, str(len(t.columns) + len(t.partition_keys))] for t in tables]

    def _describe(self, name: str) -> list[list[str | None]]:
        database, table_name = split_table_name(name.replace('"', "").replace("`", ""), self.database)
        table = self.lake.catalog.get_table(database, table_name)
        rows: list[list[str | None]] = [[c.name, c.type, c.comment] for c in table.columns]
        rows += [[c.name, c.type, c.comment or "partition key"] for c in table.partition_keys]
        return rows


def _rows(*pages: Iterable[dict[str, Any]]) -> Iterator[list[str | None]]:
    """The data rows of GetQueryResults pages (the header row, first of the first page, left out)."""
    header = True
    for group in pages:
        for page in group:
            for row in page["ResultSet"]["Rows"][1 if header else 0 :]:
                yield [cell.get("VarCharValue") for cell in row["Data"]]
            header = False


def _rows_text(count: int) -> str:
    return f"{count} row{'' if count == 1 else 's'}"


def _json_value(value: str | None, kind: str) -> Any:
    """A result value for JSON: numbers and booleans typed by their column, everything else the string Athena gives."""
    if value is None:
        return None
    try:
        if _INTEGER.match(kind):
            return int(value)
        if _FLOAT.match(kind):
            number = float(value)
            return number if math.isfinite(number) else value
    except ValueError:
        return value
    if kind.lower() == "boolean" and value in ("true", "false"):
        return value == "true"
    return value
