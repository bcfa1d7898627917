"""``lakeport sql``: piped scripts and ``--execute`` as separate processes, the three formats, meta commands, errors
that do not stop the shell, the completer over a real catalog, and an interactive session on a real
pseudo-terminal (typing, a table and the timing line, Ctrl-C cancelling a running query, Ctrl-D leaving).

One lake is crawled once for the module; only the completer's refresh test adds tables, in databases of their own.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from lakeport import Lake
from lakeport.cli.sql_cmd import HISTORY, SqlCompleter
from lakeport.cli.sql_shell import Session, SqlFormat, is_complete, split_statements
from tests.conftest import run_cli

TIMING = re.compile(r"(\d+) rows? in \d+ ms · [\d.]+ (Bytes|KiB|MiB) scanned")
TRACKS = 'id,title,artist,plays\n1,Intro,ann,10\n2,Outro,bob,\n3,"Comma, Song",ann,7\n'
LONG_QUERY = "SELECT count(*) FROM UNNEST(sequence(1, 100000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 100000)) AS b(y);"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    """Database ``music`` (tracks, artists) and ``shop`` (orders, customers), crawled from CSV."""
    root = tmp_path_factory.mktemp("sql-cli") / "lake"
    with Lake.init(root, environ={}) as lake:
        lake.storage.put_object("lakeport", "staging/music/tracks/tracks.csv", TRACKS.encode())
        lake.storage.put_object("lakeport", "staging/music/artists/a.csv", b"artist,country\nann,NO\nbob,SE\n")
        lake.storage.put_object("lakeport", "staging/shop/orders/o.csv", b"order_id,price\n1,2.5\n")
        lake.storage.put_object("lakeport", "staging/shop/customers/c.csv", b"customer_id,name\n7,ann\n")
        lake.crawlers.crawl("s3://lakeport/staging/music/", database="music")
        lake.crawlers.crawl("s3://lakeport/staging/shop/", database="shop")
        yield lake


def sql(lake: Lake, *args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return run_cli("sql", "-d", "music", *args, lake=lake.root, stdin=stdin.encode(), check=check, timeout=120)


# ---- splitting statements


def test_statements_split_on_semicolons_outside_strings_names_and_comments() -> None:
    text = "SELECT 'a;b', \"c;d\" FROM t; -- x;y\nSELECT 'it''s;' /* ; */ ;\n;  SELECT 3"
    statements, rest = split_statements(text)
    assert statements == ["SELECT 'a;b', \"c;d\" FROM t", "SELECT 'it''s;' /* ; */"]
    assert rest == "  SELECT 3"
    assert split_statements("SELECT 'open;")[0] == []


def test_input_is_complete_at_a_semicolon_or_a_meta_command() -> None:
    assert not is_complete("SELECT 1")
    assert not is_complete("SELECT ';'")
    assert is_complete("SELECT 1\nFROM t;  -- done")
    assert is_complete("\\dt music")
    assert is_complete("use shop")
    assert is_complete("exit")
    assert is_complete("   ")


# ---- piped scripts and --execute


def test_piped_statements_print_tables_and_a_timing_line_each(lake: Lake) -> None:
    proc = sql(lake, stdin="-- a script\nSELECT id, title\n  FROM tracks\n  ORDER BY id;\nSELECT 'x;y' AS s;\n")
    out, err = proc.stdout.decode(), proc.stderr.decode()

    assert re.search(r"id ┃ title", out)
    assert "Comma, Song" in out
    assert "x;y" in out
    assert [m.group(1) for m in TIMING.finditer(err)] == ["3", "1"]
    assert not re.search(r"0 Bytes scanned", TIMING.search(err).group())  # type: ignore[union-attr]


def test_the_last_statement_may_lack_its_semicolon(lake: Lake) -> None:
    proc = sql(lake, "--format", "csv", stdin="SELECT 1 AS a;\nSELECT 2 AS b")
    assert proc.stdout.decode() == "a\n1\nb\n2\n"


def test_csv_format_writes_a_header_and_nulls_as_empty_fields(lake: Lake) -> None:
    proc = sql(lake, "--format", "csv", stdin="SELECT id, title, plays FROM tracks ORDER BY id;")
    assert proc.stdout.decode() == 'id,title,plays\n1,Intro,10\n2,Outro,\n3,"Comma, Song",7\n'
    assert TIMING.search(proc.stderr.decode())


def test_json_format_writes_one_typed_object_per_row(lake: Lake) -> None:
    proc = sql(lake, "-f", "json", stdin="SELECT id, title, plays, plays > 8 AS big FROM tracks ORDER BY id;")
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert rows == [
        {"id": 1, "title": "Intro", "plays": 10, "big": True},
        {"id": 2, "title": "Outro", "plays": None, "big": None},
        {"id": 3, "title": "Comma, Song", "plays": 7, "big": False},
    ]
    # the global --output json chooses the json format too
    again = run_cli("-o", "json", "sql", "-d", "music", "-e", "SELECT 1.5e0 AS d", lake=lake.root)
    assert json.loads(again.stdout) == {"d": 1.5}
    own = sql(lake, "-e", "SELECT true AS t", "-o", "json")
    assert json.loads(own.stdout) == {"t": True}


def test_a_table_shows_at_most_max_rows_and_says_so(lake: Lake) -> None:
    proc = sql(lake, "--max-rows", "2", stdin="SELECT id FROM tracks ORDER BY id;")
    out = proc.stdout.decode()
    assert " 2 " in out
    assert " 3 " not in out
    assert "3 rows (showing 2) in" in proc.stderr.decode()


def test_a_failing_statement_is_one_line_and_the_next_still_runs(lake: Lake) -> None:
    proc = sql(lake, "-f", "csv", stdin="SELECT nope FROM tracks;\nSELECT 'after' AS next;\n", check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1  # a script that had a failure says so
    assert proc.stdout.decode() == "next\nafter\n"
    failure = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(failure) == 1
    assert "query FAILED" in failure[0]
    assert "nope" in failure[0]
    assert "Traceback" not in err


def test_execute_runs_and_exits_with_1_on_failure(lake: Lake) -> None:
    ok = sql(lake, "--execute", "SELECT count(*) AS n FROM tracks", "-f", "csv")
    assert ok.stdout.decode() == "n\n3\n"

    bad = sql(lake, "--execute", "SELECT * FROM missing_table", check=False)
    assert bad.returncode == 1
    assert bad.stdout == b""
    assert bad.stderr.decode().startswith("error: query FAILED")
    assert "missing_table" in bad.stderr.decode()


def test_statements_without_rows_say_what_they_did(lake: Lake) -> None:
    script = "CREATE DATABASE piped;\nCREATE TABLE piped.t AS SELECT 1 AS a;\nINSERT INTO piped.t VALUES (2);\n"
    proc = sql(lake, stdin=script + "DROP TABLE piped.t;\nDROP DATABASE piped;\n")
    lines = [line for line in proc.stderr.decode().splitlines() if " ms · " in line]
    assert [line.split(" in ")[0] for line in lines] == ["done", "1 row written", "1 row written", "done", "done"]
    assert proc.stdout.decode().strip() == ""  # no empty tables


def test_timing_off_hides_the_timing_line(lake: Lake) -> None:
    proc = sql(lake, "--no-timing", stdin="SELECT 1 AS one;")
    assert not TIMING.search(proc.stderr.decode())
    proc = sql(lake, stdin="\\timing off\nSELECT 1 AS one;\n\\timing\nSELECT 2 AS two;\n")
    assert len(TIMING.findall(proc.stderr.decode())) == 1
    assert "timing: off" in proc.stderr.decode()


# ---- meta commands


def test_meta_commands_list_describe_and_switch(lake: Lake) -> None:
    script = "\n".join(
        [
            "\\l",
            "\\dt",
            "\\dt shop",
            "\\d tracks",
            "\\d shop.orders",
            "\\c shop",
            "SELECT order_id FROM orders;",
            "USE music;",
            "SELECT count(*) AS n FROM artists;",
            "\\q",
            "SELECT 'never' AS never;",
        ]
    )
    proc = sql(lake, "-f", "csv", stdin=script)
    out, err = proc.stdout.decode(), proc.stderr.decode()

    assert "database,description\nmusic,\nshop,\n" in out
    assert "table,type,format,columns\nartists,EXTERNAL_TABLE,csv,2\ntracks,EXTERNAL_TABLE,csv,4\n" in out
    assert "table,type,format,columns\ncustomers,EXTERNAL_TABLE,csv,2\norders,EXTERNAL_TABLE,csv,2\n" in out
    assert "column,type,comment\nid,bigint,\ntitle,string,\nartist,string,\nplays,bigint,\n" in out
    assert "column,type,comment\norder_id,bigint,\nprice,double,\n" in out
    assert "order_id\n1\n" in out
    assert "n\n2\n" in out
    assert "never" not in out
    assert "database: shop" in err
    assert "database: music" in err


def test_meta_command_errors_do_not_stop_the_script(lake: Lake) -> None:
    proc = sql(
        lake,
        stdin="\\c nowhere\n\\d nothing\n\\format xml\n\\bogus\nhelp\n\\format csv\nSELECT 1 AS ok;\n",
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert "error: database nowhere not found" in err
    assert "nothing" in err
    assert "error: unknown format 'xml'" in err
    assert "error: unknown command \\bogus" in err
    assert "hint: help lists the commands" in err
    out = proc.stdout.decode()
    assert "\\dt [db]" in out  # help's list
    assert out.endswith("ok\n1\n")


# ---- completion


def completions(completer: SqlCompleter, text: str) -> list[str]:
    """What Tab offers with the cursor at ``|`` (at the end when there is none)."""
    cursor = text.find("|") if "|" in text else len(text)
    document = Document(text.replace("|", "", 1), cursor_position=cursor)
    return [c.text for c in completer.get_completions(document, CompleteEvent(completion_requested=True))]


def test_completion_offers_keywords_in_the_case_being_typed(lake: Lake) -> None:
    completer = SqlCompleter(lake, "music")
    assert "SELECT" in completions(completer, "SEL")
    assert "select" in completions(completer, "sel")
    assert "count" in completions(completer, "SELECT cou")


def test_completion_offers_databases_and_dotted_tables(lake: Lake) -> None:
    completer = SqlCompleter(lake, "music")
    assert completions(completer, "SELECT * FROM ") == ["artists", "tracks", "music.", "shop."]
    assert completions(completer, "SELECT * FROM sh") == ["shop."]
    assert completions(completer, "SELECT * FROM shop.") == ["customers", "orders"]
    assert completions(completer, "SELECT * FROM music.tr") == ["tracks"]
    assert completions(completer, "USE ") == ["music", "shop"]
    assert completions(completer, "SHOW TABLES IN s") == ["shop"]


def test_completion_offers_columns_of_the_current_database_and_of_aliases(lake: Lake) -> None:
    completer = SqlCompleter(lake, "music")
    # columns of the tables the statement reads come first
    assert completions(completer, "SELECT co| FROM artists")[:1] == ["country"]
    assert completions(completer, "SELECT t.ti| FROM tracks t") == ["title"]
    assert completions(completer, "SELECT tracks.") == ["id", "title", "artist", "plays"]
    assert completions(completer, "SELECT o.pr| FROM shop.orders AS o") == ["price"]
    assert completions(completer, "SELECT music.tracks.pl") == ["plays"]
    everything = completions(completer, "SELECT ")
    assert {"artist", "country", "plays", "tracks", "artists", "music", "shop", "SELECT"} <= set(everything)
    assert "order_id" not in everything  # another database's columns need its name
    assert completions(SqlCompleter(lake, "shop"), "SELECT ord") == ["orders", "order_id", "order", "ordinality"]


def test_completion_of_meta_commands_and_their_arguments(lake: Lake) -> None:
    completer = SqlCompleter(lake, "music")
    assert completions(completer, "\\d") == ["\\d", "\\dt"]
    assert completions(completer, "\\c ") == ["music", "shop"]
    assert completions(completer, "\\dt s") == ["shop"]
    assert completions(completer, "\\d tr") == ["tracks"]
    assert completions(completer, "\\d shop.o") == ["orders"]
    assert completions(completer, "\\format j") == ["json"]
    assert completions(completer, "\\timing ") == ["on", "off"]


def test_completion_follows_the_session_database_and_refreshes_after_listing(lake: Lake) -> None:
    session = Session(lake, database="music", fmt=SqlFormat.csv, stream=io.StringIO())
    completer = SqlCompleter(lake, lambda: session.database)
    session.catalog_changed = completer.refresh
    assert "orders" not in completions(completer, "SELECT * FROM ")
    session.run_text("USE shop;")
    assert completions(completer, "SELECT * FROM o") == ["orders"]

    assert completions(completer, "SELECT * FROM late.") == []
    lake.storage.put_object("lakeport", "staging/late/newcomers/n.csv", b"who\nzed\n")
    lake.storage.put_object("lakeport", "staging/late/regulars/r.csv", b"name,visits\nann,3\n")
    lake.crawlers.crawl("s3://lakeport/staging/late/", database="late")
    assert completions(completer, "SELECT * FROM late.") == []  # still the names read before
    session.run_text("\\dt late")
    assert completions(completer, "SELECT * FROM late.") == ["newcomers", "regulars"]

    # DDL run in the shell refreshes the names at once
    session.run_text("CREATE DATABASE scratch;\nUSE scratch;\nCREATE TABLE made AS SELECT 1 AS only_col;")
    assert completions(completer, "SELECT * FROM ma") == ["made"]
    assert completions(completer, "SELECT only")[:1] == ["only_col"]
    session.run_text("DROP TABLE made;")
    assert completions(completer, "SELECT * FROM ma") == []
    session.run_text("DROP DATABASE scratch;\nDROP DATABASE late CASCADE;")
    assert completions(completer, "USE ") == ["music", "shop"]
    assert session.failures == 0


# ---- an interactive session on a pseudo-terminal

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()=>][0-9A-Za-z]?|\r")


class Terminal:
    """``lakeport sql`` on a pseudo-terminal of its own (its controlling terminal, so Ctrl-C is a real SIGINT)."""

    def __init__(self, *args: str) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
        env.update(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="140", LINES="40")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lakeport.cli.main", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self.seen = ""

    def expect(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """Read until ``pattern`` appears in the output (escape sequences removed) after what was matched before."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.seen)
            if found:
                self.seen = self.seen[found.end() :]
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} did not appear; the terminal shows:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the other side closed
                    chunk = b""
                if not chunk and self.proc.poll() is not None:
                    raise AssertionError(f"{pattern!r} did not appear before exit; the terminal shows:\n{self.seen}")
                self.seen += _ANSI.sub("", chunk.decode("utf-8", "replace"))

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=30)
        finally:
            os.close(self.master)


def _take_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminal control as Linux does it")
def test_an_interactive_session_on_a_terminal(lake: Lake) -> None:
    history = lake.root / HISTORY
    history.unlink(missing_ok=True)
    term = Terminal("--lake", str(lake.root), "sql", "--database", "music")
    try:
        term.expect(r"music>")
        term.type("SELECT title, plays\r")  # no ; yet: the statement goes on on the next line
        term.expect(r"->")
        term.type("FROM tracks ORDER BY id;\r")
        term.expect(r"title\s*┃\s*plays")
        term.expect(r"Comma, Song")
        assert term.expect(TIMING.pattern).group(1) == "3"
        term.expect(r"music>")

        term.type("SELECT bad_column FROM tracks;\r")  # a failure is one line and the prompt comes back
        term.expect(r"error: query FAILED.*bad_column")
        term.expect(r"music>")

        term.type("\\c shop\r")
        term.expect(r"shop>")

        term.type(LONG_QUERY + "\r")
        time.sleep(1.0)
        asked = time.monotonic()
        term.type("\x03")  # Ctrl-C while it runs: StopQueryExecution, back to the prompt
        term.expect(r"cancelled query ([0-9a-f-]{36})", timeout=15)
        term.expect(r"shop>")
        assert time.monotonic() - asked < 10
        latest = lake.queries.list_query_executions(limit=1)[0]
        assert latest.query == LONG_QUERY.rstrip(";")
        assert latest.state == "CANCELLED"

        term.type("\x04")  # Ctrl-D leaves
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
            term.proc.wait()
    kept = history.read_text()
    assert "FROM tracks ORDER BY id;" in kept
    assert "\\c shop" in kept
