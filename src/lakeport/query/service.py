"""The query service (Athena's StartQueryExecution, GetQueryExecution, GetQueryResults, StopQueryExecution,
ListQueryExecutions): every query is an execution with an id, a state, statistics and result files.

An execution is QUEUED when recorded, RUNNING while DuckDB works, then SUCCEEDED, FAILED (with the reason)
or CANCELLED. Executions run on a pool of threads in this process (``query/limits.py``: how many at once, how
many may wait), each in its own sandboxed DuckDB connection that can read only the lake's objects; its tables
are the catalog's, pinned when it starts. A watch (``query/watch.py``) stops it on request, on timeout or past
its workgroup's bytes-scanned cutoff. An execution records the process that runs it: one whose process died is
FAILED with a reason naming it when it is next read (``query/orphans.py``). Workgroups, named queries and prepared statements are ``workgroups``,
``named_queries`` and ``prepared_statements``.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lakeport.errors import AccessDenied, InvalidInput, LakeportError, NotFound
from lakeport.metadata.times import now
from lakeport.observe.bus import emit_query_state
from lakeport.observe.metrics_emit import emit_query
from lakeport.query import orphans, watch
from lakeport.query.engine import ResultSet, Spares
from lakeport.query.limits import Limits, Runner, runner_for
from lakeport.query.named_queries import NamedQueries
from lakeport.query.prepared import PreparedStatements
from lakeport.query.results import from_csv, metadata, python_rows, results_page, to_csv, update_count
from lakeport.query.schema import query_executions
from lakeport.query.tables import MAX_LINE_BYTES, ResolvedTable
from lakeport.query.watch import current as current_watch
from lakeport.query.workgroups import PRIMARY, WorkGroups

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from lakeport.catalog import Catalog
    from lakeport.iam import IAM, Principal
    from lakeport.metadata.database import MetadataDB
    from lakeport.settings import QuerySettings
    from lakeport.storage import Storage
    from lakeport.warehouse import Warehouse

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lakeport-query-spares")  # refills, not queries
_RUNNING: dict[str, Any] = {}  # execution id → its DuckDB connection (for stop)
_LOCK = threading.Lock()
_SPARES: dict[tuple[str, ...], Spares] = {}  # readable folders, memory limit → connections ready for a query


class QueryExecutionNotFound(NotFound):
    default_code = "InvalidRequestException"


@dataclass(frozen=True)
class QueryExecution:
    id: str
    query: str
    statement_type: str
    database: str
    workgroup: str
    state: str
    state_change_reason: str | None
    output_location: str
    submitted_at: datetime
    completed_at: datetime | None
    statistics: Mapping[str, Any] = field(default_factory=dict)
    columns: list[list[str]] = field(default_factory=list)
    execution_parameters: list[str] = field(default_factory=list)

    def to_athena(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted_at.isoformat()}
        if self.state_change_reason:
            status["StateChangeReason"] = self.state_change_reason
        if self.completed_at is not None:
            status["CompletionDateTime"] = self.completed_at.isoformat()
        out = {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": {"OutputLocation": self.output_location},
            "QueryExecutionContext": {"Database": self.database, "Catalog": "AwsDataCatalog"},
            "Status": status,
            "Statistics": dict(self.statistics),
            "WorkGroup": self.workgroup,
        }
        if self.execution_parameters:
            out["ExecutionParameters"] = list(self.execution_parameters)
        return out


def _execution(row: Row[Any]) -> QueryExecution:
    return QueryExecution(
        id=row.id,
        query=row.query,
        statement_type=row.statement_type,
        database=row.database,
        workgroup=row.workgroup,
        state=row.state,
        state_change_reason=row.state_change_reason,
        output_location=row.output_location,
        submitted_at=row.submitted_at,
        completed_at=row.completed_at,
        statistics=row.statistics or {},
        columns=row.columns or [],
        execution_parameters=row.execution_parameters or [],
    )


class Queries:
    def __init__(
        self,
        *,
        db: MetadataDB,
        catalog: Catalog,
        warehouse: Warehouse,
        storage: Storage,
        iam: IAM,
        principal: Principal,
        work_root: Path,
        objects_root: Path | None,
        results_bucket: str,
        results_prefix: str = "results/",
        region: str = "us-east-1",
        account_id: str = "000000000000",
        settings: QuerySettings | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.warehouse = warehouse
        self.storage = storage
        self.iam = iam
        self.principal = principal
        self.work_root = work_root
        self.objects_root = objects_root
        self.results_bucket = results_bucket
        self.results_prefix = results_prefix
        self.region = region
        self.account_id = account_id
        self.limits = Limits.from_settings(settings)

    def _authorize(self, action: str, workgroup: str = "primary") -> None:
        arn = f"arn:aws:athena:{self.region}:{self.account_id}:workgroup/{workgroup}"
        self.iam.authorize(self.principal, f"athena:{action}", arn)

    @cached_property
    def workgroups(self) -> WorkGroups:
        """CreateWorkGroup, GetWorkGroup, ListWorkGroups, UpdateWorkGroup, DeleteWorkGroup."""
        return WorkGroups(self.db, self._authorize, min_cutoff=self.limits.min_bytes_scanned_cutoff)

    @cached_property
    def named_queries(self) -> NamedQueries:
        """CreateNamedQuery, GetNamedQuery, ListNamedQueries, BatchGetNamedQuery, UpdateNamedQuery, DeleteNamedQuery."""
        return NamedQueries(self.db, self._authorize, self.workgroups)

    @cached_property
    def prepared_statements(self) -> PreparedStatements:
        """Create/Get/List/Update/DeletePreparedStatement; PREPARE, EXECUTE and DEALLOCATE PREPARE in SQL."""
        return PreparedStatements(self.db, self._authorize, self.workgroups)

    def _runner(self) -> Runner:
        return runner_for(str(self.work_root), self.limits)

    # ---- starting and following

    def start_query_execution(
        self,
        query: str,
        *,
        database: str = "default",
        workgroup: str = "primary",
        output_location: str | None = None,
        client_request_token: str | None = None,
        execution_parameters: Sequence[str] | None = None,
        wait: bool = False,
    ) -> QueryExecution:
        """Record the query (QUEUED) and run it on the pool; with ``wait``, return when it has finished.

        ``execution_parameters``: SQL literal texts for the query's ``?`` placeholders (or an EXECUTE's), in order.
        Refused with TooManyRequestsException when the pool and its queue are full; refused when the workgroup
        does not exist or is disabled."""
        self._authorize("StartQueryExecution", workgroup)
        if not query.strip():
            raise InvalidInput("the query is empty", hint="give a SQL statement")
        parameters = list(execution_parameters or [])
        group = self.workgroups.for_execution(workgroup)
        self.prepared_statements.check_parameters(query, parameters)
        if client_request_token is not None:
            with self.db.read() as conn:
                found = conn.execute(
                    select(query_executions).where(query_executions.c.client_request_token == client_request_token)
                ).first()
            if found is not None:  # Athena: the same token returns the same execution, once
                if found.query != query:
                    raise InvalidInput(
                        "this client request token was used for a different query",
                        hint="use a new token for a new query",
                    )
                return self._finished(found.id) if wait else _execution(self._unless_orphaned(found))
        from lakeport.catalog.names import check_name

        database = check_name("database", database)
        execution_id = str(uuid.uuid4())
        chosen = group.results_location(output_location)
        location = (chosen or f"s3://{self.results_bucket}/{self.results_prefix}").rstrip("/") + "/"
        runner = self._runner()
        runner.reserve()
        try:
            self.db.run_write(
                lambda conn: conn.execute(
                    query_executions.insert().values(
                        id=execution_id,
                        query=query,
                        statement_type="DML",
                        database=database,
                        workgroup=workgroup,
                        state=QUEUED,
                        state_change_reason=None,
                        output_location=f"{location}{execution_id}.csv",
                        principal=self.principal.arn,
                        client_request_token=client_request_token,
                        submitted_at=now(),
                        completed_at=None,
                        statistics={},
                        columns=[],
                        tables=[],
                        execution_parameters=parameters or None,
                        **orphans.process_fields(),  # this process runs it, on its pool
                    )
                )
            )
        except BaseException as exc:
            runner.release()
            if not isinstance(exc, IntegrityError):
                raise
            return self.start_query_execution(  # a racing start with the same token won
                query,
                database=database,
                workgroup=workgroup,
                client_request_token=client_request_token,
                execution_parameters=parameters,
                wait=wait,
            )
        queued_at, cutoff = time.monotonic(), group.bytes_scanned_cutoff
        orphans.beat_for(self.db, execution_id)
        future: Future[None] = runner.submit(execution_id, lambda: self._execute(execution_id, queued_at, cutoff))
        if wait:
            future.result()
            return self.get_query_execution(execution_id)
        return self.get_query_execution(execution_id)

    def _finished(self, execution_id: str, timeout: float = 3600.0) -> QueryExecution:
        deadline = time.monotonic() + timeout
        while True:
            execution = self.get_query_execution(execution_id)
            if execution.state in FINISHED or time.monotonic() > deadline:
                return execution
            time.sleep(0.02)

    def get_query_execution(self, execution_id: str) -> QueryExecution:
        self._authorize("GetQueryExecution")
        with self.db.read() as conn:
            row = conn.execute(select(query_executions).where(query_executions.c.id == execution_id)).first()
        if row is None:
            raise QueryExecutionNotFound(
                f"query execution {execution_id} was not found", hint="lakeport queries list shows recent ones"
            )
        return _execution(self._unless_orphaned(row))

    def list_query_executions(self, *, limit: int = 50, workgroup: str | None = None) -> list[QueryExecution]:
        """Recent executions, newest first; of one workgroup when ``workgroup`` is given."""
        self._authorize("ListQueryExecutions", workgroup or PRIMARY)
        statement = select(query_executions).order_by(query_executions.c.submitted_at.desc()).limit(limit)
        if workgroup is not None:
            statement = statement.where(query_executions.c.workgroup == workgroup)
        with self.db.read() as conn:
            rows = conn.execute(statement).all()
        return [_execution(self._unless_orphaned(r)) for r in rows]

    def _unless_orphaned(self, row: Row[Any]) -> Row[Any]:
        """``row``, or — when it is QUEUED or RUNNING but its process died — the row once marked FAILED with a
        reason naming the process (query/orphans.py)."""
        reason = orphans.death(row)
        if reason is None:
            return row
        self._set(row.id, FAILED, reason=reason, only_if_active=True)
        with self.db.read() as conn:
            again = conn.execute(select(query_executions).where(query_executions.c.id == row.id)).first()
        return row if again is None else again

    def stop_query_execution(self, execution_id: str) -> QueryExecution:
        """Cancel an execution: a queued one never starts, a running one's DuckDB work is interrupted."""
        self._authorize("StopQueryExecution")
        self.get_query_execution(execution_id)
        self._set(execution_id, CANCELLED, reason="stopped by request", only_if_active=True)
        if self._runner().withdraw(execution_id):  # a queued one gives its place back at once
            orphans.forget(execution_id)
        found = watch.find(execution_id)
        if found is not None:
            found.end(CANCELLED, "stopped by request")
        _interrupt_running(execution_id)
        return self.get_query_execution(execution_id)

    def get_query_results(
        self, execution_id: str, *, max_results: int = 1000, next_token: str | None = None
    ) -> dict[str, Any]:
        """A page of the results, header row first (Athena's GetQueryResults)."""
        self._authorize("GetQueryResults")
        execution = self.get_query_execution(execution_id)
        if execution.state != SUCCEEDED:
            raise InvalidInput(
                f"query execution {execution_id} is {execution.state}, not SUCCEEDED",
                hint="results exist once a query has succeeded",
            )
        if not 1 <= max_results <= 1000:
            raise InvalidInput("max_results is between 1 and 1000")
        bucket, key = _split(execution.output_location)
        try:
            start = int(next_token) if next_token else 0
        except ValueError:
            raise InvalidInput(f"next token {next_token!r} is not one this service issued") from None
        rows = from_csv(self.storage.read_bytes(bucket, key), limit=start + max_results + 1)
        updated = 0
        if not execution.columns and execution.statement_type == "DML":  # CTAS, INSERT INTO: rows written
            updated = update_count(self.storage.read_bytes(bucket, key + ".metadata"))
        return results_page(rows, execution.columns, start=start, size=max_results, updated=updated)

    def get_query_rows(self, execution_id: str, *, max_rows: int = 100_000) -> tuple[list[tuple[str, str]], list[Any]]:
        """Every result row of a succeeded query as Python values (int, float, bool, text for the rest), with
        the columns (name, Athena type): what a service caller (the dashboards) reads, without paging."""
        self._authorize("GetQueryResults")
        execution = self.get_query_execution(execution_id)
        if execution.state != SUCCEEDED:
            raise InvalidInput(
                f"query execution {execution_id} is {execution.state}, not SUCCEEDED",
                hint=execution.state_change_reason or "results exist once a query has succeeded",
            )
        bucket, key = _split(execution.output_location)
        rows = from_csv(self.storage.read_bytes(bucket, key), limit=max_rows + 1) if execution.columns else []
        columns = [(name, kind) for name, kind in execution.columns]
        return columns, python_rows(rows[1:], columns)

    # ---- running

    def _set(
        self, execution_id: str, state: str, *, reason: str | None = None, only_if_active: bool = False, **values: Any
    ) -> None:
        statement = update(query_executions).where(query_executions.c.id == execution_id)
        if only_if_active:
            statement = statement.where(query_executions.c.state.in_((QUEUED, RUNNING)))
        fields: dict[str, Any] = {"state": state, **values}
        if reason is not None:
            fields["state_change_reason"] = reason
        if state in FINISHED:
            fields["completed_at"] = now()

        def work(conn: Connection) -> Any:
            if not conn.execute(statement.values(**fields)).rowcount or state not in FINISHED:
                return None
            columns = (query_executions.c.workgroup, query_executions.c.statement_type)
            return conn.execute(select(*columns).where(query_executions.c.id == execution_id)).first()

        finished = self.db.run_write(work)
        if finished is not None:  # "Athena Query State Change" on the event bus (never fails the query)
            emit_query_state(
                self.db,
                query_execution_id=execution_id,
                state=state,
                workgroup=finished.workgroup,
                statement_type=finished.statement_type,
                region=self.region,
                account_id=self.account_id,
            )
            emit_query(  # AWS/Athena metrics; never raises
                self.db,
                workgroup=finished.workgroup,
                state=state,
                statement_type=finished.statement_type,
                statistics=values.get("statistics"),
            )

    def _execute(self, execution_id: str, queued_at: float, cutoff: int | None = None) -> None:
        try:
            self._run(execution_id, queued_at, cutoff)
        finally:
            orphans.forget(execution_id)

    def _run(self, execution_id: str, queued_at: float, cutoff: int | None) -> None:
        started = time.monotonic()
        execution = self.get_query_execution(execution_id)
        if execution.state != QUEUED:
            return  # stopped before it started
        self._set(execution_id, RUNNING, only_if_active=True, heartbeat_at=now())
        resolved: list[ResolvedTable] = []
        guard = watch.Watch(
            execution_id,
            timeout=self.limits.timeout_seconds,
            cutoff=cutoff,
            workgroup=execution.workgroup,
            sources=lambda: resolved,
            stopped_elsewhere=lambda: self._state(execution_id) in FINISHED,
            interrupt_others=lambda: _interrupt_running(execution_id),
        )

        def timings(scanned: int) -> dict[str, int]:
            return {
                "EngineExecutionTimeInMillis": int((time.monotonic() - started) * 1000),
                "QueryQueueTimeInMillis": int((started - queued_at) * 1000),
                "TotalExecutionTimeInMillis": int((time.monotonic() - queued_at) * 1000),
                "DataScannedInBytes": scanned,
            }

        def scanned() -> int:  # bytes DuckDB read (its profiles); file sizes for statements it did not profile
            return guard.bytes_read if guard.bytes_read is not None else sum(t.bytes for t in resolved)

        try:
            with watch.activated(guard):
                sent = self.prepared_statements.dispatch(
                    execution.query, workgroup=execution.workgroup, parameters=execution.execution_parameters
                )
                tables: list[tuple[str, str]] = []
                if sent.result is not None:  # PREPARE, DEALLOCATE PREPARE
                    result, statement_type = sent.result, "UTILITY"
                else:
                    runnable = execution if sent.sql == execution.query else replace(execution, query=sent.sql)
                    result, statement_type, tables = self._answer(runnable, resolved)
            if guard.stop is None and cutoff is not None and scanned() > cutoff:
                guard.end(CANCELLED, guard.cutoff_reason(scanned()))
            if guard.stop is not None:
                raise watch.Stopped(guard.stop.reason)
            statistics = {**timings(scanned()), "ResultRows": len(result.rows)}
            bucket, key = _split(execution.output_location)
            self.storage.put_objects(
                [
                    (bucket, key, to_csv(result) if result.columns else b"", "text/csv"),
                    (bucket, key + ".metadata", metadata(result), None),
                ]
            )
            self._set(
                execution_id,
                SUCCEEDED,
                only_if_active=True,
                statistics=statistics,
                columns=[list(c) for c in result.columns],
                tables=[list(t) for t in tables],
                statement_type=statement_type,
            )
        except BaseException as exc:
            state, reason = (guard.stop.state, guard.stop.reason) if guard.stop is not None else (FAILED, None)
            if reason is None:
                reason = (
                    exc.one_line()
                    if isinstance(exc, LakeportError)
                    else _duckdb_reason(exc, self._object_uris, [f"{t.database}.{t.name}" for t in resolved if t.files])
                )
                if type(exc).__name__ == "OutOfMemoryException":
                    limit = (
                        f"query.memory_limit ({self.limits.memory_limit})" if self.limits.memory_limit else "DuckDB's"
                    )
                    reason += f" (hint: the query needs more memory than {limit} limit; narrow it or raise the limit)"
            # an interrupted statement has no profile: what was read is the bytes of the statements that ended,
            # or the last estimate of the watch
            partial = guard.bytes_read if guard.estimate is None else max(guard.estimate, guard.bytes_read or 0)
            self._set(execution_id, state, reason=reason, only_if_active=True, statistics=timings(partial or 0))

    def _state(self, execution_id: str) -> str | None:
        with self.db.read() as conn:
            state: str | None = conn.execute(
                select(query_executions.c.state).where(query_executions.c.id == execution_id)
            ).scalar()
        return state

    def _answer(
        self, execution: QueryExecution, resolved: list[ResolvedTable]
    ) -> tuple[ResultSet, str, list[tuple[str, str]]]:
        """Run the execution's statement (query/runner.py): (result, Athena statement type, tables read)."""
        from lakeport.query.runner import QueryRun, answer

        spares = self._spares()

        def take() -> Any:
            return spares.take()

        def release(con: Any, schemas: list[str], succeeded: bool) -> None:
            watch = current_watch()
            stopped = watch is not None and watch.stop is not None
            if succeeded and not stopped:
                spares.give_back(con, schemas)
            else:  # a failed or interrupted statement: never reuse its connection
                con.close()
                _POOL.submit(spares.refill)

        def running(con: Any) -> None:
            with _LOCK:
                if con is None:
                    _RUNNING.pop(execution.id, None)
                else:
                    _RUNNING[execution.id] = con

        job = QueryRun(
            execution_id=execution.id,
            sql=execution.query,
            database=execution.database,
            output_location=execution.output_location,
            catalog=self.catalog,
            warehouse=self.warehouse,
            storage=self.storage,
            local_file=self._local_file,
            take_connection=take,
            running=running,
            release=release,
            authorize_file=self._authorize_file,
            resolved=resolved,
        )
        result, statement_type = answer(job)
        if job.update_count is not None:
            result.update_count = job.update_count
        return result, statement_type, job.tables

    def _spares(self) -> Spares:
        readable = [self.objects_root] if self.objects_root is not None else [self.work_root / "objects"]
        key = (*(str(p) for p in readable), self.limits.memory_limit)
        with _LOCK:
            spares = _SPARES.get(key)
            if spares is None:
                spares = _SPARES[key] = Spares(readable, memory_limit=self.limits.memory_limit)
        return spares

    def _authorize_file(self, file: str) -> None:
        """s3:GetObject on a file a query reads, named by its object ARN (a local path maps back to its key)."""
        from lakeport.iam.arns import object_arn

        bucket, _, key = self._object_uri(file)[5:].partition("/")
        self.iam.authorize(self.principal, "s3:GetObject", object_arn(bucket, key))

    def _object_uri(self, file: str) -> str:
        """The ``s3://bucket/key`` of a file a query reads (a local path under the objects folder maps back)."""
        if file.startswith("s3://"):
            return file
        return "s3://" + os.path.relpath(file.removeprefix("file://"), self._objects_folder()).replace(os.sep, "/")

    def _object_uris(self, text: str) -> str:
        """``text`` (an engine's message) with the local paths of the files a query reads written as their URIs."""
        return text.replace(self._objects_folder() + os.sep, "s3://")

    def _objects_folder(self) -> str:
        return str(self.objects_root if self.objects_root is not None else self.work_root / "objects")

    def _local_file(self, bucket: str, key: str) -> str:
        if self.objects_root is not None:
            path = self.objects_root / bucket / key
            real, root = os.path.realpath(path), os.path.realpath(self.objects_root)
            if os.path.commonpath([real, root]) != root:
                raise AccessDenied(
                    f"s3://{bucket}/{key} is a link to {real}, outside the lake",
                    hint="tables read only the lake's own objects",
                )
            return str(path)
        target = self.work_root / "objects" / bucket / key
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            self.storage.download_file(bucket, key, target)
        return str(target)


def _interrupt_running(execution_id: str) -> None:
    """Interrupt the DuckDB connection the statement runner registered for the execution, if any."""
    with _LOCK:
        con = _RUNNING.get(execution_id)
        if con is not None:
            con.interrupt()


_DATA_ERRORS = ("InvalidInputException", "ConversionException")  # DuckDB's errors about the data it read


def _duckdb_reason(exc: BaseException, uris: Callable[[str], str] = str, tables: Sequence[str] = ()) -> str:
    """DuckDB's error as a one-line reason, local paths written as ``s3://`` URIs by ``uris``. A CSV error keeps
    what failed, the object and the line, with a hint; another error about the data names the ``tables`` the
    query read when it names no object."""
    lines = uris(str(exc)).strip().splitlines()
    if not lines:
        return type(exc).__name__
    first = lines[0].replace("Invalid Input Error: ", "").replace("Conversion Error: ", "")
    if first.startswith("CSV Error on Line"):  # DuckDB's CSV report: keep what failed, in which file and line
        problem = next((x.strip() for x in lines[1:] if x.strip() and not x.startswith("Original Line:")), "")
        detail = next((x.strip() for x in lines[1:] if x.startswith("Error when converting")), "") or problem
        file = next((x.split("=", 1)[1].strip() for x in lines if x.strip().startswith("file =")), "")
        line = first.rsplit(":", 1)[-1].strip()
        where = f"{file}, line {line}" if file else f"line {line}"
        reason = f"{where}: {detail}" if detail else f"{first} ({where})"
        hint = _csv_hint(detail)
        return f"{reason} (hint: {hint})" if hint else reason
    if type(exc).__name__ in _DATA_ERRORS and tables and "s3://" not in first:
        return f"{first} (reading {', '.join(tables)})"
    return first


def _csv_hint(problem: str) -> str:
    if "not utf-8 encoded" in problem.lower():
        return "Athena reads text files as UTF-8: convert the file to UTF-8"
    if "maximum line size" in problem.lower():
        return f"a line is longer than {MAX_LINE_BYTES // 2**20} MB (Athena's text line limit): split the record"
    return ""


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise InvalidInput(f"{uri!r} is not an s3:// location")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key
