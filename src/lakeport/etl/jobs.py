"""The ETL jobs service (Glue jobs' role): job definitions, job runs in worker processes, bookmarks.

``start_job_run`` records a run (STARTING) and hands it to a worker process (``python -m lakeport.worker
job …``), so stopping or timing out a run kills that process cleanly and never the caller. ``wait=True``
follows the run to its end. A run that fails is retried as a new attempt up to ``max_retries`` times.
States are Glue's: STARTING → RUNNING → SUCCEEDED | FAILED | STOPPING → STOPPED | TIMEOUT.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, desc, func, select, update

from lakeport.errors import AlreadyExists, ConfigError, Conflict, LakeportError, NotFound
from lakeport.etl.bookmarks import Bookmarks
from lakeport.etl.definition import JobDefinition
from lakeport.etl.schema import job_runs, jobs
from lakeport.iam.arns import glue_arn
from lakeport.iam.trust import GLUE_SERVICE
from lakeport.metadata.times import iso, now, utc
from lakeport.observe.bus import emit_job_state
from lakeport.observe.metrics_emit import emit_job_run
from lakeport.processes import HOST, process_alive, start_worker

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from lakeport.catalog import Catalog
    from lakeport.etl.runner import RunEnvironment
    from lakeport.iam import IAM, Principal
    from lakeport.metadata.database import MetadataDB
    from lakeport.observe import LogStore
    from lakeport.storage import Storage
    from lakeport.warehouse import Warehouse

STARTING, RUNNING, STOPPING, STOPPED = "STARTING", "RUNNING", "STOPPING", "STOPPED"
SUCCEEDED, FAILED, TIMEOUT, ERROR = "SUCCEEDED", "FAILED", "TIMEOUT", "ERROR"
ACTIVE = (STARTING, RUNNING, STOPPING)
FINISHED = (SUCCEEDED, FAILED, STOPPED, TIMEOUT, ERROR)


class ConcurrentRunsExceeded(Conflict):
    default_code = "ConcurrentRunsExceededException"


class JobNotFound(NotFound):
    default_code = "EntityNotFoundException"


@dataclass(frozen=True)
class JobRun:
    id: str
    job: str
    attempt: int
    previous_run_id: str | None
    state: str
    arguments: dict[str, str]
    started_at: datetime
    ended_at: datetime | None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    log_group: str = ""
    log_stream: str = ""

    @property
    def seconds(self) -> float | None:
        return None if self.ended_at is None else (self.ended_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job": self.job,
            "attempt": self.attempt,
            "previous_run_id": self.previous_run_id,
            "state": self.state,
            "arguments": self.arguments,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "seconds": self.seconds,
            "metrics": self.metrics,
            "error": self.error,
            "log_group": self.log_group,
            "log_stream": self.log_stream,
        }

    def to_glue(self) -> dict[str, Any]:
        """Glue's ``JobRun`` shape."""
        return {
            "Id": self.id,
            "JobName": self.job,
            "Attempt": self.attempt - 1,
            "PreviousRunId": self.previous_run_id,
            "JobRunState": self.state,
            "Arguments": {f"--{k}": v for k, v in self.arguments.items()},
            "StartedOn": iso(self.started_at),
            "CompletedOn": iso(self.ended_at),
            "ExecutionTime": int(self.seconds or 0),
            "ErrorMessage": self.error,
            "LogGroupName": self.log_group,
        }


@dataclass(frozen=True)
class Job:
    definition: JobDefinition
    version: int
    bookmark_state: str
    created_at: datetime
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.definition.name

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.definition.to_dict(),
            "version": self.version,
            "bookmark_state": self.bookmark_state,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


def _run(row: Row[Any]) -> JobRun:
    return JobRun(
        id=row.id,
        job=row.job,
        attempt=row.attempt,
        previous_run_id=row.previous_run_id,
        state=row.state,
        arguments=dict(row.arguments or {}),
        started_at=utc(row.started_at),
        ended_at=None if row.ended_at is None else utc(row.ended_at),
        metrics=dict(row.metrics or {}),
        error=row.error,
        log_group=row.log_group,
        log_stream=row.log_stream,
    )


class Jobs:
    """Define, run and inspect ETL jobs."""

    def __init__(
        self,
        *,
        db: MetadataDB,
        catalog: Catalog,
        warehouse: Warehouse,
        storage: Storage,
        logs: LogStore,
        iam: IAM,
        principal: Principal,
        region: str,
        account_id: str,
        lake_root: Path,
        objects_root: Path | None,
        act_as: Callable[[Principal], Jobs] | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.warehouse = warehouse
        self.storage = storage
        self.logs = logs
        self.iam = iam
        self.principal = principal
        self.region = region
        self.account_id = account_id
        self.lake_root = lake_root
        self.objects_root = objects_root
        self.act_as = act_as
        """This service acting as another principal (a run's assumed role); given by the Lake."""

    def _authorize(self, action: str, name: str | None = None) -> None:
        self.iam.authorize(
            self.principal, f"glue:{action}", glue_arn(self.region, self.account_id, f"job/{name or '*'}")
        )

    # ---- definitions

    def create_job(self, definition: JobDefinition) -> Job:
        definition = definition.checked()
        self._authorize("CreateJob", definition.name)
        if definition.role:
            self.iam.pass_role(self.principal, definition.role)

        def work(conn: Connection) -> None:
            if conn.execute(select(jobs.c.name).where(jobs.c.name == definition.name)).first():
                raise AlreadyExists(
                    f"job {definition.name} already exists", hint="change it with: lakeport jobs update"
                )
            stamp = now()
            conn.execute(
                jobs.insert().values(
                    name=definition.name,
                    definition=definition.to_dict(),
                    version=1,
                    bookmark_state="enabled",
                    created_at=stamp,
                    created_by=self.principal.arn,
                    updated_at=stamp,
                )
            )

        self.db.run_write(work)
        return self.get_job(definition.name)

    def update_job(self, definition: JobDefinition) -> Job:
        definition = definition.checked()
        self._authorize("UpdateJob", definition.name)
        if definition.role:
            self.iam.pass_role(self.principal, definition.role)

        def work(conn: Connection) -> None:
            row = self._row(conn, definition.name)
            conn.execute(
                update(jobs)
                .where(jobs.c.name == definition.name)
                .values(definition=definition.to_dict(), version=row.version + 1, updated_at=now())
            )

        self.db.run_write(work)
        return self.get_job(definition.name)

    def get_job(self, name: str) -> Job:
        self._authorize("GetJob", name)
        with self.db.read() as conn:
            return self._job(self._row(conn, name))

    def list_jobs(self) -> list[Job]:
        self._authorize("GetJobs")
        with self.db.read() as conn:
            return [self._job(r) for r in conn.execute(select(jobs).order_by(jobs.c.name)).all()]

    def delete_job(self, name: str) -> None:
        """Delete a job, its runs and bookmarks (Glue's DeleteJob); the tables it wrote stay."""
        self._authorize("DeleteJob", name)

        def work(conn: Connection) -> None:
            self._row(conn, name)
            active = conn.execute(
                select(func.count()).select_from(job_runs).where(job_runs.c.job == name, job_runs.c.state.in_(ACTIVE))
            ).scalar_one()
            if active:
                raise Conflict(f"job {name} has {active} runs going", hint=f"stop them: lakeport jobs stop {name} RUN")
            conn.execute(delete(jobs).where(jobs.c.name == name))

        self.db.run_write(work)

    def _row(self, conn: Connection, name: str) -> Row[Any]:
        row = conn.execute(select(jobs).where(jobs.c.name == name)).first()
        if row is None:
            raise JobNotFound(f"job {name} not found", hint="list them with: lakeport jobs list")
        return row

    @staticmethod
    def _job(row: Row[Any]) -> Job:
        return Job(
            definition=JobDefinition.from_dict(row.definition),
            version=row.version,
            bookmark_state=row.bookmark_state,
            created_at=utc(row.created_at),
            updated_at=utc(row.updated_at),
        )

    # ---- runs

    def start_job_run(
        self,
        name: str,
        *,
        arguments: Mapping[str, str] | None = None,
        wait: bool = False,
        bookmark: str = "",
        on_update: Callable[[JobRun], None] | None = None,
        attempt: int = 1,
        previous_run_id: str | None = None,
    ) -> JobRun:
        """Record a run and start its worker; with ``wait``, return when it has finished."""
        self._authorize("StartJobRun", name)
        job = self.get_job(name)
        args = dict(arguments or {})
        job.definition.resolved(args)  # unknown arguments and missing values are refused before anything starts
        run_id = "jr_" + uuid.uuid4().hex

        def work(conn: Connection) -> list[Row[Any]]:
            dead = self._recover(conn, name)
            going = (
                select(func.count()).select_from(job_runs).where(job_runs.c.job == name, job_runs.c.state.in_(ACTIVE))
            )
            if previous_run_id is not None:  # a retry replaces its failing attempt
                going = going.where(job_runs.c.id != previous_run_id)
            active = conn.execute(going).scalar_one()
            if active >= job.definition.max_concurrent_runs:
                raise ConcurrentRunsExceeded(
                    f"job {name} already has {active} runs going (max concurrent runs {job.definition.max_concurrent_runs})",
                    hint="wait for them, stop one, or raise max_concurrent_runs",
                )
            stamp = now()
            conn.execute(
                job_runs.insert().values(
                    id=run_id,
                    job=name,
                    attempt=attempt,
                    previous_run_id=previous_run_id,
                    state=STARTING,
                    arguments=args | ({"job-bookmark-option": bookmark} if bookmark else {}),
                    started_at=stamp,
                    ended_at=None,
                    heartbeat_at=stamp,
                    host=HOST,
                    pid=os.getpid(),
                    principal=self.principal.arn,
                    metrics={},
                    error=None,
                    log_group=f"/lakeport/jobs/{name}",
                    log_stream=run_id,
                )
            )
            return dead

        self._heal_sinks(job.definition, self.db.run_write(work))
        self._spawn(name, run_id)
        if not wait:
            return self.get_job_run(name, run_id)
        return self.wait(name, run_id, on_update=on_update)

    def _spawn(self, name: str, run_id: str) -> None:
        pid = start_worker(
            ["job", str(self.lake_root), name, run_id, self.principal.arn],
            self.lake_root / ".lakeport" / "workers" / f"job-{run_id}.log",
            before_fork=self.db.dispose,
        )
        self.db.run_write(lambda conn: conn.execute(update(job_runs).where(job_runs.c.id == run_id).values(pid=pid)))

    def wait(
        self, name: str, run_id: str, *, on_update: Callable[[JobRun], None] | None = None, timeout: float | None = None
    ) -> JobRun:
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.02
        while True:
            run = self.get_job_run(name, run_id)
            if on_update is not None:
                on_update(run)
            if run.state in FINISHED:
                follow = self._retry_of(run)
                if follow is None:
                    return run
                run_id = follow
                continue
            with self.db.read() as conn:  # a write transaction only when there is something to recover
                dead = self._dead_runs(conn, name)
            if dead:
                with self.db.write() as conn:
                    dead = self._recover(conn, name)
                self._heal_sinks(self.get_job(name).definition, dead)
            if deadline is not None and time.monotonic() > deadline:
                return run
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)

    def _retry_of(self, run: JobRun) -> str | None:
        with self.db.read() as conn:
            return conn.execute(select(job_runs.c.id).where(job_runs.c.previous_run_id == run.id)).scalar()

    def _dead_runs(self, conn: Connection, name: str) -> list[Row[Any]]:
        """Active runs of ``name`` on this host whose worker process is gone."""
        rows = conn.execute(select(job_runs).where(job_runs.c.job == name, job_runs.c.state.in_(ACTIVE))).all()
        return [r for r in rows if r.host == HOST and r.pid != os.getpid() and not process_alive(r.pid)]

    def _recover(self, conn: Connection, name: str) -> list[Row[Any]]:
        """Runs whose worker died without a word are FAILED (on this host, by pid); the runs so ended."""
        dead = self._dead_runs(conn, name)
        for row in dead:
            state = STOPPED if row.state == STOPPING else FAILED
            conn.execute(
                update(job_runs)
                .where(job_runs.c.id == row.id, job_runs.c.state.in_(ACTIVE))
                .values(
                    state=state, ended_at=now(), error=None if state == STOPPED else "the run's worker process died"
                )
            )
        return dead

    def _heal_sinks(self, definition: JobDefinition, dead: list[Row[Any]]) -> None:
        """After runs died: bring the catalog entries of the tables they write up to the tables' Iceberg metadata.

        A worker killed between a sink's Iceberg commit (the pointer swap, which is the commit) and the catalog
        update that follows it leaves the entry naming the previous metadata; readers that trust the entry would
        keep reading the previous snapshot until the next commit."""
        from lakeport.catalog.names import split_table_name
        from lakeport.etl.nodes import Sink

        tables: set[str] = set()
        for row in dead:
            try:
                _, nodes = definition.resolved(
                    {k: v for k, v in (row.arguments or {}).items() if k != "job-bookmark-option"}
                )
            except LakeportError:
                continue
            tables.update(node.table for node in nodes if isinstance(node, Sink))
        for table in sorted(tables):
            try:
                self.warehouse.sync_catalog(*split_table_name(table))
            except Exception as exc:  # the next commit registers it anyway: never fail a start or a wait here
                reason = exc.one_line() if isinstance(exc, LakeportError) else f"{type(exc).__name__}: {exc}"
                self.logs.put(f"/lakeport/jobs/{definition.name}", "recovery", f"{table}: {reason}", level="WARN")

    def stop_job_run(self, name: str, run_id: str) -> JobRun:
        """Stop a run: its worker process group is terminated, then killed; the table keeps its last snapshot."""
        self._authorize("BatchStopJobRun", name)
        run = self.get_job_run(name, run_id)
        if run.state not in ACTIVE:
            raise Conflict(f"job run {run_id} is already {run.state}")
        with self.db.read() as conn:
            pid = conn.execute(select(job_runs.c.pid).where(job_runs.c.id == run_id)).scalar_one()
        self.db.run_write(
            lambda conn: conn.execute(update(job_runs).where(job_runs.c.id == run_id).values(state=STOPPING))
        )
        if pid != os.getpid():
            _terminate(pid)
        self.db.run_write(
            lambda conn: conn.execute(
                update(job_runs)
                .where(job_runs.c.id == run_id, job_runs.c.state.in_(ACTIVE))
                .values(state=STOPPED, ended_at=now(), error="stopped on request")
            )
        )
        self.logs.put(f"/lakeport/jobs/{name}", run_id, "run STOPPED on request; the tables keep their last snapshot")
        return self.get_job_run(name, run_id)

    def get_job_run(self, name: str, run_id: str) -> JobRun:
        self._authorize("GetJobRun", name)
        with self.db.read() as conn:
            row = conn.execute(select(job_runs).where(job_runs.c.id == run_id, job_runs.c.job == name)).first()
        if row is None:
            raise NotFound(f"job {name} has no run {run_id}", code="EntityNotFoundException")
        return _run(row)

    def list_job_runs(self, name: str, *, limit: int = 20) -> list[JobRun]:
        self._authorize("GetJobRuns", name)
        with self.db.read() as conn:
            self._row(conn, name)
            rows = conn.execute(
                select(job_runs).where(job_runs.c.job == name).order_by(desc(job_runs.c.started_at)).limit(limit)
            ).all()
        return [_run(r) for r in rows]

    # ---- bookmarks

    def bookmarks(self, name: str) -> Bookmarks:
        self._authorize("GetJobBookmark", name)
        self.get_job(name)
        return Bookmarks(self.db, name)

    def reset_bookmark(self, name: str) -> int:
        self._authorize("ResetJobBookmark", name)
        return self.bookmarks(name).reset()

    def set_bookmark_state(self, name: str, state: str) -> Job:
        self._authorize("UpdateJob", name)
        self.db.run_write(
            lambda conn: conn.execute(update(jobs).where(jobs.c.name == name).values(bookmark_state=state))
        )
        return self.get_job(name)

    def _environment(self, work_dir: Path) -> RunEnvironment:
        from lakeport.etl.runner import RunEnvironment

        return RunEnvironment(
            storage=self.storage,
            catalog=self.catalog,
            warehouse=self.warehouse,
            logs=self.logs,
            db=self.db,
            work_dir=work_dir,
            objects_root=self.objects_root,
        )

    # ---- the script and preview views

    def script(self, name: str, *, arguments: Mapping[str, str] | None = None) -> list[str]:
        """The DuckDB SQL a run of the job executes (Glue's generated-script view)."""
        return self._plan(name, arguments)[0]

    def preview(
        self, name: str, node: str, *, limit: int = 20, arguments: Mapping[str, str] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Sample rows of any node (Glue Studio's data preview): (columns, rows)."""
        _, columns, rows = self._plan(name, arguments, preview=node, limit=limit)
        return columns, rows

    def _plan(
        self, name: str, arguments: Mapping[str, str] | None, *, preview: str | None = None, limit: int = 20
    ) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
        from lakeport.etl.runner import JobRunner, temp_work_dir

        self._authorize("GetJob", name)
        job = self.get_job(name)
        work_dir = temp_work_dir(self.lake_root, f"plan-{uuid.uuid4().hex}")
        try:
            runner = JobRunner(
                self._environment(work_dir),
                job.definition,
                "plan",
                arguments=arguments,
                bookmark_option="disable",
            )
            return runner.plan(preview=preview, limit=limit)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)

    # ---- the worker side

    def execute_run(self, name: str, run_id: str) -> JobRun:
        """Carry out a STARTING run in this process (the worker): RUNNING → SUCCEEDED | FAILED | TIMEOUT."""
        from lakeport.etl.runner import JobRunner, temp_work_dir

        job = self.get_job(name)
        run = self.get_job_run(name, run_id)
        group, stream = run.log_group, run.log_stream

        def log(level: str, message: str) -> None:
            self.logs.put(group, stream, message, level=level, run_id=run_id)

        self.db.run_write(
            lambda conn: conn.execute(
                update(job_runs)
                .where(job_runs.c.id == run_id)
                .values(state=RUNNING, pid=os.getpid(), heartbeat_at=now())
            )
        )
        arguments = {k: v for k, v in run.arguments.items() if k != "job-bookmark-option"}
        option = run.arguments.get("job-bookmark-option", "")
        if not option and job.definition.bookmarks:
            option = "pause" if job.bookmark_state == "paused" else "enable"
        timer = threading.Timer(job.definition.timeout_minutes * 60, self._time_out, args=(name, run_id))
        timer.daemon = True
        timer.start()
        log("INFO", f"run {run_id} (attempt {run.attempt}) started by {self.principal.arn}")
        work_dir = temp_work_dir(self.lake_root, run_id)
        try:
            try:
                runner = JobRunner(
                    self._as_role(job.definition, run_id, log)._environment(work_dir),
                    job.definition,
                    run_id,
                    arguments=arguments,
                    bookmark_option=option,
                    attempt=run.attempt,
                    log=log,
                )
                metrics = runner.execute()
            finally:  # before the run's final state is recorded: a waiter never finds its scratch folder
                shutil.rmtree(work_dir, ignore_errors=True)
        except BaseException as exc:
            message = exc.one_line() if isinstance(exc, LakeportError) else f"{type(exc).__name__}: {exc}"
            log("ERROR", f"run FAILED: {message}")
            if run.attempt <= job.definition.max_retries and isinstance(exc, Exception):
                # the next attempt exists before this one is FAILED, so a waiter never stops in between
                log("INFO", f"retrying: attempt {run.attempt + 1} of {job.definition.max_retries + 1}")
                self.start_job_run(
                    name,
                    arguments=arguments,
                    bookmark=run.arguments.get("job-bookmark-option", ""),
                    attempt=run.attempt + 1,
                    previous_run_id=run_id,
                )
            self._finish(run_id, FAILED, {}, message)
            if not isinstance(exc, Exception):
                raise
        else:
            self._finish(run_id, SUCCEEDED, metrics, None)
            log(
                "INFO",
                f"run SUCCEEDED in {metrics['seconds']:.2f}s: {metrics['rows_read']} rows read, "
                f"{metrics['rows_written']} written, {metrics['rows_dropped']} dropped, "
                f"{metrics['rows_quarantined']} quarantined",
            )
        finally:
            timer.cancel()
        return self.get_job_run(name, run_id)

    def _as_role(self, definition: JobDefinition, run_id: str, log: Callable[[str, str], None]) -> Jobs:
        """The services a run reads and writes with: as the job's role, assumed by Glue (glue.amazonaws.com) for
        this run, when the job names one; as the principal that started the run otherwise."""
        if not definition.role:
            return self
        if self.act_as is None:
            raise ConfigError(f"job {definition.name}: cannot act as role {definition.role} here")
        session = self.iam.assume_role_for(GLUE_SERVICE, definition.role, run_id)
        log("INFO", f"acting as role {definition.role} ({session.arn})")
        return self.act_as(session)

    def _finish(self, run_id: str, state: str, metrics: dict[str, Any], error: str | None) -> None:
        def work(conn: Connection) -> str | None:
            changed = conn.execute(
                update(job_runs)
                .where(job_runs.c.id == run_id, job_runs.c.state.in_(ACTIVE))
                .values(state=state, ended_at=now(), metrics=metrics, error=error)
            ).rowcount
            return conn.execute(select(job_runs.c.job).where(job_runs.c.id == run_id)).scalar() if changed else None

        job = self.db.run_write(work)
        if job is not None:  # "Glue Job State Change" on the event bus (never fails the run)
            emit_job_state(
                self.db,
                job_name=job,
                run_id=run_id,
                state=state,
                message=error,
                region=self.region,
                account_id=self.account_id,
            )
            emit_job_run(self.db, job=job, run_id=run_id, state=state, metrics=metrics)  # Glue metrics; never raises

    def _time_out(self, name: str, run_id: str) -> None:
        self.db.run_write(
            lambda conn: conn.execute(
                update(job_runs)
                .where(job_runs.c.id == run_id, job_runs.c.state.in_(ACTIVE))
                .values(state=TIMEOUT, ended_at=now(), error="the run reached its timeout")
            )
        )
        self.logs.put(
            f"/lakeport/jobs/{name}", run_id, "run TIMEOUT: killed; the tables keep their last snapshot", level="ERROR"
        )
        os._exit(124)


def _terminate(pid: int, grace: float = 3.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and process_alive(pid):
        time.sleep(0.05)
    if process_alive(pid):
        with __import__("contextlib").suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
