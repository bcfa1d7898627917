"""The crawler service (Glue crawlers' role): named crawlers, their runs, start and stop.

``start_crawler`` runs the crawl in this process and returns its record when done (``wait=True``, what the
CLI does with a progress bar), or hands it to a worker process and returns at once (``wait=False``, as
Glue's StartCrawler does). Either way the crawler is RUNNING until the crawl finishes, and ``stop_crawler``
from any process moves it to STOPPING; the crawl notices within half a second and ends CANCELLED with the
catalog untouched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, desc, select, update

from lakeport.catalog.names import identifier
from lakeport.crawler.crawl import Crawl, CrawlCancelled, Progress, finish_unsuccessfully
from lakeport.crawler.definition import CrawlerDefinition
from lakeport.crawler.runs import (
    CANCELLED,
    FAILED,
    READY,
    RUNNING,
    STOPPING,
    CrawlerInfo,
    CrawlerNotRunningException,
    CrawlerRunningException,
    CrawlerStoppingException,
    CrawlRun,
    log_group_of,
    recover_if_stale,
    run_from_row,
)
from lakeport.crawler.schema import crawler_objects, crawler_runs, crawlers
from lakeport.crawler.targets import Target
from lakeport.errors import AlreadyExists, ConfigError, LakeportError, NotFound
from lakeport.iam.arns import glue_arn
from lakeport.iam.trust import GLUE_SERVICE
from lakeport.metadata.times import now, utc
from lakeport.observe.bus import emit_crawler_state
from lakeport.observe.metrics_emit import emit_crawl
from lakeport.processes import HOST, start_worker

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from lakeport.catalog import Catalog
    from lakeport.iam import IAM, Principal
    from lakeport.metadata.database import MetadataDB
    from lakeport.observe import LogStore
    from lakeport.storage import EventLog, Storage


def _reading(definition: CrawlerDefinition) -> tuple[object, ...]:
    """The options that change how a file is classified and typed."""
    return (definition.csv_header, definition.csv_delimiter, definition.classifiers, definition.sample_bytes)


class CrawlerNotFound(NotFound):
    default_code = "EntityNotFoundException"


class Crawlers:
    """Create, run and inspect crawlers."""

    def __init__(
        self,
        *,
        db: MetadataDB,
        catalog: Catalog,
        storage: Storage,
        events: EventLog,
        logs: LogStore,
        iam: IAM,
        principal: Principal,
        region: str,
        account_id: str,
        lake_root: Path,
        threads: int = 8,
        act_as: Callable[[Principal], Crawlers] | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.storage = storage
        self.events = events
        self.logs = logs
        self.iam = iam
        self.principal = principal
        self.region = region
        self.account_id = account_id
        self.lake_root = lake_root
        self.threads = threads
        self.act_as = act_as
        """This service acting as another principal (a crawl's assumed role); given by the Lake."""

    def _authorize(self, action: str, name: str | None = None) -> None:
        resource = glue_arn(self.region, self.account_id, f"crawler/{name}" if name else "crawler/*")
        self.iam.authorize(self.principal, f"glue:{action}", resource)

    # ---- definitions

    def create_crawler(self, definition: CrawlerDefinition) -> CrawlerInfo:
        definition = definition.checked()
        self._authorize("CreateCrawler", definition.name)
        if definition.role:
            self.iam.pass_role(self.principal, definition.role)

        def work(conn: Connection) -> None:
            if conn.execute(select(crawlers.c.name).where(crawlers.c.name == definition.name)).first():
                raise AlreadyExists(
                    f"crawler {definition.name} already exists", hint="change it with: lakeport crawler update"
                )
            stamp = now()
            conn.execute(
                crawlers.insert().values(
                    name=definition.name,
                    definition=definition.to_dict(),
                    state=READY,
                    current_run_id=None,
                    version=1,
                    created_at=stamp,
                    created_by=self.principal.arn,
                    updated_at=stamp,
                )
            )

        self.db.run_write(work)
        return self.get_crawler(definition.name)

    def update_crawler(self, definition: CrawlerDefinition) -> CrawlerInfo:
        definition = definition.checked()
        self._authorize("UpdateCrawler", definition.name)
        if definition.role:
            self.iam.pass_role(self.principal, definition.role)

        def work(conn: Connection) -> None:
            row = self._row(conn, definition.name)
            recover_if_stale(conn, definition.name)
            row = self._row(conn, definition.name)
            if row.state != READY:
                raise CrawlerRunningException(f"crawler {definition.name} is {row.state}; update it when it is READY")
            before = CrawlerDefinition.from_dict(row.definition)
            if _reading(before) != _reading(definition):
                # What a file is found to be depends on these options: forget what the index says, read again.
                conn.execute(delete(crawler_objects).where(crawler_objects.c.crawler == definition.name))
            conn.execute(
                update(crawlers)
                .where(crawlers.c.name == definition.name)
                .values(definition=definition.to_dict(), version=row.version + 1, updated_at=now())
            )

        self.db.run_write(work)
        return self.get_crawler(definition.name)

    def get_crawler(self, name: str) -> CrawlerInfo:
        self._authorize("GetCrawler", name)
        with self.db.read() as conn:
            return self._info(conn, self._row(conn, name))

    def list_crawlers(self) -> list[CrawlerInfo]:
        self._authorize("GetCrawlers")
        with self.db.read() as conn:
            rows = conn.execute(select(crawlers).order_by(crawlers.c.name)).all()
            return [self._info(conn, r) for r in rows]

    def delete_crawler(self, name: str) -> None:
        """Delete a crawler, its runs and its object index; the tables it made stay in the catalog."""
        self._authorize("DeleteCrawler", name)

        def work(conn: Connection) -> None:
            recover_if_stale(conn, name)
            row = self._row(conn, name)
            if row.state != READY:
                raise CrawlerRunningException(
                    f"crawler {name} is {row.state}", hint=f"stop it: lakeport crawler stop {name}"
                )
            conn.execute(delete(crawler_objects).where(crawler_objects.c.crawler == name))
            conn.execute(delete(crawler_runs).where(crawler_runs.c.crawler == name))
            conn.execute(delete(crawlers).where(crawlers.c.name == name))

        self.db.run_write(work)

    def _row(self, conn: Connection, name: str) -> Row[Any]:
        row = conn.execute(select(crawlers).where(crawlers.c.name == name)).first()
        if row is None:
            raise CrawlerNotFound(f"crawler {name} not found", hint="list them with: lakeport crawler list")
        return row

    def _info(self, conn: Connection, row: Row[Any]) -> CrawlerInfo:
        current = None
        if row.current_run_id:
            found = conn.execute(select(crawler_runs).where(crawler_runs.c.id == row.current_run_id)).first()
            current = None if found is None else run_from_row(found)
        last_row = conn.execute(
            select(crawler_runs)
            .where(crawler_runs.c.crawler == row.name, crawler_runs.c.status != RUNNING)
            .order_by(desc(crawler_runs.c.started_at))
            .limit(1)
        ).first()
        return CrawlerInfo(
            definition=CrawlerDefinition.from_dict(row.definition),
            state=row.state,
            version=row.version,
            created_at=utc(row.created_at),
            updated_at=utc(row.updated_at),
            current_run=current,
            last_crawl=None if last_row is None else run_from_row(last_row),
        )

    # ---- runs

    def start_crawler(self, name: str, *, wait: bool = True, progress: Progress | None = None) -> CrawlRun:
        """Start a crawl; with ``wait`` run it here and return the finished run, else return the RUNNING run."""
        self._authorize("StartCrawler", name)
        run_id = str(uuid.uuid4())

        def work(conn: Connection) -> CrawlerDefinition:
            recover_if_stale(conn, name)
            row = self._row(conn, name)
            if row.state != READY:
                raise CrawlerRunningException(
                    f"crawler {name} is already {row.state}", hint=f"wait for it, or: lakeport crawler stop {name}"
                )
            definition = CrawlerDefinition.from_dict(row.definition)
            stamp = now()
            conn.execute(
                crawler_runs.insert().values(
                    id=run_id,
                    crawler=name,
                    status=RUNNING,
                    mode=definition.recrawl_behavior,
                    started_at=stamp,
                    ended_at=None,
                    heartbeat_at=stamp,
                    host=HOST,
                    pid=os.getpid(),
                    principal=self.principal.arn,
                    summary={},
                    warnings=[],
                    error=None,
                    log_group=log_group_of(name),
                    log_stream=run_id,
                )
            )
            conn.execute(update(crawlers).where(crawlers.c.name == name).values(state=RUNNING, current_run_id=run_id))
            return definition

        definition = self.db.run_write(work)
        if not wait:
            self._spawn(name, run_id)
            return self.get_run(run_id)
        self.execute_run(definition, run_id, progress)
        return self.get_run(run_id)

    def _spawn(self, name: str, run_id: str) -> None:
        """Run the crawl in a detached worker process (it takes over the run: its pid is recorded)."""
        pid = start_worker(
            ["crawl", str(self.lake_root), name, run_id, self.principal.arn],
            self.lake_root / ".lakeport" / "workers" / f"crawl-{run_id}.log",
            before_fork=self.db.dispose,
        )
        self.db.run_write(
            lambda conn: conn.execute(update(crawler_runs).where(crawler_runs.c.id == run_id).values(pid=pid))
        )

    def execute_run(self, definition: CrawlerDefinition, run_id: str, progress: Progress | None = None) -> None:
        """Carry out a started run to its end, whatever happens (used here and by the worker process)."""
        crawl: Crawl | None = None
        outcome: tuple[str, str | None] = ("Failed", "interrupted")  # for the "Glue Crawler State Change" event
        counters: dict[str, Any] = {}  # for the Glue crawler metrics
        try:
            crawl = Crawl(self._as_role(definition, run_id), definition, run_id, progress)
            counters = crawl.execute()
            outcome = ("Succeeded", None)
        except CrawlCancelled:
            self.db.run_write(lambda conn: finish_unsuccessfully(conn, definition.name, run_id, CANCELLED, "stopped"))
            outcome = ("Cancelled", "stopped on request")
            self._log(
                definition.name, run_id, f"crawl {run_id} CANCELLED: stopped on request; the catalog is unchanged"
            )
        except BaseException as exc:
            message = exc.one_line() if isinstance(exc, LakeportError) else f"{type(exc).__name__}: {exc}"
            if isinstance(exc, KeyboardInterrupt):
                message = "interrupted"
            self.db.run_write(lambda conn: finish_unsuccessfully(conn, definition.name, run_id, FAILED, message))
            outcome = ("Failed", message)
            self._log(definition.name, run_id, f"crawl {run_id} FAILED: {message}; the catalog is unchanged", "ERROR")
            if not isinstance(exc, Exception) or not isinstance(exc, LakeportError):
                raise
        finally:
            emit_crawler_state(
                self.db,
                crawler_name=definition.name,
                run_id=run_id,
                state=outcome[0],
                message=outcome[1],
                region=self.region,
                account_id=self.account_id,
            )
            emit_crawl(self.db, crawler=definition.name, state=outcome[0], counters=counters)  # never raises

    def _as_role(self, definition: CrawlerDefinition, run_id: str) -> Crawlers:
        """The services a crawl reads and writes with: as the crawler's role, assumed by Glue for this run, when
        it names one; as the principal that started the crawl otherwise."""
        if not definition.role:
            return self
        if self.act_as is None:
            raise ConfigError(f"crawler {definition.name}: cannot act as role {definition.role} here")
        session = self.iam.assume_role_for(GLUE_SERVICE, definition.role, run_id)
        self._log(definition.name, run_id, f"acting as role {definition.role} ({session.arn})")
        return self.act_as(session)

    def _log(self, name: str, run_id: str, message: str, level: str = "INFO") -> None:
        self.logs.put(log_group_of(name), run_id, message, level=level, crawl_id=run_id)

    def stop_crawler(self, name: str) -> CrawlerInfo:
        self._authorize("StopCrawler", name)

        def work(conn: Connection) -> None:
            if recover_if_stale(conn, name):
                return
            row = self._row(conn, name)
            if row.state == READY:
                raise CrawlerNotRunningException(
                    f"crawler {name} is not running", hint=f"start it with: lakeport crawler start {name}"
                )
            if row.state == STOPPING:
                raise CrawlerStoppingException(f"crawler {name} is already stopping")
            conn.execute(update(crawlers).where(crawlers.c.name == name).values(state=STOPPING))

        self.db.run_write(work)
        return self.get_crawler(name)

    def get_run(self, run_id: str) -> CrawlRun:
        with self.db.read() as conn:
            row = conn.execute(select(crawler_runs).where(crawler_runs.c.id == run_id)).first()
        if row is None:
            raise NotFound(f"crawl {run_id} not found")
        self._authorize("ListCrawls", row.crawler)
        return run_from_row(row)

    def list_runs(self, name: str, *, limit: int = 20) -> list[CrawlRun]:
        self._authorize("ListCrawls", name)
        with self.db.read() as conn:
            self._row(conn, name)
            rows = conn.execute(
                select(crawler_runs)
                .where(crawler_runs.c.crawler == name)
                .order_by(desc(crawler_runs.c.started_at))
                .limit(limit)
            ).all()
        return [run_from_row(r) for r in rows]

    # ---- one shot

    def crawl(
        self, path: str, *, database: str, progress: Progress | None = None, **options: Any
    ) -> tuple[CrawlerInfo, CrawlRun]:
        """Crawl one path now: create (or reuse) the crawler ``<database>-<path>`` and run it to the end."""
        target = Target.parse(path)
        name = f"{identifier(database, 'db')}-{identifier(target.bucket + '/' + target.prefix, 'path')}"[:255]
        definition = CrawlerDefinition(name=name, targets=(target.uri,), database=database, **options)
        try:
            self.get_crawler(name)
        except CrawlerNotFound:
            self.create_crawler(definition)
        else:
            self.update_crawler(definition)
        run = self.start_crawler(name, progress=progress)
        return self.get_crawler(name), run
