"""Compiling a job's DAG to DuckDB SQL: one statement per node, run by DuckDB as one plan per sink.

Sources are read once into temporary tables (so every row is counted and every bad record is known before
anything is written); transforms are views over their inputs, which DuckDB inlines, so a sink's query is
planned and executed as a whole, streaming, in parallel and out of core — no Python touches the rows.
``lakeport jobs script`` prints exactly these statements.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lakeport.catalog.types import parse_type, to_duckdb
from lakeport.etl.nodes import (
    Aggregate,
    ApplyMapping,
    Derive,
    DropDuplicates,
    DropFields,
    FillMissing,
    Filter,
    Join,
    Node,
    NodeError,
    SelectFields,
    Sink,
    Source,
    Sql,
    Union,
)
from lakeport.etl.strict_integers import checked_cast, filter_clause, integer_columns
from lakeport.query.tables import MAX_LINE_BYTES
from lakeport.sqltext import ident, literal, string_list

if TYPE_CHECKING:
    import duckdb

REJECTS_PREFIX = "lakeport_rejects_"
UTF8_NAMES = ("utf-8", "utf8")


@dataclass(frozen=True)
class SourceFiles:
    """What a source node reads in this run: local file paths and how to parse them."""

    node: str
    files: list[str]
    format: str
    options: Mapping[str, Any] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)  # declared Hive types
    bytes: int = 0
    names: tuple[str, ...] = ()  # a crawled CSV table's column names, by position (the file's header may differ)
    empty: tuple[str, ...] = ()  # files left out of ``files`` because they hold no records (see ``blank``)


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV source is parsed: what the job says, Glue's CSV defaults otherwise (never sniffed)."""

    header: bool
    delimiter: str
    quote: str
    escape: str
    encoding: str
    nulls: tuple[str, ...]


def csv_dialect(options: Mapping[str, Any], where: str = "") -> CsvDialect:
    from lakeport.etl.nodes import as_bool

    header = as_bool(options.get("header", True), lambda: f"{where}: option header is true or false")
    quote = str(options.get("quote", '"'))
    raw_nulls = options.get("null", "")
    nulls = tuple(str(n) for n in (raw_nulls if isinstance(raw_nulls, list) else [raw_nulls]))
    return CsvDialect(
        header=header,
        delimiter=str(options.get("delimiter", ",")),
        quote=quote,
        escape=str(options.get("escape", quote)),
        encoding=str(options.get("encoding", "utf-8")),
        nulls=nulls,
    )


def csv_header(path: str, header: bool, delimiter: str, quote: str, encoding: str) -> list[str]:
    """The column names from a CSV file's first record (``col0``, ``col1`` … without a header, as Glue names them)."""
    import csv

    with open(path, encoding=encoding.replace("latin-1", "latin_1"), errors="replace", newline="") as handle:
        first = next(csv.reader(handle, delimiter=delimiter, quotechar=quote or None), [])
    if header:
        return [name.strip() or f"col{i}" for i, name in enumerate(first)]
    return [f"col{i}" for i in range(len(first))]


BLANK_CHECK_BYTES = 64 * 1024
UTF16_BOMS = {b"\xff\xfe": "little-endian", b"\xfe\xff": "big-endian"}


def blank(path: str, fmt: str) -> bool:
    """Whether a file holds no records: no bytes, or (text formats) only white space and a byte order mark.

    Glue reads such a file as no records; DuckDB refuses a CSV file it can find no column in."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return False  # DuckDB says what is wrong with it
    if size == 0:
        return True
    if fmt not in ("csv", "json") or size > BLANK_CHECK_BYTES:
        return False
    with open(path, "rb") as handle:
        data = handle.read(BLANK_CHECK_BYTES)
    return not data.removeprefix(b"\xef\xbb\xbf").strip()


def utf16(path: str) -> str | None:
    """Why a file looks like UTF-16 text (a UTF-16 byte order mark, or NUL bytes in its first line), or None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1024)
    except OSError:
        return None
    for bom, order in UTF16_BOMS.items():
        if head.startswith(bom):
            return f"it starts with a UTF-16 ({order}) byte order mark"
    first = head.split(b"\n", 1)[0]
    if b"\x00" in first and first.count(b"\x00") * 4 >= len(first):
        return "its first line has NUL bytes between its characters"
    return None


DUCKDB_LINE_BYTES = 2 * 2**20  # DuckDB's own default
LARGE_FILE_LINE_BYTES = 4 * 2**20


def line_limit(paths: Sequence[str]) -> int:
    """The longest CSV line a source reads. DuckDB sizes its reading buffers from this limit (16 times it, capped
    by the file), so Athena's 100 MB for every file cost the Spotify job 1 GB more memory at scale 10 and broke
    jobs under a memory limit: a file under 100 MB may be a single line; in larger files a line may be 4 MB
    (DuckDB's default is 2 MB). A longer line is a bad record naming its file and line."""
    largest = max((os.path.getsize(p) for p in paths if os.path.exists(p)), default=0)
    return max(DUCKDB_LINE_BYTES, largest + 1) if largest < MAX_LINE_BYTES else LARGE_FILE_LINE_BYTES


def _duck(kind: str) -> str:
    return to_duckdb(parse_type(kind))


class Compiler:
    """Turns nodes into DuckDB statements, checking column names against what each input really has."""

    def __init__(
        self,
        job: str,
        con: duckdb.DuckDBPyConnection,
        *,
        track_rejects: bool = True,
        lazy: bool = False,
        uris: Mapping[str, str] | None = None,
    ) -> None:
        self.job = job
        self.con = con
        self.uris: Mapping[str, str] = uris if uris is not None else {}  # local file → s3:// URI, for messages
        self.track_rejects = track_rejects
        self.lazy = lazy  # sources as views, read by the plans that use them (else materialized tables)
        self.statements: list[str] = []
        self.filtered: set[str] = set()  # CSV sources read again without their rows of bad integers
        self._described: dict[str, list[str]] = {}  # DESCRIBE binds the whole view chain below: once per name

    def columns(self, node_id: str) -> list[str]:
        if node_id not in self._described:
            self._described[node_id] = [row[0] for row in self.con.execute(f"DESCRIBE {ident(node_id)}").fetchall()]
        return list(self._described[node_id])

    def _need(self, node: Node, fld: str, wanted: Sequence[str], available: Sequence[str]) -> None:
        known = {c.lower() for c in available}
        for name in wanted:
            if name.lower() not in known:
                raise NodeError(
                    f"job {self.job}, node {node.id}, field '{fld}': no column {name!r} in its input",
                    hint=f"the input's columns: {', '.join(available)}",
                )

    def run(self, statement: str, *, defines: str | None = None) -> None:
        """Run and record a statement; ``defines``: the view or table it (re)creates."""
        self.statements.append(statement.strip() + ";")
        self.con.execute(statement)
        if defines is not None:
            self._described.pop(defines, None)

    # ---- sources

    def source(self, node: Source, files: SourceFiles) -> None:
        kind = "VIEW" if self.lazy else "TABLE"
        if not files.files and files.empty:  # Glue reads an empty file as no records
            if not files.columns:
                raise NodeError(
                    f"job {self.job}, node {node.id}: nothing to read: {', '.join(files.empty)} "
                    f"{'is' if len(files.empty) == 1 else 'are'} empty, with no columns to read",
                    hint="name a file with records (or its folder), or declare the source's columns to read none",
                    code="NoDataException",
                )
            nothing = ", ".join(f"CAST(NULL AS {_duck(t)}) AS {ident(n)}" for n, t in files.columns.items())
            self.run(f"CREATE OR REPLACE TEMP {kind} {ident(node.id)} AS SELECT {nothing} WHERE false", defines=node.id)
            return
        if not files.files:
            raise NodeError(
                f"job {self.job}, node {node.id}: no files to read at {node.path or node.table}",
                hint="check the path, or bookmarks: every file may have been processed already",
                code="NoDataException",
            )
        self.run(f"CREATE OR REPLACE TEMP {kind} {ident(node.id)} AS {self.read_sql(node, files)}", defines=node.id)

    def read_sql(self, node: Source, files: SourceFiles) -> str:
        paths = string_list(files.files)
        options = files.options
        if files.format == "parquet":
            select = f"SELECT * FROM read_parquet({paths}, union_by_name = true)"
            return self._cast(select, files.columns)
        if files.format == "json":
            select = f"SELECT * FROM read_json({paths}, format = 'auto')"
            found = {n.lower(): n for n in self._json_columns(node, files.files)}
            return self._cast(select, {found.get(k.lower(), k): v for k, v in files.columns.items()})
        dialect = csv_dialect(options, f"job {self.job}, node {node.id}")
        args = [
            paths,
            "auto_detect = false",
            f"header = {literal(dialect.header)}",
            f"delim = {literal(dialect.delimiter)}",
            f"quote = {literal(dialect.quote)}",
            f"escape = {literal(dialect.escape)}",
            f"max_line_size = {line_limit(files.files)}",
        ]
        if "encoding" in options:
            args.append(f"encoding = {literal(str(options['encoding']))}")
            self._check_utf16(node, files.files, dialect.encoding)
        if "null" in options:
            args.append(f"nullstr = {string_list(list(dialect.nulls))}")
        if "timestamp_format" in options:
            args.append(f"timestampformat = {literal(str(options['timestamp_format']))}")
        if "date_format" in options:
            args.append(f"dateformat = {literal(str(options['date_format']))}")
        names = csv_header(files.files[0], dialect.header, dialect.delimiter, dialect.quote, dialect.encoding)
        if files.names:  # a crawled table's
            if len(files.names) == len(names):
                names = list(files.names)  # as the catalog names them: Hive's CSV SerDe maps columns by position
        elif dialect.header and files.columns and not self.utf16_files(replace(files, files=files.files[:1])):
            self._check_declared(node, files, names, dialect.delimiter)  # a UTF-16 file is told apart later
        declared = {k.lower(): v for k, v in files.columns.items()}
        integers = integer_columns(declared)  # read as text, cast strictly below (DuckDB's own cast rounds 1.5)

        def read_as(name: str) -> str:
            return "VARCHAR" if name in integers or name not in declared else _duck(declared[name])

        typed = ", ".join(f"{literal(n)}: {literal(read_as(n.lower()))}" for n in names)
        args.append(f"columns = {{{typed}}}")
        if self.track_rejects:
            args += [
                "store_rejects = true",
                f"rejects_table = {literal(REJECTS_PREFIX + node.id)}",
                f"rejects_scan = {literal(REJECTS_PREFIX + node.id + '_scan')}",
            ]
        select = f"SELECT * FROM read_csv({', '.join(args)})"
        strict = [n for n in names if n.lower() in integers]
        if not strict:
            return select
        types = {n: _duck(integers[n.lower()]) for n in strict}
        if node.id in self.filtered:  # bad integers were found: leave their rows out (they are counted as rejected)
            casts = ", ".join(f"TRY_CAST({ident(n)} AS {types[n]}) AS {ident(n)}" for n in strict)
            return f"SELECT * REPLACE ({casts}) FROM ({select}) WHERE {filter_clause(strict, types)}"
        casts = ", ".join(f"{checked_cast(n, types[n])} AS {ident(n)}" for n in strict)
        return f"SELECT * REPLACE ({casts}) FROM ({select})"

    def utf16_files(self, files: SourceFiles) -> dict[str, str]:
        """A CSV source's files that look like UTF-16 text when it reads UTF-8 (path → why)."""
        if files.format != "csv" or csv_dialect(files.options).encoding.lower().replace("_", "-") not in UTF8_NAMES:
            return {}
        found = {path: utf16(path) for path in files.files}
        return {path: why for path, why in found.items() if why is not None}

    def _check_utf16(self, node: Source, paths: Sequence[str], encoding: str) -> None:
        """DuckDB's ``utf-16`` reads little-endian text; a big-endian file would read as no rows, silently."""
        if encoding.lower().replace("_", "-") not in ("utf-16", "utf16"):
            return
        for path in paths:
            with open(path, "rb") as handle:
                if handle.read(2) == b"\xfe\xff":
                    raise NodeError(
                        f"job {self.job}, node {node.id}: {self.uri(path)} is UTF-16 big-endian text, which the "
                        "utf-16 encoding does not read (it reads little-endian text)",
                        hint="convert the file to UTF-8 (iconv -f UTF-16 -t UTF-8), and drop options.encoding",
                    )

    def _check_declared(self, node: Source, files: SourceFiles, names: Sequence[str], delimiter: str) -> None:
        """Every declared column is a column of the file's header (else the wrong delimiter, most often)."""
        header = {n.lower() for n in names}
        missing = [c for c in files.columns if c.lower() not in header]
        if not missing:
            return
        uri = self.uri(files.files[0])
        others = [d for d in (",", ";", "\t", "|") if d != delimiter and any(d in n for n in names)]
        if others:
            hint = (
                f"its header reads as {', '.join(repr(n) for n in names)}: it looks {others[0]!r}-delimited; "
                f"set the source's options.delimiter to {others[0]!r}"
            )
        else:
            hint = f"the file's columns: {', '.join(names)}; declare only those (or check options.delimiter)"
        raise NodeError(
            f"job {self.job}, node {node.id}: {uri}: declared column {missing[0]!r} is not in the file's header "
            f"(read with delimiter {delimiter!r})",
            hint=hint,
        )

    def _json_columns(self, node: Source, files: Sequence[str]) -> list[str]:
        import duckdb

        def describe(paths: Sequence[str]) -> list[str]:
            sql = f"DESCRIBE SELECT * FROM read_json({string_list(list(paths))}, format = 'auto') LIMIT 0"
            return [r[0] for r in self.con.execute(sql).fetchall()]

        try:
            return describe(files)
        except duckdb.Error as exc:
            culprit = files[0]
            if len(files) > 1:  # which file: the first one DuckDB cannot read alone
                for path in files:
                    try:
                        describe([path])
                    except duckdb.Error:
                        culprit = path
                        break
            message = self.engine_message(exc)
            hint = (
                "DuckDB reads JSON nested at most 128 levels deep: flatten the file's records"
                if "recursion depth" in message
                else "check the file against the source's format (JSON Lines: one JSON object per line)"
            )
            raise NodeError(f"job {self.job}, node {node.id}: {self.uri(culprit)}: {message}", hint=hint) from None

    def engine_message(self, exc: BaseException) -> str:
        """DuckDB's message, first line only, without its error class, local paths written as URIs."""
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        for prefix in ("Invalid Input Error: ", "Binder Error: ", "IO Error: ", "Conversion Error: "):
            first = first.removeprefix(prefix)
        return self.local_to_uris(first)

    def uri(self, path: str) -> str:
        """A local file's ``s3://`` URI (the path itself when it has none)."""
        return self.uris.get(path, path)

    def local_to_uris(self, text: str) -> str:
        """``text`` with the local paths of the files the job reads written as their ``s3://`` URIs."""
        for path in sorted(self.uris, key=len, reverse=True):
            if path in text:
                text = text.replace(path, self.uris[path])
        return text

    @staticmethod
    def _cast(select: str, columns: Mapping[str, str]) -> str:
        if not columns:
            return select
        casts = ", ".join(f"CAST({ident(n)} AS {_duck(t)}) AS {ident(n)}" for n, t in columns.items())
        return f"SELECT * REPLACE ({casts}) FROM ({select})"

    # ---- transforms

    def transform(self, node: Node) -> None:
        builders: dict[type[Node], Callable[[Any], str]] = {
            ApplyMapping: self._apply_mapping,
            SelectFields: self._select,
            DropFields: self._drop,
            Filter: self._filter,
            Derive: self._derive,
            Join: self._join,
            Union: self._union,
            Aggregate: self._aggregate,
            DropDuplicates: self._distinct,
            FillMissing: self._fill,
            Sql: self._sql,
            Sink: self._sink,
        }
        build = builders.get(type(node))
        if build is None:
            raise NodeError(f"job {self.job}, node {node.id}: {node.type} nodes are not compiled here")
        self.run(f"CREATE OR REPLACE TEMP VIEW {ident(node.id)} AS {build(node)}", defines=node.id)

    def _apply_mapping(self, node: ApplyMapping) -> str:
        (source,) = node.inputs
        self._need(node, "mappings", [m.source for m in node.mappings], self.columns(source))
        parts = ", ".join(f"CAST({ident(m.source)} AS {_duck(m.type)}) AS {ident(m.target)}" for m in node.mappings)
        return f"SELECT {parts} FROM {ident(source)}"

    def _select(self, node: SelectFields) -> str:
        (source,) = node.inputs
        self._need(node, "fields", node.fields, self.columns(source))
        return f"SELECT {', '.join(ident(f) for f in node.fields)} FROM {ident(source)}"

    def _drop(self, node: DropFields) -> str:
        (source,) = node.inputs
        self._need(node, "fields", node.fields, self.columns(source))
        return f"SELECT * EXCLUDE ({', '.join(ident(f) for f in node.fields)}) FROM {ident(source)}"

    def _filter(self, node: Filter) -> str:
        (source,) = node.inputs
        return f"SELECT * FROM {ident(source)} WHERE ({node.condition})"

    def _derive(self, node: Derive) -> str:
        (source,) = node.inputs
        existing = {c.lower() for c in self.columns(source)}
        replaced = [f"({expr}) AS {ident(name)}" for name, expr in node.columns.items() if name.lower() in existing]
        added = [f"({expr}) AS {ident(name)}" for name, expr in node.columns.items() if name.lower() not in existing]
        star = f"* REPLACE ({', '.join(replaced)})" if replaced else "*"
        return f"SELECT {', '.join([star, *added])} FROM {ident(source)}"

    def _join(self, node: Join) -> str:
        left, right = node.inputs
        left_cols, right_cols = self.columns(left), self.columns(right)
        self._need(node, "on", [lk for lk, _ in node.on], left_cols)
        self._need(node, "on", [rk for _, rk in node.on], right_cols)
        condition = " AND ".join(f"l.{ident(lk)} = r.{ident(rk)}" for lk, rk in node.on)
        if node.how in ("semi", "anti"):
            return f"SELECT l.* FROM {ident(left)} AS l {node.how.upper()} JOIN {ident(right)} AS r ON {condition}"
        right_keys = {rk.lower() for _, rk in node.on} if node.drop_duplicate_keys else set()
        prefix = node.right_prefix or f"{right}_"
        taken = {c.lower() for c in left_cols}
        picks: list[str] = []
        if node.drop_duplicate_keys and node.how in ("right", "full"):
            # the left key is NULL on rows only the right side has: take the key from whichever side has it
            coalesced = {lk.lower(): rk for lk, rk in node.on}
            picks += [
                f"COALESCE(l.{ident(c)}, r.{ident(coalesced[c.lower()])}) AS {ident(c)}"
                if c.lower() in coalesced
                else f"l.{ident(c)}"
                for c in left_cols
            ]
        else:
            picks.append("l.*")
        for column in right_cols:
            if column.lower() in right_keys:
                continue
            name = column if column.lower() not in taken else prefix + column
            taken.add(name.lower())
            picks.append(f"r.{ident(column)}" + (f" AS {ident(name)}" if name != column else ""))
        kind = {"inner": "INNER", "left": "LEFT", "right": "RIGHT", "full": "FULL OUTER"}[node.how]
        return f"SELECT {', '.join(picks)} FROM {ident(left)} AS l {kind} JOIN {ident(right)} AS r ON {condition}"

    def _union(self, node: Union) -> str:
        glue = " UNION BY NAME " if node.by_name else " UNION "
        if not node.distinct:
            glue = glue.replace("UNION", "UNION ALL")
        return glue.join(f"SELECT * FROM {ident(i)}" for i in node.inputs)

    def _aggregate(self, node: Aggregate) -> str:
        (source,) = node.inputs
        self._need(node, "group_by", node.group_by, self.columns(source))
        keys = [ident(k) for k in node.group_by]
        aggs = [f"{expr} AS {ident(name)}" for name, expr in node.aggregations.items()]
        group = f" GROUP BY {', '.join(keys)}" if keys else ""
        return f"SELECT {', '.join([*keys, *aggs])} FROM {ident(source)}{group}"

    def _distinct(self, node: DropDuplicates) -> str:
        (source,) = node.inputs
        columns = self.columns(source)
        if not node.keys:
            return f"SELECT DISTINCT * FROM {ident(source)}"
        self._need(node, "keys", node.keys, columns)
        order = ", ".join(f"{ident(c)} NULLS LAST" for c in columns)
        partition = ", ".join(ident(k) for k in node.keys)
        return (
            f"SELECT * FROM {ident(source)} QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {order}) = 1"
        )

    def _fill(self, node: FillMissing) -> str:
        (source,) = node.inputs
        self._need(node, "values", list(node.values), self.columns(source))
        parts = ", ".join(f"COALESCE({ident(c)}, {literal(v)}) AS {ident(c)}" for c, v in node.values.items())
        return f"SELECT * REPLACE ({parts}) FROM {ident(source)}"

    def _sql(self, node: Sql) -> str:
        return f"({node.query.strip().rstrip(';')})"

    def _sink(self, node: Sink) -> str:
        (source,) = node.inputs
        self._need(node, "partition_by", node.partition_by, self.columns(source))
        self._need(node, "keys", node.keys, self.columns(source))
        return f"SELECT * FROM {ident(source)}"
