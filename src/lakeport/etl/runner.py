"""Carrying out one job run on DuckDB: find the input files, read them, transform, write, commit.

The phases, in order, each logged to the run's stream:

1. settle bookmarks (pending entries of committed runs become processed) and list each source's objects,
   leaving out processed ones when bookmarks are on;
2. read each source once into DuckDB (declared types; rows that do not parse or fit are bad records, handled
   by the job's policy: fail with file, line, column and value; drop and count; or quarantine);
3. for each sink: plan the table's schema, write Parquet files with one DuckDB ``COPY`` into the table's
   ``data/`` folder, flush them to disk, and make them visible with ONE Iceberg commit carrying the run id.

``LAKEPORT_FAILPOINT=<phase>`` kills the process at a phase (``files-written``, ``files-synced``,
``before-commit``, ``after-commit``): the crash tests use it to prove each phase leaves a whole snapshot.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.catalog.names import split_table_name
from lakeport.engines.duckdb_sandbox import NO_EXTENSIONS, lock_down
from lakeport.errors import InvalidInput
from lakeport.etl.bad_records import (
    Reject,
    diagnose_integers,
    duckdb_rejects,
    fail_on,
    integer_rejects,
    one_per_line,
    write_quarantine,
)
from lakeport.etl.bookmarks import Bookmarks
from lakeport.etl.compiler import Compiler, SourceFiles, blank
from lakeport.etl.definition import JobDefinition
from lakeport.etl.failures import NoSpaceLeft, OutOfMemory, failpoint, is_disk_full
from lakeport.etl.metrics import Metrics
from lakeport.etl.nodes import Join, NodeError, Sink, Source
from lakeport.etl.strict_integers import BAD_INTEGER_MARK
from lakeport.sqltext import ident, literal, string_list
from lakeport.warehouse.warehouse import fsync_files

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from lakeport.catalog import Catalog
    from lakeport.catalog.types import HiveType
    from lakeport.observe import LogStore
    from lakeport.storage import Storage
    from lakeport.storage.objects import ObjectInfo
    from lakeport.warehouse import Warehouse


@dataclass
class _Written:
    """A sink's files, written and flushed, waiting for their commit."""

    node: Sink
    database: str
    table: str
    out_dir: Path
    files: list[str]
    columns: list[tuple[str, HiveType]]
    mode: str
    expected: int | str | None
    replace_values: list[dict[str, Any]]
    started: float

    def discard(self) -> None:
        shutil.rmtree(self.out_dir, ignore_errors=True)

    def schema(self) -> pa.Schema:
        import pyarrow as pa

        from lakeport.catalog.types import to_arrow

        return pa.schema([pa.field(name, to_arrow(kind)) for name, kind in self.columns])


def duckdb_error() -> type[Exception]:
    import duckdb

    return duckdb.Error


def _scans(tree: Any) -> Iterator[dict[str, Any]]:
    """The table-scan operators of a DuckDB JSON profile."""
    stack = list(tree.get("operator", [])) if isinstance(tree, dict) else []
    while stack:
        node = stack.pop()
        if node.get("type") == "TABLE_SCAN" or node.get("operator_type") == "TABLE_SCAN":
            yield node
        stack.extend(node.get("children", []))


@dataclass
class RunEnvironment:
    """The services a run uses (given by the jobs service)."""

    storage: Storage
    catalog: Catalog
    warehouse: Warehouse
    logs: LogStore
    db: Any
    work_dir: Path  # scratch space (DuckDB spills, downloaded S3 objects)
    objects_root: Path | None  # the local backend's folder, or None on S3
    threads: int = 0


class JobRunner:
    def __init__(
        self,
        env: RunEnvironment,
        definition: JobDefinition,
        run_id: str,
        *,
        arguments: Mapping[str, str] | None = None,
        bookmark_option: str = "",
        attempt: int = 1,
        log: Callable[[str, str], None] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.env = env
        self.definition, self.nodes = definition.resolved(arguments)
        self.run_id = run_id
        self.attempt = attempt
        option = bookmark_option or ("enable" if definition.bookmarks else "disable")
        if option not in ("enable", "disable", "pause"):
            raise InvalidInput(f"bookmark option {option!r} is not one of enable, disable, pause")
        self.bookmark_option = option
        self.bookmarks = Bookmarks(env.db, definition.name)
        self.metrics = Metrics()
        self._log = log or (lambda level, message: None)
        self._progress = progress or (lambda message: None)
        self._consumed: list[ObjectInfo] = []
        self._sources: dict[str, SourceFiles] = {}
        self._scanned: dict[str, int] = {}
        self._bookmarked_away: dict[str, bool] = {}
        self._local_to_uri: dict[str, str] = {}
        self._source_nodes: dict[str, Source] = {}
        self._bad_integers: dict[str, list[Reject]] = {}  # per source, found by the strict integer check
        self._utf16: dict[str, dict[str, str]] = {}  # per CSV source read as UTF-8: its UTF-16 files (path → why)
        self.con: duckdb.DuckDBPyConnection | None = None
        self.compiler: Compiler | None = None

    def log(self, message: str, level: str = "INFO") -> None:
        self._log(level, message)

    # ---- the whole run

    def execute(self) -> dict[str, Any]:
        started = time.monotonic()
        # pyiceberg takes a second or more to import; DuckDB reads the sources without holding the GIL, so
        # import it meanwhile and the commit finds it loaded.
        warm = threading.Thread(target=_prewarm, name="prewarm-iceberg", daemon=True)
        warm.start()
        try:
            self._prepare()
            if self.definition.kind == "python":
                self._python()
            else:
                self._dag()
        except duckdb_error() as exc:
            import duckdb

            if not isinstance(exc, duckdb.OutOfMemoryException):
                raise
            limit = self.definition.memory_limit or "DuckDB's default, 80% of RAM"
            first = str(exc).splitlines()[0]
            raise OutOfMemory(
                f"job {self.definition.name} ran out of memory (memory_limit {limit}): {first}",
                hint="raise the job's memory_limit (empty: DuckDB's default), or give each run less to read (bookmarks)",
            ) from None
        finally:
            if self.con is not None:
                self.con.close()
        metrics = self.metrics.to_dict()
        metrics["seconds"] = round(time.monotonic() - started, 3)
        return metrics

    def plan(
        self, *, preview: str | None = None, limit: int = 20
    ) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
        """Compile without running: (the SQL statements, preview columns, preview rows of node ``preview``).

        Sources are views here, so nothing is read but what the preview's ``LIMIT`` needs; bookmarks are not
        touched. This is Glue's generated-script view and Glue Studio's data preview.
        """
        import duckdb

        self.bookmark_option = "disable"
        spill = self.env.work_dir / "duckdb"
        spill.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(config={"temp_directory": str(spill), **NO_EXTENSIONS})
        self.con.execute("LOAD icu")
        lock_down(self.con, self._readable())
        self.compiler = Compiler(
            self.definition.name, self.con, track_rejects=False, lazy=True, uris=self._local_to_uri
        )
        try:
            if self.definition.kind != "dag":
                raise InvalidInput(
                    f"job {self.definition.name} is a python job: its script is {self.definition.script}"
                )
            ordered = self.definition.order_nodes(self.nodes)
            for node in ordered:
                if isinstance(node, Source):
                    self.compiler.source(node, self._source_files(node))
                else:
                    self.compiler.transform(node)
            for node in ordered:
                if isinstance(node, Sink):
                    self.compiler.statements.append(
                        f"COPY (SELECT * FROM {ident(node.id)}) TO '<{node.table} data folder>' (FORMAT parquet, "
                        f"COMPRESSION {node.compression}); -- then one Iceberg commit ({node.mode})"
                    )
            columns: list[str] = []
            rows: list[tuple[Any, ...]] = []
            if preview is not None:
                self.definition.node(preview)
                cursor = self.con.execute(f"SELECT * FROM {ident(preview)} LIMIT {int(limit)}")
                columns = [d[0] for d in cursor.description or []]
                rows = cursor.fetchall()
            return list(self.compiler.statements), columns, rows
        except duckdb.Error as exc:  # the source's files do not read as the job says (a 400, not a crash)
            text = self.compiler.local_to_uris(str(exc))
            first, *_ = text.splitlines() or [type(exc).__name__]
            where = next((line.strip() for line in text.splitlines() if line.strip().startswith("file =")), "")
            raise InvalidInput(
                f"job {self.definition.name}: {'node ' + preview if preview else 'the plan'} cannot be read: {first}"
                + (f" ({where})" if where else ""),
                hint="check the source's files against its format and options",
            ) from None
        finally:
            self.con.close()
            self.con = None

    def _prepare(self) -> None:
        import duckdb

        if self.bookmark_option != "disable":
            committed = self._committed_run_ids()
            kept, dropped = self.bookmarks.settle(committed)
            if kept or dropped:
                self.log(f"bookmark: {kept} objects of committed runs kept, {dropped} of uncommitted runs forgotten")
        spill = self.env.work_dir / "duckdb"
        spill.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {"temp_directory": str(spill), "preserve_insertion_order": False, **NO_EXTENSIONS}
        if self.definition.memory_limit:
            config["memory_limit"] = self.definition.memory_limit
        if self.env.threads:
            config["threads"] = self.env.threads
        self.con = duckdb.connect(config=config)
        self.con.execute("LOAD icu")  # bundled; loaded up front since nothing is auto-loaded in the sandbox
        # every statement profiled in memory (no output): a sink's COPY reports the rows each source's scan read
        self.con.execute("SET enable_profiling = 'no_output'")
        self.con.execute("SET profiling_coverage = 'ALL'")
        lock_down(self.con, self._readable())
        # Sources are views: each sink's COPY streams them through the whole plan in one pass. Their row counts
        # come from DuckDB's profile of that plan, their bad records from the CSV rejects tables.
        self.compiler = Compiler(self.definition.name, self.con, track_rejects=True, lazy=True, uris=self._local_to_uri)

    def _readable(self) -> list[Path]:
        """The folders a job's SQL may open: the lake's objects (staging, the warehouse) and the run's scratch
        folder (spills, objects downloaded from S3) — never the metadata database or the credentials."""
        self.env.work_dir.mkdir(parents=True, exist_ok=True)
        return [self.env.work_dir] if self.env.objects_root is None else [self.env.objects_root, self.env.work_dir]

    def _committed_run_ids(self) -> set[str]:
        """Run ids recorded in the snapshots of the tables this job writes."""
        ids: set[str] = set()
        for node in self.nodes:
            if isinstance(node, Sink):
                database, table = split_table_name(node.table)
                if self.env.warehouse.load(database, table) is None:
                    continue
                for snapshot in self.env.warehouse.history(database, table):
                    run = snapshot.summary.get("lakeport.run-id")
                    if run:
                        ids.add(run)
        return ids

    def _dag(self) -> None:
        assert self.compiler is not None
        ordered = self.definition.order_nodes(self.nodes)
        for node in ordered:
            if isinstance(node, Source):
                if not self.read_source(node):
                    self.log(f"source {node.id}: nothing new since the bookmark; the run writes nothing")
                    for other in self.nodes:
                        if isinstance(other, Source):
                            self.metrics.sources.setdefault(
                                other.id,
                                {"files": 0, "bytes": 0, "rows_read": 0, "rows_accepted": 0, "rows_rejected": 0},
                            )
                    return
            else:
                self.compiler.transform(node)
                if isinstance(node, Join) and self.definition.memory_limit:
                    self._stage(node)
        sinks = [n for n in ordered if isinstance(n, Sink)]
        if self._consumed and self.bookmark_option == "enable":
            self.bookmarks.record_pending(self.run_id, self._consumed)
        pending: list[_Written] = []
        try:
            for sink in sinks:
                pending.append(self.write_files(sink))
            self.account()
        except BaseException:
            for written in pending:
                written.discard()
            raise
        for written in pending:
            self.commit(written)

    # ---- sources

    def read_source(self, node: Source) -> bool:
        """Declare a source (a view over its files), read by the plans that use it; False: bookmarks left nothing."""
        assert self.compiler is not None
        files = self._source_files(node)
        if not files.files and self._bookmarked_away.get(node.id):
            return False
        self._progress(f"reading {node.id}: {len(files.files)} files")
        self.log(f"source {node.id}: {len(files.files)} files, {files.bytes} bytes ({files.format})")
        if files.empty:
            self.log(f"source {node.id}: {len(files.empty)} empty files read as no records: {', '.join(files.empty)}")
        try:
            self.compiler.source(node, files)
        except duckdb_error() as exc:  # a file DuckDB cannot read at all: name the job, the node and the object
            message = self.compiler.engine_message(exc)
            if "s3://" not in message and len(files.files) == 1:
                message += f" (reading {self._local_to_uri.get(files.files[0], files.files[0])})"
            raise NodeError(
                f"job {self.definition.name}, node {node.id}: {message}",
                hint="check the source's files against its format and options",
            ) from None
        utf16 = self.compiler.utf16_files(files)
        if utf16:
            self._utf16[node.id] = utf16
        self._sources[node.id] = files
        self._source_nodes[node.id] = node
        return True

    def account(self) -> None:
        """Rows read per source (from the plans' profiles, or a count where no plan read it whole) and bad records.

        Raises BadRecords under the ``fail`` policy, before anything is committed.
        """
        assert self.con is not None
        for source_id, files in self._sources.items():
            if source_id in self.metrics.sources:
                continue
            accepted = None if source_id in self._bad_integers else self._scanned.get(source_id)
            if accepted is None:
                row = self.con.execute(f"SELECT count(*) FROM {ident(source_id)}").fetchone()
                accepted = int(row[0]) if row else 0
            node = Source(id=source_id, format=files.format, path="-")
            rejected = self._rejects(node, files) if files.format == "csv" else 0
            self.metrics.sources[source_id] = {
                "files": len(files.files),
                "bytes": files.bytes,
                "rows_read": accepted + rejected,
                "rows_accepted": accepted,
                "rows_rejected": rejected,
            }

    def _profiled(self, statement: str, name: str) -> None:
        """Run ``statement`` (profiled, as every statement of the locked-down connection is) and note how many
        rows each source's scan produced."""
        assert self.con is not None
        self.con.execute(statement)
        try:
            tree = json.loads(self.con.get_profiling_information(format="json"))
        except (duckdb_error(), ValueError):
            return
        first_files = {files.files[0]: sid for sid, files in self._sources.items() if files.files}
        for scan in _scans(tree):
            info = scan.get("extra_info", {})
            if info.get("Filters") or info.get("Dynamic Filters"):
                continue  # rows were filtered inside the scan: its count is not the rows read
            names = info.get("Filename(s)", "")
            first = str(names).split(",")[0].strip() if names else ""
            source_id = first_files.get(first)
            if source_id is not None:
                rows = int(scan.get("intermediate_rows") or scan.get("operator_cardinality") or 0)
                self._scanned[source_id] = max(rows, self._scanned.get(source_id, 0))

    def _stage(self, node: Join) -> None:
        """Under a memory limit, a join's rows go to scratch Parquet files that the next nodes read: DuckDB then
        holds (and spills) one join's hash table at a time, where one plan would build every join's at once."""
        assert self.compiler is not None
        folder = self.env.work_dir / "stages" / node.id
        folder.parent.mkdir(parents=True, exist_ok=True)
        self._progress(f"join {node.id}: staging its rows")
        started = time.perf_counter()
        statement = (
            f"COPY (SELECT * FROM {ident(node.id)}) TO {literal(str(folder))} "
            "(FORMAT parquet, COMPRESSION snappy, PER_THREAD_OUTPUT true)"
        )
        self.compiler.statements.append(statement + ";")
        self._write(statement, node.id, folder)
        files = literal(str(folder / "*.parquet"))
        self.compiler.run(
            f"CREATE OR REPLACE TEMP VIEW {ident(node.id)} AS SELECT * FROM read_parquet({files})", defines=node.id
        )
        self.log(f"join {node.id}: staged in {time.perf_counter() - started:.2f}s (memory_limit set)")

    def _write(self, statement: str, name: str, out_dir: Path) -> None:
        """Run a sink's COPY; when the strict integer check stops it, handle the bad rows and run it again."""
        import duckdb

        while True:
            try:
                self._profiled(statement, name)
                return
            except duckdb.Error as exc:
                if BAD_INTEGER_MARK not in str(exc) or not self._diagnose_integers():
                    raise
                shutil.rmtree(out_dir, ignore_errors=True)

    def _source_files(self, node: Source) -> SourceFiles:
        if node.table:
            return self._table_files(node)
        bucket, key = _split_uri(node.path)
        objects = self._list(bucket, key)
        if node.bookmark and self.bookmark_option != "disable":
            seen = self.bookmarks.processed()
            before = len(objects)
            objects = [o for o in objects if (o.bucket, o.key, o.etag) not in seen]
            if before != len(objects):
                self.log(f"source {node.id}: bookmark skips {before - len(objects)} processed objects")
            self._bookmarked_away[node.id] = before > 0 and not objects
            self._consumed += objects
        paths = [self._local(o) for o in objects]
        return self._without_blank(
            SourceFiles(node.id, paths, node.format, node.options, node.columns, sum(o.size for o in objects))
        )

    def _without_blank(self, files: SourceFiles) -> SourceFiles:
        """The files minus those holding no records (read as none, as Glue reads an empty file)."""
        empty = [path for path in files.files if blank(path, files.format)]
        if not empty:
            return files
        return replace(
            files,
            files=[path for path in files.files if path not in empty],
            empty=tuple(self._local_to_uri.get(path, path) for path in empty),
        )

    def _list(self, bucket: str, key: str) -> list[ObjectInfo]:
        from lakeport.crawler.targets import hidden

        storage = self.env.storage
        if key and not key.endswith("/") and storage.object_exists(bucket, key):
            return [storage.head_object(bucket, key)]
        prefix = key if not key or key.endswith("/") else key + "/"
        return [
            info
            for info in storage.iter_objects(bucket, prefix=prefix)
            if not hidden(info.key[len(prefix) :]) and info.size > 0
        ]

    def _local(self, info: ObjectInfo) -> str:
        """A path DuckDB can read for an object: the file itself on a local lake, a downloaded copy on S3."""
        if self.env.objects_root is not None:
            path = str(self.env.objects_root / info.bucket / info.key)
        else:
            target = self.env.work_dir / "objects" / info.bucket / info.key
            target.parent.mkdir(parents=True, exist_ok=True)
            self.env.storage.download_file(info.bucket, info.key, target)
            path = str(target)
        self._local_to_uri[path] = info.uri
        return path

    def _table_files(self, node: Source) -> SourceFiles:
        database, table = split_table_name(node.table)
        found = self.env.catalog.get_table(database, table)
        if found.table_type == "ICEBERG":
            files = self.env.warehouse.data_files(database, table)
            return SourceFiles(
                node.id, files, "parquet", {}, node.columns, sum(os.path.getsize(f) for f in files if os.path.exists(f))
            )
        bucket, key = _split_uri(found.location)
        objects = self._list(bucket, key)
        fmt = found.format
        options: dict[str, Any] = {"header": fmt.header}
        if fmt.delimiter:
            options["delimiter"] = fmt.delimiter
        if fmt.quote:
            options["quote"] = fmt.quote
        if fmt.escape:
            options["escape"] = fmt.escape
        declared = {c.name: c.type for c in found.columns} | dict(node.columns)
        kind = fmt.classification if fmt.classification in ("csv", "json", "parquet") else "parquet"
        return self._without_blank(
            SourceFiles(
                node.id,
                [self._local(o) for o in objects],
                kind,
                options | dict(node.options),
                declared,
                sum(o.size for o in objects),
                names=tuple(c.name for c in found.columns) if kind == "csv" else (),
            )
        )

    def _rejects(self, node: Source, files: SourceFiles) -> int:
        """Handle a CSV source's bad rows by the job's policy; returns how many rows were rejected."""
        assert self.con is not None
        found = duckdb_rejects(self.con, node.id, self._local_to_uri) + self._bad_integers.get(node.id, [])
        self._refuse_utf16(node.id, found)
        rejects = one_per_line(found)
        if not rejects:
            return 0
        policy = self.definition.bad_records
        if policy == "fail":
            raise fail_on(self.definition.name, node.id, rejects)
        if policy == "quarantine":
            key = f"warehouse/_quarantine/{self.definition.name}/{self.run_id}/{node.id}.csv"
            target = self.env.work_dir / "quarantine" / f"{node.id}.csv"
            write_quarantine(rejects, target)
            self.env.storage.upload_file(target, self.env.warehouse.bucket, key)
            self.metrics.quarantine.append(f"s3://{self.env.warehouse.bucket}/{key}")
            self.metrics.rows_quarantined += len(rejects)
        else:
            self.metrics.rows_dropped += len(rejects)
        first = rejects[0]
        self.log(
            f"source {node.id}: {len(rejects)} bad rows {policy}ped; first at {first.file}, line {first.line}: "
            f"{first.message}",
            "WARN",
        )
        return len(rejects)

    def _refuse_utf16(self, source_id: str, rejects: Sequence[Reject]) -> None:
        """A UTF-16 file read as UTF-8 is not a few bad records but a whole file of NUL-laden text: whatever the
        policy, the run fails naming the file, the first line DuckDB could not read and what to do."""
        found = self._utf16.get(source_id)
        if not found:
            return
        path, why = next(iter(found.items()))
        uri = self._local_to_uri.get(path, path)
        lines = sorted(r.line for r in rejects if r.file == uri)
        where = f", line {lines[0]}" if lines else ""
        raise InvalidInput(
            f"job {self.definition.name}, node {source_id}: {uri}{where}: not UTF-8 encoded: the file is UTF-16 "
            f"text ({why})",
            hint="convert the file to UTF-8 (iconv -f UTF-16 -t UTF-8), or set the source's options.encoding to utf-16",
        )

    def _diagnose_integers(self) -> bool:
        """After the strict integer check fired: find the bad rows, then fail or read those sources without them.

        Returns whether any source had some (and is now read again without them).
        """
        assert self.compiler is not None
        found_any = False
        for source_id, files in self._sources.items():
            if source_id in self._bad_integers:
                continue
            if source_id in self._utf16:
                assert self.con is not None
                self._refuse_utf16(source_id, duckdb_rejects(self.con, source_id, self._local_to_uri))
            found = diagnose_integers(files)
            if not found:
                continue
            found_any = True
            rejects = integer_rejects(found, self._local_to_uri)
            self._bad_integers[source_id] = rejects
            if self.definition.bad_records == "fail":
                assert self.con is not None
                raise fail_on(
                    self.definition.name,
                    source_id,
                    one_per_line(duckdb_rejects(self.con, source_id, self._local_to_uri) + rejects),
                )
            self.log(f"source {source_id}: {len(found)} rows with bad integers; reading it again without them")
            self.compiler.filtered.add(source_id)
            self.compiler.source(self._source_nodes[source_id], files)
        return found_any

    # ---- sinks

    def write_sink(self, node: Sink) -> None:
        """Write and commit one sink (Python jobs' ``ctx.write``)."""
        written = self.write_files(node)
        try:
            self.account()
        except BaseException:
            written.discard()
            raise
        self.commit(written)

    def write_files(self, node: Sink) -> _Written:
        """Run the sink's plan: Parquet files in the table's data folder, flushed, not yet visible."""
        assert self.con is not None
        assert self.compiler is not None
        database, table = split_table_name(node.table)
        warehouse = self.env.warehouse
        self._progress(f"writing {node.table}")
        # Hive types from DuckDB's own description, the table's from lakeport's catalog: neither Arrow nor Iceberg
        # is needed before the COPY, so their imports (a second or so) overlap DuckDB's work (see _prewarm).
        incoming = _described(self.con, node.id)
        target = warehouse.target_columns(database, table, incoming)
        source = ident(node.id)
        expected: int | str | None = "any"
        mode = {"append": "append", "overwrite": "overwrite", "overwrite_partitions": "overwrite_partitions"}.get(
            node.mode, "replace"
        )
        if node.mode == "merge":
            current = warehouse.load(database, table)
            snapshot = current.current_snapshot() if current is not None else None
            expected = snapshot.snapshot_id if snapshot is not None else None
            old = warehouse.data_files(database, table) if snapshot is not None else []
            if old:
                keys = ", ".join(ident(k) for k in node.keys)
                merged = (
                    f"(SELECT * FROM (SELECT * FROM read_parquet({string_list(old)}, union_by_name = true)) AS o "
                    f"ANTI JOIN {source} AS n USING ({keys}) UNION ALL BY NAME SELECT * FROM {source})"
                )
                source = merged
        incoming_names = {name.lower() for name, _ in incoming}
        from lakeport.catalog.types import to_duckdb

        columns = [
            (
                f"CAST({ident(name)} AS {to_duckdb(kind)})"
                if name.lower() in incoming_names
                else f"CAST(NULL AS {to_duckdb(kind)})"
            )
            + f" AS {ident(name)}"
            for name, kind in target
        ]
        query = f"SELECT {', '.join(columns)} FROM {source}"
        out_dir = (
            warehouse.data_dir(database, table) / f"run-{self.run_id}-{node.id}"
            if self.env.objects_root
            else self.env.work_dir / "out" / node.id
        )
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        options = [
            "FORMAT parquet",
            f"COMPRESSION {literal(node.compression)}",
            f"FILE_SIZE_BYTES '{node.target_file_size_mb}MB'",
        ]
        if node.partition_by:
            options += [
                f"PARTITION_BY ({', '.join(ident(p) for p in node.partition_by)})",
                "WRITE_PARTITION_COLUMNS true",
            ]
        started = time.monotonic()
        statement = f"COPY ({query}) TO {literal(str(out_dir))} ({', '.join(options)})"
        self.compiler.statements.append(statement + ";")
        try:
            self._write(statement, node.id, out_dir)
            files = sorted(str(p) for p in out_dir.rglob("*.parquet")) if out_dir.exists() else []
            failpoint("files-written")
            fsync_files(files)
        except BaseException as exc:
            shutil.rmtree(out_dir, ignore_errors=True)  # nothing refers to a failed write's files: free their space
            if is_disk_full(exc):
                raise self._no_space(database, table, out_dir) from exc
            if isinstance(exc, duckdb_error()):  # a file read by the plan: its URI, never its local path
                for source_id in self._utf16:
                    self._refuse_utf16(source_id, [])
                raise InvalidInput(
                    f"job {self.definition.name}, node {node.id}: {self.compiler.engine_message(exc)}",
                    hint="check the sources' files against their formats and options",
                ) from exc
            raise
        failpoint("files-synced")
        replace_values: list[dict[str, Any]] = []
        if node.mode == "overwrite_partitions" and files:
            keys = ", ".join(ident(p) for p in node.partition_by)
            rows = self.con.execute(f"SELECT DISTINCT {keys} FROM read_parquet({string_list(files)})").fetchall()
            replace_values = [dict(zip(node.partition_by, r, strict=True)) for r in rows]
        return _Written(node, database, table, out_dir, files, target, mode, expected, replace_values, started)

    def commit(self, written: _Written) -> None:
        """Make a sink's files visible in one Iceberg commit tagged with the run id."""
        node, database, table, files = written.node, written.database, written.table, written.files
        warehouse = self.env.warehouse
        if self.env.objects_root is None:
            files = self._upload(database, table, written.out_dir, files)
        properties = {
            "lakeport.job": self.definition.name,
            "lakeport.run-id": self.run_id,
            "lakeport.attempt": str(self.attempt),
        }
        failpoint("before-commit")
        try:
            result = warehouse.commit(
                database,
                table,
                files=files,
                schema=written.schema(),
                mode=written.mode,
                partition_by=node.partition_by,
                properties=properties,
                replace_values=written.replace_values,
                expected_snapshot=written.expected,
            )
        except BaseException as exc:
            if not is_disk_full(exc):
                raise
            if self._committed(database, table) is False:  # the swap did not happen: the files are nobody's
                written.discard()
            raise self._no_space(database, table, written.out_dir) from exc
        failpoint("after-commit")
        self.metrics.sinks[node.id] = {
            "table": f"{database}.{table}",
            "mode": node.mode,
            "snapshot_id": result.snapshot_id,
            "rows_written": result.rows_added,
            "files_written": result.files_added,
            "bytes_written": result.bytes_added,
            "seconds": round(time.monotonic() - written.started, 3),
        }
        self.log(
            f"sink {node.id}: {result.rows_added} rows in {result.files_added} files committed to "
            f"{database}.{table} as snapshot {result.snapshot_id} ({node.mode})"
        )

    def _committed(self, database: str, table: str) -> bool | None:
        """Whether a snapshot of the table carries this run's id (None: the table cannot be read to tell)."""
        try:
            return any(
                s.summary.get("lakeport.run-id") == self.run_id for s in self.env.warehouse.history(database, table)
            )
        except Exception:
            return None

    def _no_space(self, database: str, table: str, folder: Path) -> NoSpaceLeft:
        return NoSpaceLeft(
            f"job {self.definition.name}: no space left on device while writing table {database}.{table}; "
            "the table keeps its last snapshot",
            hint=f"free space on the disk that holds {folder.parent}, then run the job again",
        )

    def _upload(self, database: str, table: str, out_dir: Path, files: Sequence[str]) -> list[str]:
        uploaded = []
        base = f"warehouse/{database}/{table}/data/run-{self.run_id}/"
        for path in files:
            key = base + str(Path(path).relative_to(out_dir))
            self.env.storage.upload_file(Path(path), self.env.warehouse.bucket, key)
            uploaded.append(f"s3://{self.env.warehouse.bucket}/{key}")
        return uploaded

    # ---- python jobs

    def _python(self) -> None:
        from lakeport.etl.python_jobs import run_script

        run_script(self)
        if self._consumed and self.bookmark_option == "enable":
            self.bookmarks.record_pending(self.run_id, self._consumed)


def _prewarm() -> None:
    with contextlib.suppress(Exception):
        import pyiceberg.catalog.sql
        import pyiceberg.io.pyarrow
        import pyiceberg.table  # noqa: F401


def _split_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise InvalidInput(f"{uri!r} is not an s3://bucket/key path")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _described(con: duckdb.DuckDBPyConnection, view: str) -> list[tuple[str, HiveType]]:
    """The view's columns in Hive types (what Iceberg stores), from DuckDB's description of it."""
    from lakeport.catalog.types import from_duckdb

    return [(row[0], from_duckdb(row[1])) for row in con.execute(f"DESCRIBE SELECT * FROM {ident(view)}").fetchall()]


def temp_work_dir(root: Path, run_id: str) -> Path:
    path = root / ".lakeport" / "work" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path
