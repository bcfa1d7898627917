"""The query service (Athena's StartQueryExecution, GetQueryExecution, GetQueryResults, StopQueryExecution,
ListQueryExecutions): every query is an execution with an id, a state, statistics and result files.

An execution is QUEUED when recorded, RUNNING while DuckDB works, then SUCCEEDED, FAILED (with the reason)
or CANCELLED. Executions run on a pool of threads in this process, each in its own sandboxed DuckDB
connection that can read only the lake's objects; its tables are the catalog's, pinned when it starts.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lakeport.errors import AccessDenied, InvalidInput, LakeportError, NotFound
from lakeport.metadata.times import now
from lakeport.query.engine import ResultSet, Spares, run
from lakeport.query.results import from_csv, metadata, results_page, to_csv
from lakeport.query.schema import query_executions
from lakeport.query.statements import catalog_statement
from lakeport.query.tables import ResolvedTable, TableResolver
from lakeport.query.translate import translate
from lakeport.sqltext import ident

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from lakeport.catalog import Catalog
    from lakeport.iam import IAM, Principal
    from lakeport.metadata.database import MetadataDB
    from lakeport.storage import Storage
    from lakeport.warehouse import Warehouse

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
_POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="lakeport-query")
_RUNNING: dict[str, Any] = {}  # execution id → its DuckDB connection (for stop)
_LOCK = threading.Lock()
_SPARES: dict[tuple[str, ...], Spares] = {}  # readable folders → connections ready for the next query


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

    def to_athena(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted_at.isoformat()}
        if self.state_change_reason:
            status["StateChangeReason"] = self.state_change_reason
        if self.completed_at is not None:
            status["CompletionDateTime"] = self.completed_at.isoformat()
        return {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": {"OutputLocation": self.output_location},
            "QueryExecutionContext": {"Database": self.database, "Catalog": "AwsDataCatalog"},
            "Status": status,
            "Statistics": dict(self.statistics),
            "WorkGroup": self.workgroup,
        }


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

    def _authorize(self, action: str, workgroup: str = "primary") -> None:
        arn = f"arn:aws:athena:{self.region}:{self.account_id}:workgroup/{workgroup}"
        self.iam.authorize(self.principal, f"athena:{action}", arn)

    # ---- starting and following

    def start_query_execution(
        self,
        query: str,
        *,
        database: str = "default",
        workgroup: str = "primary",
        output_location: str | None = None,
        client_request_token: str | None = None,
        wait: bool = False,
    ) -> QueryExecution:
        """Record the query (QUEUED) and run it on the pool; with ``wait``, return when it has finished."""
        self._authorize("StartQueryExecution", workgroup)
        if not query.strip():
            raise InvalidInput("the query is empty", hint="give a SQL statement")
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
                return self._finished(found.id) if wait else _execution(found)
        from lakeport.catalog.names import check_name

        database = check_name("database", database)
        execution_id = str(uuid.uuid4())
        location = (output_location or f"s3://{self.results_bucket}/{self.results_prefix}").rstrip("/") + "/"
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
                    )
                )
            )
        except IntegrityError:  # a racing start with the same token won
            return self.start_query_execution(
                query, database=database, workgroup=workgroup, client_request_token=client_request_token, wait=wait
            )
        future: Future[None] = _POOL.submit(self._execute, execution_id, time.monotonic())
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
        return _execution(row)

    def list_query_executions(self, *, limit: int = 50) -> list[QueryExecution]:
        self._authorize("ListQueryExecutions")
        with self.db.read() as conn:
            rows = conn.execute(
                select(query_executions).order_by(query_executions.c.submitted_at.desc()).limit(limit)
            ).all()
        return [_execution(r) for r in rows]

    def stop_query_execution(self, execution_id: str) -> QueryExecution:
        self._authorize("StopQueryExecution")
        self.get_query_execution(execution_id)
        self._set(execution_id, CANCELLED, reason="stopped by request", only_if_active=True)
        with _LOCK:
            con = _RUNNING.get(execution_id)
        if con is not None:
            con.interrupt()
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
        rows = from_csv(self.storage.read_bytes(bucket, key))
        try:
            start = int(next_token) if next_token else 0
        except ValueError:
            raise InvalidInput(f"next token {next_token!r} is not one this service issued") from None
        return results_page(rows, execution.columns, start=start, size=max_results)

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
        self.db.run_write(lambda conn: conn.execute(statement.values(**fields)))

    def _execute(self, execution_id: str, queued_at: float) -> None:
        started = time.monotonic()
        execution = self.get_query_execution(execution_id)
        if execution.state != QUEUED:
            return  # stopped before it started
        self._set(execution_id, RUNNING, only_if_active=True)
        try:
            engine_started = time.monotonic()
            answered = catalog_statement(execution.query, default_database=execution.database, catalog=self.catalog)
            resolved: list[ResolvedTable] = []
            tables: list[tuple[str, str]] = []
            if answered is not None:
                result, statement_type = answered, "DDL"
            else:
                result, tables = self._run_query(execution, resolved)
                statement_type = "DML"
            engine_ms = int((time.monotonic() - engine_started) * 1000)
            bucket, key = _split(execution.output_location)
            self.storage.put_object(bucket, key, to_csv(result), content_type="text/csv")
            self.storage.put_object(bucket, key + ".metadata", metadata(result))
            statistics = {
                "EngineExecutionTimeInMillis": engine_ms,
                "QueryQueueTimeInMillis": int((started - queued_at) * 1000),
                "TotalExecutionTimeInMillis": int((time.monotonic() - queued_at) * 1000),
                "DataScannedInBytes": sum(t.bytes for t in resolved),
                "ResultRows": len(result.rows),
            }
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
            reason = exc.one_line() if isinstance(exc, LakeportError) else _duckdb_reason(exc)
            self._set(execution_id, FAILED, reason=reason, only_if_active=True)

    def _run_query(
        self, execution: QueryExecution, resolved: list[ResolvedTable]
    ) -> tuple[ResultSet, list[tuple[str, str]]]:
        """Translate, resolve the tables it names, run in a sandboxed connection: (result, tables read)."""
        resolver = TableResolver(self.catalog, self.warehouse, self.storage, self._local_file)

        def schema_for(tables: list[tuple[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
            schema: dict[str, dict[str, dict[str, str]]] = {}
            for db, name in tables:
                table = resolver.resolve(db, name)
                resolved.append(table)
                schema.setdefault(db, {})[name] = dict(table.columns)
            return schema

        translation = translate(execution.query, default_database=execution.database, schema_for=schema_for)
        con = self._spares().take()
        _POOL.submit(self._spares().refill)
        with _LOCK:
            _RUNNING[execution.id] = con
        try:
            for table in resolved:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(table.database)}")
                con.execute(f"CREATE VIEW {ident(table.database)}.{ident(table.name)} AS {table.select}")
            return run(con, translation.duckdb), translation.tables
        finally:
            with _LOCK:
                _RUNNING.pop(execution.id, None)
            con.close()

    def _spares(self) -> Spares:
        readable = [self.objects_root] if self.objects_root is not None else [self.work_root / "objects"]
        key = tuple(str(p) for p in readable)
        with _LOCK:
            spares = _SPARES.get(key)
            if spares is None:
                spares = _SPARES[key] = Spares(readable)
        return spares

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


def _duckdb_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.replace("Invalid Input Error: ", "").replace("Conversion Error: ", "")


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise InvalidInput(f"{uri!r} is not an s3:// location")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key
